"""`trellis backup` and `trellis restore`: the demo comes back table for table, its audit chain
whole (issue 14, proofs). SQLite through the online backup API, PostgreSQL through pg_dump's
custom format and pg_restore."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any
from urllib.parse import urlsplit

from tests.reliability.conftest import Database, _admin, _postgres_url, _with_db


def _counts(db: Database) -> dict[str, Any]:
    if db.vendor == "sqlite":
        path = urlsplit(db.url).path
        conn = sqlite3.connect(path[1:] if path.startswith("//") else path)
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        last = conn.execute("SELECT row_hash FROM audit_auditevent ORDER BY id DESC").fetchone()
        conn.close()
        return {"tables": counts, "last_hash": last[0] if last else None}
    import psycopg

    with psycopg.connect(db.url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        last = conn.execute("SELECT row_hash FROM audit_auditevent ORDER BY id DESC").fetchone()
    return {"tables": counts, "last_hash": last[0] if last else None}


def test_backup_and_restore_the_demo(database: Database) -> None:
    seeded = database.trellis("demo", "--no-migrate", timeout=600)
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    backup = database.workdir / "demo.backup"
    made = database.trellis("backup", "--out", str(backup), "--format", "json")
    assert made.returncode == 0, made.stderr
    assert backup.stat().st_size > 0
    again = database.trellis("backup", "--out", str(backup))
    assert again.returncode == 2
    assert again.stdout == ""
    assert "--out" in again.stderr

    pg = _postgres_url()
    if pg:
        name = f"{urlsplit(pg).path.lstrip('/')}_rel_{uuid.uuid4().hex[:8]}"
        _admin(pg, f'CREATE DATABASE "{name}"')
        target = Database(_with_db(pg, name), "postgresql", database.workdir)
    else:
        target = Database(
            f"sqlite:///{database.workdir / 'restored.sqlite3'}", "sqlite", database.workdir
        )
    try:
        restored = target.trellis("restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        source, copy = _counts(database), _counts(target)
        assert copy == source
        assert source["tables"]["patients_patient"] >= 30  # it really was the demo
        assert source["tables"]["audit_auditevent"] > 100
        verify = target.trellis("audit", "verify")
        assert (verify.returncode, verify.stdout.strip()) == (0, "ok")
        # a restore never goes into a database that holds data
        twice = target.trellis("restore", str(backup))
        assert twice.returncode == 2
        assert twice.stdout == ""
        assert "not empty" in twice.stderr
    finally:
        if pg:
            _admin(pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
