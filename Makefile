# Two entry points for a newcomer: `make run` and `make test`. Both create .venv and install from
# pyproject.toml; a stamp file per extra set keeps the second run quick.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run run-pg test lint bench clean score reliability

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

SOURCES := pyproject.toml

$(VENV)/.stamp-run: $(SOURCES) | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.stamp-test: $(SOURCES) | $(VENV)/bin/python
	$(PIP) install -q -e ".[test,neural]"
	touch $@ $(VENV)/.stamp-run

$(VENV)/.stamp-pg: $(SOURCES) | $(VENV)/bin/python
	$(PIP) install -q -e ".[pg]"
	touch $@

$(VENV)/.stamp-bench: $(SOURCES) | $(VENV)/bin/python
	$(PIP) install -q -e ".[test,bench]"
	touch $@

run: $(VENV)/.stamp-run
	$(PY) -m bot

# The bot on PostgreSQL: a local cluster in data/pg (started, or created, by storage.local_pg;
# stop it with `$(PY) -m storage.local_pg data/pg --stop`).
run-pg: $(VENV)/.stamp-pg
	BOT_DATABASE="$$($(PY) -m storage.local_pg data/pg)" $(PY) -m bot

test: $(VENV)/.stamp-test
	$(PY) -m ruff check .
	NO_PROXY=127.0.0.1,localhost HF_HUB_OFFLINE=1 $(PY) -m pytest -q

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .

bench: $(VENV)/.stamp-bench
	$(PY) bench/summariser.py
	$(PY) bench/storage.py
	$(PY) bench/bot.py

# The real bot process under crashes, bombs and floods (issue 13); ARGS="--quick" or "--only NAME".
reliability: $(VENV)/.stamp-run
	NO_PROXY=127.0.0.1,localhost HF_HUB_OFFLINE=1 $(PY) bench/reliability.py $(ARGS)

score: $(VENV)/.stamp-run
	$(PY) ../shared/eval/score.py --cmd "$(PY) -m summariser --json {file}" -v

clean:
	rm -rf $(VENV)
