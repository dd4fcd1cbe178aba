# mlkg — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
GRAPH ?= data/build

.DEFAULT_GOAL := help
.PHONY: help install demo serve goldens test test-fast test-browser lint typecheck system-deps chromium virtuoso eval bench bench-quick soak clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install mlkg with its development tools

demo: install ## Build the graph from the bundled corpus, run two queries, a path and the HTML view
	$(BIN)/mlkg build --out $(GRAPH)
	@echo; echo '$$ mlkg query roles'
	$(BIN)/mlkg query roles --graph $(GRAPH)
	@echo; echo '$$ mlkg query skills-of-role --param role="Research Fellow"'
	$(BIN)/mlkg query skills-of-role --graph $(GRAPH) --param role="Research Fellow"
	@echo; echo '$$ mlkg path "Data Scientist" "Senior Research Fellow"'
	$(BIN)/mlkg path "Data Scientist" "Senior Research Fellow" --graph $(GRAPH)
	@echo
	$(BIN)/mlkg viz --graph $(GRAPH) --out $(GRAPH)/graph.html

serve: install ## Serve data/build at http://127.0.0.1:7878/ (SPARQL endpoint and query page)
	$(BIN)/mlkg serve --graph $(GRAPH)

system-deps: chromium virtuoso ## Install the Debian packages the tests use (Chromium, Virtuoso)

chromium: ## Install Debian's Chromium for the browser tests (needs root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and cannot be installed here: browser tests will be skipped"; fi; }

virtuoso: ## Install Debian's Virtuoso for the SPARQL-server tests (needs root)
	@bash scripts/virtuoso.sh install || echo "virtuoso could not be installed: its tests will be skipped"

lint: install ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

typecheck: install
	$(BIN)/mypy

test: install system-deps lint ## Install everything and run the whole test suite
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

test-fast: install ## Run the tests without browser, server or slow ones
	$(BIN)/pytest -q -m "not browser and not virtuoso and not slow"

test-browser: install chromium ## The HTML view and the query page in headless Chromium
	$(BIN)/pytest -q -m browser

goldens: install ## Regenerate the query golden results after an extraction change (read the diff!)
	MLKG_UPDATE_GOLDENS=1 $(BIN)/pytest -q -p no:cacheprovider tests/test_queries.py

eval: install ## Score extraction against the golden expectations (precision/recall per class)
	$(BIN)/mlkg build -q --out build/eval-seeds
	$(BIN)/python tests/golden/extraction/evaluate.py build/eval-seeds data/documents --details
	$(BIN)/mlkg build -q --docs tests/documents --out build/eval-docs
	$(BIN)/python tests/golden/extraction/evaluate.py build/eval-docs tests/documents --details

bench-deps: install chromium ## Install what the benchmarks compare against (spaCy, hyperfine)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@command -v hyperfine >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null || true; }

bench: bench-deps ## Run the benchmark suite (~45 min on 2 cores); writes bench/results.json and BENCHMARKS.md
	$(BIN)/python -m bench.run

bench-quick: bench-deps ## A quick benchmark run (about 2 minutes)
	$(BIN)/python -m bench.run --quick

soak: install system-deps ## Long reliability tests (kill -9 builds, endpoint load at 16 clients)
	MLKG_SOAK=1 $(BIN)/pytest -q -s -m slow

clean: ## Remove builds, caches and the virtualenv
	rm -rf $(VENV) build data/build data/.build.* .pytest_cache .mypy_cache .ruff_cache .hypothesis
