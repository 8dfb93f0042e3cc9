# The whole set-up on a fresh machine is `make demo` or `make test`: each builds .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.edgegrad-installed
OUT    ?= demo-output

.PHONY: demo test test-torch lint typecheck bench generate dot chromium docs docs-serve dist clean \
        fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	touch $@

# The documentation site's tools, on top of the above (the docs test builds the site too).
DOCS_STAMP := $(VENV)/.edgegrad-docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[all,test,docs]'
	touch $@

# The browser assets (package.json, pinned by package-lock.json): Pyodide, which runs the
# playground of the docs site; Graphviz in WebAssembly, which the wheel carries and a source
# checkout reads here; MathJax, which the docs site serves.
# `npm ci` installs exactly the locked versions; reinstalled when the lock file changes.
node_modules: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm is missing: it installs the pinned browser assets (package-lock.json). Install" \
	       "Node.js: apt-get install npm (Debian/Ubuntu), brew install node (macOS), or see" \
	       "https://nodejs.org/"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# Graphviz's `dot` renders the drawings: install it through apt when it is missing.
dot:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	    echo "Installing Graphviz (dot) with apt..."; \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; \
	  fi; \
	  command -v dot >/dev/null 2>&1 || { \
	    echo "Graphviz's 'dot' program is missing. Install it: apt-get install graphviz" \
	         "(Debian/Ubuntu), brew install graphviz (macOS), or see https://graphviz.org/download/"; \
	    exit 1; }; }

# Chromium runs the browser tests (tests/drawing/test_in_chromium.py): install it through apt when it is
# missing. Without it `make test` still runs, and those tests say why they were skipped.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable
chromium:
	@for c in $(CHROMIUM_NAMES); do command -v $$c >/dev/null 2>&1 && exit 0; done; \
	if command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  echo "Installing Chromium with apt (for the browser tests)..."; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi; \
	for c in $(CHROMIUM_NAMES); do command -v $$c >/dev/null 2>&1 && exit 0; done; \
	echo "Chromium is missing, so the browser tests will be skipped. Install it:" \
	     "apt-get install chromium (Debian/Ubuntu), brew install --cask chromium (macOS)," \
	     "or set EDGEGRAD_CHROMIUM to a Chromium or Chrome executable."

demo: $(STAMP) dot
	$(BIN)/python -m nn train --dataset moons --samples 100 --noise 0.1 --hidden 16,16 \
	  --loss hinge --l2 1e-4 --optimizer sgd --lr 1.0 --lr-end 0.1 --epochs 100 --seed 1 --out $(OUT)

test: $(DOCS_STAMP) node_modules dot chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests --nbmake notebooks

# Hostile files through every reader and subcommand, each in a process under memory and time
# limits: `make test` runs a few dozen examples, this many more, randomized (about ten minutes).
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/hardening/test_fuzz_readers.py

# The documentation site: built into site/ (--strict: a broken link, a missing page or a name in
# __all__ without a docstring fails the build), or served with live reload on localhost:8000.
# (NO_MKDOCS_2_WARNING silences a banner that Material for MkDocs prints on every build.)
docs: $(DOCS_STAMP) node_modules
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(DOCS_STAMP) node_modules
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The sdist and the wheel, into dist/, checked by twine. The wheel carries Graphviz in
# WebAssembly from node_modules/ (tools/wheel_assets.py).
dist: $(STAMP) node_modules
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# Optional PyTorch parity tests. Always exactly this pin: it is a local CPU build here.
test-torch: $(STAMP)
	$(BIN)/python -m pip install --quiet torch==2.13.0 numpy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests -m torch

lint: $(STAMP)
	$(BIN)/ruff check autograd nn tests benchmarks tools
	$(BIN)/python tools/generate_methods.py --check

# Value's arithmetic methods are written from the op table (autograd/ops.py) into
# autograd/arithmetic.py; run after adding or changing a primitive.
generate:
	$(PYTHON) tools/generate_methods.py

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(DOCS_STAMP) node_modules
	$(BIN)/python -m pip install --quiet micrograd==0.1.0
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/higher_order.py
	$(BIN)/python benchmarks/costs.py
	$(BIN)/python benchmarks/playground_speed.py
	$(BIN)/python benchmarks/live.py
	$(BIN)/python benchmarks/refusing_files.py
	$(BIN)/python benchmarks/grading.py

clean:
	rm -rf $(VENV) $(OUT) build dist site .cache *.egg-info node_modules
