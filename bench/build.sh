#!/usr/bin/env bash
# Build-step wall time with BuildKit, side by side with docker buildx on the
# same engine's BuildKit, in one run.
#   bash bench/build.sh     (needs root, hyperfine, python3, git, curl,
#                            docker.io, docker-registry and Go; ROWS="1 2 3",
#                            RUNS=10 rounds of rows 2 and 3, COLD_RUNS=3 of
#                            row 1; about 20 minutes on 2 busy cores)
#
# The two sides:
#   gitship-build --context app ARGS --image gitship-bench/gitship
#   buildx build --progress=plain ARGS --label <gitship's labels> -t gitship-bench/buildx:SHA app
# buildx v0.38.2 (BUILDX_VERSION), built from source by go install into
# bench/out/bin: the release whose go.mod pins moby/buildkit v0.34.2, the
# BuildKit client gitship links. Its default builder is the "docker" driver:
# the engine's own BuildKit over the Engine API's /grpc and /session, as
# gitship-build by default; both leave the image in the engine.
# Same Dockerfile (bench/build/Dockerfile: the example app with its
# go build on RUN --mount=type=cache), build args, target and labels; both
# print the plain progress log (to a file). Neither runs a test stage.
#
# Rows:
#   1. cold: each timed run starts with the engine's build cache pruned
#      (docker builder prune -af, cache mounts included) and both sides'
#      images removed: the compile starts from an empty Go build cache;
#   2. warm rebuild after a one-line change: before each run, main.go's
#      greeting gets a new number; the cache mount holds the Go build cache
#      (shared by both sides: same mount target on the same engine);
#   3. rebuild on a clean engine from a registry cache: each side first
#      builds --target build once with an inline cache (gitship-build
#      --cache-to type=inline, buildx --cache-to type=inline) and pushes it
#      to a loopback docker-registry; each timed run prunes the build cache,
#      removes the images, and rebuilds with --cache-from
#      type=registry,ref=<its seed>. --target build because the engine's
#      BuildKit exports only an inline cache (mode=min: the layers of the
#      image built), and the compile must be in that image for the cache to
#      hold it; mode=max to a registry needs a standalone buildkitd.
# Every timed run is checked (bench/build/check.py): the go build RUN ran
# (rows 1, 2) or was CACHED (row 3) in each side's log, and after each round
# both sides' images have the same labels, config, layer count and /hello
# (row 2: with that round's greeting).
#
# The engine: a dockerd of its own (/tmp/gsbench-dockerd, its own data root
# and bridge, no iptables), so that pruning the build cache touches no other
# client's, stopped on exit; ENGINE=shared uses DOCKER_HOST's instead.
. "$(dirname "$0")/lib.sh"
need hyperfine python3 git curl docker-registry go:golang
here=$PWD/bench
bench_dirs build
runs=${RUNS:-10}
cold_runs=${COLD_RUNS:-3}
rows=${ROWS:-1 2 3}
buildx_version=${BUILDX_VERSION:-v0.38.2}
# The 20.10 CLI talks to the 20.10 engine; a newer one is fine too.
docker=docker
[ -x /usr/bin/docker ] && docker=/usr/bin/docker
export DOCKER_BUILDKIT=1

pids=()
engine_pid=
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$engine_pid" ]; then
    kill "$engine_pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 1; done
  fi
}
trap stop EXIT

if [ "${ENGINE:-own}" = shared ]; then
  $docker info >/dev/null 2>&1 || { echo "ENGINE=shared: no Docker engine at ${DOCKER_HOST:-the default socket}"; exit 1; }
else
  need dockerd:docker.io ip:iproute2
  d=/tmp/gsbench-dockerd
  export DOCKER_HOST=unix://$d/docker.sock
  if ! $docker info >/dev/null 2>&1; then
    mkdir -p $d
    ip link show gsbench0 >/dev/null 2>&1 || {
      ip link add gsbench0 type bridge && ip addr add 172.31.250.1/24 dev gsbench0 && ip link set gsbench0 up; }
    dockerd --data-root $d/root --exec-root $d/exec --pidfile $d/pid -H "$DOCKER_HOST" \
      --bridge gsbench0 --iptables=false --ip-masq=false >$d/log 2>&1 &
    engine_pid=$!
    for _ in $(seq 60); do $docker info >/dev/null 2>&1 && break; sleep 1; done
    $docker info >/dev/null || { tail -50 $d/log; exit 1; }
  fi
fi
echo "engine: $DOCKER_HOST, Docker Engine $($docker version -f '{{.Server.Version}}')"

# Base images: nothing can be pulled; the engine tests' helper imports them
# from busybox-static and the local Go toolchain.
goimg=gitship-test/go:1 runimg=gitship-test/busybox:1
if ! $docker image inspect $goimg $runimg >/dev/null 2>&1; then
  echo "importing $goimg and $runimg (bench/build/baseimages_test.go)"
  GITSHIP_BENCH_IMAGES=1 go test ./bench/build -run '^TestBaseImages$' -count=1 -v
  $docker image inspect $goimg $runimg >/dev/null 2>&1 ||
    { echo "no $goimg or $runimg: see the test's skip message above (apt-get install -y busybox-static)"; exit 1; }
fi

# The binaries: gitship-build as the Makefile builds the release ones;
# buildx from source at the pinned version, with a config directory of its
# own (its default builder: the docker driver on DOCKER_HOST).
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/gitship-build" ./steps/build
gb=$bin/gitship-build
go version -m "$bin/buildx" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/docker/buildx[[:space:]]+$buildx_version[[:space:]]" ||
  { echo "building buildx $buildx_version into $bin"; GOBIN=$bin go install "github.com/docker/buildx/cmd/buildx@$buildx_version"; }
bx=$bin/buildx
export BUILDX_CONFIG=$work/buildx-config
bxinfo=$($bx inspect)
grep -Eq '^Driver:[[:space:]]+docker[[:space:]]*$' <<<"$bxinfo" || { echo "$bxinfo"; echo "buildx's builder is not the docker driver"; exit 1; }

# The loopback registry for row 3's caches.
start_registry "$work/registry"
reg=$host

# The example app with the bench's Dockerfile, committed on its own with a
# fixed date: gitship's tag and labels stay put while the bench runs.
repo=$work/repo
rm -rf "$repo"
mkdir -p "$repo/app"
cp examples/app/go.mod examples/app/*.go "$repo/app/"
cp bench/build/Dockerfile "$repo/app/Dockerfile"
(cd "$repo" && git init -q && git add -A &&
  GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m "example app")
cd "$repo"
grep -q 'fmt.Sprintf("hello, %s", name)' app/main.go || { echo "examples/app/main.go: no greeting line to change"; exit 1; }
cp app/main.go "$work/main.go.orig"
sha=$(git rev-parse HEAD)
mkdir -p "$work/logs"

bargs="--build-arg GO_IMAGE=$goimg --build-arg RUNTIME_IMAGE=$runimg"
gimage=gitship-bench/gitship gtag=gitship-bench/gitship:$sha
ximage=gitship-bench/buildx:$sha
G="$gb --context app $bargs --image $gimage --outputs-file $work/outputs.json"
# The labels gitship gives the final image (the commit's SHA and time) go to
# buildx: one gitship run first, the warm-up.
echo "== warm-up"
$G >"$work/logs/warmup-gitship.log" 2>&1 || { tail -40 "$work/logs/warmup-gitship.log"; exit 1; }
labels=$(python3 - "$docker" "$gtag" <<'PY'
import json, shlex, subprocess, sys
labels = json.loads(subprocess.check_output([sys.argv[1], "image", "inspect", "-f", "{{json .Config.Labels}}", sys.argv[2]]))
print(" ".join("--label " + shlex.quote(f"{k}={v}") for k, v in sorted(labels.items())))
PY
)
X="$bx build --progress=plain $bargs $labels -t $ximage app"
$X >"$work/logs/warmup-buildx.log" 2>&1 || { tail -40 "$work/logs/warmup-buildx.log"; exit 1; }
echo "gitship-build: $G"
echo "buildx:        $X"

# Rows 1 and 3 start each run with neither side's image in the engine (so
# that neither finds the other's layers there) and an empty build cache;
# check.py records the images first, for its check after the round.
clean="python3 $here/build/check.py snapshot $work ROW $docker $gtag $ximage &&
  $docker rmi -f $gtag $ximage $reg/gitship-bench/cache:gitship $reg/gitship-bench/cache:buildx >/dev/null 2>&1; $docker builder prune -af >/dev/null"
edit="python3 $here/build/check.py edit $work app/main.go"
rm -f "$work/edits"
declare -A title gprep xprep gcmd xcmd nruns
title[1]="cold: build cache pruned, compile from an empty Go build cache"
title[2]="warm: one-line change to main.go, cache mount warm"
title[3]="clean engine, registry cache (--target build, inline cache imported)"
gprep[1]=${clean/ROW/1} gprep[2]=$edit gprep[3]=${clean/ROW/3}
xprep[1]=${clean/ROW/1} xprep[2]=$edit xprep[3]=${clean/ROW/3}
gcmd[1]="$G" gcmd[2]="$G"
xcmd[1]="$X" xcmd[2]="$X"
gcmd[3]="$G --target build --cache-from type=registry,ref=$reg/gitship-bench/cache:gitship"
xcmd[3]="$X --target build --cache-from type=registry,ref=$reg/gitship-bench/cache:buildx"
nruns[1]=$cold_runs nruns[2]=$runs nruns[3]=$runs

for r in $rows; do
  echo "== row $r: ${title[$r]}"
  cp "$work/main.go.orig" app/main.go
  if [ "$r" = 3 ]; then
    # Each side's seed: its own build with an inline cache, pushed. Then the
    # engine forgets it all.
    $G --target build --tag "$reg/gitship-bench/cache:gitship" --cache-to type=inline >"$work/logs/seed-gitship.log" 2>&1 ||
      { tail -40 "$work/logs/seed-gitship.log"; exit 1; }
    $X --target build --cache-to type=inline -t "$reg/gitship-bench/cache:buildx" >"$work/logs/seed-buildx.log" 2>&1 ||
      { tail -40 "$work/logs/seed-buildx.log"; exit 1; }
    $docker push -q "$reg/gitship-bench/cache:gitship" >/dev/null
    $docker push -q "$reg/gitship-bench/cache:buildx" >/dev/null
  fi
  for i in $(seq 1 "${nruns[$r]}"); do
    warn_if_busy "the round"
    gl=$work/logs/row$r-round$i-gitship.log xl=$work/logs/row$r-round$i-buildx.log
    gc="${gcmd[$r]} >$gl 2>&1" xc="${xcmd[$r]} >$xl 2>&1"
    if (( i % 2 )); then
      set -- -p "${gprep[$r]}" -p "${xprep[$r]}" -n gitship-build "$gc" -n buildx "$xc"
    else
      set -- -p "${xprep[$r]}" -p "${gprep[$r]}" -n buildx "$xc" -n gitship-build "$gc"
    fi
    load=$(cut -d' ' -f1 /proc/loadavg)
    hyperfine --runs 1 --style none --export-json "$work/row$r-round$i.json" "$@" >/dev/null
    python3 "$here/build/check.py" round "$work" "$r" "$i" "$load" "$docker" "$gl" "$xl" "$gtag" "$ximage" app/main.go
  done
done

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Docker Engine $($docker version -f '{{.Server.Version}}'), buildx $buildx_version (docker driver), $(go version | cut -d' ' -f3), $(hyperfine --version), $(docker-registry --version | awk '{print $NF}')"
python3 "$here/build/check.py" table "$work" "$rows" "${nruns[1]}" "${nruns[2]}" "${nruns[3]}" "${title[1]}" "${title[2]}" "${title[3]}"
