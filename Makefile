# trailwarden — the single entry point. Every target installs what it needs,
# pinned and repo-local: Go modules (go.sum), the CDK CLI (package-lock.json,
# npm ci), and a Python venv .venv (requirements-emulator.txt: moto and a pinned
# botocore, all the demo needs; requirements-test.txt: cfn-lint and the rest of
# the test set; checkov in .venv/checkov from requirements-checkov.txt).
# Nothing else is assumed beyond Go, Node/npm, Python 3 and make.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
PYTHON       ?= python3
VENV         := .venv
VENV_STAMP   := $(VENV)/.installed
EMULATOR_STAMP := $(VENV)/.emulator-installed
AWSCLI_VENV  := .venv-awscli
AWSCLI_STAMP := $(AWSCLI_VENV)/.installed
NODE_STAMP   := node_modules/.installed
FUNCTIONS    := $(notdir $(patsubst %/,%,$(dir $(wildcard functions/*/main.go))))
BOOTSTRAPS   := $(patsubst %,build/%/bootstrap,$(FUNCTIONS))
GO_SOURCES   := $(shell find shared functions internal -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS   ?= -race -count=1 -timeout 25m
export TZ    := UTC

# Version stamp (shared/version): the git description and commit, and a
# build date only when SOURCE_DATE_EPOCH gives one, so that the same sources
# at the same commit still build identical bytes.
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT       ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE   := $(if $(SOURCE_DATE_EPOCH),$(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ))
VERSION_PKG  := github.com/trailwarden/trailwarden/shared/version
VERSION_LDFLAGS := $(if $(VERSION),-X $(VERSION_PKG).Version=$(VERSION)) $(if $(COMMIT),-X $(VERSION_PKG).Commit=$(COMMIT)) $(if $(BUILD_DATE),-X $(VERSION_PKG).Date=$(BUILD_DATE))

# Reproducible Lambda builds: identical bytes for identical sources and stamp.
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOFLAGS=-buildvcs=false
LAMBDA_FLAGS := -trimpath -buildvcs=false -tags lambda.norpc -ldflags "-s -w -buildid= $(VERSION_LDFLAGS)"

.PHONY: all tools venv venv-emulator venv-awscli requirements-awscli node build cli test test-go browser-test test-emulator vet check lint demo synth deploy deploy-local bench fuzz clean requirements

all: build

## ---- tools ---------------------------------------------------------------
tools: venv node

# The emulator alone, for the demo: moto and its pinned botocore, without the
# CloudFormation support (cfn-lint) that deploy-local and the tests use.
venv-emulator: $(EMULATOR_STAMP)
$(EMULATOR_STAMP): requirements-emulator.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
	touch $@

# Everything the tests use: the emulator, cfn-lint, checkov.
venv: $(VENV_STAMP)
$(VENV_STAMP): $(EMULATOR_STAMP) requirements-test.txt requirements-checkov.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt -r requirements-test.txt
	@# checkov pins an older boto3 than the emulator's botocore: its own venv.
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# The AWS CLI (integrity agreement test) in a venv of its own: it vendors a newer botocore than moto's pin.
venv-awscli: $(AWSCLI_STAMP)
$(AWSCLI_STAMP): requirements-awscli.txt
	$(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-awscli.txt
	touch $@

node: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# node_modules ships Go template files; a go.mod there keeps them out of ./...
	printf 'module trailwarden.invalid/node_modules\n' > node_modules/go.mod
	touch $@

## ---- build ---------------------------------------------------------------
build: $(BOOTSTRAPS)

# The CLI, stamped like the functions (go install …/cmd/trailwarden@VERSION
# needs no stamp: the toolchain records the module version).
cli:
	$(GO) build -trimpath -ldflags "$(VERSION_LDFLAGS)" -o build/trailwarden ./cmd/trailwarden

build/%/bootstrap: $(GO_SOURCES)
	@mkdir -p $(dir $@)
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

## ---- test ----------------------------------------------------------------
# Everything CI runs. .ci/run calls exactly `make test`.
test: tools build check test-emulator test-go
	$(MAKE) --no-print-directory test-infra INFRA_GO_TEST=
	$(MAKE) --no-print-directory browser-test

# The moto fidelity patches: each gap's AWS behaviour (patched) and upstream quirk (unpatched).
test-emulator: $(VENV_STAMP)
	$(VENV)/bin/python -m unittest discover -s internal/emulator/moto/tests

vet:
	$(GO) vet ./...

# Static checks that gate every landing: vet, staticcheck, formatting, a tidy
# go.mod, and no tracked file over 1 MiB (binaries and build outputs belong in
# .gitignore, not the tree).
MAX_TRACKED_BYTES := 1048576
check: vet
	$(GO) run $(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit both"; exit 1; }
	@big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' | awk '$$1 > $(MAX_TRACKED_BYTES) {print $$2 " (" $$1 " bytes)"}'); \
	  if [ -n "$$big" ]; then echo "tracked files over 1 MiB:"; echo "$$big"; exit 1; fi
	@echo "check: vet, staticcheck, gofmt, go mod tidy and file sizes are clean"

test-go: $(VENV_STAMP) $(AWSCLI_STAMP)
	TRAILWARDEN_REPO=$(CURDIR) $(GO) test $(TEST_FLAGS) ./...
	@# plan --all and backfill --dry-run over a 300-account emulated
	@# organization (the race run above uses 10 accounts).
	TRAILWARDEN_PLAN_ALL_ACCOUNTS=300 TRAILWARDEN_REPO=$(CURDIR) $(GO) test -count=1 -run '^TestPlanAllOrganization$$' ./cmd/trailwarden/

# The HTML report in a real browser: headless Chromium renders it and the
# test checks cells, colours and counts, measures a 10,000-account page and
# keeps screenshots in .cache/report/. Chromium comes from Debian's packages,
# installed here when missing: the one exception to repo-local pinning.
browser-test:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	TRAILWARDEN_BROWSER_TEST=1 TRAILWARDEN_REPO=$(CURDIR) $(GO) test -count=1 -run Browser -v ./shared/report/

lint: check

## ---- run -----------------------------------------------------------------
# Installs only the emulator's packages (no cfn-lint, no checkov).
demo: $(EMULATOR_STAMP)
	$(GO) run ./cmd/trailwarden-demo

# The AWS CLI venv: BenchmarkIntegrityVsValidateLogs (internal/integritybench) runs
# aws cloudtrail validate-logs against trailwarden on one emulated bucket.
bench: tools venv-awscli
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 120m ./... | tee bench-results.txt

# Each fuzz target for FUZZTIME (default 30s); seeds live in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./shared/... ./internal/...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep -E '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
	  done; done

include infra/infra.mk

clean:
	rm -rf build cdk.out .test-output.log

EMULATOR_REQS := 'moto[dynamodb,events,s3]==5.2.5' flask flask-cors 'botocore==1.44.18' 'boto3==1.44.18' 'regex==2026.11.19'
requirements:
	rm -rf /tmp/trailwarden-req /tmp/trailwarden-req-emulator /tmp/trailwarden-req-checkov
	$(PYTHON) -m venv /tmp/trailwarden-req && $(PYTHON) -m venv /tmp/trailwarden-req-emulator && $(PYTHON) -m venv /tmp/trailwarden-req-checkov
	/tmp/trailwarden-req/bin/pip install 'moto[server]==5.2.5' 'cfn-lint==1.58.0' $(EMULATOR_REQS)
	/tmp/trailwarden-req-emulator/bin/pip install -c <(/tmp/trailwarden-req/bin/pip freeze) $(EMULATOR_REQS)
	/tmp/trailwarden-req-checkov/bin/pip install 'checkov==3.3.30'
	@echo "pip freeze into requirements-emulator.txt, requirements-test.txt and requirements-checkov.txt below their header comments"
	{ sed -n '/^#/p' requirements-emulator.txt; /tmp/trailwarden-req-emulator/bin/pip freeze; } > requirements-emulator.txt.new && mv requirements-emulator.txt.new requirements-emulator.txt
	{ sed -n '/^#/p' requirements-test.txt; /tmp/trailwarden-req/bin/pip freeze | grep -vixF -f <(/tmp/trailwarden-req-emulator/bin/pip freeze); } > requirements-test.txt.new && mv requirements-test.txt.new requirements-test.txt
	{ sed -n '/^#/p' requirements-checkov.txt; /tmp/trailwarden-req-checkov/bin/pip freeze; } > requirements-checkov.txt.new && mv requirements-checkov.txt.new requirements-checkov.txt

requirements-awscli:
	rm -rf /tmp/trailwarden-awscli && $(PYTHON) -m venv /tmp/trailwarden-awscli
	/tmp/trailwarden-awscli/bin/pip install 'awscli==1.46.2'
	/tmp/trailwarden-awscli/bin/pip freeze > requirements-awscli.txt.new && mv requirements-awscli.txt.new requirements-awscli.txt
