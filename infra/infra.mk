## ---- CDK app (infra/) — included by the Makefile --------------------------
# The app is `go run ./infra` (cdk.json). It reads one configuration file,
# CONFIG, and the function binaries in build/ (make build).
#
#   make synth                  synthesize cdk.out for CONFIG
#   make synth-check            synthesize twice and require identical output
#   make lint-templates         cfn-lint and checkov over cdk.out
#   make test-infra             CDK assertion + emulator tests, synth twice, linters
#   make deploy                 cdk deploy --all for CONFIG (real AWS; see docs/deploy.md)
#   make deploy-local           bootstrap + deploy the single-account stacks to the emulator

CONFIG            ?= examples/policy.yaml
# Template checks use a configuration that builds every stack (organization
# mode, every option on).
INFRA_CHECK_CONFIG ?= infra/stacks/testdata/org.yaml
LOCAL_CONFIG      ?= infra/local.yaml
CDK_OUT           ?= cdk.out
# Scratch assemblies live under .cache/ (git-ignored).
CHECK_OUT         := .cache/cdk.out.check
CDK               := npx --no-install cdk
CDK_ENV           := CDK_DISABLE_CLI_TELEMETRY=true
EMULATOR_PORT     ?= 4566
EMULATOR_LOG      ?= .cache/deploy-local-moto.log

.PHONY: synth synth-check lint-templates test-infra deploy deploy-local

synth: $(NODE_STAMP) $(BOOTSTRAPS)
	$(CDK_ENV) $(CDK) synth --quiet -c config=$(CONFIG) -o $(CDK_OUT)

# Two synths into separate directories must match byte for byte (templates,
# asset manifests and asset hashes); tree.json carries construct metadata only.
# The threshold 0 makes every synth count as slow, so a performance report
# (timings, different on every run) would show up here every time, not only
# on a loaded machine; AppContext switches that report off.
SLOW_SYNTH   := -c @aws-cdk/core.slowSynthThreshold=0
synth-check: $(NODE_STAMP) $(BOOTSTRAPS)
	rm -rf $(CHECK_OUT)-a $(CHECK_OUT)-b
	$(CDK_ENV) $(CDK) synth --quiet $(SLOW_SYNTH) -c config=$(INFRA_CHECK_CONFIG) -o $(CHECK_OUT)-a
	$(CDK_ENV) $(CDK) synth --quiet $(SLOW_SYNTH) -c config=$(INFRA_CHECK_CONFIG) -o $(CHECK_OUT)-b
	diff -r -q -x tree.json $(CHECK_OUT)-a $(CHECK_OUT)-b
	rm -rf $(CHECK_OUT)-a $(CHECK_OUT)-b
	@echo "synth-check: two synths are identical"

lint-templates: $(VENV_STAMP) $(NODE_STAMP) $(BOOTSTRAPS)
	rm -rf $(CDK_OUT)
	$(CDK_ENV) $(CDK) synth --quiet -c config=$(INFRA_CHECK_CONFIG) -o $(CDK_OUT)
	$(VENV)/bin/cfn-lint $(CDK_OUT)/*.template.json
	$(VENV)/checkov/bin/checkov -d $(CDK_OUT) --config-file .checkov.yaml

# INFRA_GO_TEST= (empty) skips the Go tests when `go test ./...` already ran
# them (make test's test-go does).
INFRA_GO_TEST     ?= yes
test-infra: $(VENV_STAMP) $(NODE_STAMP) synth-check lint-templates
	$(if $(INFRA_GO_TEST),TRAILWARDEN_REPO=$(CURDIR) $(GO) test $(TEST_FLAGS) ./infra/... ./shared/deployment/...,@echo "test-infra: Go tests left to test-go")

deploy: $(NODE_STAMP) $(BOOTSTRAPS)
	$(CDK_ENV) $(CDK) deploy --all -c config=$(CONFIG)

# Deploys the single-account stacks to the emulator: starts moto on
# EMULATOR_PORT unless TRAILWARDEN_EMULATOR_URL names a running one, then
# `cdk bootstrap` and `cdk deploy --all`. moto keeps running afterwards (its
# pid is printed) so the deployment can be inspected. --method=direct deploys
# with CreateStack/UpdateStack: moto sets a stack's outputs on that path and
# not on the change-set path, and the CLI finds the deployment by them. It
# ends with the command that points the CLI at the deployment.
deploy-local: $(VENV_STAMP) $(NODE_STAMP) $(BOOTSTRAPS)
	@mkdir -p $(dir $(EMULATOR_LOG))
	@url="$${TRAILWARDEN_EMULATOR_URL:-}"; \
	if [ -z "$$url" ]; then \
	  TZ=UTC $(VENV)/bin/python internal/emulator/moto/launcher.py -H 127.0.0.1 -p $(EMULATOR_PORT) >$(EMULATOR_LOG) 2>&1 & \
	  pid=$$!; echo "moto started (pid $$pid, log $(EMULATOR_LOG)); stop it with: kill $$pid"; \
	  url="http://127.0.0.1:$(EMULATOR_PORT)"; \
	  for i in $$(seq 1 100); do curl -sf -o /dev/null "$$url/moto-api/" && break; sleep 0.2; done; \
	fi; \
	endpoint="$${url/127.0.0.1/localhost}"; \
	export AWS_ENDPOINT_URL="$$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true $(CDK_ENV); \
	$(CDK) bootstrap aws://123456789012/us-east-1 -c config=$(LOCAL_CONFIG); \
	$(CDK) deploy --all --require-approval never --method=direct -c config=$(LOCAL_CONFIG) -o .cache/cdk.out.local; \
	echo "deployed to $$endpoint (what the emulator cannot create: docs/deploy.md, \"The emulator\")"; \
	echo "point the CLI at it:"; \
	echo "  trailwarden use local --stack TrailwardenAutomation --region us-east-1 --endpoint $$endpoint --policy $(abspath $(LOCAL_CONFIG))"
