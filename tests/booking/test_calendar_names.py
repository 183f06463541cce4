"""The plan's calendar names each patient with the date of birth (issue 13 §4: two patients
who share a name could not be told apart)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.booking.test_views import planned  # noqa: F401  (fixture)
from tests.support import Cast, sign_in


@pytest.mark.django_db
def test_calendar_cells_carry_the_date_of_birth(client, cast: Cast, planned: dict) -> None:  # noqa: F811
    sign_in(client, cast.coordinator_a)
    html = client.get(reverse("booking:proposal", args=[planned["proposal"].pk])).content.decode()
    cells = html.split('class="plain slots"')[1:]
    assert cells
    assert all("Robin Example (born 1985-04-12)" in cell.split("</ul>", 1)[0] for cell in cells)
