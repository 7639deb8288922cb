# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# A CPU build of torch; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test test-kernels bench clean install

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)"
	$(PY) -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/spigan demo --out runs/demo

test: install
	$(PY) -m pytest -q

# The numerics-sensitive tests (-m numerics) under every kernel set this CPU can run
# (PyTorch, oneDNN, MKL and numpy held to SSE4.1, AVX2, AVX512, ...): tests/kernel_sets.py.
test-kernels: install
	$(PY) tests/kernel_sets.py

bench: install
	$(PY) benchmarks/render_speed.py

clean:
	rm -rf $(VENV) runs .pytest_cache
