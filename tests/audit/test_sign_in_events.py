"""Sign-in, failed sign-in and lock-out events reach the program admin's log (issue 14, #3)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from tests.support import Cast, sign_in

PASSWORD = "correct horse battery"


def _csv(client: Any, **params: str) -> list[dict[str, str]]:
    response = client.get(reverse("audit:log"), {**params, "export": "csv"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_admin_sees_sign_ins_of_own_staff_and_unknown_names_only(client: Any, cast: Cast) -> None:
    from django.test import Client

    other = Client()
    other.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})  # A staff
    other.post(reverse("accounts:login"), {"username": "bea", "password": "wrong"})  # B staff
    other.post(reverse("accounts:login"), {"username": "mallory", "password": "guess"})  # nobody
    for _ in range(3):  # the third failure locks the pair out
        other.post(reverse("accounts:login"), {"username": "cole", "password": "wrong"})
    sign_in(client, cast.admin_a)
    rows = _csv(client)
    seen = {(row["actor"], row["action"]) for row in rows}
    assert ("nora", "sign_in") in seen
    assert ("mallory", "sign_in_failed") in seen
    assert ("cole", "sign_in_failed") in seen
    assert ("cole", "locked_out") in seen
    assert not any(actor == "bea" for actor, _ in seen), [r for r in rows if r["actor"] == "bea"]
    # The page shows them too, and the filter keeps account events only.
    page = client.get(reverse("audit:log"), {"category": "account"}).content.decode()
    assert "mallory" in page
    assert "Locked out" in page
    account_rows = _csv(client, category="account")
    assert account_rows
    assert {row["action"] for row in account_rows} <= {
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "locked_out",
    }
    data_rows = _csv(client, category="data")
    assert not {row["action"] for row in data_rows} & {"sign_in", "sign_in_failed", "locked_out"}
    # Program B's admin view: B's coordinator's failure, not A's staff.
    from trellis.accounts.models import Membership, Role, User
    from trellis.audit.services import events_for_admin

    Membership.objects.create(user=cast.coordinator_b, program=cast.program_b, role=Role.ADMIN)
    b_admin = User.objects.get(pk=cast.coordinator_b.pk)  # fresh: roles are cached per object
    b_rows = events_for_admin(b_admin, cast.program_b, category="account")
    assert {e.actor_username for e in b_rows} == {"bea", "mallory"}
