# dynadag developer commands. `make test` and `make demo` work on a fresh machine
# with only python3 (3.11+), pip and make: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
# AWS SAM CLI pins conflict with Airflow's, so it gets its own virtualenv and constraints.
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat infra/sam-constraints.txt | cksum | cut -d' ' -f1)
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam

.PHONY: install test lint format demo bench clean sam-install sam-validate sam-build readme
.PHONY: airflow-venv airflow-venvs

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(SAM_STAMP): infra/sam-constraints.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint sam-install
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

demo: $(STAMP)
	$(BIN)/python -m lambda_compiler.demo

# Regenerate README's environment-variables table from lambda_compiler/settings.py.
readme: $(STAMP)
	$(BIN)/python -m lambda_compiler.settings --readme README.md

# The compiler benchmark (a few minutes). The others, recorded in bench/RESULTS.md:
# bench.handler_bench (~10 min), bench.local_latency, bench.package_bench, bench.runtime_parse_bench.
bench: $(STAMP)
	$(BIN)/python -m bench.compile_bench

# One virtualenv per target Airflow release (MWAA), pinned by infra/airflow-targets/VERSION.txt:
# `make airflow-venv VERSION=2.10.3` (or `make airflow-venv-2.10.3`) builds .venv-airflow/2.10.3.
AIRFLOW_TARGETS := $(sort $(basename $(notdir $(wildcard infra/airflow-targets/*.txt))))

airflow-venv:
	@test -n "$(VERSION)" || { echo "usage: make airflow-venv VERSION=<one of: $(AIRFLOW_TARGETS)>" >&2; exit 2; }
	PYTHON=$(PYTHON) bash infra/airflow_venv.sh $(VERSION)

airflow-venv-%:
	PYTHON=$(PYTHON) bash infra/airflow_venv.sh $*

# One at a time on purpose: each is a large pip install.
airflow-venvs:
	for v in $(AIRFLOW_TARGETS); do PYTHON=$(PYTHON) bash infra/airflow_venv.sh $$v || exit 1; done

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .dynadag .pytest_cache .ruff_cache .hypothesis
