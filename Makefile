# gitship: one static binary per CI step, in bin/.
GO      ?= go
STEPS   := lint validate
BINS    := $(STEPS:%=bin/gitship-%)
VERSION ?= dev
LDFLAGS := -s -w -X github.com/gitship/gitship/shared/step.Version=$(VERSION)

.PHONY: build test test-offline example example-broken wrappers check-wrappers fuzz bench clean

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

# The planted mistakes: each command exits 1 and lists them.
example-broken: bin/gitship-lint bin/gitship-validate
	-cd examples/broken && ../../bin/gitship-lint --values values/dev.yaml --values values/production.yaml
	-cd steps/validate/testdata/broken && ../../../../bin/gitship-validate --chart chart --values values/dev.yaml

test:
	$(GO) vet ./...
	@out=$$(gofmt -l shared steps tools); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) test -race -timeout 20m ./...
	$(MAKE) test-offline

# The rendering and validation tests again in a network namespace with only
# loopback: proof that no schema is downloaded anywhere. Needs root (CI);
# skipped with a note elsewhere.
OFFLINE_PKGS := ./shared/render ./shared/schema ./shared/validate ./steps/validate
test-offline:
	@if unshare -n true 2>/dev/null; then \
	  GOPROXY=off unshare -n sh -c 'ip link set lo up && $(GO) test -count=1 $(OFFLINE_PKGS)'; \
	else echo "test-offline: skipped (unshare -n needs root)"; fi

wrappers:
	$(GO) run ./tools/wrappergen

check-wrappers:
	$(GO) run ./tools/wrappergen -check

# Fuzz the parsers for a while; new crashers land in testdata/fuzz.
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./shared/dockerfile -run '^$$' -fuzz FuzzLint -fuzztime $(FUZZTIME)
	$(GO) test ./shared/yamlcheck -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)

bench: bin/gitship-lint bin/gitship-validate
	bash bench/lint.sh
	bash bench/validate.sh

clean:
	rm -rf bin dist

FORCE:
