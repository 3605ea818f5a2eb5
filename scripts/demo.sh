#!/usr/bin/env bash
# make demo: the whole gitship workflow on examples/app, on this machine.
#
#   lint -> build (tests in the container) -> validate (dev, staging,
#   production) -> publish (to a registry started here) -> gitops-pr (dev
#   direct, staging and production as branches with their pull request
#   descriptions in files)
#
# It needs a Docker engine for build only. Everything else runs offline.
# What it makes is under .gitship/demo/; it prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.gitship/demo
rm -rf "$out" && mkdir -p "$out"
BIN=bin
declare -a timings=()
stage() { # stage NAME COMMAND...: run, time and report one stage
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  printf '\n\033[1m== %s\033[0m\n' "$name"
  if ! "$@"; then
    printf '\n\033[31mdemo: stage %s failed\033[0m\n' "$name" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  timings+=("$(printf '%-34s %6.1f s' "$name" "$(echo "$end - $start" | bc)")")
}

# The demo's commit: examples/app as its own repository, so that build and
# publish label and tag the image with a commit of the app.
app=$out/app
cp -r examples/app "$app"
git -C "$app" init -q -b main
git -C "$app" add -A
git -C "$app" -c user.name=demo -c user.email=demo@example.com commit -q -m "example app"
sha=$(git -C "$app" rev-parse HEAD)
root=$PWD

stage "build the gitship binaries" make -s build

stage "lint" "$BIN/gitship-lint" --path "$app" \
  --values "$app/deploy/values/dev.yaml" --values "$app/deploy/values/staging.yaml" \
  --values "$app/deploy/values/production.yaml" --target test --fail-on warning

# build needs an engine; nothing else does.
if ! docker info >/dev/null 2>&1 && ! [ -S /var/run/docker.sock ] && [ -z "${DOCKER_HOST:-}" ]; then
  cat >&2 <<'MSG'
demo: build needs a Docker engine, and none answers (DOCKER_HOST, /var/run/docker.sock).
      Start Docker (or Podman's socket: systemctl --user enable --now podman.socket and
      DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock), then run make demo again.
MSG
  exit 1
fi
# Base images from local files, so the demo pulls nothing: busybox-static
# and this Go toolchain (the engine tests' images). Set GO_IMAGE and
# RUNTIME_IMAGE to build on the Dockerfile's own bases instead.
if [ -z "${GO_IMAGE:-}" ]; then
  stage "base images (from local files)" env GITSHIP_BENCH_IMAGES=1 go test -count=1 -run TestBaseImages ./bench/build >/dev/null
fi
stage "build and test in the container" bash -c "cd '$app' && '$root/$BIN/gitship-build' --context . \
  --build-arg GO_IMAGE=${GO_IMAGE:-gitship-test/go:1} --build-arg RUNTIME_IMAGE=${RUNTIME_IMAGE:-gitship-test/busybox:1} \
  --image demo/hello --test-target test --output docker --output oci:.gitship/image"

for env in dev staging production; do
  stage "validate $env" bash -c "cd '$app' && '$root/$BIN/gitship-validate' --chart deploy/chart \
    --values deploy/values/$env.yaml --release-name hello --render-to .gitship/rendered/$env"
done

# A registry on loopback: Debian's docker-registry when installed, else
# go-containerregistry's in-memory one.
if command -v docker-registry >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$out/registry.yml" <<YML
version: 0.1
storage: {filesystem: {rootdirectory: $root/$out/registry}}
http: {addr: 127.0.0.1:$port, secret: demo}
log: {level: warn}
YML
  docker-registry serve "$out/registry.yml" >"$out/registry.log" 2>&1 &
  registry=127.0.0.1:$port
else
  go build -o "$out/localregistry" ./tools/localregistry
  "$out/localregistry" >"$out/registry.addr" 2>"$out/registry.log" &
  sleep 0.5
  registry=$(head -1 "$out/registry.addr")
fi
regpid=$!
trap 'kill $regpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://$registry/v2/" >/dev/null && break; sleep 0.1; done

stage "publish" bash -c "cd '$app' && '$root/$BIN/gitship-publish' --image oci:.gitship/image \
  --repository $registry/demo/hello --insecure --tag demo"
image=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$app/.gitship/publish.json")

# The chart names registry.example.com/hello; the demo's registry is
# another, so its repository is set, as a team sets its own in values.

# The GitOps repository: a bare repository standing in for the one Flux or
# Argo CD watches.
gitops=$root/$out/gitops.git
git init -q --bare -b main "$gitops"
seed=$(mktemp -d)
git -C "$seed" init -q -b main
echo "# Cluster state, written by gitship" >"$seed/README.md"
git -C "$seed" add -A
git -C "$seed" -c user.name=demo -c user.email=demo@example.com commit -q -m "initial"
git -C "$seed" push -q "$gitops" main
rm -rf "$seed"

deploy() { # deploy ENV ARGS...
  local env=$1; shift
  (cd "$app" && "$root/$BIN/gitship-gitops-pr" --gitops-repo "$gitops" --environment "$env" \
    --chart deploy/chart --values "deploy/values/{environment}.yaml" \
    --set "image.repository=$registry/demo/hello" --image "$image" \
    --author-name "gitship demo" --author-email demo@example.com "$@")
}
stage "gitops-pr dev (direct)" deploy dev --direct
stage "gitops-pr staging (branch)" deploy staging --provider none --description-file "$root/$out/pr-staging.md"
stage "gitops-pr production (branch)" deploy production --provider none --description-file "$root/$out/pr-production.md"

printf '\n\033[1m== done\033[0m\n\n'
printf '%s\n' "${timings[@]}"
cat <<MSG

Where to look:
  image          $image (labels: docker inspect demo/hello:$sha)
  GitOps repo    git --git-dir=$out/gitops.git log --all --oneline --decorate
  dev            git --git-dir=$out/gitops.git show main --stat
  staging        branch gitship/hello/staging, pull request text in $out/pr-staging.md
  production     branch gitship/hello/production, pull request text in $out/pr-production.md
  outputs        $app/.gitship/*.json, summaries $app/.gitship/*-summary.md
MSG
