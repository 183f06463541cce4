"""Shared test fixtures: the CLI runner and the pure/db split.

Tests under tests/core and tests/cli touch no database: they are marked ``pure`` so that the
PostgreSQL run (``make test``) can skip them instead of running them twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support import Cast, make_cast

# Settings refuse the default secret key unless testing, demo or debug (trellis.settings).
os.environ.setdefault("TRELLIS_TESTING", "1")

PURE_DIRS = ("core", "cli", "analytics")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        try:
            rel = Path(item.fspath).relative_to(tests_root)
        except ValueError:
            continue
        if rel.parts and rel.parts[0] in PURE_DIRS:
            item.add_marker(pytest.mark.pure)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``trellis ARGS…`` in-process and capture exit code, stdout and stderr."""
    from trellis.cli import main

    def run(*args: str) -> CliResult:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse exits for --help/--version/usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture(scope="session", autouse=True)
def _audit_purge_on_flush() -> Any:
    """Test-database flushes (transactional tests, live servers) may empty the audit table.

    The database refuses it otherwise (``trellis.audit.chain``); this is the one door, opened
    for the test runner's flush only.
    """
    from django.db.backends.base.operations import BaseDatabaseOperations

    from trellis.audit.chain import allow_purge

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: Any, sql_list: Any) -> None:
        with allow_purge(self.connection):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign]
    yield
    BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]
