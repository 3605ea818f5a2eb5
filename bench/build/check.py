#!/usr/bin/env python3
"""One checked run of each side of a bench/build.sh row, its phases timed.

  check.py WORK ROW WANT OCI GITSHIP_CMD 'NAME<TAB>CMD'...

Runs GITSHIP_CMD, timing each line of its log as it comes, then the docker
CLI's commands one by one, timing each. Checks that both ran the tests
(WANT in the log, gitship's test-exit-code 0), that both built the same
final image (with OCI set: that the OCI layout holds the layers and labels
of the image the CLI saved),
and warns about containers or images new in the engine after a side's run.
Prints the phases side by side. Exits 1 when the sides did not do the same
work.
"""
import json
import os
import subprocess
import sys
import tarfile
import time

work, row, want, oci, gitship = sys.argv[1:6]
cli_steps = [s.split("\t", 1) for s in sys.argv[6:]]


def snapshot():
    out = subprocess.check_output(["sh", "-c", "docker ps -aq --no-trunc; docker images -aq --no-trunc"], text=True)
    return set(out.split())


def run_gitship():
    """Runs gitship, returning (seconds since start, line) for each line
    and the total."""
    lines = []
    t0 = time.monotonic()
    p = subprocess.Popen(["sh", "-c", gitship + " 2>&1"], stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        lines.append((time.monotonic() - t0, line.rstrip("\n")))
    p.wait()
    total = time.monotonic() - t0
    with open(os.path.join(work, f"row{row}-gitship.log"), "w") as f:
        f.writelines(f"{t:8.3f} {line}\n" for t, line in lines)
    if p.returncode != 0:
        sys.exit(f"gitship-build exited with {p.returncode}: see {f.name}")
    return lines, total


def run_cli():
    phases, log = {}, []
    for name, cmd in cli_steps:
        t0 = time.monotonic()
        p = subprocess.run(["sh", "-c", cmd + " 2>&1"], stdout=subprocess.PIPE, text=True)
        phases[name] = time.monotonic() - t0
        log.append(f"$ {cmd}\n{p.stdout}")
        if p.returncode != 0:
            with open(os.path.join(work, f"row{row}-cli.log"), "w") as f:
                f.writelines(log)
            sys.exit(f"docker CLI: {cmd}: exit {p.returncode}: see {f.name}")
    with open(os.path.join(work, f"row{row}-cli.log"), "w") as f:
        f.writelines(log)
    return phases, "".join(log)


before = snapshot()
lines, total_g = run_gitship()
left_g = snapshot() - before
before = snapshot()
phases_c, log_c = run_cli()
left_c = snapshot() - before

log_g = "\n".join(line for _, line in lines)
out = json.load(open(os.path.join(work, "outputs.json")))
cli_id = open(os.path.join(work, "cli.iid")).read().strip()
ok = True


def check(cond, msg, hard=True):
    global ok
    print(("ok    " if cond else "FAIL  " if hard else "warn  ") + msg)
    ok &= bool(cond) or not hard


check(out.get("test-exit-code") == "0" and want in log_g, f"gitship-build: test exit code 0, {want!r} in its log")
check(want in log_c, f"docker CLI: {want!r} in its log")
if oci != "-":
    # Both sides removed the final image after their run, so each built its
    # last LABEL layers anew, with their own creation times: the same
    # layers and labels, not the same ID.
    def oci_config():
        idx = json.load(open(os.path.join(oci, "index.json")))
        manifest = json.load(open(os.path.join(oci, "blobs", "sha256", idx["manifests"][0]["digest"].split(":", 1)[1])))
        return json.load(open(os.path.join(oci, "blobs", "sha256", manifest["config"]["digest"].split(":", 1)[1])))

    def saved_config():
        with tarfile.open(os.path.join(work, "cli.tar")) as t:
            manifest = json.load(t.extractfile("manifest.json"))
            return json.load(t.extractfile(manifest[0]["Config"]))

    same = lambda c: (c["rootfs"]["diff_ids"], c["config"].get("Labels"), c["config"].get("Entrypoint"), c["config"].get("User"))
    g, c = oci_config(), saved_config()
    check(same(g) == same(c), f"the OCI layout holds the image the CLI built and saved: the same {len(g['rootfs']['diff_ids'])} layers, "
          f"labels, entrypoint and user (manifest {out.get('digest', '?')[:19]})")
else:
    check(out["image-id"] == cli_id, f"the same final image on both sides: {cli_id[:19]}, tagged {out['tags']}")
# None is expected, but another client of the same engine can make some.
for who, new in (("gitship-build", left_g), ("docker CLI", left_c)):
    check(not new, f"{who} left nothing in the engine" +
          (f": new since its run began: {' '.join(sorted(new))} (or another client of the engine made them)" if new else ""),
          hard=False)


def at(prefix):
    return next((t for t, line in lines if line.startswith(prefix)), None)


marks = [("start, CI context, connect", 0.0, at("Docker Engine at")),
         ("test build", at("==> Build test stage"), at("==> Test:")),
         ("test run", at("==> Test:"), at("==> Build image")),
         ("final build", at("==> Build image"), at("Built image")),
         ("save", at("==> Write OCI layout"), at("OCI layout ")),
         ("cleanup, exit", lines[-1][0], total_g)]
phases_g = {name: b - a for name, a, b in marks if a is not None and b is not None}
print(f"{'phase (one run)':28} {'gitship-build':>14} {'docker CLI':>11}")
for name, *_ in marks:
    cell = lambda d, k: f"{d[k] * 1000:,.0f} ms" if k in d else "-"
    if name in phases_g or name in phases_c:
        print(f"{name:28} {cell(phases_g, name):>14} {cell(phases_c, name):>11}")
print(f"{'total':28} {total_g * 1000:>11,.0f} ms {sum(phases_c.values()) * 1000:>8,.0f} ms")
if not ok:
    sys.exit("the two sides did not do the same work: see above")
