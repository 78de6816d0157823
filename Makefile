PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint run bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python app.py demo

# Formatting, lint rules and types (mypy reads its files from pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

run: $(STAMP)
	$(BIN)/python app.py run

# Every benchmark in turn (about twenty minutes; one missing its target does not stop the others).
# docs/performance.md lists each command and its last results.
bench: $(STAMP)
	-$(BIN)/python -m bench.fanvue_requests
	-$(BIN)/python -m bench.card_latency
	-$(BIN)/python -m bench.clicks
	-$(BIN)/python -m bench.audit_queries
	-$(BIN)/python -m bench.memory
	-$(BIN)/python -m bench.llm_concurrency
	-$(BIN)/python -m bench.fan_context
	-$(BIN)/python -m bench.take_next
	-$(BIN)/python -m bench.card_context
	-$(BIN)/python -m bench.webhooks
	-$(BIN)/python -m bench.many_creators
	-$(BIN)/python -m bench.nudges

clean:
	rm -rf $(VENV) .pytest_cache
