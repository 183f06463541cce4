"""Booking respects the Spravato REMS setting rule and keeps the care plan's status in step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.booking.clinic import NOW, START, make_clinic, open_course, second_patient
from tests.support import Cast

from trellis.booking import services
from trellis.care.models import CareActivity
from trellis.core.scheduling import parse_instance


@pytest.mark.django_db
def test_uncertified_setting_cannot_book_esketamine(cast: Cast) -> None:
    from trellis.accounts.models import Role
    from trellis.accounts.services import create_staff
    from trellis.dosing import services as dosing

    make_clinic(cast)
    esk = open_course(cast, cast.patient_a, track="esketamine-trd")
    iv = open_course(cast, second_patient(cast), track="iv-trd")
    built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
    ids = {p.id for p in parse_instance(built.instance).patients}
    assert ids == {f"e{iv.pk.hex}"}  # the esketamine course waits for certification
    prescriber = create_staff(
        username="pia",
        password="correct horse battery",
        program=cast.program_a,
        roles=[Role.PRESCRIBER],
    )
    dosing.record_certification(
        cast.admin_a,
        cast.program_a,
        setting_name="Main",
        authorised_representative=prescriber.get_full_name() or "Pia",
        certified_on=START - timedelta(days=30),
    )
    built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
    ids = {p.id for p in parse_instance(built.instance).patients}
    assert f"e{esk.pk.hex}" in ids


@pytest.mark.django_db
def test_booking_marks_care_activities_scheduled_and_cancel_releases(cast: Cast) -> None:
    make_clinic(cast)
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    dose = next(a for a in made if a.kind == "dose")
    activity = CareActivity.objects.get(pk=dose.care_activity_id)
    assert activity.status == CareActivity.Status.SCHEDULED
    assert activity.scheduled_at == dose.start
    services.cancel(cast.coordinator_a, dose, "Patient unwell (synthetic)", now=NOW)
    activity.refresh_from_db()
    assert activity.status == CareActivity.Status.PLANNED
    assert activity.scheduled_at is None


@pytest.mark.django_db
def test_a_suspended_certification_blocks_booking_esketamine(cast: Cast) -> None:
    """Issue 19: suspension (or expiry, revocation) of the setting's certification takes the
    esketamine course off the booking instance; reinstating puts it back."""
    from trellis.dosing import services as dosing

    make_clinic(cast)
    esk = open_course(cast, cast.patient_a, track="esketamine-trd")
    dosing.record_certification(
        cast.admin_a,
        cast.program_a,
        setting_name="Main",
        authorised_representative="Ada Admin",
        certified_on=START - timedelta(days=30),
    )

    def waiting() -> set[str]:
        built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
        return {p.id for p in parse_instance(built.instance).patients}

    assert f"e{esk.pk.hex}" in waiting()
    dosing.change_certification(
        cast.admin_a, cast.program_a, "suspend", on=START - timedelta(days=1), reason="audit"
    )
    assert f"e{esk.pk.hex}" not in waiting()
    dosing.change_certification(cast.admin_a, cast.program_a, "reinstate")
    assert f"e{esk.pk.hex}" in waiting()
    dosing.change_certification(cast.admin_a, cast.program_a, "revoke", on=START, reason="closed")
    assert f"e{esk.pk.hex}" not in waiting()


@pytest.mark.django_db
def test_a_pending_or_denied_prior_authorisation_blocks_booking_esketamine(cast: Cast) -> None:
    """Issue 19: the payer requires a prior authorisation (recorded pending or denied): the
    esketamine course is not booked and the pathway board says why; approved, it is."""
    from trellis.access import services as access
    from trellis.care import services as care
    from trellis.dosing import services as dosing

    make_clinic(cast)
    esk = open_course(cast, cast.patient_a, track="esketamine-trd")
    dosing.record_certification(
        cast.admin_a,
        cast.program_a,
        setting_name="Main",
        authorised_representative="Ada Admin",
        certified_on=START - timedelta(days=30),
    )
    today = START - timedelta(days=1)

    def waiting() -> set[str]:
        built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
        return {p.id for p in parse_instance(built.instance).patients}

    terms = {"payer": "commercial", "member_id": "X1", "today": today}
    access.record_coverage(
        cast.coordinator_a,
        cast.patient_a,
        prior_auth_status="pending",
        prior_auth_requested_on=today,
        **terms,
    )
    assert f"e{esk.pk.hex}" not in waiting()
    assert "pending" in (access.prior_auth_board_note(esk) or "")
    assert care.protocol_of(esk).drug == "esketamine"
    access.record_coverage(
        cast.coordinator_a,
        cast.patient_a,
        prior_auth_status="approved",
        prior_auth_requested_on=today,
        prior_auth_decided_on=today,
        **terms,
    )
    assert f"e{esk.pk.hex}" in waiting()
    assert access.prior_auth_board_note(esk) is None
