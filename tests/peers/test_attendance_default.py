"""The attendance form a facilitator meets first is the latest meeting (issue 13 §4: it
defaulted to a meeting weeks old)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from tests.peers.helpers import due_patient, make_circle, today
from tests.support import Cast, sign_in

from trellis.peers import services
from trellis.peers.models import Meeting

pytestmark = pytest.mark.django_db


def test_latest_past_meeting_comes_first(client: Any, cast: Cast) -> None:
    c = make_circle(cast)
    past = list(Meeting.objects.filter(circle=c, date__lte=today()).order_by("date"))
    assert len(past) >= 2, "the helper's circle has met more than once"
    a = due_patient(cast, "Ana", "Quintero")
    services.join_circle(cast.coordinator_a, c, a, c.start_date)
    sign_in(client, cast.peer_a)
    page = client.get(reverse("peers:circle", args=[c.pk])).content.decode()
    dates = re.findall(r"Attendance on (\d{4}-\d{2}-\d{2})", page)
    assert dates[0] == past[-1].date.isoformat()
    assert dates == sorted(dates, reverse=True)
