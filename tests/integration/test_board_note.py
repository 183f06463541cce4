"""An unmet transport need shows on the pathway board next to the patient's next dose."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from tests.support import sign_in

from trellis.web.demo import seed_demo


@pytest.mark.django_db
def test_unmet_transport_on_the_pathway_board(client: Any) -> None:
    from trellis.accounts.models import User

    seed_demo()
    sign_in(client, User.objects.get(username="cora.coordinator"))
    body = client.get(reverse("care:board")).content.decode()
    assert "Transport need not met" in body
