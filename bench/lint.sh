#!/usr/bin/env bash
# Lint throughput, side by side with the tools users run instead.
#   bash bench/lint.sh            (needs hyperfine; yamllint optional)
# 1. 1,000 Dockerfiles: gitship-lint, files per second.
# 2. 1,000 YAML files: gitship-lint vs yamllint.
# 3. The example chart with three environments' values: gitship-lint (one
#    process) vs helm lint run once per values file (helm built from the
#    same SDK version as gitship links).
# hadolint has no Debian or Go package to install here, so it is not run.
. "$(dirname "$0")/lib.sh"
need hyperfine
make -s bin/gitship-lint
lint=$PWD/bin/gitship-lint
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=${N:-1000}

# Varied Dockerfiles: clean ones and ones that trip most rules.
for i in $(seq 1 "$n"); do
  d="$work/dockerfiles/svc-$i"; mkdir -p "$d"
  if (( i % 2 )); then
    cat > "$d/Dockerfile" <<DF
FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app-$i ./cmd/app
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/app-$i /app
USER 65532
ENTRYPOINT ["/app"]
DF
  else
    cat > "$d/Dockerfile" <<DF
FROM ubuntu
MAINTAINER team-$i@example.com
RUN apt-get update && apt-get install curl git
RUN cd /tmp && curl -fsSL https://example.com/$i.sh | sh
ADD . /app
USER root
CMD /app/run --id $i
DF
  fi
  mkdir -p "$work/yaml/cfg-$i"
  cat > "$work/yaml/cfg-$i/values.yaml" <<YML
replicaCount: $((i % 5 + 1))
image:
  repository: registry.example.com/svc-$i
  tag: "1.$i.0"
resources:
  limits: {cpu: 500m, memory: 256Mi}
  requests: {cpu: 100m, memory: 128Mi}
env:
  - {name: ID, value: "$i"}
  - {name: MODE, value: production}
YML
done

echo "== $n Dockerfiles"
hyperfine -N --warmup 1 --runs ${RUNS:-10} --export-json "$work/df.json" \
  "$lint --path $work/dockerfiles --fail-on none --outputs-file $work/o.json"
mean=$(python3 -c "import json;print(json.load(open('$work/df.json'))['results'][0]['mean'])")
python3 -c "print(f'gitship-lint: {$n/$mean:,.0f} Dockerfiles per second')"

echo "== $n YAML files"
cmds=("$lint --path $work/yaml --fail-on none --outputs-file $work/o.json")
command -v yamllint >/dev/null && cmds+=("yamllint -d '{rules: {key-duplicates: enable}}' $work/yaml")
hyperfine --warmup 1 --runs ${RUNS:-10} "${cmds[@]}"

echo "== example chart, three environments"
helm=$work/helm
GOBIN=$work go install helm.sh/helm/v3/cmd/helm@v3.22.0 >/dev/null 2>&1 || helm=""
v=examples/app/deploy/values
cmds=("$lint --path examples/app/deploy/chart --values $v/dev.yaml --values $v/staging.yaml --values $v/production.yaml --outputs-file $work/o.json")
[ -n "$helm" ] && cmds+=("sh -c '$helm lint examples/app/deploy/chart -f $v/dev.yaml >/dev/null && $helm lint examples/app/deploy/chart -f $v/staging.yaml >/dev/null && $helm lint examples/app/deploy/chart -f $v/production.yaml >/dev/null'")
hyperfine --warmup 1 --runs ${RUNS:-10} "${cmds[@]}"
