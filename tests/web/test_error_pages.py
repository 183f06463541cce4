"""404/403/500 pages keep the shell and a way back; a 404 never tells whether a record exists."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error
from tests.support import Cast, sign_in


def _main(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


@pytest.mark.django_db
def test_404_has_the_shell_and_the_same_words_for_missing_and_forbidden(
    client: Any, cast: Cast
) -> None:
    sign_in(client, cast.coordinator_b)
    missing = client.get(f"/patients/{uuid.uuid4()}/")
    elsewhere = client.get(f"/patients/{cast.patient_a.pk}/")  # exists, in another program
    assert missing.status_code == elsewhere.status_code == 404
    html = missing.content.decode()
    assert 'class="site-header"' in html
    assert "Sign out" in html
    assert 'href="/"' in _main(html)  # a way back
    assert "Page not found" in html
    # Same words either way, and not the view's own reason ("No such patient").
    assert _main(html) == _main(elsewhere.content.decode())
    assert "No such" not in html


@pytest.mark.django_db
def test_403_has_the_shell_and_a_way_back(client: Any, cast: Cast) -> None:
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/somewhere/")
    request.user = cast.nurse_a
    response = permission_denied(request, PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in html
    assert "Not allowed" in html
    assert 'href="/"' in _main(html)


def test_500_has_the_shell_and_a_way_back() -> None:
    response = server_error(RequestFactory().get("/x/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert 'class="site-header"' in html
    assert "Something went wrong" in html
    assert 'href="/"' in _main(html)
