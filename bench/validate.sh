#!/usr/bin/env bash
# Validate throughput, side by side with what users run instead, on the same
# machine in one run, against the same schemas.
#   bash bench/validate.sh        (needs hyperfine; RUNS=10 by default;
#   CASES="main crd" by default: CASES=crd times the --crd case alone,
#   CASES=main the tree and the charts; GV=path another build, see below)
# 1. 5,000 generated manifests of mixed kinds, 18 of them with a planted
#    mistake: gitship-validate --manifests vs the kubeconform v0.8.0 CLI.
# 2. Charts, rendered and validated: gitship-validate --chart (in-process)
#    vs helm template | kubeconform, for the example chart (dev values) and
#    a generated 136-template chart rendering 1,088 resources.
# kubeconform and helm are built from source into bench/out/bin (helm from
# the SDK version gitship links). kubeconform reads the schemas gitship
# embeds, exported by tools/schemaexport before timing, with -strict (as
# gitship's default) and the same Kubernetes version; the script stops if
# the two do not reach the same verdicts.
. "$(dirname "$0")/lib.sh"
need hyperfine python3
bench_dirs validate

# Tools: built once, rebuilt only when missing or another version.
install() { # binary module version package
  go version -m "$bin/$1" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3[[:space:]]" && return
  echo "building $4@$3 into $bin (the first time takes a few minutes)"
  GOBIN=$bin go install "$4@$3"
}
install kubeconform github.com/yannh/kubeconform v0.8.0 github.com/yannh/kubeconform/cmd/kubeconform
install helm helm.sh/helm/v3 v3.22.0 helm.sh/helm/v3/cmd/helm
# GV=path times another gitship-validate build (an older commit's, to
# compare), instead of this tree's.
[ -n "${GV:-}" ] || make -s bin/gitship-validate
go build -o "$bin/schemaexport" ./tools/schemaexport
gv=${GV:-$PWD/bin/gitship-validate} kc=$bin/kubeconform helm=$bin/helm

# Inputs and schemas, outside the timed region.
k8s=${K8S:-$("$bin/schemaexport" -list | tail -n 1)}
go run ./bench/validate/gen -out "$work"
rm -rf "$work/schemas"
"$bin/schemaexport" -kubernetes-version "$k8s" -dir "$work/schemas"
loc="$work/schemas/{{ .NormalizedKubernetesVersion }}/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}{{ .StrictSuffix }}.json"
kubeconform="$kc -strict -summary -kubernetes-version $k8s -schema-location '$loc'"
gitship="$gv --kubernetes-version $k8s --outputs-file $work/outputs.json"
chart=examples/app/deploy/chart values=examples/app/deploy/values/dev.yaml
tree=$work/tree big=$work/chart

# Same verdicts: counts, and which resources are invalid (the planted ones).
# Both exit 1 on the tree, for its planted mistakes.
$gitship --manifests "$tree" --format json --output "$work/tree.gitship.json" >/dev/null 2>&1 || [ $? = 1 ]
eval "$kubeconform -output json $tree" >"$work/tree.kubeconform.json" || [ $? = 1 ]
$gitship --chart $chart --values $values --release-name hello --format json --output "$work/example.gitship.json" >/dev/null
$helm template hello $chart -f $values --kube-version "$k8s" | eval "$kubeconform -output json -" >"$work/example.kubeconform.json"
$gitship --chart "$big" --format json --output "$work/big.gitship.json" >/dev/null
$helm template platform "$big" --kube-version "$k8s" | eval "$kubeconform -output json -" >"$work/big.kubeconform.json"
python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
def load(name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)
def counts(g, k):
    gs, ks = g["summary"], k["summary"]
    return ((gs["resources"], gs["valid"], gs["invalid"], gs["missingSchema"], gs["errors"]),
            (ks["valid"] + ks["invalid"] + ks["errors"] + ks["skipped"], ks["valid"], ks["invalid"], ks["skipped"], ks["errors"]))
ok = True
for case in ("tree", "example", "big"):
    g, k = load(case + ".gitship.json"), load(case + ".kubeconform.json")
    cg, ck = counts(g, k)
    print(f"{case:8} gitship-validate: {cg[0]} resources, {cg[1]} valid, {cg[2]} invalid, {cg[3]} without a schema, {cg[4]} unreadable")
    print(f"{case:8} kubeconform:      {ck[0]} resources, {ck[1]} valid, {ck[2]} invalid, {ck[3]} skipped, {ck[4]} errors")
    ok &= cg == ck
    if case == "tree":
        planted = set()
        with open(os.path.join(work, "planted.tsv")) as f:
            for line in f:
                path, kind, name, _ = line.rstrip("\n").split("\t")
                planted.add((os.path.realpath(path), kind, name))
        bad_g = {(os.path.realpath(r["source"]), r["kind"], r["name"]) for r in g["resources"] if r["status"] != "valid"}
        bad_k = {(os.path.realpath(r["filename"]), r["kind"], r["name"]) for r in k["resources"] if r["status"] != "statusValid"}
        for who, bad in (("gitship-validate", bad_g), ("kubeconform", bad_k)):
            if bad != planted:
                ok = False
                print(f"{who}: flags {sorted(bad - planted)} not planted, misses {sorted(planted - bad)}")
        if bad_g == bad_k == planted:
            print(f"tree     both flag exactly the {len(planted)} planted mistakes")
if not ok:
    sys.exit("verdicts differ: see above")
PY

cases=" ${CASES:-main crd} "
hf() { hyperfine --warmup 2 --runs "${RUNS:-10}" "$@"; }
main_cases() {
n_tree=$(python3 -c "import json;print(json.load(open('$work/tree.gitship.json'))['summary']['resources'])")
n_example=$(python3 -c "import json;print(json.load(open('$work/example.gitship.json'))['summary']['resources'])")
n_big=$(python3 -c "import json;print(json.load(open('$work/big.gitship.json'))['summary']['resources'])")
# Timings on a shared machine mean little: say so when something else runs.
warn_if_busy timing

echo "== $n_tree manifests (kubeconform -n 4, its default; gitship one worker per core)"
hf -i --export-json "$work/tree.json" \
  -n gitship-validate "$gitship --manifests $tree" \
  -n kubeconform "$kubeconform $tree"

echo "== example chart, dev values ($n_example resources)"
hf --export-json "$work/example.json" \
  -n gitship-validate "$gitship --chart $chart --values $values --release-name hello" \
  -n "helm template | kubeconform" "$helm template hello $chart -f $values --kube-version $k8s | $kubeconform -"

echo "== generated chart ($(find "$big/templates" -name '*.yaml' | wc -l) templates, $n_big resources)"
hf --export-json "$work/big.json" \
  -n gitship-validate "$gitship --chart $big" \
  -n "helm template | kubeconform" "$helm template platform $big --kube-version $k8s | $kubeconform -"

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo) GiB; Kubernetes $k8s schemas"
echo "$($gv --version), $(go version | cut -d' ' -f3); kubeconform v0.8.0, helm v3.22.0; $(hyperfine --version)"
python3 - "$work" "$n_tree" "$n_example" "$n_big" <<'PY'
import json, os, sys
work, counts = sys.argv[1], dict(zip(("tree", "example", "big"), map(int, sys.argv[2:])))
labels = {"tree": f"{counts['tree']:,} manifests", "example": "example chart, dev values",
          "big": f"generated chart, {counts['big']:,} resources"}
print("| workload | gitship-validate | kubeconform / helm template \\| kubeconform | speed-up | CPU (user + system) | CPU ratio |")
print("|---|---:|---:|---:|---:|---:|")
for case in ("tree", "example", "big"):
    with open(os.path.join(work, case + ".json")) as f:
        g, o = json.load(f)["results"]
    n = counts[case]
    cell = lambda r: f"{r['mean']*1000:,.0f} ms ± {r['stddev']*1000:,.0f}: {n/r['mean']:,.0f} resources/s"
    cpu = lambda r: (r["user"] + r["system"]) * 1000
    ratio = o["mean"] / g["mean"]
    print(f"| {labels[case]} | {cell(g)} | {cell(o)} | {ratio:.2f}× | {cpu(g):,.0f} ms, {cpu(o):,.0f} ms | {cpu(o)/cpu(g):.2f}× |")
print("speed-up: the other's mean time ÷ gitship-validate's (above 1: gitship is faster)")
print("CPU: mean user + system time of each command (both processes of the pipe), gitship's first;")
print("its ratio moves less than the wall time's when other work shares the cores")
PY
}
[[ $cases != *" main "* ]] || main_cases

# kube-prometheus-stack with its CRDs (issue 17's --crd case): the chart
# from the module tools/corpus pins (`go mod download` there first), its
# dependencies vendored into charts/ as `helm dependency build` would
# (grafana-community's grafana 13.0.1 for the 12.11.2 it asks for: the one
# the module proxy serves). kubeconform gets the CRDs' schemas converted
# by bench/validate/crdschemas, as openapi2jsonschema would. Two ways a
# user runs it: the CRDs rendered from the chart's crds/ (helm template
# --include-crds), and the chart without them (crds.enabled=false) with
# the CRD files given to gitship-validate as --crd; gitship-validate both
# without and with --schema-cache (the CRDs converted by a previous run).
crd_case() {
  local kps prom graf crdloc cache
  dir() { (cd tools/corpus && GOFLAGS=-mod=mod go mod download -json "$1") | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
  prom=$(dir github.com/prometheus-community/helm-charts) graf=$(dir github.com/grafana-community/helm-charts)
  kps=$work/kube-prometheus-stack cache=$work/schema-cache
  rm -rf "$kps" "$cache" "$work/crdschemas"
  cp -r "$prom/charts/kube-prometheus-stack" "$kps"
  for c in kube-state-metrics prometheus-node-exporter prometheus-windows-exporter; do cp -r "$prom/charts/$c" "$kps/charts/"; done
  cp -r "$graf/charts/grafana" "$kps/charts/"
  chmod -R u+w "$kps"
  go run ./bench/validate/crdschemas -kubernetes-version "$k8s" -dir "$work/crdschemas" "$kps/charts/crds/crds" >/dev/null
  crdloc="$work/crdschemas/{{ .NormalizedKubernetesVersion }}/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}{{ .StrictSuffix }}.json"
  local kcrd="$kubeconform -schema-location '$crdloc'"
  local rendered="$helm template release-name $kps --include-crds --kube-version $k8s"
  local without="$helm template release-name $kps --set crds.enabled=false --kube-version $k8s"
  local flagged="--set crds.enabled=false --crd $kps/charts/crds/crds"

  # Same verdicts first.
  $gitship --chart "$kps" --format json --output "$work/kps.gitship.json" >/dev/null
  eval "$rendered | $kcrd -output json -" >"$work/kps.kubeconform.json"
  eval "$gitship --chart $kps $flagged --format json --output $work/kpscrd.gitship.json" >/dev/null
  eval "$without | $kcrd -output json -" >"$work/kpscrd.kubeconform.json"
  python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
for case in ("kps", "kpscrd"):
    g = json.load(open(os.path.join(work, case + ".gitship.json")))["summary"]
    k = json.load(open(os.path.join(work, case + ".kubeconform.json")))["summary"]
    kt = k["valid"] + k["invalid"] + k["errors"] + k["skipped"]
    print(f"{case:8} gitship-validate: {g['resources']} resources, {g['valid']} valid; kubeconform: {kt} resources, {k['valid']} valid")
    if (g["resources"], g["valid"]) != (kt, k["valid"]):
        sys.exit("verdicts differ: see above")
PY
  n_kps=$(python3 -c "import json;print(json.load(open('$work/kps.gitship.json'))['summary']['resources'])")
  n_kpscrd=$(python3 -c "import json;print(json.load(open('$work/kpscrd.gitship.json'))['summary']['resources'])")
  warn_if_busy timing
  echo "== kube-prometheus-stack, its 10 CRDs (4.5 MB) rendered ($n_kps resources)"
  hf --export-json "$work/kps.json" \
    -n gitship-validate "$gitship --chart $kps" \
    -n "gitship-validate --schema-cache" "$gitship --chart $kps --schema-cache $cache" \
    -n "helm template | kubeconform" "$rendered | $kcrd -"
  echo "== kube-prometheus-stack without its CRDs, given with --crd ($n_kpscrd resources)"
  hf --export-json "$work/kpscrd.json" \
    -n gitship-validate "$gitship --chart $kps $flagged" \
    -n "gitship-validate --schema-cache" "$gitship --chart $kps $flagged --schema-cache $cache" \
    -n "helm template | kubeconform" "$without | $kcrd -"
  python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
# CPU time (user + system, both processes of the pipe) beside the wall
# clock: on a shared machine it says more about the code than the clock.
print("| workload | gitship-validate | with --schema-cache | helm template \\| kubeconform | speed-up, wall (first run / cached) | speed-up, CPU (first run / cached) |")
print("|---|---:|---:|---:|---:|---:|")
for case, label in (("kps", "kube-prometheus-stack, CRDs rendered"), ("kpscrd", "kube-prometheus-stack, CRDs with --crd")):
    g, c, o = json.load(open(os.path.join(work, case + ".json")))["results"]
    cpu = lambda r: r["user"] + r["system"]
    cell = lambda r: f"{r['mean']*1000:,.0f} ms ± {r['stddev']*1000:,.0f} (CPU {cpu(r)*1000:,.0f} ms)"
    print(f"| {label} | {cell(g)} | {cell(c)} | {cell(o)} | {o['mean']/g['mean']:.2f}× / {o['mean']/c['mean']:.2f}× | {cpu(o)/cpu(g):.2f}× / {cpu(o)/cpu(c):.2f}× |")
PY
}
[[ $cases != *" crd "* ]] || crd_case
