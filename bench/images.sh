#!/usr/bin/env bash
# Step images: sizes and reproducibility of what `make images` builds.
#   bash bench/images.sh      (needs go, git and jq; about 5 to 10 minutes
#                              on 2 cores; COLD=0 shares the build cache
#                              between the two runs, a few seconds for the
#                              second)
# Builds every step's image twice with tools/imagegen, as `make images`
# does (version dev, linux/amd64 and linux/arm64 in one index), each time
# from its own clean clone of HEAD (the same commit, two directories), into
# bench/out/images/run1 and run2. The second run starts from an empty Go
# build cache, so every binary is compiled again rather than taken from the
# first run's cache. Then, for each step, it compares the digest of the
# index (dist/images/gitship-<step>/index.json's manifest) and of each
# platform's manifest between the runs, prints imagegen's table of
# compressed sizes (config + manifest + layers, as a registry stores them)
# and exits 1 if any digest differs.
# Uncommitted changes are not built: commit, or run `make images` to build
# the checkout as it is.
. "$(dirname "$0")/lib.sh"
need go:golang git jq
steps=(lint build validate publish gitops-pr verify)
out=$PWD/bench/out/images
rm -rf "$out"
mkdir -p "$out"
head=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no -- go.mod go.sum shared steps tools images)" ] ||
  echo "note: the checkout has uncommitted changes; building HEAD ($head) without them"
echo "commit $head ($(git log -1 --format=%cI)), $(go version | cut -d' ' -f3), $(nproc) cores"

# run N GOCACHE: clone HEAD into src<N>, build the images into run<N>.
run() {
  local n=$1 cache=$2 src=$out/src$1
  git clone -q --shared --no-checkout "$PWD" "$src"
  git -C "$src" checkout -q --detach "$head"
  local t0=$SECONDS
  (cd "$src" && GOCACHE=$cache go run ./tools/imagegen -version dev -out "$out/run$n" \
    -steps "$(IFS=,; echo "${steps[*]}")") >"$out/run$n.log" 2>&1 ||
    { cat "$out/run$n.log"; echo "run $n failed"; exit 1; }
  echo "run $n: $((SECONDS - t0)) s (GOCACHE=$cache)"
}
run 1 "$(go env GOCACHE)"
if [ "${COLD:-1}" = 1 ]; then
  mkdir -p "$out/gocache"
  run 2 "$out/gocache"
else
  run 2 "$(go env GOCACHE)"
fi

# digests DIR: the index digest, then each platform's manifest digest.
digests() {
  local idx
  idx=$(jq -r '.manifests[0].digest' "$1/index.json")
  echo "index $idx"
  jq -r '.manifests[] | "\(.platform.os)/\(.platform.architecture) \(.digest)"' \
    "$1/blobs/sha256/${idx#sha256:}"
}
echo
echo "| step | index digest, run 1 | run 2 |"
echo "|---|---|---|"
fail=0
for s in "${steps[@]}"; do
  a=$(digests "$out/run1/gitship-$s") b=$(digests "$out/run2/gitship-$s")
  if [ "$a" = "$b" ]; then same=same; else same="**differs**"; fail=1; fi
  echo "| gitship-$s | \`$(head -1 <<<"$a" | cut -d' ' -f2)\` | $same |"
  [ "$a" = "$b" ] || diff <(echo "$a") <(echo "$b") | sed 's/^/    /' || true
done
echo
echo "Per platform (run 1):"
for s in "${steps[@]}"; do
  digests "$out/run1/gitship-$s" | tail -n +2 | sed "s|^|  gitship-$s |"
done
echo
echo "Compressed size (config + manifest + layers), run 1:"
sed -n '/^| image |/,$p' "$out/run1.log"
echo
echo "Layouts in $out/run1 and $out/run2; imagegen's output in $out/run1.log and run2.log."
rm -rf "$out/src1" "$out/src2" "$out/gocache"
if [ "$fail" = 1 ]; then echo "FAIL: digests differ between the two runs"; exit 1; fi
echo "OK: every digest is the same in both runs"
