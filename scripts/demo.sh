#!/usr/bin/env bash
# make demo: the whole gitship workflow on examples/app, on this machine.
#
#   lint -> build (tests in the container) -> validate (dev, staging,
#   production) -> publish (to a registry started here) -> then for dev,
#   staging and production in turn: gitops-pr (dev direct; staging and
#   production as branches, their pull request descriptions in files,
#   merged here as a reviewer would) -> the GitOps controller's stand-in
#   -> verify against a real kube-apiserver on loopback -> next environment
#
# No Flux runs here: tools/localcluster starts etcd and kube-apiserver
# (nothing else: no controller, no scheduler, no kubelet), and its
# "reconcile" stands in for Flux's kustomize-controller, doing what it
# would once the GitOps commit is on main. The environment's endpoint is
# the built image itself, run in the Docker engine on loopback.
#
# It needs a Docker engine for build (and the endpoint). kube-apiserver and
# etcd are built once per machine from tools/ (a cold kube-apiserver build
# takes minutes; GITSHIP_KUBE_APISERVER and GITSHIP_ETCD name built ones);
# when they cannot be had offline, the verify stages are skipped, saying so.
# Everything runs offline. What it makes is under .gitship/demo/; it prints
# where to look.
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
  timings+=("$(printf '%-38s %6.1f s' "$name" "$(echo "$end - $start" | bc)")")
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
clusterpid=
declare -a containers=()
cleanup() {
  [ -n "$clusterpid" ] && kill "$clusterpid" 2>/dev/null && wait "$clusterpid" 2>/dev/null
  [ ${#containers[@]} -gt 0 ] && docker rm -f "${containers[@]}" >/dev/null 2>&1
  kill $regpid 2>/dev/null || true
}
trap cleanup EXIT
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

deploy() { # deploy ENV ARGS...: gitops-pr for ENV, its outputs in $out/gitops-pr-ENV.json
  local env=$1; shift
  (cd "$app" && "$root/$BIN/gitship-gitops-pr" --gitops-repo "$gitops" --environment "$env" \
    --chart deploy/chart --values "deploy/values/{environment}.yaml" \
    --set "image.repository=$registry/demo/hello" --image "$image" \
    --author-name "gitship demo" --author-email demo@example.com \
    --outputs-file "$root/$out/gitops-pr-$env.json" "$@")
}
output() { # output FILE KEY: one of a step's outputs
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$1" "$2"
}
merge() { # merge ENV: a reviewer merges the pull request's branch into main (a merge commit)
  local env=$1 work branch
  branch=$(output "$out/gitops-pr-$env.json" branch)
  work=$(mktemp -d)
  git clone -q "$gitops" "$work" || return 1
  git -C "$work" -c user.name="demo reviewer" -c user.email=reviewer@example.com \
    merge -q --no-ff -m "Merge pull request: hello to $env ($branch)" "origin/$branch" || return 1
  git -C "$work" push -q origin main || return 1
  git -C "$work" rev-parse HEAD >"$out/merge-$env" || return 1
  rm -rf "$work"
  echo "merged $branch into main: $(cat "$out/merge-$env")"
}

# The cluster: a real kube-apiserver and etcd on loopback
# (tools/localcluster), with Flux's CRDs and the read-only RBAC of
# docs/verify-rbac.yaml; verify reads it with that read-only kubeconfig.
cluster=$out/cluster
verify=1
echo
echo "verify needs kube-apiserver and etcd: built once per machine from tools/kube-apiserver and"
echo "tools/etcd into the user cache (a cold kube-apiserver build takes minutes; set GITSHIP_KUBE_APISERVER"
echo "and GITSHIP_ETCD to use built ones)."
binaries() { # exit 3: not built and not buildable offline
  go build -o "$out/localcluster" ./tools/localcluster || return 1
  "$out/localcluster" binaries 2>&1 | tee "$out/cluster-binaries.log"
  return "${PIPESTATUS[0]}"
}
start=$(date +%s.%N)
printf '\n\033[1m== %s\033[0m\n' "kube-apiserver and etcd"
rc=0
binaries || rc=$?
if [ $rc -eq 0 ]; then
  end=$(date +%s.%N)
  timings+=("$(printf '%-38s %6.1f s' "kube-apiserver and etcd" "$(echo "$end - $start" | bc)")")
elif [ $rc -eq 3 ]; then
  verify=0
  printf '\n\033[33mdemo: kube-apiserver or etcd cannot be had offline here (%s), so the\n' "$out/cluster-binaries.log" >&2
  printf '      verify stages are skipped. Run `go mod download` in tools/kube-apiserver and tools/etcd,\n' >&2
  printf '      or set GITSHIP_KUBE_APISERVER and GITSHIP_ETCD, then make demo again.\033[0m\n' >&2
else
  printf '\n\033[31mdemo: stage kube-apiserver and etcd failed\033[0m\n' >&2
  exit 1
fi

start_cluster() {
  "$out/localcluster" start --dir "$cluster" >"$out/cluster.log" 2>&1 &
  clusterpid=$!
  for _ in $(seq 600); do
    [ -f "$cluster/ready" ] && { cat "$out/cluster.log"; return 0; }
    kill -0 "$clusterpid" 2>/dev/null || break
    sleep 0.5
  done
  cat "$out/cluster.log" >&2
  return 1
}
if [ $verify = 1 ]; then
  stage "start the local cluster" start_cluster
fi

# The GitOps controller's stand-in. No Flux runs here: this stand-in does
# what Flux's kustomize-controller would once the commit is on main: it
# sets the Kustomization flux-system/clusters-ENV to the commit, Ready, and
# rolls the Deployment ENV/hello out with the published digest (its pods,
# as a kubelet would report them, run it). The environment's endpoint is
# the image itself, run in the Docker engine on a loopback port.
reconcile() { # reconcile ENV REVISION
  local env=$1 rev=$2 port name
  "$out/localcluster" reconcile --kubeconfig "$cluster/admin.kubeconfig" --env "$env" \
    --revision "$rev" --image "$image" || return 1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  name=gitship-demo-hello-$env-$$
  docker run -d --rm --name "$name" --network host -e PORT="$port" "demo/hello:$sha" >/dev/null || return 1
  containers+=("$name")
  echo "endpoint (the environment's, standing in for its Service): demo/hello:$sha in the Docker engine, http://127.0.0.1:$port/"
  echo "http://127.0.0.1:$port/" >"$out/endpoint-$env"
}
check() { # check ENV REVISION: verify, as the pipeline runs it between environments
  local env=$1 rev=$2
  (cd "$app" && "$root/$BIN/gitship-verify" --revision "$rev" --gitops-repo "$gitops" \
    --flux-kustomization "flux-system/clusters-$env" --workload "$env/Deployment/hello" \
    --image "$image" --kubeconfig "$root/$cluster/verify.kubeconfig" \
    --url "$(cat "$root/$out/endpoint-$env")" --expect-body '^hello, world' \
    --probe-interval 500ms --timeout 2m --outputs-file "$root/$out/verify-$env.json") || return 1
  cp "$app/.gitship/verify-summary.md" "$out/verify-$env.md" || return 1
}

for env in dev staging production; do
  if [ "$env" = dev ]; then
    stage "gitops-pr dev (direct)" deploy dev --direct
    output "$out/gitops-pr-dev.json" merge-commit >"$out/merge-dev"
  else
    stage "gitops-pr $env (pull request)" deploy "$env" --provider none --description-file "$root/$out/pr-$env.md"
    stage "merge $env (the reviewer)" merge "$env"
  fi
  rev=$(cat "$out/merge-$env")
  if [ $verify = 1 ]; then
    stage "reconcile $env (Flux stand-in)" reconcile "$env" "$rev"
    stage "verify $env" check "$env" "$rev"
  else
    printf '\n\033[33m== verify %s skipped: no kube-apiserver (see above)\033[0m\n' "$env"
  fi
done

printf '\n\033[1m== done\033[0m\n\n'
printf '%s\n' "${timings[@]}"
cat <<MSG

Where to look:
  image          $image (labels: docker inspect demo/hello:$sha)
  GitOps repo    git --git-dir=$out/gitops.git log --all --oneline --decorate
  dev            git --git-dir=$out/gitops.git show $(cut -c1-12 "$out/merge-dev") --stat
  staging        pull request text in $out/pr-staging.md, merged as $(cut -c1-12 "$out/merge-staging")
  production     pull request text in $out/pr-production.md, merged as $(cut -c1-12 "$out/merge-production")
  outputs        $app/.gitship/*.json, $out/gitops-pr-<env>.json, summaries $app/.gitship/*-summary.md
MSG
if [ $verify = 1 ]; then
  cat <<MSG
  verify         $out/verify-<env>.md (summaries), $out/verify-<env>.json (outputs)
  cluster        $out/cluster (kubeconfigs, kube-apiserver.log, etcd.log): stopped now; run
                 $out/localcluster start --dir DIR to start one, then
                 KUBECONFIG=DIR/admin.kubeconfig kubectl get kustomizations -A (kubectl if installed)
MSG
fi
