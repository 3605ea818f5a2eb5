# bench/lib.sh: what the bench scripts share. Each sources it after
# `cd "$(dirname "$0")/.."`: . bench/lib.sh

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
