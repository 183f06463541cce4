"""Real servers for the reliability proofs: `trellis serve` in a child process, on the database
this pytest run uses (SQLite file, or a PostgreSQL database next to the test database).

A migrated, empty template is made once per session (``trellis migrate``); each test gets a copy
(a file copy; ``CREATE DATABASE … TEMPLATE``). Files live in /dev/shm when there is one: these
tests prove what survives a killed process (everything committed is in the kernel's page cache
already), not a power cut, and a RAM disk keeps them fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
TRELLIS = str(Path(sys.executable).with_name("trellis"))


def _postgres_url() -> str | None:
    url = os.environ.get("TRELLIS_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Database:
    url: str
    vendor: str
    workdir: Path
    cleanup: list[str] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TRELLIS_", "DJANGO_"))}
        return {
            **base,
            "TRELLIS_DATABASE_URL": self.url,
            "TRELLIS_DATA_DIR": str(self.workdir),
            "TRELLIS_DEBUG": "1",
            "TRELLIS_REQUIRE_2FA": "0",
            "TRELLIS_CHECKIN_FAILURE_LIMIT": "100000",
            "TRELLIS_LOG_LEVEL": "ERROR",
            **extra,
        }

    def trellis(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TRELLIS, *args], env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def python(self, code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _scratch(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        path = shm / f"trellis-{name}-{uuid.uuid4().hex[:8]}"
        path.mkdir()
        return path
    return tmp_path_factory.mktemp(name)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, empty database of this run's kind."""
    work = _scratch(tmp_path_factory, "tpl")
    pg = _postgres_url()
    if pg:
        name = f"{urlsplit(pg).path.lstrip('/')}_rel_tpl_{os.getpid()}"
        _admin(pg, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(pg, f'CREATE DATABASE "{name}"')
        db = Database(_with_db(pg, name), "postgresql", work, [name])
    else:
        db = Database(f"sqlite:///{work / 'template.sqlite3'}", "sqlite", work)
    result = db.trellis("migrate")
    assert result.returncode == 0, result.stderr
    yield db
    for name in db.cleanup:
        _admin(pg or "", f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def database(template: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A fresh copy of the template for one test."""
    work = _scratch(tmp_path_factory, "db")
    pg = _postgres_url()
    if pg:
        name = f"{urlsplit(pg).path.lstrip('/')}_rel_{uuid.uuid4().hex[:8]}"
        _admin(pg, f'CREATE DATABASE "{name}" TEMPLATE "{template.cleanup[0]}"')
        db = Database(_with_db(pg, name), "postgresql", work)
    else:
        # The backup API, not a file copy: the template's last pages may sit in its WAL file.
        src = sqlite3.connect(template.workdir / "template.sqlite3")
        dst = sqlite3.connect(work / "trellis.sqlite3")
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        db = Database(f"sqlite:///{work / 'trellis.sqlite3'}", "sqlite", work)
    yield db
    if pg:
        _admin(pg, f'DROP DATABASE IF EXISTS "{urlsplit(db.url).path.lstrip("/")}" WITH (FORCE)')
    shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`trellis serve` in a child process that the test may kill -9 and start again."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        self.proc = subprocess.Popen(
            [TRELLIS, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--threads", "4"],
            env=self.db.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"trellis serve exited with {self.proc.returncode}")
            time.sleep(0.2)
        raise RuntimeError("trellis serve did not answer /healthz")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture
def server(database: Database) -> Iterator[Server]:
    srv = Server(database)
    yield srv
    srv.kill()
