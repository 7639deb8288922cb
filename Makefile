# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# torch, from PyTorch's CPU index by default: PyPI's Linux torch is a multi-GB CUDA build.
# pip takes the highest version it finds, and 2.13.0+cpu sorts above PyPI's 2.13.0. For a
# CUDA build: make install TORCH_INDEX=https://download.pytorch.org/whl/cu126 (docs/GPU.md);
# TORCH_INDEX= (empty) takes what pip's own indexes give. Only torch itself is looked up
# there (--no-deps); its dependencies come from the ordinary indexes in the next line, so
# a machine that cannot reach the index (and has the wheel locally) loses seconds, not minutes.
TORCH       ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: demo test test-kernels bench clean install

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps "$(TORCH)" $(if $(TORCH_INDEX),--extra-index-url "$(TORCH_INDEX)")
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
