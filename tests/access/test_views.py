"""Access pages: specific errors beside the field, 404 across programs, roles, htmx, Spanish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.access import services
from trellis.access.models import Coverage, FeeAssessment, FeeSchedule, PriceList


def fee_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "year": "2026",
        "region": "contiguous",
        "household_size": "3",
        "annual_income": "27320",
        "document_kind": "pay_stubs",
        "document_note": "",
        "document_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
    }
    data.update(overrides)
    return data


def field_errors(body: str, field: str) -> str:
    """The text of the error list rendered for ``field`` (empty if none)."""
    marker = f'id="id_{field}_errors"'
    if marker not in body:
        return ""
    start = body.index(marker)
    return body[start : body.index("</ul>", start)]


@pytest.mark.django_db
def test_coordinator_assesses_and_sees_result_and_history(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("access:fee", args=[cast.patient_a.pk])
    response = client.post(url, fee_post())
    assert response.status_code == 302
    body = client.get(url).content.decode()
    assert 'data-testid="fee-class">A<' in body
    assert "$20.00" in body
    assert FeeAssessment.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        (
            {"region": "alaska", "household_size": "2"},
            "household_size",
            "only known for a household of 1",
        ),
        ({"year": "1999"}, "year", "valid choice"),
        ({"household_size": "0"}, "household_size", "from 1 to 20"),
        ({"annual_income": "-1"}, "annual_income", "cannot be negative"),
        ({"document_kind": "other"}, "document_note", "which document"),
        (
            {"document_date": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "document_date",
            "future",
        ),
    ],
)
def test_fee_form_errors_are_specific_and_beside_the_field(
    client: Any, cast: Cast, overrides: dict[str, str], field: str, text: str
) -> None:
    sign_in(client, cast.coordinator_a)
    response = client.post(reverse("access:fee", args=[cast.patient_a.pk]), fee_post(**overrides))
    assert response.status_code == 400
    assert text in field_errors(response.content.decode(), field)
    assert not FeeAssessment.objects.exists()


@pytest.mark.django_db
def test_nurse_sees_history_but_no_form_and_cannot_post(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    url = reverse("access:fee", args=[cast.patient_a.pk])
    body = client.get(url).content.decode()
    assert "History" in body
    assert 'name="annual_income"' not in body
    assert client.post(url, fee_post()).status_code == 403
    assert not FeeAssessment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["fee", "coverage", "cost", "cost_print"])
def test_other_programs_coordinator_gets_404(client: Any, cast: Cast, name: str) -> None:
    sign_in(client, cast.coordinator_b)
    url = reverse(f"access:{name}", args=[cast.patient_a.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, fee_post()).status_code == 404
    # Their own patient opens.
    own = reverse(f"access:{name}", args=[cast.patient_b.pk])
    assert client.get(own, {"protocol": "iv-trd"}).status_code == 200


@pytest.mark.django_db
def test_schedule_editor_refuses_hrsa_violation_beside_the_field(client: Any, cast: Cast) -> None:
    sign_in(client, cast.admin_a)
    url = reverse("access:schedule")
    body = client.get(url).content.decode()
    assert 'value="F"' in body  # the default schedule's classes are pre-filled
    data = services.schedule_to_data(services.current_schedule(cast.program_a).schedule)
    post: dict[str, Any] = {"name": "Our schedule", "criteria": ["income", "household_size"]}
    for i, c in enumerate(data["classes"]):
        post[f"label_{i}"] = c["label"]
        post[f"max_percent_{i}"] = c["max_percent"] or ""
        post[f"discount_{i}"] = c["discount_percent"]
        post[f"nominal_fee_{i}"] = c["nominal_fee"] or ""
    post["discount_5"] = "10"  # class F (> 200 %) with a discount
    response = client.post(url, post)
    assert response.status_code == 400
    errors = field_errors(response.content.decode(), "discount_5")
    assert "hrsa_no_discount_above_200" in errors
    assert not FeeSchedule.objects.exists()
    post["discount_5"] = "0"
    post["criteria"] = ["income", "household_size", "assets"]
    response = client.post(url, post)
    assert "hrsa_criteria" in field_errors(response.content.decode(), "criteria")
    post["criteria"] = ["income", "household_size"]
    assert client.post(url, post).status_code == 302
    assert services.current_schedule(cast.program_a).version == 1


@pytest.mark.django_db
def test_schedule_and_prices_are_for_admins(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    assert client.get(reverse("access:schedule")).status_code == 403
    assert client.get(reverse("access:prices")).status_code == 403


@pytest.mark.django_db
def test_price_editor(client: Any, cast: Cast) -> None:
    sign_in(client, cast.admin_a)
    url = reverse("access:prices")
    prices = {item: str(v) for item, v in services.current_prices(cast.program_a).prices.items()}
    response = client.post(url, {**prices, "ketamine_iv": "-5"})
    assert response.status_code == 400
    assert "cannot be negative" in field_errors(response.content.decode(), "ketamine_iv")
    assert not PriceList.objects.exists()
    assert client.post(url, {**prices, "ketamine_iv": "475"}).status_code == 302
    assert str(services.current_prices(cast.program_a).prices["ketamine_iv"]) == "475.00"


@pytest.mark.django_db
def test_coverage_form_errors_and_checklist(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("access:coverage", args=[cast.patient_a.pk])
    body = client.get(url).content.decode()
    assert "Spravato REMS" in body
    post = {"payer": "uninsured", "plan_name": "Something", "prior_auth_status": "not_needed"}
    response = client.post(url, post)
    assert response.status_code == 400
    assert "no plan" in field_errors(response.content.decode(), "plan_name")
    post = {"payer": "commercial", "member_id": "C-1", "prior_auth_status": "pending"}
    response = client.post(url, post)
    assert "request was sent" in field_errors(response.content.decode(), "prior_auth_requested_on")
    assert not Coverage.objects.exists()
    post["prior_auth_requested_on"] = timezone.localdate().isoformat()
    post["covered_percent"] = "80"
    assert client.post(url, post).status_code == 302
    body = client.get(url).content.decode()
    assert 'data-testid="savings"' in body  # commercial: manufacturer savings programme


@pytest.mark.django_db
def test_cost_page_full_and_htmx_fragment(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    url = reverse("access:cost", args=[cast.patient_a.pk])
    body = client.get(url).content.decode()
    assert "Choose a track" in body
    full = client.get(url, {"protocol": "iv-trd"}).content.decode()
    assert "<html" in full
    assert 'data-testid="out-of-pocket"' in full
    fragment = client.get(url, {"protocol": "esketamine-trd"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert "Esketamine dose" in fragment.content.decode()
    bad = client.get(url, {"protocol": "no-such-track"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_printable_estimate_in_the_patients_language(client: Any, cast: Cast) -> None:
    from trellis.patients.services import update_patient

    update_patient(cast.admin_a, cast.patient_a, {"preferred_language": "es"})
    sign_in(client, cast.nurse_a)
    url = reverse("access:cost_print", args=[cast.patient_a.pk])
    body = client.get(url, {"protocol": "iv-trd"}).content.decode()
    assert 'lang="es"' in body
    assert "Lo que puede costar su tratamiento" in body
    update_patient(cast.admin_a, cast.patient_a, {"preferred_language": "vi"})
    body = client.get(url, {"protocol": "iv-trd"}).content.decode()
    assert "What your course may cost" in body
    assert "interpreter" in body


@pytest.mark.django_db
def test_chart_panel_summarises_fee_and_coverage(rf: Any, cast: Cast) -> None:
    from trellis.access.chart import access_panel

    services.record_coverage(cast.coordinator_a, cast.patient_a, payer="uninsured")
    request = rf.get("/")
    request.user = cast.nurse_a
    panel = access_panel(request, cast.patient_a)
    assert panel is not None
    assert panel["context"]["coverage"].payer == "uninsured"
    assert panel["context"]["fee"] is None
    assert panel["context"]["can_edit"] is False
