#!/usr/bin/env bash
# Publish wall time and bytes sent, side by side with crane, on loopback.
#   bash bench/publish.sh      (needs hyperfine, docker-registry, curl,
#                               python3 and git; RUNS=10 rounds by default;
#                               GITSHIP_FLAGS="--jobs 8" adds flags to every
#                               gitship-publish run)
# The image: 8 layers of 25 MiB of pseudo-random bytes each, gzipped (so
# 200 MiB that do not compress), written as an OCI layout by
# bench/publish/gen from a fixed seed: the same digest every run. Two
# docker-registry instances (distribution 2.8) run on loopback, storage in
# bench/out/publish, stopped when the script ends.
# Cases:
#   push   gitship-publish --image oci:DIR --repository R1/push/NEW
#          vs crane push DIR R1/push/NEW:bench;
#   cross  promote across registries: gitship-publish --promote-from
#          R1/bench/src@DIGEST --repository R2/cross/NEW vs crane copy
#          R1/bench/src@DIGEST R2/cross/NEW:bench (blobs stream from R1
#          to R2);
#   same   promote within R1 to another repository (blobs are mounted).
# NEW is a repository no run used before: every run starts from an empty
# destination repository. (The registry keeps blobs in one store for all
# repositories, but a blob not linked to the repository is 404 there and is
# uploaded again; only the final move into the store is skipped, for both
# sides.) gitship sets the full and short SHA of a fixed commit and its
# branch, checking them before and after the upload; crane sets one tag.
# Both use 4 concurrent blob uploads by default (crane: remote's default).
# Before timing, each side runs once per case through a counting proxy
# (bench/publish/proxy) in front of each registry: the bytes of blob-upload
# request bodies, mounts and requests each sent, and the digest at the
# destination, which must be the source's for both (the script stops if
# not). Timing then runs straight to the registries, in rounds that
# alternate which side goes first, so that load from elsewhere on the
# machine falls on both.
. "$(dirname "$0")/lib.sh"
need hyperfine python3 docker-registry curl git
bench_dirs publish
runs=${RUNS:-10}
extra=${GITSHIP_FLAGS:-}

# Tools: crane from the go-containerregistry version gitship links, built
# once; gitship-publish as the Makefile builds the release binaries.
ggcr=$(go list -m -f '{{.Version}}' github.com/google/go-containerregistry)
go version -m "$bin/crane" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/google/go-containerregistry[[:space:]]+$ggcr[[:space:]]" ||
  { echo "building crane $ggcr into $bin"; GOBIN=$bin go install "github.com/google/go-containerregistry/cmd/crane@$ggcr"; }
make -s bin/gitship-publish
go build -o "$bin/publish-proxy" ./bench/publish/proxy
gp=$PWD/bin/gitship-publish crane=$bin/crane

# The image, the same bytes every run; made once.
image=$work/image
[ -f "$image/digest" ] || { go run ./bench/publish/gen -out "$image" >"$work/digest.tmp" && mv "$work/digest.tmp" "$image/digest"; }
digest=$(cat "$image/digest")
size=$(du -sb "$image/blobs" | cut -f1)

# Registries and their counting proxies, stopped on exit.
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work/reg1/data" "$work/reg2/data"
}
trap stop EXIT
registry() { # NAME: starts a registry with empty storage and its proxy; sets host and proxy
  local dir=$work/$1
  start_registry "$dir"
  "$bin/publish-proxy" -target "$host" -addr-file "$dir/proxy" -log "$dir/requests.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$dir/proxy" ] && break; sleep 0.1; done
  proxy=$(cat "$dir/proxy")
  wait_up "http://$proxy/_bench/stats"
}
registry reg1; r1=$host p1=$proxy
registry reg2; r2=$host p2=$proxy

# gitship tags the commit it runs in: a fixed one, made here.
repo=$work/repo
rm -rf "$repo"
mkdir -p "$repo"
(cd "$repo" && git init -q -b main && echo bench >README &&
  git add -A && GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m bench)
cd "$repo"

# The source of both promotions, pushed once, not timed.
"$crane" push "$image" "$r1/bench/src:v1" --insecure >/dev/null 2>&1
[ "$("$crane" digest "$r1/bench/src:v1" --insecure)" = "$digest" ] || { echo "the source in $r1 is not $digest"; exit 1; }

# Commands, by case and side; @R1@ @R2@ are the registries (or their
# proxies), @NEW@ a repository name of its own for every run.
gitship="$gp --insecure --outputs-file $work/outputs.json $extra"
declare -A CMD
CMD[push,gitship]="$gitship --image oci:$image --repository @R1@/push/g-@NEW@"
CMD[push,crane]="$crane push $image @R1@/push/c-@NEW@:bench --insecure"
CMD[cross,gitship]="$gitship --promote-from @R1@/bench/src@$digest --repository @R2@/cross/g-@NEW@"
CMD[cross,crane]="$crane copy @R1@/bench/src@$digest @R2@/cross/c-@NEW@:bench --insecure"
CMD[same,gitship]="$gitship --promote-from @R1@/bench/src@$digest --repository @R1@/same/g-@NEW@"
CMD[same,crane]="$crane copy @R1@/bench/src@$digest @R1@/same/c-@NEW@:bench --insecure"
cases="push cross same"
cmd() { # case side r1 r2 new
  local c=${CMD[$1,$2]}
  c=${c//@R1@/$3} c=${c//@R2@/$4}
  echo "${c//@NEW@/$5}"
}

# One checked run of each side through the proxies: what it sent, and the
# digest it left at the destination.
for c in $cases; do
  for side in gitship crane; do
    for p in $p1 $p2; do curl -fs -X POST "http://$p/_bench/reset"; done
    echo "== checked: $c, $side" >>"$work/reg1/requests.log"
    echo "== checked: $c, $side" >>"$work/reg2/requests.log"
    run=$(cmd $c $side "$p1" "$p2" check)
    eval "$run" >"$work/check-$c-$side.log" 2>&1 || { echo "failed: $run"; tail -20 "$work/check-$c-$side.log"; exit 1; }
    dst=$(echo "$run" | grep -o "[^ ]*/$c/[gc]-check[^ ]*")
    [ $side = crane ] || dst=$dst:$(git rev-parse HEAD)
    got=$("$crane" digest "$dst" --insecure)
    [ "$got" = "$digest" ] || { echo "$c, $side: $dst is $got, not the source's $digest"; exit 1; }
    python3 - "$work/bytes-$c-$side.json" "$(curl -fs "http://$p1/_bench/stats")" "$(curl -fs "http://$p2/_bench/stats")" <<'PY'
import json, sys
json.dump({"reg1": json.loads(sys.argv[2]), "reg2": json.loads(sys.argv[3])}, open(sys.argv[1], "w"))
PY
  done
done
echo "checked: every case leaves $digest at the destination, for both sides"
for c in $cases; do echo "gitship-publish, $c: $(grep '^Uploaded' "$work/check-$c-gitship.log")"; done

# A busy machine makes the numbers noisy: say so.
warn_if_busy timing

# Timed rounds, straight to the registries, the order alternating.
new='$(date +%s%N)'
for i in $(seq 1 "$runs"); do
  for c in $cases; do
    a=(-n gitship-publish "$(cmd $c gitship "$r1" "$r2" "$new")") b=(-n crane "$(cmd $c crane "$r1" "$r2" "$new")")
    if (( i % 2 )); then set -- "${a[@]}" "${b[@]}"; else set -- "${b[@]}" "${a[@]}"; fi
    hyperfine --runs 1 --style none --export-json "$work/$c-round$i.json" "$@" >/dev/null
  done
  python3 - "$work" "$i" "$runs" $cases <<'PY'
import json, os, sys
work, i, runs, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cells = []
for c in cases:
    res = {x["command"]: x["mean"] for x in json.load(open(os.path.join(work, f"{c}-round{i}.json")))["results"]}
    cells.append(f"{c} {res['gitship-publish']:.2f}/{res['crane']:.2f} s")
print(f"round {i}/{runs} (gitship-publish/crane): " + ", ".join(cells))
PY
done

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "gitship-publish $($gp --version | awk '{print $NF}')${extra:+ ($extra)}, crane $("$crane" version), $(docker-registry --version | awk '{print $NF}'); $(go version | cut -d' ' -f3); $(hyperfine --version)"
python3 - "$work" "$runs" "$size" $cases <<'PY'
import json, os, statistics as st, sys
work, runs, size, cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
titles = {"push": "push (OCI layout to an empty repository)",
          "cross": "promote across registries (empty destination)",
          "same": "promote within one registry (to a new repository)"}
mib = lambda n: f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"
print(f"image: {mib(size)} of blobs")
print("| case | gitship-publish | crane | ratio | paired difference | client CPU, gitship-publish / crane |")
print("|---|---:|---:|---:|---:|---:|")
for c in cases:
    g, k, gc, kc = [], [], [], []
    for i in range(1, runs + 1):
        for x in json.load(open(os.path.join(work, f"{c}-round{i}.json")))["results"]:
            mine = x["command"] == "gitship-publish"
            (g if mine else k).append(x["mean"])
            (gc if mine else kc).append(x["user"] + x["system"])
    sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
    d = [a - b for a, b in zip(g, k)]
    cell = lambda v: f"{st.mean(v):.2f} s ± {sd(v):.2f}" if st.mean(v) >= 1 else f"{st.mean(v) * 1000:,.0f} ms ± {sd(v) * 1000:,.0f}"
    print(f"| {titles[c]} | {cell(g)} | {cell(k)} | {st.mean(k) / st.mean(g):.2f}× | {st.mean(d) * 1000:+,.0f} ms ± {sd(d) * 1000:,.0f} "
          f"| {st.mean(gc) * 1000:,.0f} ms / {st.mean(kc) * 1000:,.0f} ms |")
print(f"{runs} rounds, each side once per round, the order alternating; ± is the standard deviation")
print("ratio: crane's mean time ÷ gitship-publish's (1 or more: gitship-publish is no slower)")
print("paired difference: gitship-publish − crane within a round (negative: gitship-publish is faster)")
print("client CPU: user + system time of the gitship-publish or crane process, mean (the registries' not included)")
print()
print("| case | side | uploaded | mounted | requests to the destination registry | downloaded |")
print("|---|---|---:|---:|---|---:|")
for c in cases:
    for side in ("gitship", "crane"):
        s = json.load(open(os.path.join(work, f"bytes-{c}-{side}.json")))
        dst = s["reg2"] if c == "cross" else s["reg1"]
        down = s["reg1"]["downloaded"] + s["reg2"]["downloaded"]
        req = ", ".join(f"{n} {m}" for m, n in sorted(dst["requests"].items(), key=lambda x: -x[1]))
        up = s["reg1"]["uploaded"] + s["reg2"]["uploaded"]
        name = "gitship-publish" if side == "gitship" else "crane"
        print(f"| {c} | {name} | {mib(up)} | {dst['mounted']} | {sum(dst['requests'].values())}: {req} | {mib(down)} |")
print("uploaded: request bodies of blob uploads (PATCH, PUT, POST under /blobs/uploads/), counted by a proxy in front of each registry;")
print("downloaded: response bodies from both registries (the source's blobs, when they stream)")
PY
