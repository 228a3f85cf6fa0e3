# The course in two commands: `make book` (read it) and `make test` (prove it).
# Everything runs inside .venv, created from the pinned requirements.txt on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
CHAPTERS := $(sort $(wildcard chapters/[0-9]*.ipynb))
# The chapter kernels' environment (PYTHONHASHSEED, OMP_WAIT_POLICY, ...), one NAME=value a
# line; python -m tools.notebooks reads the same file (tools.book.kernel_env).
include tools/kernel.env
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' tools/kernel.env)
# A claim that does not hold fails the run here (and under pytest: tests/course.py); in a
# learner's notebook it only warns.
execute bench full-runs: export CNN_COURSE_STRICT_CLAIMS := 1

.PHONY: help venv book test test-fast test-portable lab execute student ledger bench full-runs lint lock browser-deps clean

help:
	@echo "make book      build the website into _build/html"
	@echo "make test      run every test offline (unit, notebooks, exercises, browser)"
	@echo "make test-fast the unit, helper and exercise tests only (pytest -m 'not slow'), minutes"
	@echo "make test-portable  re-run every chapter on two other CPU code paths (tools.cpu_paths)"
	@echo "make lab       open the chapters in JupyterLab"
	@echo "make execute   re-execute all chapter notebooks in place (then make student)"
	@echo "make student   regenerate the learner notebooks (chapters/exercises/, chapters/colab/)"
	@echo "make ledger    regenerate chapters/ledger.md from the chapters' stored outputs"
	@echo "make bench     time every chapter (tools/timings.json, MAINTAINING.md) and the conv"
	@echo "make full-runs long training runs, results recorded in chapters/full_runs.md"
	@echo "make lint      ruff on helpers, tests, tools, chapters and data"
	@echo "make browser-deps  Chromium and axe-core (pinned, checked) for the browser test"

venv: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

book: venv
	rm -rf _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open the book: file://$(CURDIR)/_build/html/index.html"

browser-deps: venv
	@bash .ci/browser-deps $(PY)

test: venv browser-deps
	$(BIN)/ruff check helpers tests tools chapters data
	bash .ci/offline $(PY) -m pytest

test-fast: venv
	$(BIN)/ruff check helpers tests tools chapters data
	$(PY) -m pytest -m "not slow"

test-portable: venv
	bash .ci/offline $(PY) -m tools.cpu_paths

lint: venv
	$(BIN)/ruff check helpers tests tools chapters data

lab: venv
	$(PY) -m tools.lab

execute: venv
	$(PY) -m tools.notebooks execute $(CHAPTERS)
	$(PY) -m tools.student
	$(PY) -m tools.ledger

ledger: venv
	$(PY) -m tools.ledger

student: venv
	$(PY) -m tools.student

bench: venv
	$(PY) -m tools.bench --out _build/conv_benchmark.md
	$(PY) -m tools.notebooks time $(CHAPTERS)

full-runs: venv
	$(PY) -m tools.full_runs

lock:
	rm -rf /tmp/cnn-course-lock && $(PYTHON) -m venv /tmp/cnn-course-lock
	/tmp/cnn-course-lock/bin/pip install --quiet -r requirements.in
	(echo "# Pinned by 'make lock' from requirements.in; install with: pip install -r requirements.txt"; \
	 /tmp/cnn-course-lock/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/') > requirements.txt

clean:
	rm -rf _build
