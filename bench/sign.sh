#!/usr/bin/env bash
# What signing and attesting add to a 200 MB push, on loopback.
#   bash bench/sign.sh      (needs hyperfine, docker-registry, curl,
#                            python3, git and openssl; RUNS=5 rounds by
#                            default; DELAY=20ms for a registry a round
#                            trip away; RATE=125MB for an uplink of 1
#                            Gbit/s to it)
# The image: 4 layers of 50 MiB of pseudo-random bytes each, gzipped (200
# MiB that do not compress), written as an OCI layout by bench/publish/gen
# from a fixed seed. One docker-registry (distribution 2.8) on loopback,
# storage in bench/out/sign, stopped when the script ends.
# Cases, each pushing to a repository no run used before:
#   unsigned    gitship-publish --image oci:DIR --repository R/NEW
#   signed      the same with --signing-key: a signature, the SLSA
#               provenance and the SPDX SBOM (gitship scans every layer
#               for it) attested
#   signed-nosbom  --signing-key with --sbom none: signature and provenance
#   signed-pem  --signing-key with an unencrypted P-256 PEM (a key handed
#               over by a secret store): what signing and attesting cost
#               without opening cosign's password-encrypted key file,
#               whose scrypt (N=32768, r=8) takes ~120 ms of one core
#   unsigned+keyopen  the unsigned push, with cosign's key file opened
#               beside it by bench/publish/keyopen, another process (the
#               same signing.LoadSigner, nothing signed): what that key's
#               scrypt costs a push sharing the CPUs with it, apart from
#               signing and attesting. Only with a cosign key (see below).
#   crane+cosign   crane push, then cosign sign and cosign attest (a SLSA
#               provenance predicate, no SBOM) on the digest, with the same
#               key: what a pipeline does with the two CLIs. Only when
#               cosign is at hand: GITSHIP_COSIGN, the one the tests built
#               (~/.cache/gitship-test/cosign-*), or built here from
#               tools/cosign with the module cache (GOPROXY=off).
# Before timing, each case runs once and is checked: the digest at the
# destination is the image's, and cosign (when there) verifies the
# signature and attestations the signing cases wrote. Timing then runs in
# rounds, each case once per round, the order rotating, so that load from
# elsewhere on the machine falls on all of them; the table gives medians.
. "$(dirname "$0")/lib.sh"
need hyperfine python3 docker-registry curl git openssl
bench_dirs sign
runs=${RUNS:-5}

# Tools: gitship-publish as the Makefile builds it; crane from the
# go-containerregistry version gitship links (as bench/publish.sh).
ggcr=$(go list -m -f '{{.Version}}' github.com/google/go-containerregistry)
go version -m "$bin/crane" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/google/go-containerregistry[[:space:]]+$ggcr[[:space:]]" ||
  { echo "building crane $ggcr into $bin"; go build -o "$bin/crane" github.com/google/go-containerregistry/cmd/crane; }
# GP=path times another gitship-publish build (to compare commits).
[ -n "${GP:-}" ] || make -s bin/gitship-publish
gp=${GP:-$PWD/bin/gitship-publish} crane=$bin/crane
cosign=${GITSHIP_COSIGN:-}
if [ -z "$cosign" ]; then
  cosign=$(ls -t "${XDG_CACHE_HOME:-$HOME/.cache}"/gitship-test/cosign-*/cosign 2>/dev/null | head -n 1 || true)
fi
if [ -z "$cosign" ] && (cd tools/cosign && GOPROXY=off go build -o "$bin/cosign" github.com/sigstore/cosign/v2/cmd/cosign) 2>/dev/null; then
  cosign=$bin/cosign
fi
[ -z "$cosign" ] || go build -o "$bin/keyopen" ./bench/publish/keyopen
[ -n "$cosign" ] || echo "no cosign (GITSHIP_COSIGN, the tests' build, or tools/cosign offline): the crane+cosign case is left out"

# The image, the same bytes every run; made once.
image=$work/image
[ -f "$image/digest" ] || { go run ./bench/publish/gen -out "$image" -layers 4 -mib 50 >"$work/digest.tmp" && mv "$work/digest.tmp" "$image/digest"; }
digest=$(cat "$image/digest")
size=$(du -sb "$image/blobs" | cut -f1)

pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work/reg/data"
}
trap stop EXIT
start_registry "$work/reg"
reg=$host
# DELAY=20ms puts bench/publish/proxy in front of the registry, holding each
# request that long: a registry a round trip away rather than on loopback,
# where requests made one after the other cost what they cost in CI.
# RATE=125MB has it pass what is uploaded at that many bytes a second, all
# connections together: a CI runner's uplink rather than loopback's memory
# copies. On loopback the registry hashes and writes on the runner's own
# two cores, which a registry elsewhere does not.
if [ -n "${DELAY:-}" ] || [ -n "${RATE:-}" ]; then
  go build -o "$bin/publish-proxy" ./bench/publish/proxy
  rm -f "$work/proxy"
  "$bin/publish-proxy" -target "$host" -addr-file "$work/proxy" -delay "${DELAY:-0}" ${RATE:+-rate "$RATE"} &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/proxy" ] && break; sleep 0.1; done
  reg=$(cat "$work/proxy")
  wait_up "http://$reg/v2/"
fi

# The key: cosign's own format when cosign is there, else a P-256 PEM.
keys=$work/keys
rm -rf "$keys" && mkdir -p "$keys"
export COSIGN_PASSWORD=bench GITSHIP_SIGNING_KEY_PASSWORD=bench
if [ -n "$cosign" ]; then
  (cd "$keys" && "$cosign" generate-key-pair >/dev/null 2>&1)
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/cosign.key" 2>/dev/null
  unset GITSHIP_SIGNING_KEY_PASSWORD
fi
# An unencrypted P-256 key, as a secret store hands it over.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/plain.key" 2>/dev/null
openssl pkey -in "$keys/plain.key" -pubout -out "$keys/plain.pub" 2>/dev/null
cat >"$keys/provenance.json" <<'JSON'
{"buildDefinition": {"buildType": "https://gitship.dev/bench", "externalParameters": {"source": "bench"}},
 "runDetails": {"builder": {"id": "https://gitship.dev/bench"}}}
JSON

# gitship tags and records the commit it runs in: a fixed one, made here.
repo=$work/repo
rm -rf "$repo" && mkdir -p "$repo"
(cd "$repo" && git init -q -b main && echo bench >README && git remote add origin https://github.com/acme/bench.git &&
  git add -A && GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
    git -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false commit -q -m bench)
cd "$repo"

# Commands by case; @NEW@ is a repository name of its own for every run.
gitship="$gp --image oci:$image --insecure --outputs-file $work/outputs.json"
declare -A CMD
CMD[unsigned]="$gitship --repository $reg/unsigned/@NEW@"
CMD[signed]="$gitship --repository $reg/signed/@NEW@ --signing-key $keys/cosign.key"
CMD[signed-nosbom]="$gitship --repository $reg/nosbom/@NEW@ --signing-key $keys/cosign.key --sbom none"
CMD[signed-pem]="$gitship --repository $reg/pem/@NEW@ --signing-key $keys/plain.key"
cases="unsigned signed signed-nosbom signed-pem"
if [ -n "$cosign" ]; then
  CMD[unsigned+keyopen]="{ $bin/keyopen $keys/cosign.key >/dev/null & k=\$!; $gitship --repository $reg/keyopen/@NEW@ && wait \$k; }"
  CMD[crane+cosign]="$crane push $image $reg/cosign/@NEW@:bench --insecure >/dev/null 2>&1 &&
    $cosign sign --key $keys/cosign.key --tlog-upload=false --allow-http-registry -y $reg/cosign/@NEW@@$digest >/dev/null 2>&1 &&
    $cosign attest --key $keys/cosign.key --tlog-upload=false --allow-http-registry -y --type slsaprovenance1 --predicate $keys/provenance.json $reg/cosign/@NEW@@$digest >/dev/null 2>&1"
  cases="$cases unsigned+keyopen crane+cosign"
fi
cmd() { local c=${CMD[$1]}; echo "${c//@NEW@/$2}"; }

# One checked run of each case.
for c in $cases; do
  run=$(cmd "$c" check)
  (eval "$run") >"$work/check-$c.log" 2>&1 || { echo "failed: $run"; tail -20 "$work/check-$c.log"; exit 1; }
  dst=$(echo "$run" | grep -o "$reg/[a-z]*/check" | head -n 1)
  got=$("$crane" digest "$dst@$digest" --insecure 2>/dev/null || true)
  [ "$got" = "$digest" ] || { echo "$c: $dst has no $digest"; exit 1; }
  if [ -n "$cosign" ] && [ "$c" != unsigned ] && [ "$c" != unsigned+keyopen ]; then
    pub=$keys/cosign.pub
    [ "$c" = signed-pem ] && pub=$keys/plain.pub
    v="$cosign verify --key $pub --insecure-ignore-tlog --allow-http-registry"
    va="$cosign verify-attestation --key $pub --insecure-ignore-tlog --allow-http-registry"
    $v "$dst@$digest" >/dev/null 2>&1 || { echo "$c: cosign verify fails on $dst@$digest"; exit 1; }
    $va --type slsaprovenance1 "$dst@$digest" >/dev/null 2>&1 || { echo "$c: cosign verify-attestation --type slsaprovenance1 fails on $dst@$digest"; exit 1; }
    if [ "$c" = signed ] || [ "$c" = signed-pem ]; then
      $va --type spdxjson "$dst@$digest" >/dev/null 2>&1 || { echo "$c: cosign verify-attestation --type spdxjson fails on $dst@$digest"; exit 1; }
    fi
  fi
done
echo "checked: every case leaves $digest in the registry; cosign verifies what the signing cases wrote${cosign:+ (cosign $("$cosign" version 2>&1 | sed -n 's/^GitVersion:[[:space:]]*//p'))}"
grep -h '^Attested in\|^Signed' "$work/check-signed.log" | sed 's/^/  signed: /'

warn_if_busy timing
new='$(date +%s%N)'
all=($cases)
n=${#all[@]}
for i in $(seq 1 "$runs"); do
  # The order rotates: round i starts with the i-th case.
  args=() order=()
  for k in $(seq 0 $((n - 1))); do order+=("${all[$(((k + i - 1) % n))]}"); done
  for c in "${order[@]}"; do args+=(-n "$c" "$(cmd "$c" "$new")"); done
  hyperfine --runs 1 --style none --shell bash --export-json "$work/round$i.json" "${args[@]}" >/dev/null
  python3 - "$work/round$i.json" "$i" "$runs" <<'PY'
import json, sys
res = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"round {sys.argv[2]}/{sys.argv[3]}: " + ", ".join(f"{c} {t:.2f} s" for c, t in res.items()))
PY
done

echo
echo "$(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), load average $(cut -d' ' -f1-3 /proc/loadavg)${DELAY:+; every request held $DELAY by a proxy}${RATE:+; uploads paced at $RATE/s by a proxy}"
echo "gitship-publish $($gp --version | awk '{print $NF}'), crane $("$crane" version), $(docker-registry --version | awk '{print $NF}'); $(go version | cut -d' ' -f3); $(hyperfine --version)"
python3 - "$work" "$runs" "$size" $cases <<'PY'
import json, os, statistics as st, sys
work, runs, size, cases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
wall = {c: [] for c in cases}
cpu = {c: [] for c in cases}
for i in range(1, runs + 1):
    for x in json.load(open(os.path.join(work, f"round{i}.json")))["results"]:
        wall[x["command"]].append(x["mean"])
        cpu[x["command"]].append(x["user"] + x["system"])
base = st.median(wall["unsigned"])
# Paired: each round's case ÷ that round's unsigned push.
paired = {c: st.median([a / b for a, b in zip(wall[c], wall["unsigned"])]) for c in cases}
print(f"image: {size / 2**20:,.1f} MiB of blobs in 4 layers")
print("| case | wall, median (min-max) | over unsigned (medians) | over unsigned (paired, median) | client CPU, median |")
print("|---|---:|---:|---:|---:|")
for c in cases:
    w = wall[c]
    print(f"| {c} | {st.median(w):.2f} s ({min(w):.2f}-{max(w):.2f}) | {100 * (st.median(w) / base - 1):+.0f}% "
          f"| {100 * (paired[c] - 1):+.0f}% | {st.median(cpu[c]):.2f} s |")
print(f"{runs} rounds, each case once per round, the order rotating; client CPU is the user + system time of the")
print("command's processes (crane+cosign: all three), not the registry's")
PY
