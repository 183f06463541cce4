"""Urgent bars: up to two shown one by one; more collapse to a count with a link (issue 13 §4:
they stacked to 200 px)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support import Cast, sign_in

from trellis.alerts.services import raise_alert


def _urgent(cast: Cast, n: int) -> None:
    raise_alert(
        program=cast.program_a,
        kind="suicide_risk",
        severity="urgent",
        title=f"Suicide risk: PHQ-9 item 9 = {n}",
        dedupe_key=f"banner-{n}",
        patient=cast.patient_a,
    )


@pytest.mark.django_db
def test_two_bars_then_one_count(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    _urgent(cast, 1)
    _urgent(cast, 2)
    html = client.get("/").content.decode()
    assert html.count('class="urgent-alert"') == 2
    _urgent(cast, 3)
    html = client.get("/").content.decode()
    assert html.count('class="urgent-alert"') == 1
    assert "3 urgent alerts are open" in html
    bar = html.split('class="urgent-alert"', 1)[1].split("</div>", 1)[0]
    assert 'href="/alerts/"' in bar
