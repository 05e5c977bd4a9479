# Studio Operator. `make test` runs every test, e2e included; `make run` runs the operator.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BINDIR = $(shell hack/bindir.sh)
STUDIOS ?= 1000
export GOTOOLCHAIN := local

.PHONY: lock help venv test test-unit test-e2e test-chaos crds docs controlplane print-bindir cluster-up cluster-down run bench clean chart manifests

help:
	@echo "make run          run the operator (starts the local control plane, with samples, when KUBECONFIG has no cluster)"
	@echo "make test         every test: unit and e2e against a real kube-apiserver"
	@echo "make test-chaos   the full chaos run: 200 studios, 12 operator kills (make test runs a short one)"
	@echo "make cluster-up   start the local control plane; prints its kubeconfig path last"
	@echo "make cluster-down stop it and remove its state"
	@echo "make crds         regenerate crds/ and docs/api.md from the models"
	@echo "make bench        the benchmark (STUDIOS=$(STUDIOS))"
	@echo "make manifests    regenerate the chart's CRDs and ClusterRole, and manifests/install.yaml from the chart"

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

controlplane:
	hack/build-controlplane.sh >/dev/null

print-bindir:
	@hack/bindir.sh

cluster-up: controlplane
	@hack/cluster.sh up

cluster-down:
	@hack/cluster.sh down

crds: venv
	$(BIN)/python -m studio_operator.api.generate

# The chart's copies of crds/ and its ClusterRole (from permissions.py).
chart: crds
	$(BIN)/python -m hack.chart

# manifests/install.yaml, rendered from the chart.
manifests: chart controlplane
	$(BIN)/python -m hack.chart --helm $(BINDIR)/helm

test: venv controlplane
	hack/test.sh

test-unit: venv
	$(BIN)/pytest tests/unit

test-e2e: venv controlplane
	hack/test.sh tests/e2e

# The full chaos run; STUDIO_CHAOS_SEED=<seed> replays one (tests/e2e/chaos.py).
test-chaos: venv controlplane
	STUDIO_CHAOS_STUDIOS=200 STUDIO_CHAOS_CHANGES=600 STUDIO_CHAOS_KILLS=12 STUDIO_CHAOS_NAMESPACES=5 \
	  STUDIO_CHAOS_BOUND=240 hack/test.sh tests/e2e/test_chaos.py -s

run: venv
	hack/run.sh

bench: venv controlplane
	STUDIOS=$(STUDIOS) $(BIN)/python -m bench.run

clean: cluster-down
	rm -rf $(VENV) .work

lock:
	rm -rf /tmp/studio-lock && $(PYTHON) -m venv /tmp/studio-lock
	/tmp/studio-lock/bin/pip install --quiet '.[dev]'
	{ echo '# Constraints for every install (pip install -c); regenerate with `make lock`.'; \
	  /tmp/studio-lock/bin/pip freeze --exclude-editable | grep -v '^studio-operator'; } > requirements.lock
