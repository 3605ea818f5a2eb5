#!/usr/bin/env python3
"""What bench/build.sh needs besides hyperfine.

  check.py edit WORK FILE
      gives main.go's greeting a new number ("hello 17, %s"), the one-line
      change of row 2, and appends the number to WORK/edits.
  check.py snapshot WORK ROW DOCKER GITSHIP_IMAGE BUILDX_IMAGE
      records those of the two images there are (config, layers, the
      binary's digest) before a prepare removes them.
  check.py round WORK ROW ROUND LOAD DOCKER GITSHIP_LOG BUILDX_LOG GITSHIP_IMAGE BUILDX_IMAGE FILE
      checks one timed round: in each side's log the go build RUN ran (rows
      1, 2) or was CACHED (row 3); both images have the same labels, config
      and number of layers, and the same compiled binary (row 2: each with
      the greeting its run was given). Saves the round's times, the RUN's
      own time from each log, and the load average to WORK/rowR-roundI.round.json.
      Exits 1 when a check fails.
  check.py table WORK ROWS RUNS1 RUNS2 RUNS3 TITLE1 TITLE2 TITLE3
      prints the results as a Markdown table.
"""
import hashlib
import json
import os
import re
import statistics as st
import subprocess
import sys
import time

SIDES = ("gitship-build", "buildx")


def edit(work, path):
    n = int(time.time() * 1000)
    src = open(path).read()
    new, k = re.subn(r'fmt\.Sprintf\("hello[^"]*, %s", name\)', f'fmt.Sprintf("hello {n}, %s", name)', src)
    if k != 1:
        sys.exit(f"{path}: no greeting line to change")
    open(path, "w").write(new)
    with open(os.path.join(work, "edits"), "a") as f:
        f.write(f"{n}\n")


def run_vertex(log):
    """The go build RUN's vertex in a plain BuildKit log (gitship-build's or
    buildx's): (cached, seconds it took or None)."""
    text = open(log).read()
    m = re.search(r"^#(\d+) (?:CACHED )?\[build \d+/\d+\] RUN --mount=type=cache", text, re.M)
    if not m:
        sys.exit(f"{log}: no go build RUN vertex")
    v = m.group(1)
    cached = re.search(rf"^#{v} CACHED\b", text, re.M) is not None
    done = re.findall(rf"^#{v} DONE (\d+(?:\.\d+)?)s", text, re.M)
    return cached, float(done[-1]) if done else None


def inspect(docker, image):
    out = subprocess.check_output([docker, "image", "inspect", image])
    img = json.loads(out)[0]
    c = img["Config"]
    conf = {k: c.get(k) for k in ("Labels", "Entrypoint", "Cmd", "User", "ExposedPorts", "Env", "WorkingDir")}
    return conf, len(img["RootFS"]["Layers"])


def binary(docker, image, path):
    return subprocess.check_output([docker, "run", "--rm", "--entrypoint", "cat", image, path])


def exists(docker, image):
    return subprocess.run([docker, "image", "inspect", image], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def describe(docker, image, exe):
    conf, layers = inspect(docker, image)
    b = binary(docker, image, exe)
    return {"config": conf, "layers": layers, "sha256": hashlib.sha256(b).hexdigest()}, b


def snapshot(work, row, docker, *images):
    """Before a side's run in rows 1 and 3, which remove both sides' images
    so that neither finds the other's layers in the engine: records the
    images there are, for the check after the round."""
    exe = "/out/hello" if int(row) == 3 else "/hello"
    for side, image in zip(SIDES, images):
        if exists(docker, image):
            d, _ = describe(docker, image, exe)
            json.dump(d, open(os.path.join(work, f"snapshot-{side}.json"), "w"))


def round_(work, row, rnd, load, docker, glog, xlog, gimage, ximage, path):
    row = int(row)
    res = json.load(open(os.path.join(work, f"row{row}-round{rnd}.json")))["results"]
    times = {x["command"]: x["mean"] for x in res}
    order = [x["command"] for x in res]
    errs = []
    runs = {}
    for side, log in zip(SIDES, (glog, xlog)):
        cached, secs = run_vertex(log)
        runs[side] = secs
        want = row == 3
        if cached != want:
            errs.append(f"{side}: the go build RUN was {'' if cached else 'not '}CACHED ({log})")
    if row == 3 and "importing cache manifest" not in open(xlog).read():
        errs.append(f"buildx imported no cache ({xlog})")
    exe = "/out/hello" if row == 3 else "/hello"
    desc, bins = {}, {}
    for side, image in zip(SIDES, (gimage, ximage)):
        if exists(docker, image):
            desc[side], bins[side] = describe(docker, image, exe)
        elif side == order[0] and os.path.exists(os.path.join(work, f"snapshot-{side}.json")):
            # Removed by the other side's prepare, which recorded it.
            desc[side] = json.load(open(os.path.join(work, f"snapshot-{side}.json")))
        else:
            errs.append(f"{side}: no image {image}")
    if len(desc) == 2:
        g, x = desc["gitship-build"], desc["buildx"]
        if g["config"] != x["config"]:
            errs.append(f"the images' configs differ:\n  gitship-build {g['config']}\n  buildx        {x['config']}")
        if g["layers"] != x["layers"]:
            errs.append(f"the images have {g['layers']} and {x['layers']} layers")
        if row == 2:
            edits = open(os.path.join(work, "edits")).read().split()[-2:]
            given = dict(zip(order, edits))
            for side, b in bins.items():
                if f"hello {given[side]}, %s".encode() not in b:
                    errs.append(f"{side}: {exe} lacks the greeting of its run, hello {given[side]}")
        elif g["sha256"] != x["sha256"]:
            errs.append(f"{exe} differs: gitship-build {g['sha256'][:12]}, buildx {x['sha256'][:12]}")
    for side in SIDES:
        try:
            os.remove(os.path.join(work, f"snapshot-{side}.json"))
        except FileNotFoundError:
            pass
    json.dump({"times": times, "run": runs, "load": float(load), "order": order},
              open(os.path.join(work, f"row{row}-round{rnd}.round.json"), "w"))
    fmt = lambda s: f"{s} {times[s]:.2f} s" + (f" (RUN {runs[s]:.1f} s)" if runs[s] is not None else " (RUN CACHED)")
    print(f"round {rnd}, load {load}: " + ", ".join(fmt(s) for s in order))
    if errs:
        sys.exit("check failed:\n" + "\n".join(errs))


def table(work, rows, *rest):
    nruns, titles = [int(x) for x in rest[:3]], rest[3:]
    print("| row | gitship-build | buildx | ratio gitship/buildx | paired difference | outside the go build RUN: gitship-build, buildx | client CPU: gitship-build, buildx | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
    for row in map(int, rows.split()):
        rs = [json.load(open(os.path.join(work, f"row{row}-round{i}.round.json"))) for i in range(1, nruns[row - 1] + 1)]
        g = [r["times"]["gitship-build"] for r in rs]
        x = [r["times"]["buildx"] for r in rs]
        d = [a - b for a, b in zip(g, x)]
        cell = lambda v: f"{st.mean(v):.2f} s ± {sd(v):.2f}"
        out = []
        for side, v in (("gitship-build", g), ("buildx", x)):
            o = [t - r["run"][side] for t, r in zip(v, rs) if r["run"][side] is not None]
            out.append(cell(o) if o else "-")
        loads = [r["load"] for r in rs]
        cpu = {}
        for i in range(1, nruns[row - 1] + 1):
            for h in json.load(open(os.path.join(work, f"row{row}-round{i}.json")))["results"]:
                cpu.setdefault(h["command"], []).append(h["user"] + h["system"])
        ms = lambda v: f"{st.mean(v) * 1000:,.0f} ms"
        print(f"| {row}. {titles[row - 1]} ({len(rs)} rounds) | {cell(g)} | {cell(x)} | **{st.mean(g) / st.mean(x):.2f}×** "
              f"| {st.mean(d) * 1000:+,.0f} ms ± {sd(d) * 1000:,.0f} | {out[0]}, {out[1]} | {ms(cpu['gitship-build'])}, {ms(cpu['buildx'])} | {min(loads):.1f} to {max(loads):.1f} |")
    print("± is the standard deviation; ratio: gitship-build's mean time ÷ buildx's (goal: at most 1.0×)")
    print("paired difference: gitship-build − buildx within a round, the order alternating (negative: gitship-build is faster)")
    print("outside the go build RUN: the run's time less the RUN vertex's own, as each side's log gives it (rows 1, 2)")
    print("client CPU: user + system time of the client process and its children (the build itself runs in the engine)")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"edit": edit, "snapshot": snapshot, "round": round_, "table": table}[cmd](*args)
