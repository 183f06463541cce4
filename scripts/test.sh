#!/usr/bin/env bash
# The whole check, as `make test` and CI run it: lint, types, tests on SQLite, tests on PostgreSQL.
#
# PostgreSQL: TRELLIS_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test). When it
# does not answer, the PostgreSQL run is skipped with a warning, unless TRELLIS_REQUIRE_POSTGRES=1
# (CI), which makes that a failure. Browser tests need Chromium (/usr/bin/chromium or
# TRELLIS_CHROMIUM); without it they skip, unless TRELLIS_REQUIRE_BROWSER=1 (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
bin=.venv/bin

step() { printf '\n== %s\n' "$*"; }

step "ruff"
$bin/ruff check .
$bin/ruff format --check .

step "mypy (strict on trellis.core)"
TRELLIS_TESTING=1 $bin/mypy

step "migrations are up to date"
TRELLIS_TESTING=1 $bin/trellis manage makemigrations --check --dry-run >/dev/null

step "tests on SQLite (the embedded default), browser tests included"
unset TRELLIS_DATABASE_URL
$bin/pytest -p no:cacheprovider "$@"

step "tests on PostgreSQL"
pg_url=${TRELLIS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
if $bin/python - "$pg_url" <<'PY'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL at {sys.argv[1]} does not answer: {exc}", file=sys.stderr)
    sys.exit(1)
PY
then
  # Pure rules (tests/core, tests/cli) touch no database and ran above; browser tests too.
  TRELLIS_DATABASE_URL=$pg_url $bin/pytest -p no:cacheprovider -m "not pure and not browser" "$@"
elif [ "${TRELLIS_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "FAILED: the PostgreSQL run was required (TRELLIS_REQUIRE_POSTGRES=1) but could not run" >&2
  exit 1
else
  echo "WARNING: PostgreSQL run SKIPPED (set TRELLIS_TEST_POSTGRES_URL to a server to include it)" >&2
fi
