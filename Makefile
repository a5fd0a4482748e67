# The two set-up commands of the README: `make serve` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_CLIENT := tests/e2e/trpc_client
NODE_STAMP := $(JS_CLIENT)/node_modules/.installed

.PHONY: serve test lint install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	cd $(JS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/commsinbox serve

lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) $(NODE_STAMP) lint
	$(BIN)/pytest tests/bdd --backend=postgres -q
	$(BIN)/pytest
