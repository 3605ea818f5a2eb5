#!/usr/bin/env bash
# Build-step wall time on the example app, warm cache, side by side with the
# docker CLI sequence it replaces, on the same engine in one run.
#   bash bench/build.sh        (needs hyperfine, the docker CLI, python3 and a
#                               Docker engine; RUNS=10 rounds by default,
#                               ROWS="1 2 3" the rows below)
# gitship-build --test-target test builds the test stage, runs its CMD
# (go test -v ./...) in a container, builds the whole Dockerfile with the
# OCI labels and the commit tag, then removes the test container and the
# test image. The docker CLI does the same with
#   docker build --target test -t T ARGS app && docker run --rm --name N T &&
#   docker build -t IMAGE:SHA --label <gitship's labels> ARGS app &&
#   docker rmi --no-prune T
# both on the engine's classic builder (gitship uses it through the API;
# DOCKER_BUILDKIT=0 for the CLI, which has no buildx here). --no-prune
# because gitship keeps the layers as cache (its --cache default) and
# removes only the test image; a plain docker rmi also deletes the untagged
# build-stage layers under it, and the next run would compile from scratch.
# Rows:
#   1. the test stage's CMD, go test -v ./...: the workload of issue 4;
#   2. go version as the test command: everything but the tests, which is
#      what the step itself adds;
#   3. as 2, with --output oci:DIR (an OCI layout, layers gzipped) instead
#      of docker; the CLI side saves with docker save -o (an uncompressed
#      docker archive: the nearest it has, not the same work).
# Before timing, each side runs once (warm cache), then once more with its
# phases timed and checked (bench/build/check.py): tests passed, the same
# final image ID on both sides (so the same labels and layers; row 3: the
# same layers and labels in the layout as in the CLI's image), nothing left
# in the engine. Timing runs in rounds that alternate which side goes
# first, so that load from elsewhere on the machine falls on both; the
# engine's start and die events of each test container split a run into
# the tests and everything else, which the tests' noise does not swamp.
set -euo pipefail
cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null || { echo "bench needs $1 (apt-get install -y $2)"; exit 2; }; }
need hyperfine hyperfine
need python3 python3
need docker docker.io
need git git
here=$PWD/bench
work=$PWD/bench/out/build
mkdir -p "$work"
runs=${RUNS:-10}
rows=${ROWS:-1 2 3}

# The engine: the one docker talks to, the development container's, or one
# started as .ci/run does (left running afterwards).
export DOCKER_BUILDKIT=0
if ! docker info >/dev/null 2>&1; then
  if DOCKER_HOST=unix:///tmp/dockerd/docker.sock docker info >/dev/null 2>&1; then
    export DOCKER_HOST=unix:///tmp/dockerd/docker.sock
  else
    need dockerd docker.io
    echo "no Docker engine answers: starting dockerd on unix:///tmp/dockerd/docker.sock (left running)"
    mkdir -p /tmp/dockerd
    dockerd --data-root /tmp/dockerd/root --exec-root /tmp/dockerd/exec \
      --pidfile /tmp/dockerd/pid -H unix:///tmp/dockerd/docker.sock >/tmp/dockerd/log 2>&1 &
    export DOCKER_HOST=unix:///tmp/dockerd/docker.sock
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null || { tail -50 /tmp/dockerd/log; exit 1; }
  fi
fi

# Base images: nothing can be pulled; the engine tests' helper imports them
# from busybox-static and the local Go toolchain.
goimg=gitship-test/go:1 runimg=gitship-test/busybox:1
if ! docker image inspect $goimg $runimg >/dev/null 2>&1; then
  echo "importing $goimg and $runimg (bench/build/baseimages_test.go)"
  GITSHIP_BENCH_IMAGES=1 go test ./bench/build -run '^TestBaseImages$' -count=1 -v
  docker image inspect $goimg $runimg >/dev/null 2>&1 ||
    { echo "no $goimg or $runimg: see the test's skip message above (apt-get install -y busybox-static)"; exit 1; }
fi

# The binary, built as the Makefile builds the release ones.
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bin/gitship-build ./steps/build
gb=$PWD/bin/gitship-build

# The example app, committed on its own with a fixed date: a stable commit,
# so the tag and labels gitship derives from it do not move while the bench
# runs (or when the repository gets a commit), the same on both sides.
# Both sides run in it; gitship's summary lands in it.
repo=$work/repo
rm -rf "$repo"
mkdir -p "$repo"
cp -a examples/app "$repo/app"
(cd "$repo" && git init -q && git add -A &&
  GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m "example app")
cd "$repo"

image=gitship-bench/app     # both sides tag the final image here
testtag=gitship-bench/app-test:cli
bargs="--build-arg GO_IMAGE=$goimg --build-arg RUNTIME_IMAGE=$runimg"
oci=$work/oci
gitship="$gb --context app $bargs --image $image --test-target test --outputs-file $work/outputs.json"
govers="'[\"go\",\"version\"]'"
declare -A G C
G[1]="$gitship --output docker"
G[2]="$gitship --test-command $govers --output docker"
G[3]="$gitship --test-command $govers --output oci:$oci"

# The tag and labels gitship gives the final image (the commit's SHA and
# time) go to the CLI's docker build.
echo "== warm-up: gitship-build"
eval "${G[1]}" >"$work/warmup-gitship.log" 2>&1 || { tail -40 "$work/warmup-gitship.log"; exit 1; }
read -r tag labels < <(python3 - "$work/outputs.json" <<'PY'
import json, shlex, subprocess, sys
out = json.load(open(sys.argv[1]))
labels = json.loads(subprocess.check_output(["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", out["image-id"]]))
print(out["tags"].splitlines()[0], " ".join("--label " + shlex.quote(f"{k}={v}") for k, v in sorted(labels.items())))
PY
)
trap 'docker rmi $tag $testtag >/dev/null 2>&1 || true' EXIT
ctest="docker build --target test -t $testtag $bargs app"
cfinal="docker build --iidfile $work/cli.iid -t $tag $labels $bargs app"
cli_steps() { # row: that row's CLI_STEPS, "phase<TAB>command"
  CLI_STEPS=("test build	$ctest")
  case $1 in
  1) CLI_STEPS+=("test run	docker run --rm --name gitship-bench-cli $testtag" "final build	$cfinal" "cleanup, exit	docker rmi --no-prune $testtag") ;;
  2) CLI_STEPS+=("test run	docker run --rm --name gitship-bench-cli $testtag go version" "final build	$cfinal" "cleanup, exit	docker rmi --no-prune $testtag") ;;
  3) CLI_STEPS+=("test run	docker run --rm --name gitship-bench-cli $testtag go version" "final build	$cfinal" "save	docker save -o $work/cli.tar $tag"
       "cleanup, exit	docker rmi --no-prune $tag $testtag") ;;
  esac
}
for r in 1 2 3; do
  cli_steps $r
  C[$r]=$(printf '%s\n' "${CLI_STEPS[@]}" | cut -f2 | sed ':a;N;$!ba;s/\n/ \&\& /g')
done
echo "docker CLI, row 1: ${C[1]}"

# A busy machine makes the numbers noisy: say so.
python3 - <<'PY'
import time
def cpu():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]
(t0, i0), _, (t1, i1) = cpu(), time.sleep(1), cpu()
busy = 100 * (1 - (i1 - i0) / (t1 - t0))
if busy > 10:
    print(f"warning: the CPUs were {busy:.0f}% busy before timing: something else runs, times will be noisy")
PY

titles=([1]="go test -v ./... (the stage's CMD), --output docker"
        [2]="go version as the test command, --output docker"
        [3]="go version as the test command, --output oci:DIR (CLI: docker save -o)")
for r in $rows; do
  echo "== row $r: ${titles[$r]}"
  cli_steps $r
  # Warm-up (row 1's gitship side ran above).
  [ $r = 1 ] || eval "${G[$r]}" >"$work/warmup-gitship.log" 2>&1 || { tail -40 "$work/warmup-gitship.log"; exit 1; }
  eval "${C[$r]}" >"$work/warmup-cli.log" 2>&1 || { tail -40 "$work/warmup-cli.log"; exit 1; }

  # A checked run of each side, its phases timed.
  rm -rf "$oci"
  want="--- PASS: TestGreeting"; [ $r = 1 ] || want="go version go1."
  o=-; [ $r != 3 ] || o=$oci
  python3 "$here/build/check.py" "$work" $r "$want" $o "${G[$r]}" "${CLI_STEPS[@]}"

  # Timed rounds, the order alternating. The engine's start and die events
  # of the test containers say how much of each run the tests took.
  for i in $(seq 1 "$runs"); do
    a=(-n gitship-build "${G[$r]}") b=(-n "docker CLI" "${C[$r]}")
    if (( i % 2 )); then set -- "${a[@]}" "${b[@]}"; else set -- "${b[@]}" "${a[@]}"; fi
    rm -rf "$oci"
    t0=$(date +%s.%N)
    hyperfine --runs 1 --style none --export-json "$work/row$r-round$i.json" "$@"
    docker events --since "$t0" --until "$(date +%s.%N)" --filter type=container --filter event=start --filter event=die \
      --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "name"}}' >"$work/row$r-round$i.events"
    python3 - "$work/row$r-round$i" "$i" "$runs" <<'PY'
import json, re, sys
base, i, runs = sys.argv[1:]
res = json.load(open(base + ".json"))["results"]
# The CLI's test container has its name; gitship's are gitship-<16 hex>.
# With more than one such container (another client of the engine), the
# round's time in the container is unknown.
spans = {"gitship-build": [], "docker CLI": []}
start = {}
for line in open(base + ".events"):
    t, action, name = line.split()
    who = "docker CLI" if name == "gitship-bench-cli" else "gitship-build" if re.fullmatch("gitship-[0-9a-f]{16}", name) else None
    if who and action == "start":
        start[name] = int(t)
    elif who and action == "die" and name in start:
        spans[who].append((int(t) - start.pop(name)) / 1e9)
inside = {who: v[0] if len(v) == 1 else None for who, v in spans.items()}
json.dump(inside, open(base + ".inside.json", "w"))
fmt = lambda x: f"{x['command']} {x['mean']:.2f} s" + (f" ({inside[x['command']]:.2f} s in the test container)" if inside[x["command"]] is not None else "")
print(f"round {i}/{runs}: " + ", ".join(map(fmt, res)))
PY
  done
done

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Docker Engine $(docker version -f '{{.Server.Version}}'), docker CLI $(docker version -f '{{.Client.Version}}'); $(go version | cut -d' ' -f3); $(hyperfine --version)"
python3 - "$work" "$runs" "$rows" "${titles[1]}" "${titles[2]}" "${titles[3]}" <<'PY'
import json, os, statistics as st, sys
work, runs, rows, titles = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
print("| workload | gitship-build | docker CLI | ratio | paired difference | outside the test container: gitship-build, docker CLI |")
print("|---|---:|---:|---:|---:|---:|")
for row in map(int, rows):
    g, c, og, oc = [], [], [], []
    for i in range(1, runs + 1):
        base = os.path.join(work, f"row{row}-round{i}")
        inside = json.load(open(base + ".inside.json"))
        for x in json.load(open(base + ".json"))["results"]:
            gs = x["command"] == "gitship-build"
            (g if gs else c).append(x["mean"])
            if inside[x["command"]] is not None:
                (og if gs else oc).append(x["mean"] - inside[x["command"]])
    sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
    d = [a - b for a, b in zip(g, c)]
    cell = lambda v: f"{st.mean(v):.2f} s ± {sd(v):.2f}"
    ms = lambda v: f"{st.mean(v)*1000:,.0f} ms ± {sd(v)*1000:,.0f}" if v else "-"
    print(f"| {titles[row-1]} | {cell(g)} | {cell(c)} | {st.mean(c)/st.mean(g):.3f}× | {st.mean(d)*1000:+,.0f} ms ± {sd(d)*1000:,.0f} "
          f"| {ms(og)}, {ms(oc)} |")
print(f"{runs} rounds, each side once per round, the order alternating; ± is the standard deviation")
print("ratio: the docker CLI's mean time ÷ gitship-build's (1 or more: gitship-build is no slower)")
print("paired difference: gitship-build − docker CLI within a round (negative: gitship-build is faster)")
print("outside the test container: the run's time less the test container's, from start to die (engine events)")
PY
