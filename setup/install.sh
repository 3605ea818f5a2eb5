#!/usr/bin/env bash
# Installs gitship's step binaries from a release onto the runner's PATH
# (setup/action.yml). Runs on Linux, macOS and Windows (Git Bash) runners.
#
# In: GITSHIP_STEPS, GITSHIP_VERSION or GITSHIP_ACTION_REF, GITSHIP_DOWNLOAD_URL,
# GITSHIP_CHECKSUMS, and the runner's RUNNER_OS, RUNNER_ARCH,
# RUNNER_TOOL_CACHE, GITHUB_ACTION_PATH, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

fail() {
  # One ::error line, which GitHub shows on the run's summary.
  echo "::error title=gitship setup::$*"
  exit 1
}

version=${GITSHIP_VERSION:-}
if [ -z "$version" ]; then
  version=${GITSHIP_ACTION_REF:-}
fi
version=${version#v}
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  fail "no release version: the action ran at '${GITSHIP_ACTION_REF:-}' and the version input is '${GITSHIP_VERSION:-}'; use the action at a release tag (gitship/gitship/setup@v0.3.1) or set version: 0.3.1"
fi

case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fail "unknown RUNNER_OS '${RUNNER_OS:-}' (want Linux, macOS or Windows)" ;;
esac
case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) fail "unknown RUNNER_ARCH '${RUNNER_ARCH:-}' (want X64 or ARM64)" ;;
esac
ext=
if [ "$os" = windows ]; then ext=.exe; fi

# The checksums come with the action (a release commits its SHA256SUMS
# next to action.yml), not from the server the binaries come from, so a
# mirror or a tampered release asset cannot change what runs.
sums=${GITSHIP_CHECKSUMS:-}
if [ -z "$sums" ]; then
  sums="${GITHUB_ACTION_PATH:-$(dirname "$0")}/SHA256SUMS"
  if [ ! -f "$sums" ]; then
    fail "no SHA256SUMS next to the action: only a release's action ships one (gitship/gitship/setup@v0.3.1, or @v0 once released); for another version give checksums: with that release's SHA256SUMS"
  fi
elif [ ! -f "$sums" ]; then
  fail "checksums: $sums: no such file"
fi

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/gitship/$version/$os-$arch"
mkdir -p "$cache"
url=${GITSHIP_DOWNLOAD_URL:-}
vpat='{version}' apat='{asset}'
if [ -z "$url" ]; then
  url="https://github.com/gitship/gitship/releases/download/v$vpat/$apat"
fi

steps=${GITSHIP_STEPS:-lint validate publish gitops-pr verify}
steps=${steps//,/ }
want_sum() {
  awk -v a="$1" '$2 == a || $2 == "*" a { print $1; exit }' "$sums"
}
# Every step is checked against the sums before anything is downloaded.
for step in $steps; do
  if ! [[ $step =~ ^[a-z][a-z-]*$ ]]; then
    fail "steps: '$step' is not a step name (lint, validate, publish, gitops-pr, verify, build)"
  fi
  asset="gitship-$step-$os-$arch$ext"
  if [ -z "$(want_sum "$asset")" ]; then
    fail "$sums has no checksum for $asset: release $version has no $step for $os/$arch"
  fi
done
n=0
for step in $steps; do
  asset="gitship-$step-$os-$arch$ext"
  want=$(want_sum "$asset")
  bin="$cache/gitship-$step$ext"
  if [ -f "$bin" ] && [ "$(sha256 "$bin")" = "$want" ]; then
    echo "gitship-$step $version: cached in $cache"
    continue
  fi
  from=${url//$vpat/$version}
  from=${from//$apat/$asset}
  tmp="$bin.download.$$"
  if ! curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" "$from"; then
    rm -f "$tmp"
    fail "downloading $asset from $from failed"
  fi
  got=$(sha256 "$tmp")
  if [ "$got" != "$want" ]; then
    rm -f "$tmp"
    fail "$asset from $from has SHA-256 $got, but the release's SHA256SUMS says $want: refused"
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
  n=$((n + 1))
  echo "gitship-$step $version: downloaded and verified into $cache"
done

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$cache" >>"$GITHUB_PATH"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "path=$cache" >>"$GITHUB_OUTPUT"
fi
echo "gitship $version for $os/$arch in $cache ($n downloaded)"
