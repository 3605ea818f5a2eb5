#!/usr/bin/env bash
# The git CLI side of bench/gitops.sh: what a pipeline runs to commit
# rendered manifests to a GitOps repository without gitship. A shallow,
# single-branch clone of main, the files copied into clusters/dev/APP, a
# commit of everything, a push, and the clone removed (gitship removes its
# clone too).
#   bench/gitops/cli.sh URL BASIC_AUTH RENDERED_DIR APP CLONE_DIR
# BASIC_AUTH is base64 of user:token, sent on every request as
# http.extraHeader (as actions/checkout and Azure Pipelines do), so the CLI
# never makes the unauthenticated first request it would with the token in
# the URL. With BENCH_STEPS=DIR each git command runs under bench/gitops/peak
# (BENCH_PEAK) and DIR gets its memory report, and DIR/steps.tsv each
# step's milliseconds.
set -euo pipefail
url=$1 auth=$2 src=$3 app=$4 dir=$5
header="http.extraHeader=Authorization: Basic $auth"
now() { date +%s%N; }
step() { # NAME COMMAND...
  local name=$1
  shift
  if [ -z "${BENCH_STEPS:-}" ]; then
    "$@"
    return
  fi
  local t0
  t0=$(now)
  "$BENCH_PEAK" -o "$BENCH_STEPS/$name.json" -- "$@"
  echo "$name	$((($(now) - t0) / 1000000))" >>"$BENCH_STEPS/steps.tsv"
}
step clone git -c "$header" clone -q --depth 1 --single-branch --branch main --no-tags "$url" "$dir"
step write bash -c 'mkdir -p "$1/clusters/dev" && cp -R "$2" "$1/clusters/dev/$3"' - "$dir" "$src" "$app"
step add git -C "$dir" add -A
step commit git -C "$dir" commit -q -m "deploy($app): dev"
step push git -C "$dir" -c "$header" push -q origin main
step remove rm -rf "$dir"
