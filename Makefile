# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the whole test suite).
# Both create .venv and install rnnzoo into it first; nothing has to be done by hand.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pip prints a warning for every package its local mirrors do not hold; keep the output readable.
QUIET_PIP := 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }

.PHONY: demo layers-demo test bench clean

$(STAMP): pyproject.toml constraints.txt $(wildcard setup.py) $(wildcard rnnzoo/csrc/*)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt "setuptools>=68" wheel $(QUIET_PIP)
	# torch first, through the constraints file: the CPU build on a CPU machine, never a CUDA one.
	$(PY) -m pip install -q -c constraints.txt torch $(QUIET_PIP)
	# --no-build-isolation: the C++ kernels build against the torch just installed (an isolated build
	# environment would download another torch, a CUDA one).
	$(PY) -m pip install -q -c constraints.txt --no-build-isolation -e ".[dev]" $(QUIET_PIP)
	touch $(STAMP)

# The main job: the four cells at ~20k parameters on the Bach chorales, a short real comparison (a few minutes on
# 2 CPU cores): prints the table and where the curves, JSON and models went; runs are in ./mlflow.db.
demo: $(STAMP)
	$(VENV)/bin/rnnzoo compare --data jsb --budget 20k --seeds 0 1 --max-epochs 60

layers-demo: $(STAMP)
	$(PY) -m rnnzoo.demo

# One pytest-xdist worker per core (at most 8), each test file on one worker (module fixtures built once);
# tests/conftest.py gives each worker its share of torch's threads. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 8 ? n : 8 )))

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(PY) benchmarks/cells.py

clean:
	rm -rf $(VENV) build rnnzoo/*.so
