#!/usr/bin/env bash
# GitOps commit end to end, side by side with the git CLI, on loopback.
#   bash bench/gitops.sh   (needs hyperfine, python3 and git; RUNS=10 timed
#                           rounds and MEMRUNS=3 memory rounds by default)
# The GitOps repository: bench/gitops/gen writes 2,000 commits (one per
# application and environment, each adding its 10 manifests and redeploying
# 2 earlier ones) reaching 20,000 files, 25 MB, at the tip; fast-import,
# then repack -adf as a server keeps it (about 7 MiB). Made once, copied
# fresh for every run of the script. bench/gitops/serve serves it with git
# http-backend on 127.0.0.1, basic auth with a token: both sides go through
# it.
# Each round, each side commits one new application directory,
# clusters/dev/<app>/, to main (every run makes a real commit; the
# repository grows by one commit per run):
#   gitship  bin/gitship-gitops-pr --direct in a checkout of examples/app:
#            renders the chart, pins the image, validates, clones (go-git,
#            depth 1, single branch), writes, commits, pushes, removes the
#            clone;
#   git CLI  bench/gitops/cli.sh: git clone --depth 1 --single-branch, copy
#            the same files into clusters/dev/<app>/, git add -A, git
#            commit, git push, rm -rf the clone. The files are rendered
#            before timing (by gitship-gitops-pr into a scratch repository,
#            one set per round): the CLI's time has no render or
#            validation in it, gitship's does.
# Both clone into SCRATCH (default /dev/shm/gitship-bench-gitops, tmpfs):
# on this machine's disk, creating 20,000 small files takes 15-20 s of
# kernel time for either side and drowns what the tools do. SCRATCH=DIR
# clones onto a disk instead.
# GITSHIP_BIN=PATH times another build of the step (GITSHIP_ENV="K=V ..."
# sets its environment), e.g. an experiment with shared/gitops.
# Before timing: one checked run of each side (both leave exactly their
# files, added, on main), one run of each with the time of every phase,
# and MEMRUNS runs of each under bench/gitops/peak. Timing: RUNS rounds of
# hyperfine --runs 1, each side once per round, the order alternating.
. "$(dirname "$0")/lib.sh"
need hyperfine python3 git
bench_dirs gitops
runs=${RUNS:-10}
memruns=${MEMRUNS:-3}
scratch=${SCRATCH:-/dev/shm/gitship-bench-gitops}
rm -rf "$scratch"
mkdir -p "$scratch"

if [ -n "${GITSHIP_BIN:-}" ]; then
  gp=$(realpath "$GITSHIP_BIN")
else
  make -s bin/gitship-gitops-pr
  gp=$PWD/bin/gitship-gitops-pr
fi
genv=${GITSHIP_ENV:-}
go build -o "$bin/gitops-gen" ./bench/gitops/gen
go build -o "$bin/gitops-serve" ./bench/gitops/serve
go build -o "$bin/peak" ./bench/gitops/peak
peak=$bin/peak cli=$PWD/bench/gitops/cli.sh

# git, for the bench's own set-up and the CLI side: no user or system
# configuration, a fixed identity.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$work/home GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p "$HOME"

# The GitOps repository, generated once (again when the generator changes).
seed=$work/seed.git
stamp=$(sha256sum bench/gitops/gen/main.go | cut -c1-16)
if [ "$(cat "$seed/bench-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "generating the GitOps repository (2,000 commits, 20,000 files) into $seed"
  rm -rf "$seed"
  git init -q --bare -b main "$seed"
  "$bin/gitops-gen" | git -C "$seed" fast-import --quiet
  git -C "$seed" repack -a -d -f -q
  echo "$stamp" >"$seed/bench-stamp"
fi
root=$work/root
rm -rf "$root"
mkdir -p "$root"
cp -R "$seed" "$root/gitops.git"
files0=$(git -C "$root/gitops.git" ls-tree -r --name-only main | wc -l)
commits0=$(git -C "$root/gitops.git" rev-list --count main)
pack=$(du -sb "$root/gitops.git/objects/pack" | cut -f1)

# The server, stopped on exit.
token=gitship-bench-token
auth=$(printf 'x-access-token:%s' "$token" | base64 -w0)
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap stop EXIT
rm -f "$work/addr" "$work/requests.log"
"$bin/gitops-serve" -root "$root" -token "$token" -addr-file "$work/addr" -log "$work/requests.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.1; done
url=http://$(cat "$work/addr")/gitops.git
git ls-remote "$url" >/dev/null 2>&1 && { echo "the server answers without the token"; exit 1; }
git -c "http.extraHeader=Authorization: Basic $auth" ls-remote "$url" main >/dev/null
logged=$(wc -l <"$work/requests.log")

# The app: examples/app in a git checkout of its own, as CI has it.
app=$work/app
rm -rf "$app"
cp -R examples/app "$app"
(cd "$app" && git init -q -b main && git add -A &&
  GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z git commit -q -m app)
digest=$(printf gitship-bench | sha256sum | cut -c1-64)
step="$gp --gitops-branch main --environment dev --chart deploy/chart --values deploy/values/{environment}.yaml"
step+=" --image registry.example.com/hello@sha256:$digest --direct --outputs-file $work/outputs.json"
gitship() { # NAME: the command that commits clusters/dev/NAME with gitship
  echo "cd $app && env TMPDIR=$scratch $genv $step --gitops-repo $url --token $token --app $1"
}
git_cli() { # NAME
  echo "bash $cli $url $auth $work/rendered/$1 $1 $scratch/$1"
}

# What the CLI side commits: the files gitship writes for that app, made by
# gitship-gitops-pr itself into a scratch repository, before timing.
names="check phases $(seq -f 'mem%g' 1 "$memruns") $(seq -f 'run%g' 1 "$runs")"
prerender=$work/prerender.git
rm -rf "$prerender" "$work/rendered"
mkdir -p "$work/rendered"
git init -q --bare -b main "$prerender"
git -C "$prerender" update-ref refs/heads/main "$(git -C "$prerender" commit-tree "$(git -C "$prerender" mktree </dev/null)" -m empty)"
for n in $names; do
  (cd "$app" && env $genv $step --gitops-repo "$prerender" --app "c-$n" >/dev/null)
  git -C "$prerender" archive main "clusters/dev/c-$n" | tar -x -C "$work/rendered" --strip-components=2
done

# One checked run of each side: each leaves one commit on main whose
# parent is the one before and which only adds the files of its app, the
# same files (the app's name in them aside).
check() { # PARENT NAME: prints what main's commit adds
  local got
  [ "$(git -C "$root/gitops.git" rev-parse main^)" = "$1" ] || { echo "$2: main's parent is not $1"; exit 1; }
  got=$(git -C "$root/gitops.git" diff-tree --no-commit-id -r --name-status main)
  echo "$got" | grep -qv "^A	clusters/dev/$2/" && { printf '%s: main changed more than its app\n%s\n' "$2" "$got"; exit 1; }
  git -C "$root/gitops.git" archive main "clusters/dev/$2" | tar -xO | sed "s/$2/APP/g" | sha256sum
}
before=$(git -C "$root/gitops.git" rev-parse main)
eval "$(gitship g-check)" >"$work/check-gitship.log" 2>&1 || { cat "$work/check-gitship.log"; exit 1; }
sum_g=$(check "$before" g-check)
before=$(git -C "$root/gitops.git" rev-parse main)
eval "$(git_cli c-check)" >"$work/check-cli.log" 2>&1 || { cat "$work/check-cli.log"; exit 1; }
sum_c=$(check "$before" c-check)
[ "$sum_g" = "$sum_c" ] || { echo "the two sides committed different files"; exit 1; }
echo "checked: each side adds the same files in one commit on main: $(git -C "$root/gitops.git" diff-tree --no-commit-id -r --name-only main | xargs -n1 basename | tr '\n' ' ')"

# Where the time goes: gitship's log lines, timestamped as they come; the
# CLI's steps one by one.
python3 - "$work/phases-gitship.tsv" "$(gitship g-phases)" <<'PY'
import subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
marks = []
p = subprocess.Popen(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in p.stdout:
    marks.append((time.monotonic() - t0, line.rstrip("\n")))
p.wait()
end = time.monotonic() - t0
if p.returncode:
    sys.exit("\n".join(l for _, l in marks))
def at(text):
    return next(t for t, l in marks if text in l)
phases = [
    ("start, render, pin, validate", 0, at("gitops: clone")),
    ("clone (depth 1) and checkout", at("gitops: clone"), at("gitops: main is at")),
    ("write, stage (add all), commit", at("gitops: main is at"), at("gitops: commit")),
    ("push", at("gitops: commit"), at("gitops: pushed")),
    ("remove the clone, summary, exit", at("gitops: pushed"), end),
]
with open(out, "w") as f:
    for name, a, b in phases:
        f.write(f"{name}\t{(b - a) * 1000:.0f}\n")
PY
rm -rf "$work/steps"
mkdir -p "$work/steps"
BENCH_STEPS=$work/steps BENCH_PEAK=$peak eval "$(git_cli c-phases)" >/dev/null

# Memory: MEMRUNS runs of each side under peak.
for i in $(seq 1 "$memruns"); do
  eval "$peak -o $work/mem-gitship-$i.json -- sh -c '$(gitship g-mem$i)' >/dev/null"
  eval "$peak -o $work/mem-cli-$i.json -- $(git_cli c-mem$i) >/dev/null"
done

# A busy machine makes the numbers noisy: say so.
warn_if_busy timing

# Timed rounds, the order alternating.
for i in $(seq 1 "$runs"); do
  a=(-n gitship "$(gitship "g-run$i")") b=(-n "git CLI" "$(git_cli "c-run$i")")
  if ((i % 2)); then set -- "${a[@]}" "${b[@]}"; else set -- "${b[@]}" "${a[@]}"; fi
  hyperfine --runs 1 --style none --export-json "$work/round$i.json" "$@" >/dev/null
  python3 - "$work/round$i.json" "$i" "$runs" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"round {sys.argv[2]}/{sys.argv[3]}: gitship {r['gitship']:.2f} s, git CLI {r['git CLI']:.2f} s")
PY
done

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) GiB; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$($gp --version)${genv:+ ($genv)}, $(git --version), $(go version | cut -d' ' -f3); $(hyperfine --version); clones in $scratch ($(df -T "$scratch" | awk 'NR == 2 {print $2}'))"
echo "GitOps repository: $commits0 commits, $files0 files at the tip, $(python3 -c "print(f'{$pack / 2**20:.1f}')") MiB packed; $(git -C "$root/gitops.git" rev-list --count main) commits after the bench"
echo "requests the server refused for their credentials, after the check that it does: $(tail -n +$((logged + 1)) "$work/requests.log" | grep -c ' 401 ' || true)"
python3 - "$work" "$runs" "$memruns" "$logged" <<'PY'
import json, os, statistics as st, sys
work, runs, memruns, logged = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sides = ("gitship", "git CLI")
wall = {s: [] for s in sides}
cpu = {s: [] for s in sides}
for i in range(1, runs + 1):
    for x in json.load(open(os.path.join(work, f"round{i}.json")))["results"]:
        wall[x["command"]].append(x["mean"])
        cpu[x["command"]].append(x["user"] + x["system"])
sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
cell = lambda v: f"{st.mean(v):.2f} s ± {sd(v):.2f}"
mem = {}
for s, f in (("gitship", "gitship"), ("git CLI", "cli")):
    rs = [json.load(open(os.path.join(work, f"mem-{f}-{i}.json"))) for i in range(1, memruns + 1)]
    mem[s] = (max(r["maxrss_kb"] for r in rs), max(r["peak_sum_kb"] for r in rs))
mb = lambda kb: f"{kb / 1024:.0f} MiB"
g, c = st.mean(wall["gitship"]), st.mean(wall["git CLI"])
d = [a - b for a, b in zip(wall["gitship"], wall["git CLI"])]
print()
print("| | gitship-gitops-pr | git CLI (clone, copy, add, commit, push) | ratio |")
print("|---|---:|---:|---:|")
print(f"| wall time, {runs} rounds | {cell(wall['gitship'])} | {cell(wall['git CLI'])} | **{g / c:.2f}×** |")
print(f"| paired difference (gitship − CLI in a round) | {st.mean(d):+.2f} s ± {sd(d):.2f} | | |")
print(f"| client CPU (user + system) | {cell(cpu['gitship'])} | {cell(cpu['git CLI'])} | {st.mean(cpu['gitship']) / st.mean(cpu['git CLI']):.2f}× |")
print(f"| peak RSS, largest process, {memruns} runs | {mb(mem['gitship'][0])} | {mb(mem['git CLI'][0])} | {mem['gitship'][0] / mem['git CLI'][0]:.2f}× |")
print(f"| peak RSS, process tree summed | {mb(mem['gitship'][1])} | {mb(mem['git CLI'][1])} | {mem['gitship'][1] / mem['git CLI'][1]:.2f}× |")
print("ratio: gitship's ÷ the git CLI's (target for wall time: at most 1.5×); ± is the standard deviation")
print("client CPU: of the command and its children (hyperfine); the server's git http-backend, upload-pack and receive-pack not included")
print("peak RSS, largest process: wait4's ru_maxrss (GNU time's \"Maximum resident set size\"), the most of the runs;")
print("  summed: the largest total RSS of all processes of the command at one moment, sampled every 1 ms")
print()
print("| gitship-gitops-pr, one run | ms |")
print("|---|---:|")
for line in open(os.path.join(work, "phases-gitship.tsv")):
    name, ms = line.rstrip("\n").split("\t")
    print(f"| {name} | {int(ms):,} |")
print()
print("| git CLI, one run | ms | peak RSS, largest process |")
print("|---|---:|---:|")
for line in open(os.path.join(work, "steps", "steps.tsv")):
    name, ms = line.rstrip("\n").split("\t")
    r = json.load(open(os.path.join(work, "steps", name + ".json")))
    print(f"| {name} | {int(ms):,} | {mb(r['maxrss_kb'])} |")
print("(run apart from the timed rounds, each step under bench/gitops/peak: add a few ms per step)")
print()
# The server's side: git http-backend's time per request, by client.
reqs = {}
with open(os.path.join(work, "requests.log")) as f:
    for line in list(f)[logged:]:
        method, path, status, size, ms, ua = line.split()
        who = "gitship (go-git)" if ua.startswith("go-git") else "git CLI"
        kind = path.rsplit("/", 1)[-1] if method == "POST" else "info/refs"
        reqs.setdefault((who, kind), []).append((float(ms), int(size)))
print("| requests per run, server side | gitship (go-git) | git CLI |")
print("|---|---:|---:|")
n = {w: sum(len(v) for (x, _), v in reqs.items() if x == w) for w in ("gitship (go-git)", "git CLI")}
for kind in ("info/refs", "git-upload-pack", "git-receive-pack"):
    cells = []
    for who in ("gitship (go-git)", "git CLI"):
        v = reqs.get((who, kind), [])
        big = [x for x in v if x[1] > 1 << 20]
        if big:  # the clone's pack
            cells.append(f"pack: {st.median(m for m, _ in big):,.0f} ms, {st.median(b for _, b in big) / 2**20:.1f} MiB (median)")
        elif v:
            cells.append(f"{st.median(m for m, _ in v):,.0f} ms (median)")
        else:
            cells.append("-")
    print(f"| {kind} | {cells[0]} | {cells[1]} |")
runs_seen = {w: len(reqs.get((w, "git-receive-pack"), [])) for w in n}
print("| requests per run | " + " | ".join(f"{n[w] / max(runs_seen[w], 1):.0f}" for w in n) + " |")
print("ms: until git http-backend's response is written (the client reading it paces the pack)")
PY
