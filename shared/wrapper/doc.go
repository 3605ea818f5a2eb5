// Package wrapper renders the CI wrappers of a step from its declaration,
// so GitHub, Azure and the docs never drift from the flags.
//
// Every function here is pure: a step.Step in, the bytes of one file out,
// the same bytes every time (inputs in flag order, no maps ranged over).
// tools/wrappergen writes the files and a test fails when a committed file
// differs from what these functions produce.
//
// One flag is one input everywhere: --fail-on is GitHub input fail-on
// (passed as INPUT_FAIL-ON), Azure input failOn (passed as INPUT_FAILON) and
// GITSHIP_FAIL_ON, the names step.EnvNames reads. A declaration the
// wrappers cannot express faithfully (a flag type they do not know, a name
// Azure rejects, a choice whose default is not a choice) is an error rather
// than a wrapper that silently differs from the binary.
package wrapper
