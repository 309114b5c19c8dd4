# dynadag developer commands. `make test` and `make demo` work on a fresh machine
# with only python3 (3.11+), pip and make: they create .venv and install what they need.

# .venv runs the Lambda's Python (3.12) when one is installed (on PATH or under pyenv),
# else python3. The CLI's users may run 3.11 (requires-python), so `make test` also runs
# the fast tests on 3.11 (.venv-py311); the Airflow matrix pins are for MWAA's 3.11.
# Looked up once per make (:=), unless given on the command line or in the environment.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell infra/find_python.sh 3.12 || command -v python3)
endif
ifeq ($(origin PYTHON311),undefined)
PYTHON311 := $(shell infra/find_python.sh 3.11)
endif
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PINS := $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-py$(PY_VERSION)-$(PINS)
PY311_VENV := .venv-py311
PY311_STAMP := $(PY311_VENV)/.installed-$(PINS)
# AWS SAM CLI pins conflict with Airflow's, so it gets its own virtualenv and constraints.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat infra/sam-constraints.txt | cksum | cut -d' ' -f1)
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

.PHONY: install test test-fast test-fast-py311 typecheck lint format demo airflow browser bench clean sam-install sam-validate sam-build readme docs
.PHONY: airflow-venv airflow-venvs test-airflow-matrix airflow-matrix-venvs

$(STAMP): pyproject.toml constraints.txt
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PY_VERSION)" ]; then \
		echo "$(VENV) runs another Python than $(PYTHON) ($(PY_VERSION)): rebuilding it"; rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(SAM_STAMP): infra/sam-constraints.txt
	test -x $(SAM_VENV)/bin/python || $(or $(PYTHON311),$(PYTHON)) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -c infra/sam-constraints.txt aws-sam-cli
	rm -f $(SAM_VENV)/.installed-*
	touch $(SAM_STAMP)

sam-install: $(SAM_STAMP)

# Offline checks of template.yaml (the tests run these too, and more).
sam-validate: $(STAMP) $(SAM_STAMP)
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1

# The deployable package in .aws-sam/build (then: $(SAM) deploy --guided).
sam-build: $(SAM_STAMP)
	$(SAM) build --parallel

# A small Python 3.11 virtualenv for the fast tests: the CLI and `dynadag local`, no Airflow.
$(PY311_STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON311)" || { echo "no Python 3.11 found: install one, or set PYTHON311=/path/to/python3.11" >&2; exit 1; }
	test -x $(PY311_VENV)/bin/python || $(PYTHON311) -m venv $(PY311_VENV)
	$(PY311_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PY311_VENV)/bin/python -m pip install --quiet -c constraints.txt -e ".[local]" pytest hypothesis
	rm -f $(PY311_VENV)/.installed-*
	touch $(PY311_STAMP)

# mypy, strict ([tool.mypy] in pyproject.toml); `make lint` and `make test` run it.
typecheck: $(STAMP)
	$(BIN)/mypy

lint: $(STAMP) typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The pure core in well under a minute: tests/unit, which holds no moto server and no
# Airflow (tests/unit/test_layout.py fails otherwise). No quotes in these commands: make
# then runs pytest without a /bin/sh in between, which the shell-completion test would see.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-fast-py311: $(PY311_STAMP)
	$(PY311_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint sam-install browser airflow-matrix-venvs $(PY311_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q
	$(MAKE) --no-print-directory test-fast-py311

# The matrix tests (tests/airflow_matrix, marker airflow_matrix) compile for and run on real
# Airflow releases, one virtualenv each in .venv-airflow/<version> (infra/airflow_venv.sh).
# DYNADAG_AIRFLOW_TARGETS selects the releases (tests/airflow_matrix/releases.py): unset,
# 2.11.0, 3.0.6 and 3.3.2 (what `make test` runs); `all`, every infra/airflow-targets/*.txt
# (what `make test-airflow-matrix` runs unless the variable is set); or a list such as
# 2.10.3,3.1.8. Missing virtualenvs of the selected releases are built first (minutes each,
# once).
airflow-matrix-venvs: $(STAMP)
	@releases=$$($(BIN)/python -m tests.airflow_matrix.releases) || exit 1; \
	for v in $$releases; do PYTHON=$(PYTHON311) bash infra/airflow_venv.sh $$v >/dev/null || exit 1; done

test-airflow-matrix: export DYNADAG_AIRFLOW_TARGETS ?= all
test-airflow-matrix: airflow-matrix-venvs
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m airflow_matrix tests/airflow_matrix

demo: $(STAMP)
	$(BIN)/python -m lambda_compiler.demo

# The local stack and Airflow on its dags folder: the UI at the address it prints.
SEED ?= examples/sqlite_demo.json
airflow: $(STAMP)
	$(BIN)/dynadag local --airflow --seed $(SEED)

# Headless Chromium (Debian's package) for the Airflow UI test: installed when missing
# and we are root (as in CI); otherwise says how, and that test is skipped.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (apt-get) for the Airflow UI test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "no Chromium: the Airflow UI test will be skipped; install it with: sudo apt-get install chromium"; \
	fi

# Regenerate README's environment-variables table from lambda_compiler/settings.py.
readme: $(STAMP)
	$(BIN)/python -m lambda_compiler.settings --readme README.md

# Regenerate every generated document: README's table, docs/rows.schema.json and the task
# types in docs/task-types.md (from lambda_compiler/task_types/). Tests fail when one is stale.
docs: readme
	$(BIN)/python -m lambda_compiler.schema docs/rows.schema.json
	$(BIN)/python -m lambda_compiler.task_types --docs docs/task-types.md

# The compiler benchmark (a few minutes). The others, recorded in bench/RESULTS.md:
# bench.handler_bench (~10 min), bench.local_latency, bench.package_bench, bench.runtime_parse_bench,
# bench.dag_processor_bench (~30 min on a shared machine; needs make airflow-venvs).
bench: $(STAMP)
	$(BIN)/python -m bench.compile_bench

# One virtualenv per target Airflow release (MWAA), pinned by infra/airflow-targets/VERSION.txt:
# `make airflow-venv VERSION=2.10.3` (or `make airflow-venv-2.10.3`) builds .venv-airflow/2.10.3.
AIRFLOW_TARGETS := $(sort $(basename $(notdir $(wildcard infra/airflow-targets/*.txt))))

airflow-venv:
	@test -n "$(VERSION)" || { echo "usage: make airflow-venv VERSION=<one of: $(AIRFLOW_TARGETS)>" >&2; exit 2; }
	PYTHON=$(PYTHON311) bash infra/airflow_venv.sh $(VERSION)

airflow-venv-%:
	PYTHON=$(PYTHON311) bash infra/airflow_venv.sh $*

# One at a time on purpose: each is a large pip install.
airflow-venvs:
	for v in $(AIRFLOW_TARGETS); do PYTHON=$(PYTHON311) bash infra/airflow_venv.sh $$v || exit 1; done

clean:
	rm -rf $(VENV) $(SAM_VENV) $(PY311_VENV) .aws-sam .dynadag .pytest_cache .ruff_cache .mypy_cache .hypothesis
