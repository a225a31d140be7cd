# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up on demand.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint typecheck unit bench bench-quick docs clean setup

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

run: setup
	$(VENV)/bin/casereg up

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(VENV)/bin/pytest

test: lint typecheck unit

bench: setup
	$(VENV)/bin/python -m bench run

bench-quick: setup
	$(VENV)/bin/python -m bench run --quick

# The API contracts: docs/openapi.json (HTTP) and docs/asyncapi.json (NATS), from the code.
docs: setup
	$(VENV)/bin/python -m intake.api.export_docs --out docs

clean:
	rm -rf $(VENV) $(TOOLS) var .mypy_cache .pytest_cache .ruff_cache
