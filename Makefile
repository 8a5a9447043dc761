# swin-tutor: two commands do everything.
#   make lab    set up .venv (first time only) and open the notebooks in JupyterLab
#   make test   set up .venv (first time only) and run the whole suite
PYTHON ?= python3
PORT ?= 8888
JOBS ?= 2
VENV := .venv
BIN := $(VENV)/bin
# The stamp records the lock it was installed from: a changed lock reinstalls, nothing else does.
STAMP := $(VENV)/.installed
# Which PyTorch build setup installs. cpu (default): the CPU build; tools/torch_source.py asks the
# configured pip source (pip's dry run) and adds PyTorch's CPU index only where that source would give
# the CUDA build (PyPI on Linux: several GB). cuda: the configured source's build, CUDA on Linux
# (make clean first when .venv exists: make lab TORCH=cuda).
TORCH ?= cpu

# Tests run JOBS pytest workers with one torch thread each: more threads than cores makes torch's
# thread pools spin against each other (measured here: 2 workers x 2 threads took 2.4x as long).
TEST_THREADS ?= 1
TEST_ENV := OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) TQDM_DISABLE=1
# The same environment for tests, for 'make notebooks' and for the kernels nbval starts. TQDM_DISABLE
# goes only to the commands that run tests or notebooks (TEST_ENV), not to make lab: a learner's
# training loop in JupyterLab shows its progress bar.
export MPLBACKEND := module://matplotlib_inline.backend_inline
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# Jupyter refuses to run as root unless told (containers, Binder-like sandboxes).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab trust student-copies test slow check unit nbval nbval-portable lint format notebooks slides e2e site site-e2e bench weights lock clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python tools/torch_source.py --torch $(TORCH) > $(VENV)/.torch-source
	$(BIN)/python -m pip install $$(cat $(VENV)/.torch-source) -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python tools/rise_widgets.py
	@touch $(STAMP)

lab: setup trust
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=notebooks $(ROOT_FLAG)

# Jupyter's notebook signatures (in your Jupyter data folder, not in the files): JupyterLab runs the
# scripts of a trusted notebook's stored outputs, so the kernel-free steppers work before any cell runs.
trust: setup
	$(BIN)/jupyter trust $(wildcard notebooks/[0-9][0-9]_*.ipynb notebooks/student/*.ipynb)

# Copies for students in notebooks/student/ (git-ignored; JupyterLab shows it): the <details> answer
# blocks removed, image paths adjusted. Re-running overwrites the copies.
student-copies: setup
	$(BIN)/python tools/student_copies.py notebooks/student notebooks/[0-9][0-9]_*.ipynb

# The whole suite except the tests marked slow (retraining the shipped weights, torchrun, ...).
test: setup
	$(TEST_ENV) $(BIN)/python -m pytest --nbval -n $(JOBS) --dist loadfile -q -m "not slow" --ignore=tests/e2e tests notebooks
	$(BIN)/ruff check swin_tutor benchmarks tests notebooks conftest.py
	$(BIN)/ruff format --check swin_tutor benchmarks tests notebooks conftest.py

# The slow tests only (a few minutes): make weights reaches the recorded accuracy, two torchrun processes, ...
slow: setup
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q -m slow --ignore=tests/e2e tests

# Everything CI runs (.ci/run): the suite, the slow tests, portable-path nbval, the browser tests, the site.
check: test slow nbval-portable e2e site site-e2e

unit: setup
	$(TEST_ENV) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -q --ignore=tests/e2e tests

nbval: setup
	$(TEST_ENV) $(BIN)/python -m pytest --nbval -n $(JOBS) --dist loadfile -q notebooks

# Strict nbval on PyTorch's portable (non-AVX) code path with one thread: what older or non-x86
# laptops run. Stored outputs must hold there too (CI runs this after make test).
nbval-portable: setup
	ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(BIN)/python -m pytest --nbval -n $(JOBS) --dist loadfile -q notebooks

lint: setup
	$(BIN)/ruff check swin_tutor benchmarks tests notebooks conftest.py
	$(BIN)/ruff format --check swin_tutor benchmarks tests notebooks conftest.py

format: setup
	$(BIN)/ruff check --fix swin_tutor benchmarks tests notebooks conftest.py
	$(BIN)/ruff format swin_tutor benchmarks tests notebooks conftest.py

# Every notebook run in a real JupyterLab in headless Chromium (Debian's chromium; installed with
# apt-get when missing and running as root). Screenshots and timings land in build/e2e/.
e2e: setup
	bash tools/ensure_chromium.sh
	$(BIN)/python -m pytest -p no:xdist -m e2e -q tests/e2e

# The offline site of the series (Jupyter Book 1) from the stored outputs, into build/site/; warnings are
# errors. Its tools (requirements-docs.lock) go into .venv/docs, put first on PYTHONPATH, not into the
# venv itself: Jupyter Book 1 needs markdown-it-py 3 where requirements.lock pins 4.
DOCS_STAMP := $(VENV)/.docs-installed
DOCS_ENV := PYTHONPATH=$(VENV)/docs

$(DOCS_STAMP): requirements-docs.lock $(STAMP)
	rm -rf $(VENV)/docs
	$(BIN)/python -m pip install --quiet --no-deps --target $(VENV)/docs -r requirements-docs.lock
	@touch $(DOCS_STAMP)

site: setup $(DOCS_STAMP)
	$(DOCS_ENV) $(BIN)/python tools/build_site.py

# The site last built by make site (built first when missing) in headless Chromium, offline
# (tests/e2e/test_site.py); screenshots in build/site-e2e/. make check and .ci/run build it just before.
site-e2e: setup
	@test -f build/site/index.html || $(MAKE) site
	bash tools/ensure_chromium.sh
	$(BIN)/python -m pytest -p no:xdist -m site -q -s tests/e2e/test_site.py tests/e2e/test_live_page.py

# RISE slide types for every cell, the Colab set-up cell after each title, test markers as cell tags
# (tools/slides.py; idempotent). A notebook it inserted the Colab cell into must be re-executed after
# (make notebooks): the counts shift.
slides: setup
	$(BIN)/python tools/slides.py notebooks/[0-9][0-9]_*.ipynb

# Re-execute every notebook in place, top to bottom, in the test environment, and strip volatile metadata.
notebooks: setup
	$(BIN)/python tools/execute_notebooks.py notebooks/*.ipynb

# The benchmark against Hugging Face (and the notebook series' run time); prints a table, writes build/bench.json.
bench: setup
	$(BIN)/python benchmarks/bench.py --notebooks

# Re-create the shipped digits weights (swin_tutor/train/weights) from fixed seeds: about 2 x 100 s on 1 thread.
weights: setup
	$(BIN)/python tools/make_weights.py

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install $$(.lock-venv/bin/python tools/torch_source.py) torch==$$(sed -n 's/^torch==//p' requirements.lock)
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --all --exclude-editable | grep -v "^pip==" | sed 's/^torch==\(.*\)+cpu/torch==\1/' > requirements.lock.new
	rm -rf .lock-venv && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .ruff_cache
