"""Program scoping and role checks: nobody sees a patient of a program they have no role in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from tests.support import Cast, sign_in

# Views that are public on purpose; everything else must carry a staff_view check.
PUBLIC_PREFIXES = ("admin:", "djdt:")


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or ''}", entry


def all_views() -> list[tuple[str, Any]]:
    return list(walk(get_resolver().url_patterns))


def test_every_view_declares_its_access() -> None:
    missing = [
        name
        for name, pattern in all_views()
        if not name.startswith(PUBLIC_PREFIXES) and not hasattr(pattern.callback, "trellis_access")
    ]
    assert missing == [], f"views without staff_view/public_view: {missing}"


def placeholder(converter: Any) -> Any:
    """A value of the right type for a URL parameter that names no existing object."""
    name = type(converter).__name__
    if name == "IntConverter":
        return 999_999
    if name == "UUIDConverter":
        return uuid.uuid4()
    return "no-such-object"


def patient_data_urls(cast: Cast, *, patient_specific: bool = True) -> list[str]:
    """URLs of patient-data views, filled in with program A's patient and objects.

    ``patient_specific`` keeps only the URLs naming one patient; otherwise program-level pages
    (the patient list, registration) are included too.
    """
    from trellis.patients.models import Consent

    consent = Consent.objects.create(
        patient=cast.patient_a,
        program=cast.program_a,
        kind="treatment",
        given_on="2026-01-01",
        recorded_by=cast.admin_a,
    )
    values = {"patient_id": cast.patient_a.pk, "consent_id": consent.pk}
    urls = []
    for name, pattern in all_views():
        access = getattr(pattern.callback, "trellis_access", {})
        if not access.get("patient_data"):
            continue
        converters = pattern.pattern.converters
        if patient_specific and "patient_id" not in converters:
            continue
        kwargs = {key: values.get(key, placeholder(conv)) for key, conv in converters.items()}
        urls.append(reverse(name, kwargs=kwargs))
    return urls


@pytest.mark.django_db
def test_patient_data_views_exist(cast: Cast) -> None:
    # Guard against the walk below silently checking nothing.
    assert len(patient_data_urls(cast)) >= 4
    assert len(patient_data_urls(cast, patient_specific=False)) >= 6


@pytest.mark.django_db
def test_patient_data_views_require_sign_in(client: Any, cast: Cast) -> None:
    for url in patient_data_urls(cast, patient_specific=False):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_b", "peer_a", "analyst_a"])
def test_no_role_means_404_on_every_patient_url(client: Any, cast: Cast, who: str) -> None:
    sign_in(client, getattr(cast, who))
    for url in patient_data_urls(cast):
        assert client.post(url).status_code == 404, (who, "post", url)
        # A POST-only view may answer GET with 405, the same for every id: that reveals nothing.
        assert client.get(url).status_code in (404, 405), (who, "get", url)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["peer_a", "analyst_a"])
def test_non_clinical_roles_get_404_on_patient_lists(client: Any, cast: Cast, who: str) -> None:
    sign_in(client, getattr(cast, who))
    for url in patient_data_urls(cast, patient_specific=False):
        assert client.get(url).status_code == 404, (who, url)


@pytest.mark.django_db
def test_clinical_role_opens_chart(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    response = client.get(reverse("patients:chart", args=[cast.patient_a.pk]))
    assert response.status_code == 200
    assert "Robin Example" in response.content.decode()


@pytest.mark.django_db
def test_coordinator_b_cannot_find_a_patients_by_search(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_b)
    body = client.get(reverse("patients:list"), {"q": "Robin"}).content.decode()
    assert "Example, Robin" not in body
    body = client.get(reverse("patients:list"), {"q": ""}).content.decode()
    assert "Other, Sam" in body
    assert "Example, Robin" not in body


@pytest.mark.django_db
def test_second_factor_required_for_clinical_roles(client: Any, cast: Cast) -> None:
    client.force_login(cast.nurse_a)  # password only, no TOTP
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp")


@pytest.mark.django_db
def test_peer_facilitator_needs_the_second_factor(client: Any, cast: Cast) -> None:
    # Issue 14, finding 1: a facilitator sees circle members' names and attendance.
    client.force_login(cast.peer_a)  # password only, no TOTP
    response = client.get(reverse("peers:index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp")


def test_second_factor_follows_the_role_rights_table() -> None:
    from trellis.accounts.models import (
        CLINICAL_ROLES,
        IDENTIFIER_ROLES,
        IDENTIFYING_RIGHTS,
        ROLE_SEES,
        Role,
    )

    # Every role has an entry; a role needs the factor exactly when it sees an identifier.
    assert set(ROLE_SEES) == {r.value for r in Role}
    for role, sees in ROLE_SEES.items():
        assert (role in IDENTIFIER_ROLES) == bool(sees & IDENTIFYING_RIGHTS), role
    assert CLINICAL_ROLES <= IDENTIFIER_ROLES
    assert Role.PEER_FACILITATOR in IDENTIFIER_ROLES
    assert Role.ANALYST not in IDENTIFIER_ROLES


@pytest.mark.django_db
def test_analyst_needs_no_second_factor_and_sees_no_patients(client: Any, cast: Cast) -> None:
    client.force_login(cast.analyst_a)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    assert "Robin" not in response.content.decode()


@pytest.mark.django_db
def test_audit_log_is_for_admins_only(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    assert client.get(reverse("audit:log")).status_code == 403
    sign_in(client, cast.admin_a)
    assert client.get(reverse("audit:log")).status_code == 200
