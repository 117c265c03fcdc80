# The two commands of the README: `make serve` and `make test`. Everything installs itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint docs bench schema dashboard examples screenshots clean

serve: $(VENV)/.installed-run
	$(BIN)/tradegraph serve

test: lint
	scripts/ensure-redis
	scripts/ensure-chromium
	$(BIN)/python -m pytest

# The docs build is strict: a broken link or anchor, or a page left out of mkdocs.yml's nav,
# fails it. Not --quiet: it hides the warnings strict mode counts. (NO_MKDOCS_2_WARNING quiets
# Material's end-of-life banner: see pyproject.toml.)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check tradegraph tests bench
	$(BIN)/ruff format --check tradegraph tests bench
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The documentation site (mkdocs.yml): docs/configuration.md and the README's configuration
# section rewritten from Settings, then the strict build into site/. `$(BIN)/mkdocs serve`
# previews it while you write.
docs: $(VENV)/.installed-test
	$(BIN)/python -m tradegraph.config_reference
	$(BIN)/mkdocs build --strict

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

schema: $(VENV)/.installed-run
	$(BIN)/tradegraph schema > schema.graphql

# The dashboard and GraphiQL bundles are committed inside the package; this rebuilds them.
dashboard:
	cd web && npm ci --no-audit --no-fund && npm run typecheck && npm run build

# The snippets of docs/graphql/frontend-clients.md (web/examples): checks they match the files,
# type-checks them and runs each on Node against a seeded server on a free port. Needs Node, so
# it is not part of `make test`.
examples: $(VENV)/.installed-run
	cd web && npm ci --no-audit --no-fund && npm run typecheck:examples && npm run examples

# Refreshes the pictures in docs/ (dashboard, terminal-positions, terminal-research, graphiql) from the browser tests.
screenshots: $(VENV)/.installed-test
	scripts/ensure-chromium
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_browser.py tests/e2e/terminal -q

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
