"""The audit log's hash chain and `trellis audit verify` (issue 14, finding 4)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from trellis.audit.chain import GENESIS, allow_purge, drop_guards, install_guards
from trellis.audit.models import AuditEvent
from trellis.audit.services import record, verify_chain


def _some_events(n: int = 5) -> list[AuditEvent]:
    return [
        record(action="view", actor_username=f"user{i}", object_type="test", detail={"i": i})
        for i in range(n)
    ]


@pytest.mark.django_db
def test_rows_are_chained_and_verify(cli: Any) -> None:
    events = _some_events()
    first = AuditEvent.objects.order_by("id").first()
    assert first is not None
    assert first.prev_hash == GENESIS
    rows = list(AuditEvent.objects.order_by("id"))
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.row_hash
    assert verify_chain() == (len(rows), None)
    result = cli("audit", "verify")
    assert (result.code, result.out.strip(), result.err) == (0, "ok", "")
    assert events


def _tamper(sql: str, params: list[Any]) -> None:
    drop_guards(connection)  # what someone with the database file could do
    with allow_purge(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)
    install_guards(connection)


@pytest.mark.django_db
def test_an_altered_row_is_the_first_broken_link(cli: Any) -> None:
    events = _some_events()
    _tamper("UPDATE audit_auditevent SET actor_username = 'mallory' WHERE id = %s", [events[2].pk])
    count, broken = verify_chain()
    assert broken is not None
    assert broken.id == events[2].pk
    assert "altered" in broken.reason
    result = cli("audit", "verify")
    assert result.code == 1
    assert str(events[2].pk) in result.out
    result = cli("audit", "verify", "--format", "json")
    assert f'"broken_at": {events[2].pk}' in result.out


@pytest.mark.django_db
def test_a_removed_row_breaks_the_chain_at_the_next_one() -> None:
    events = _some_events()
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    _count, broken = verify_chain()
    assert broken is not None
    assert broken.id == events[2].pk
    assert "removed" in broken.reason


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
def test_concurrent_writers_keep_one_chain() -> None:
    # Without the chain lock two transactions read the same last hash and fork the chain.
    from django.db import transaction

    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(15):
                with transaction.atomic():
                    record(action="view", actor_username=f"w{n}", detail={"i": i})
                    # a little work in the same transaction, as a service does
                    AuditEvent.objects.count()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    count, broken = verify_chain()
    assert broken is None
    assert count >= 90
