#!/bin/sh
# modfile.sh writes go.1.MINOR.mod pinning k8s.io/kubernetes at VERSION and
# every staging module it requires as v0.0.0 to the matching v0.MINOR.PATCH:
# the kubernetes module replaces them with ./staging, which a dependent
# module cannot see. Usage: ./modfile.sh 1.37.2 [go.mod]
#
# The modfile is written only once go mod tidy has resolved every module: a
# release the Go module proxy serves only in part (1.34.7 without
# kube-aggregator v0.34.7, 1.35.6 without kube-proxy v0.35.6) leaves the
# existing modfile as it was.
set -eu
v=$1
minor=$(echo "$v" | cut -d. -f2)
out=${2:-go.1.$minor.mod}
tmp=go.tmp$$.mod
trap 'rm -f "$tmp" "${tmp%.mod}.sum"' EXIT
staging=$(go mod download -json "k8s.io/kubernetes@v$v" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' |
	xargs awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' | sort -u)
{
	echo "module github.com/gitship/gitship/tools/schemagen"
	echo
	echo "go 1.26"
	echo
	echo "require k8s.io/kubernetes v$v"
	echo
	echo "replace ("
	for m in $staging; do
		echo "	$m => $m v0.${v#1.}"
	done
	echo ")"
} >"$tmp"
touch "${tmp%.mod}.sum"
go mod tidy -modfile="$tmp"
mv "$tmp" "$out"
mv "${tmp%.mod}.sum" "${out%.mod}.sum"
