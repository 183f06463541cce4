# Trellis: the commands people type. The two that matter: `make demo` and `make test`.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
# uv from PATH, else a private copy installed with pip into .tools/ (no system changes).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck sync messages bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

sync: .venv/.synced

## Serve Trellis with the synthetic demo program at http://127.0.0.1:8000 (prints the logins).
demo: sync
	.venv/bin/trellis serve --demo --host $(HOST) --port $(PORT)

## Lint, type-check and run the whole test suite on SQLite and PostgreSQL (with the optional
## Spark extra, for the network report's DuckDB = Spark test; it needs Java 17).
test: sync
	$(UV) sync --frozen --extra spark
	bash scripts/test.sh

lint: sync
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: sync
	TRELLIS_TESTING=1 .venv/bin/mypy

## Re-extract and compile the translations (needs GNU gettext).
messages: sync
	cd src/trellis && TRELLIS_DEBUG=1 ../../.venv/bin/trellis manage makemessages -l es --no-obsolete
	cd src/trellis && TRELLIS_DEBUG=1 ../../.venv/bin/trellis manage compilemessages -l es

bench: sync
	.venv/bin/python bench/scheduling.py
	.venv/bin/python bench/network.py

clean:
	rm -rf .venv .tools var test-artifacts .pytest_cache .mypy_cache .ruff_cache
