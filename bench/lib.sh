# bench/lib.sh: what the bench scripts share. Each starts with
#   . "$(dirname "$0")/lib.sh"
# which stops the script at the first failing command (set -euo pipefail)
# and moves to the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

# warn_if_busy WHEN: samples the CPUs for a second and warns when more than
# 10% of them were busy: something else runs and the times will be noisy.
# WHEN ends the warning's "busy before ...", e.g. "timing" or "the round".
warn_if_busy() {
  python3 - "$1" <<'PY'
import sys, time
def cpu():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(v), v[3] + v[4]
(t0, i0), _, (t1, i1) = cpu(), time.sleep(1), cpu()
busy = 100 * (1 - (i1 - i0) / (t1 - t0))
if busy > 10:
    print(f"warning: the CPUs were {busy:.0f}% busy before {sys.argv[1]}: something else runs, times will be noisy")
PY
}

# need COMMAND[:PACKAGE]...: exits 2, naming the Debian package (COMMAND
# unless given), when a COMMAND is not installed.
need() {
  local c
  for c in "$@"; do
    command -v "${c%%:*}" >/dev/null || { echo "bench needs ${c%%:*} (apt-get install -y ${c#*:})"; exit 2; }
  done
}

# bench_dirs NAME: out is bench/out, bin its bin/ (the tools the benches
# build), work its NAME/ (this bench's files); makes bin and work.
bench_dirs() {
  out=$PWD/bench/out bin=$PWD/bench/out/bin work=$PWD/bench/out/$1
  mkdir -p "$bin" "$work"
}

# freeport: a TCP port on 127.0.0.1 that nothing listens on now.
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_up URL: waits up to 10 s until URL answers, else exits 1.
wait_up() {
  for _ in $(seq 100); do curl -fso /dev/null "$1" && return; sleep 0.1; done
  echo "no answer from $1"; exit 1
}

# start_registry DIR: starts docker-registry on a free loopback port with
# empty storage under DIR (config.yml, data/, log), adds its pid to the
# caller's pids array (which the caller's exit trap stops), waits until it
# answers, and sets host to its HOST:PORT. Exits 1 with its log when it
# does not answer.
start_registry() {
  local dir=$1
  rm -rf "$dir"
  mkdir -p "$dir"
  host=127.0.0.1:$(freeport)
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $host
  secret: gitship-bench
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pids+=($!)
  (wait_up "http://$host/v2/") || { cat "$dir/log"; exit 1; }
}
