# gitship: one static binary per CI step, in bin/.
GO      ?= go
STEPS   := lint build validate publish gitops-pr verify
BINS    := $(STEPS:%=bin/gitship-%)
VERSION ?= dev
LDFLAGS := -s -w -X github.com/gitship/gitship/shared/step.Version=$(VERSION)

.PHONY: build test test-offline example example-broken example-build example-deploy demo images release wrappers check-wrappers fuzz bench clean

build: $(BINS)

bin/gitship-%: FORCE
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $@ ./steps/$*

ENVS := dev staging production

# The main job: lint the example app with every environment's values, then
# render and validate its chart for each environment, offline.
example: bin/gitship-lint bin/gitship-validate
	bin/gitship-lint --path examples/app \
	  $(ENVS:%=--values examples/app/deploy/values/%.yaml) \
	  --target test --fail-on warning
	for env in $(ENVS); do \
	  bin/gitship-validate --chart examples/app/deploy/chart \
	    --values examples/app/deploy/values/$$env.yaml --release-name hello \
	    --render-to .gitship/rendered/$$env || exit 1; \
	done

# Build the example app's test stage, run its tests in a container from it,
# then build its image and write it as an OCI layout to .gitship/image.
# Needs a Docker engine (DOCKER_HOST, else /var/run/docker.sock; Podman's
# socket works too). The base images default to local ones, so nothing is
# pulled: the engine tests (go test ./shared/engine) and bench/build.sh
# import them into the engine at DOCKER_HOST from busybox-static and the
# local Go toolchain. With a registry at hand instead:
#   make example-build GO_IMAGE=golang:1.26-bookworm \
#     RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot
GO_IMAGE      ?= gitship-test/go:1
RUNTIME_IMAGE ?= gitship-test/busybox:1
example-build: bin/gitship-build
	bin/gitship-build --context examples/app \
	  --build-arg GO_IMAGE=$(GO_IMAGE) --build-arg RUNTIME_IMAGE=$(RUNTIME_IMAGE) \
	  --test-target test --output oci:.gitship/image

# Deploy the example app through a GitOps repository, offline: a bare
# repository made here (GITOPS_REPO) stands in for the real one. dev is a
# direct commit to its main branch; staging and production go to the
# branches gitship/hello/staging and gitship/hello/production, where a
# provider would open the pull requests (--provider none pushes the branch
# only; the pull request's title and body, with the diff, go to
# .gitship/pr-<env>.md). Every run renders the chart with the environment's
# values, pins DEPLOY_IMAGE (publish's image output; this digest is made
# up) and validates before anything is committed; a second run changes
# nothing. Look at the result with:
#   git --git-dir=.gitship/gitops.git log --all --stat
GITOPS_REPO  ?= .gitship/gitops.git
DEPLOY_IMAGE ?= registry.example.com/hello@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
example-deploy: bin/gitship-gitops-pr
	@if [ ! -d $(GITOPS_REPO) ]; then \
	  git init -q --bare $(GITOPS_REPO) && \
	  tree=$$(git --git-dir=$(GITOPS_REPO) hash-object -t tree -w /dev/null) && \
	  commit=$$(git --git-dir=$(GITOPS_REPO) -c user.name=gitship -c user.email=gitship@example.invalid \
	    commit-tree $$tree -m 'An empty GitOps repository') && \
	  git --git-dir=$(GITOPS_REPO) update-ref refs/heads/main $$commit && \
	  git --git-dir=$(GITOPS_REPO) symbolic-ref HEAD refs/heads/main && \
	  echo "made $(GITOPS_REPO)"; \
	fi
	for env in $(ENVS); do \
	  if [ $$env = dev ]; then how=--direct; \
	  else how="--provider none --description-file .gitship/pr-$$env.md"; fi; \
	  bin/gitship-gitops-pr --gitops-repo $(CURDIR)/$(GITOPS_REPO) --environment $$env \
	    --chart examples/app/deploy/chart --values 'examples/app/deploy/values/{environment}.yaml' \
	    --image $(DEPLOY_IMAGE) $$how || exit 1; \
	done
	git --git-dir=$(GITOPS_REPO) log --all --format='%h %d %s' --stat

# The planted mistakes: each command exits 1 and lists them.
example-broken: bin/gitship-lint bin/gitship-validate
	-cd examples/broken && ../../bin/gitship-lint --values values/dev.yaml --values values/production.yaml
	-cd steps/validate/testdata/broken && ../../../../bin/gitship-validate --chart chart --values values/dev.yaml

# The whole workflow on examples/app, every stage timed: lint, build and
# test in the container, validate, publish to a registry started here,
# gitops-pr for dev, staging and production into a local GitOps repository.
# Needs a Docker engine for build; see scripts/demo.sh.
demo:
	bash scripts/demo.sh

# One image per step, linux/amd64 and linux/arm64, as OCI layouts under
# dist/images, built with go-containerregistry (no daemon, nothing pulled)
# and reproducible: the same commit gives the same digests. Push one with
# bin/gitship-publish --image oci:dist/images/gitship-lint --repository ...
images:
	$(GO) run ./tools/imagegen -version $(VERSION) -out dist/images -steps $(subst $(eval) ,$(comma),$(STEPS))

comma := ,

# A release, everything into dist/ (docs/release.md): the images as above,
# dist/images.txt naming them by digest, dist/actions/ (the GitHub actions
# pinned to those digests), dist/assets/gitship-<step>-<os>-<arch>[.exe]
# (every step for each of PLATFORMS, with assets/SHA256SUMS: the GitHub
# release's assets), dist/gitship-$(VERSION).vsix (the Azure extension:
# its tasks download their step's binary from those assets and check it
# against the release.json they carry; packed by npm's tfx-cli: tfx on
# PATH, else npx tfx-cli@0.23.1, or TFX='...'; BUNDLED=1 also packs one
# with every binary inside) and dist/SHA256SUMS. The repository is only
# read.
#   make release VERSION=0.1.0
IMAGE_REPO ?= ghcr.io/gitship
PLATFORMS  ?= linux/amd64,linux/arm64,windows/amd64,darwin/arm64
TFX        ?=
release:
	$(GO) run ./tools/release -version $(VERSION) -image-repo $(IMAGE_REPO) -platforms $(PLATFORMS) \
	  -out dist $(if $(TFX),-tfx '$(TFX)') $(if $(BUNDLED),-bundled)

test:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy (diff above): run go mod tidy"; exit 1; }
	$(GO) vet ./...
	@out=$$(gofmt -l shared steps tools internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -timeout 20m ./...
	$(MAKE) test-offline

# The rendering and validation tests again in a network namespace with only
# loopback: proof that no schema is downloaded anywhere. Needs root (CI);
# skipped with a note elsewhere.
OFFLINE_PKGS := ./shared/render ./shared/schema ./shared/steps/validate ./steps/validate ./internal/paritytest
test-offline:
	@if unshare -n true 2>/dev/null; then \
	  GOPROXY=off unshare -n sh -c 'ip link set lo up && $(GO) test -count=1 $(OFFLINE_PKGS)'; \
	else echo "test-offline: skipped (unshare -n needs root)"; fi

# The example GitHub workflow under nektos/act with the step images (docs/github.md).
example-act:
	GITSHIP_TEST_STRICT=1 $(GO) test -count=1 -v -run UnderAct ./examples/pipelines

wrappers:
	$(GO) run ./tools/wrappergen

check-wrappers:
	$(GO) run ./tools/wrappergen -check

# Fuzz every parser of input for FUZZTIME each (docs/security.md lists
# them): every Fuzz* target under shared/, found with go test -list, so a new
# one is fuzzed without touching this file. Crashers land in the package's
# testdata/fuzz/<target>; so does the corpus the run found (copied from the
# Go cache), and make test replays all of it from then on.
FUZZTIME ?= 60s
FUZZPKGS ?= ./shared/...
fuzz:
	@cache=$$($(GO) env GOCACHE)/fuzz; \
	for pkg in $$($(GO) list $(FUZZPKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s || exit 1; \
	    keep=$$($(GO) list -f '{{.Dir}}' $$pkg)/testdata/fuzz/$$f; \
	    if [ -d "$$cache/$$pkg/$$f" ]; then mkdir -p "$$keep" && cp -n "$$cache/$$pkg/$$f"/* "$$keep"/ 2>/dev/null; fi; \
	  done; \
	done

bench: bin/gitship-lint bin/gitship-validate bin/gitship-build bin/gitship-publish bin/gitship-gitops-pr
	bash bench/lint.sh
	bash bench/validate.sh
	bash bench/build.sh
	bash bench/publish.sh
	bash bench/gitops.sh

clean:
	rm -rf bin dist

FORCE:
