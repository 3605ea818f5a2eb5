// Package buildprogress turns BuildKit's progress stream (the
// *client.SolveStatus values a solve sends) into the plain log a CI reader
// wants: one numbered line per vertex as buildx's plain progress numbers them,
// CACHED shown on that line, the output of the steps that run, and
// DONE or ERROR at the end of each. Internal vertices (loading the
// Dockerfile, the context, base image metadata) take one line each; transfer
// and pull statuses are summarised when their vertex ends, never printed per
// update. Every output line carries its vertex's "#N " so that steps running
// in parallel stay readable when their output alternates.
//
// The log never holds an escape sequence or a bare carriage return: colours
// and cursor movements are stripped from the steps' output, and a progress
// bar drawn with carriage returns is reduced to its last state. Every write
// is one whole line, so the writer may redact and neutralise line by line.
package buildprogress
