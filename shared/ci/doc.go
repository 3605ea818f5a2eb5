// Package ci speaks to the CI system a step runs on. Detect picks the
// Platform (GitHub Actions, Azure Pipelines, Cloud Build, or local) from the
// environment; each Platform reads the run's Context (commit, branch, tag,
// pull request, run URL...) and writes outputs, annotations, log groups,
// masks and summaries the way that system expects. Steps never ask which
// platform they are on.
//
// # What a step prints
//
// GitHub's runner and Azure's agent read commands in a step's output:
// GitHub a line that starts, after white space, with "::" (and the older
// "##[" anywhere in a line), Azure "##vso[" anywhere in a line, and both
// log viewers "##[group]"-style lines. Both read stdout and stderr, and
// split lines on "\n" and on a bare "\r". So every line a step prints goes
// through one Writer (the Run's Stdout and Stderr), and the model is:
//
//   - Trusted: the commands the Platform writes itself (Annotate, Mask,
//     Group, EndGroup, SetOutput, Summary) and Writer.Fail. They reach the
//     log through an unexported method of Writer: no other package can
//     write a command.
//   - Untrusted: everything else. Whatever a step writes to a Writer (its
//     progress lines, a report, a chart's fail text, a template error, a
//     file name, an input's value, the output of a RUN or of the tests in a
//     container) is data. On GitHub and Azure each of its lines is
//     redacted, then neutralised by Neutralize: the characters that would
//     open a command are replaced (a leading ':' of "::" by "%3A" on
//     GitHub; the "##" of "##[" on both, and of "##vso[" on Azure, by
//     "**", as the Azure agent does itself), matched generously (white
//     space, control and format characters, combining marks and default-
//     ignorables between them are skipped, "vso" in any case), and nothing
//     else is changed, so a JSON or SARIF report stays valid. Cloud Build
//     and local logs have no commands: there text is printed as it is.
//   - Text inside a command: an annotation's message and a group's title
//     are neutralised line by line first, then escaped as the platform
//     documents (GitHub: '%', '\r', '\n' in data, and ':' ',' in
//     properties; Azure: '%' as %AZP25, '\r', '\n', and ';' ']' in
//     properties), so the command is one line and what the CI shows after
//     decoding holds no command either. A mask carries its secret escaped
//     only: it must match what it hides.
//
// A partial line is held back until its end, so a command never starts in
// the middle of a line and a secret split across writes is still found.
// An error that ends a run (usage, runtime) is written once, by Fail, as
// "::error::" on GitHub and "##vso[task.logissue type=error]" on Azure (the
// runner and the agent print it in the log too), a plain line elsewhere.
//
// # Credentials in URLs
//
// The rules for a credential in a URL live in package redact, one set for
// every URL a step prints: redact.URLCredentials finds the secret in a
// URL-like value (a password holding '/', '#', '@' or a space is found
// whole, parsed or not; a token given as the user name; each in its raw,
// percent-decoded and re-encoded forms), redact.URL prints a URL without
// its user info and fails closed (a URL it cannot parse, or one with an
// '@' it cannot account for, is printed as redact.RedactedURL), and
// redact.URLsIn does the same for every URL in a text. The step framework
// registers the credentials of every input, and the Context those of the
// repository URL and run URL it reads (the origin remote,
// BUILD_REPOSITORY_URI...), with the Redactor and as masks before the
// step prints anything; the Context keeps those URLs as redact.URL
// prints them.
package ci
