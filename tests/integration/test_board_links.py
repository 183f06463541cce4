"""Every link on the integration board opens for the person who sees it (issue 13 §4).

The board is shown to therapists, prescribers, coordinators and admins, but only therapists and
prescribers write integration notes: a "Write note" link shown to the others led to a 404.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from tests.integration.test_views import dosed
from tests.support import Cast, sign_in

from trellis.accounts.models import Role
from trellis.accounts.services import create_staff


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.THERAPIST, Role.PRESCRIBER, Role.COORDINATOR, Role.ADMIN])
def test_no_dead_link_on_the_integration_board(client: Any, cast: Cast, role: str) -> None:
    dosed(cast)
    user = create_staff(
        username=f"board-{role}",
        password="correct horse battery",
        program=cast.program_a,
        roles=[role],
    )
    sign_in(client, user)
    html = client.get(reverse("integration:board")).content.decode()
    assert "Robin Example" in html
    links = set(re.findall(r'href="(/(?:integration|patients)/[^"#?]+)', html))
    assert links, "the board links to the patients' records"
    dead = [url for url in sorted(links) if client.get(url).status_code >= 400]
    assert dead == [], f"dead links for a {role}: {dead}"
    if role in (Role.THERAPIST, Role.PRESCRIBER):
        assert "Write note" in html
