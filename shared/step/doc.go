// Package step is the frame every gitship step runs in: one urfave/cli app
// whose flags can also be set the way each CI system passes inputs
// (GITSHIP_FOO_BAR, GitHub's INPUT_FOO-BAR, Azure's INPUT_FOOBAR), secrets
// masked and redacted from everything printed, the CI platform detected,
// and errors turned into the exit codes every step shares:
// 0 success, 1 the check failed, 2 bad usage or configuration.
package step
