"""`trellis backup --out FILE` and `trellis restore FILE`.

SQLite: the online backup API (``sqlite3.Connection.backup``), a consistent copy taken while the
server keeps running. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the client
tools must be installed and of the server's major version or newer). A restore goes only into an
empty database (no tables), so it never mixes two histories; afterwards ``trellis audit verify``
checks the audit chain came back whole.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trellis.cli.common import add_format_argument, emit
from trellis.core.errors import InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def register(subparsers: Any) -> None:
    b = subparsers.add_parser("backup", help="Write a consistent copy of the database to a file")
    b.add_argument("--out", required=True, help="the backup file to write (must not exist)")
    add_format_argument(b)
    b.set_defaults(func=run_backup)
    r = subparsers.add_parser("restore", help="Restore a backup file into an empty database")
    r.add_argument("file", help="a file written by `trellis backup`")
    add_format_argument(r)
    r.set_defaults(func=run_restore)


def _database() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    from django.conf import settings

    db: dict[str, Any] = dict(settings.DATABASES["default"])
    return db


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict[str, Any]) -> list[str]:
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return args


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InvalidInput("database", f"{name} is not installed (PostgreSQL client tools)")
    return path


def run_backup(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists():
        raise InvalidInput("--out", f"{out} exists; choose a new file name")
    if not out.parent.is_dir():
        raise InvalidInput("--out", f"no such directory: {out.parent}")
    db = _database()
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        source = Path(db["NAME"])
        if not source.is_file():
            raise InvalidInput("database", f"no database file at {source}")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        kind = "sqlite"
    elif engine.endswith("postgresql"):
        cmd = [_tool("pg_dump"), "--format=custom", "--file", str(out), *_pg_args(db)]
        result = subprocess.run(cmd, env=_pg_env(db), capture_output=True, text=True)
        if result.returncode != 0:
            out.unlink(missing_ok=True)
            raise InvalidInput("database", "pg_dump failed: " + result.stderr.strip()[:300])
        kind = "postgresql"
    else:
        raise InvalidInput("database", f"cannot back up {engine}")
    size = out.stat().st_size
    emit({"file": str(out), "kind": kind, "bytes": size}, args.format, text=f"{out} ({kind})")
    return 0


def _magic(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(16)


def run_restore(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput("file", f"no such file: {path}")
    head = _magic(path)
    db = _database()
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        if not head.startswith(SQLITE_MAGIC):
            raise InvalidInput("file", "not a SQLite backup (the database is SQLite)")
        target = Path(db["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target)
        try:
            tables = dst.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if tables:
                raise InvalidInput("database", f"{target} is not empty; restore into a new file")
            src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                with dst:
                    src.backup(dst)
            finally:
                src.close()
        finally:
            dst.close()
        kind = "sqlite"
    elif engine.endswith("postgresql"):
        if not head.startswith(PG_MAGIC):
            raise InvalidInput(
                "file", "not a pg_dump custom-format backup (the database is PostgreSQL)"
            )
        _require_empty_postgres()
        cmd = [
            _tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            *_pg_args(db),
            str(path),
        ]
        result = subprocess.run(cmd, env=_pg_env(db), capture_output=True, text=True)
        if result.returncode != 0:
            raise InvalidInput("database", "pg_restore failed: " + result.stderr.strip()[:300])
        kind = "postgresql"
    else:
        raise InvalidInput("database", f"cannot restore into {engine}")
    emit({"file": str(path), "kind": kind, "restored": True}, args.format, text=f"restored {path}")
    return 0


def _require_empty_postgres() -> None:
    from trellis.cli.django_env import setup_django

    setup_django()
    from django.db import connection

    tables = connection.introspection.table_names()
    connection.close()
    if tables:
        name = urlsplit(os.environ.get("TRELLIS_DATABASE_URL", "")).path.lstrip("/") or "database"
        raise InvalidInput("database", f"{name} is not empty; restore into an empty database")
