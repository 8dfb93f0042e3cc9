# The whole set-up on a fresh machine is `make demo` or `make test`: each builds .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.edgegrad-installed
OUT    ?= demo-output

.PHONY: demo test test-torch lint typecheck bench dot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[viz,demo,fast,test]'
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

demo: $(STAMP) dot
	$(BIN)/python -m nn train --dataset moons --samples 100 --noise 0.1 --hidden 16,16 \
	  --loss hinge --l2 1e-4 --optimizer sgd --lr 1.0 --lr-end 0.1 --epochs 100 --seed 1 --out $(OUT)

test: $(STAMP) dot
	$(BIN)/python -m pytest -q -p no:cacheprovider tests --nbmake notebooks

# Optional PyTorch parity tests. Always exactly this pin: it is a local CPU build here.
test-torch: $(STAMP)
	$(BIN)/python -m pip install --quiet torch==2.13.0 numpy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests -m torch

lint: $(STAMP)
	$(BIN)/ruff check autograd nn tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet micrograd==0.1.0
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/higher_order.py

clean:
	rm -rf $(VENV) $(OUT) build dist *.egg-info
