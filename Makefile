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

.PHONY: install test lint format demo bench clean sam-install sam-validate sam-build
.PHONY: test-airflow-matrix airflow-matrix-venvs

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

test: lint sam-install airflow-matrix-venvs
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# The matrix tests (tests/airflow_matrix, marker airflow_matrix) compile for and run on real
# Airflow releases, one virtualenv each in .venv-airflow/<version> (infra/airflow_venv.sh).
# DYNADAG_AIRFLOW_TARGETS selects the releases (tests/airflow_matrix/releases.py): unset,
# 2.11.0, 3.0.6 and 3.3.2 (what `make test` runs); `all`, every infra/airflow-targets/*.txt
# (what `make test-airflow-matrix` runs unless the variable is set); or a list such as
# 2.10.3,3.1.8. Missing virtualenvs of the selected releases are built first (minutes each,
# once).
airflow-matrix-venvs: $(STAMP)
	@releases=$$($(BIN)/python -m tests.airflow_matrix.releases) || exit 1; \
	for v in $$releases; do PYTHON=$(PYTHON) bash infra/airflow_venv.sh $$v >/dev/null || exit 1; done

test-airflow-matrix: export DYNADAG_AIRFLOW_TARGETS ?= all
test-airflow-matrix: airflow-matrix-venvs
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m airflow_matrix tests/airflow_matrix

demo: $(STAMP)
	$(BIN)/python -m lambda_compiler.demo

# The compiler benchmark (a few minutes). The others, recorded in bench/RESULTS.md:
# bench.handler_bench (~10 min), bench.local_latency, bench.package_bench, bench.runtime_parse_bench.
bench: $(STAMP)
	$(BIN)/python -m bench.compile_bench

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .dynadag .pytest_cache .ruff_cache .hypothesis
