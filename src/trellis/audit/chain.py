"""The audit log's hash chain and its database guards (issue 14, finding 4).

Each row carries ``prev_hash`` (the previous row's ``row_hash``; 64 zeros for the first) and
``row_hash`` = SHA-256 of ``prev_hash`` and the row's fields in a fixed, canonical form. Changing,
removing or inserting a row anywhere breaks the chain at that row; :func:`verify` walks the table
in id order and names the first broken link.

Rows are chained in the order they are inserted: :func:`lock_chain` serialises writers (on
PostgreSQL a transaction-scoped advisory lock held until commit, so two concurrent transactions
never chain to the same predecessor; SQLite's ``BEGIN IMMEDIATE`` already holds the single
writer's lock). Ids are assigned after the lock, so id order is chain order.

The database itself refuses to rewrite history: SQLite triggers abort UPDATE and DELETE;
PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE (and TRUNCATE is revoked from PUBLIC). The
one door left open is :func:`allow_purge`, used by test-database flushes only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.ipv6 import clean_ipv6_address

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "trellis audit chain" (any constant the application owns).
LOCK_KEY = 7_301_947_245_113


def row_digest(row: Any, prev_hash: str) -> str:
    """SHA-256 over ``prev_hash`` and the row's fields as they read back from either database."""
    at = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    ip = row.ip or ""
    if ":" in ip:
        ip = clean_ipv6_address(ip)
    fields = [
        prev_hash,
        at,
        row.actor_id or "",
        row.actor_username,
        row.role,
        row.program_id or "",
        str(row.patient_id) if row.patient_id else "",
        str(row.action),
        row.object_type,
        str(row.object_id),
        ip,
        row.request_id,
        row.path,
        row.detail if row.detail is not None else {},
    ]
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def lock_chain(connection: BaseDatabaseWrapper) -> None:
    """Serialise chain writers until the current transaction ends (call inside ``atomic``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


@dataclass(frozen=True)
class Broken:
    id: int
    reason: str


def verify(rows: Iterator[Any]) -> tuple[int, Broken | None]:
    """Walk ``rows`` in id order: (rows checked, first broken link or None)."""
    prev = GENESIS
    count = 0
    for row in rows:
        count += 1
        if row.prev_hash != prev:
            return count, Broken(row.id, "does not follow the previous row (removed or inserted)")
        if row_digest(row, row.prev_hash) != row.row_hash:
            return count, Broken(row.id, "its content does not match its hash (altered)")
        prev = row.row_hash
    return count, None


# --- database guards --------------------------------------------------------------------------
SQLITE_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only (UPDATE refused)'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_auditevent
WHEN trellis_audit_purge() IS NOT 1
BEGIN SELECT RAISE(ABORT, 'audit events are append-only (DELETE refused)'); END;
"""
SQLITE_DROP = """
DROP TRIGGER IF EXISTS audit_no_update;
DROP TRIGGER IF EXISTS audit_no_delete;
"""

POSTGRES_TRIGGERS = """
CREATE OR REPLACE FUNCTION trellis_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND current_setting('trellis.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditevent;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION trellis_audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION trellis_audit_append_only();
REVOKE TRUNCATE ON audit_auditevent FROM PUBLIC;
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
"""


def install_guards(connection: BaseDatabaseWrapper) -> None:
    """Create the append-only triggers (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in SQLITE_TRIGGERS.split(";\n"):
                if statement.strip():
                    cursor.execute(statement.strip().rstrip(";") + ";")
        elif connection.vendor == "postgresql":
            cursor.execute(POSTGRES_TRIGGERS)


def drop_guards(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in SQLITE_DROP.split(";\n"):
                if statement.strip():
                    cursor.execute(statement.strip().rstrip(";") + ";")
        elif connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: the function the SQLite DELETE trigger asks.

    A client without it (the ``sqlite3`` shell) gets "no such function" from the trigger, which
    aborts the DELETE just the same.
    """
    if connection.vendor != "sqlite":
        return
    wrapper = connection
    connection.connection.create_function(
        "trellis_audit_purge", 0, lambda: 1 if getattr(wrapper, "_trellis_audit_purge", 0) else 0
    )


@contextmanager
def allow_purge(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let this connection empty the audit table (test-database flushes; never the app)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL trellis.audit_purge = 'on'")
            yield
        return
    connection._trellis_audit_purge = 1  # type: ignore[attr-defined]
    try:
        yield
    finally:
        connection._trellis_audit_purge = 0  # type: ignore[attr-defined]
