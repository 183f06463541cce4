"""The pathway board reads each kind of data once, whatever the number of courses: twice the
courses, the same number of queries (the board, the home card's counts and the board page).

Most tests replace apps' BOARD_NOTE_PROVIDERS and FIRST_DOSE_FACT_PROVIDERS (integration: safety
plan, transport note; dosing: REMS enrolment) by providers that read nothing (a provider with no
batch twin is called once per row), so the counts are care's own; care's own provider
(requirement records) stays in the list. The last tests keep the real providers: the board calls
their batch twins once for all rows, and each twin returns what its provider does per episode.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from tests.care.conftest import START, at, no_answers
from tests.integration.helpers import PLAN
from tests.support import PATIENT_DATA, Cast, sign_in

from trellis.care import services
from trellis.integration.demo import NO_NEEDS
from trellis.patients.models import ConsentKind

# Each unit opens one course of every kind the board shows differently.
KINDS = ("unscreened", "part2", "bipolar", "dosed")


@pytest.fixture
def quiet_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        services,
        "FIRST_DOSE_FACT_PROVIDERS",
        [
            services._care_record_facts,
            lambda episode: {"safety_plan_on_file": True, "rems_enrolled": True},
        ],
    )
    monkeypatch.setattr(
        services,
        "BOARD_NOTE_PROVIDERS",
        [lambda episode: "note" if episode.protocol_id == "iv-aud" else None],
    )


@pytest.fixture
def adapted_track(cast: Cast, prescriber_a: Any) -> str:
    """The program's copy of iv-trd, enabled, at version 1.1.0 (courses start on 1.1.0 and
    then the copy moves on to 1.2.0: the board must read the revision a course started on)."""
    row = services.copy_protocol(prescriber_a, cast.program_a, "iv-trd")
    text = row.yaml_text.replace("  count: 2\n  minutes: 60", "  count: 3\n  minutes: 60", 1)
    text = text.replace('version: "1.0.0"', 'version: "1.1.0"', 1)
    services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, text)
    services.set_protocol_enabled(prescriber_a, cast.program_a, row.protocol_id, True)
    return row.protocol_id


def _later_version(cast: Cast, prescriber: Any, track: str) -> None:
    row = services.get_copy(prescriber, cast.program_a, track)
    text = row.yaml_text.replace("  count: 3\n  minutes: 60", "  count: 4\n  minutes: 60", 1)
    text = text.replace('version: "1.1.0"', 'version: "1.2.0"', 1)
    services.save_protocol_copy(prescriber, cast.program_a, track, text)


def _patient(cast: Cast, n: int) -> Any:
    from trellis.patients.services import register_patient

    data = {**PATIENT_DATA, "given_name": f"Pat{n}", "family_name": f"Board{n:03d}"}
    if n % 2:
        data["preferred_language"] = "es"
    return register_patient(cast.admin_a, cast.program_a, data)


def _course(
    cast: Cast, n: int, kind: str, track: str, *, gap: bool, plan: dict[str, Any] | None = None
) -> Any:
    """A course of ``kind``; ``plan``: the patient's safety plan, saved first (the real safety
    plan provider holds dose 1 without a complete one)."""
    from trellis.patients.services import add_consent

    patient = _patient(cast, n)
    if plan is not None:
        from trellis.integration.services import save_safety_plan

        save_safety_plan(cast.therapist_a, patient, plan)
    protocol_id = {
        "part2": "iv-aud",
        "bipolar": "iv-bipolar",
        "dosed": track,
        "esketamine": "esketamine-trd",
    }.get(kind, "iv-ptsd")
    episode = services.start_episode(
        cast.coordinator_a,
        patient,
        protocol_id=protocol_id,
        referred_on=START - timedelta(days=1),
        start_date=START,
        primary_therapist=cast.therapist_a if n % 3 else None,
    )
    if kind == "unscreened":
        return episode
    answers = no_answers("iv-trd" if kind == "dosed" else protocol_id)  # the copy's items
    services.record_screening(cast.coordinator_a, episode, answers, at=at(START), today=START)
    services.record_event(cast.therapist_a, episode, "preparation_done", at=at(START, 11), index=1)
    if kind == "part2":
        add_consent(cast.nurse_a, patient, kind=ConsentKind.PART2, given_on=START)
    elif kind == "bipolar":
        services.document_requirement(
            cast.nurse_a, episode, "mood_stabiliser_documented", "lithium 900 mg nightly"
        )
    elif kind == "dosed":
        for k in range(2, services.protocol_of(episode).preparation.count + 1):
            services.record_event(
                cast.therapist_a, episode, "preparation_done", at=at(START, 11 + k), index=k
            )
        dosed = START + timedelta(days=4)
        services.record_event(cast.nurse_a, episode, "dose_given", at=at(dosed, 9), index=1)
        if not gap:
            services.record_event(
                cast.therapist_a, episode, "integration_done", at=at(dosed, 15), index=1
            )
    return episode


def _add_units(cast: Cast, units: int, track: str, *, gap: bool = True) -> None:
    start = services.active_episodes(cast.coordinator_a, cast.program_a).count()
    for u in range(units):
        for i, kind in enumerate(KINDS):
            _course(cast, start + u * len(KINDS) + i, kind, track, gap=gap)


def _queries(call: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return len(ctx.captured_queries), result


def _board_queries(cast: Cast) -> tuple[int, int, list[services.BoardRow]]:
    now = timezone.now()
    board, rows = _queries(lambda: services.pathway_board(cast.coordinator_a, cast.program_a))
    counts, card = _queries(lambda: services.board_counts(cast.coordinator_a, cast.program_a, now))
    assert card.active == len(rows)
    assert card.gaps == sum(len(r.gaps) for r in rows)
    assert card.overdue == sum(len(r.overdue) for r in rows)
    return board, counts, rows


def _check_rows_match_the_one_course_functions(rows: list[services.BoardRow]) -> None:
    now = timezone.now()
    for row in rows:
        episode = row.episode
        assert row.protocol == services.protocol_of(episode)
        assert row.gaps == services.adherence(episode, now).gaps
        expected = (
            services.first_dose_blockers(episode)
            if episode.phase in services.BEFORE_FIRST_DOSE
            else []
        )
        assert row.blockers == expected
        today = timezone.localdate()
        assert row.next_activity == services.next_activity(episode, today)
        assert sorted(a.pk for a in row.overdue) == sorted(
            a.pk for a in services.overdue_activities(episode, today)
        )


@pytest.mark.django_db
def test_board_query_count_does_not_grow_with_courses(
    cast: Cast, prescriber_a: Any, adapted_track: str, quiet_providers: None
) -> None:
    _add_units(cast, 2, adapted_track)
    _later_version(cast, prescriber_a, adapted_track)
    board_n, counts_n, rows_n = _board_queries(cast)
    assert len(rows_n) == 2 * len(KINDS)

    _add_units(cast, 2, adapted_track)
    board_2n, counts_2n, rows_2n = _board_queries(cast)
    assert len(rows_2n) == 4 * len(KINDS)

    assert board_2n == board_n
    assert counts_2n == counts_n

    # Every kind of row is there and agrees with the one-course functions.
    assert sum(bool(r.gaps) for r in rows_2n) == 4
    # The first courses on the copy started on 1.1.0 (3 preparations), the later ones on 1.2.0.
    on_copy = {
        (str(r.protocol.version), r.protocol.preparation.count)
        for r in rows_2n
        if r.protocol.id == adapted_track
    }
    assert on_copy == {("1.1.0", 3), ("1.2.0", 4)}
    assert any(r.blockers == ["screening: not yet recorded"] for r in rows_2n)
    assert sum(r.notes == ["note"] for r in rows_2n) == 4
    _check_rows_match_the_one_course_functions(rows_2n)


@pytest.mark.django_db
def test_board_page_query_count_does_not_grow_with_courses(
    client: Any, cast: Cast, adapted_track: str, quiet_providers: None
) -> None:
    # No closed integration window here: the page raises one alert per gap, and the alerts app
    # looks each one up (alerts.services.raise_alert), so gaps would add a query each.
    sign_in(client, cast.coordinator_a)
    url = reverse("care:board")
    _add_units(cast, 2, adapted_track, gap=False)
    client.get(url)
    page_n, response = _queries(lambda: client.get(url))
    assert response.status_code == 200
    assert response.content.decode().count("Board0") == 2 * len(KINDS)

    _add_units(cast, 2, adapted_track, gap=False)
    client.get(url)
    page_2n, response = _queries(lambda: client.get(url))
    assert response.content.decode().count("Board0") == 4 * len(KINDS)
    assert page_2n == page_n


# --- the real providers (integration: safety plan, transport note; dosing: REMS enrolment) ------

TRANSPORT_NEED = {**NO_NEEDS, "transport": "yes"}


def _hrsn(cast: Cast, patient: Any, answers: dict[str, str], days_ago: int) -> Any:
    from trellis.integration import services as integration

    return integration.record_hrsn(
        cast.coordinator_a,
        patient,
        timing="intake",
        answers=answers,
        at=timezone.now() - timedelta(days=days_ago),
    )


def _add_real_units(cast: Cast, units: int, track: str) -> None:
    """Per unit: the courses of KINDS and an esketamine course before dose 1, with safety plans
    complete, incomplete or absent, REMS enrolment or none, and social needs screenings whose
    latest found a transport need (no referral, one not yet connected, a connected one) or not."""
    from trellis.dosing import services as dosing
    from trellis.integration import services as integration

    ride = integration.ensure_resource(cast.program_a, name="Dial-a-ride", domain="transport")
    today = timezone.localdate()
    start = services.active_episodes(cast.coordinator_a, cast.program_a).count()
    for u in range(units):
        n = start + u * (len(KINDS) + 1)
        # Safety plans: complete (part2, dosed, esketamine), incomplete (bipolar), none
        # (unscreened).
        plans = {"part2": PLAN, "bipolar": {**PLAN, "help_contacts": []}, "dosed": PLAN}
        unscreened, part2, bipolar, dosed = (
            _course(cast, n + i, kind, track, gap=True, plan=plans.get(kind))
            for i, kind in enumerate(KINDS)
        )
        esketamine = _course(cast, n + len(KINDS), "esketamine", track, gap=True, plan=PLAN)
        # REMS: every other unit's esketamine patient is enrolled.
        if u % 2 == 0:
            dosing.enrol_patient(
                cast.nurse_a,
                esketamine.patient,
                rems_patient_id=f"SYN{n:05d}",
                enrolled_on=today - timedelta(days=5),
            )
        # Social needs: unmet (part2; unscreened, referred but not connected), met (bipolar),
        # an older need then a newer screening without one (dosed), none (esketamine).
        _hrsn(cast, part2.patient, TRANSPORT_NEED, 1)
        referred = _hrsn(cast, unscreened.patient, TRANSPORT_NEED, 1)
        integration.add_referral(
            cast.coordinator_a, referred, resource_id=ride.pk, follow_up_on=today
        )
        met = _hrsn(cast, bipolar.patient, TRANSPORT_NEED, 1)
        referral = integration.add_referral(
            cast.coordinator_a, met, resource_id=ride.pk, follow_up_on=today
        )
        integration.follow_up_referral(cast.nurse_a, referral.pk, status="connected")
        _hrsn(cast, dosed.patient, TRANSPORT_NEED, 3)
        _hrsn(cast, dosed.patient, NO_NEEDS, 1)


def _real_pairs() -> dict[str, tuple[Any, Any]]:
    """The registered (provider, batch twin) pairs by name; each provider is in its list."""
    from trellis.dosing import services as dosing
    from trellis.integration import services as integration

    facts = {
        "care.requirement_records": services._care_record_facts,
        "integration.safety_plan": integration.first_dose_fact,
        "dosing.rems": dosing.rems_fact,
    }
    pairs = {
        name: (provider, services.FIRST_DOSE_FACT_BATCH_PROVIDERS[provider])
        for name, provider in facts.items()
    }
    note = integration.transport_board_note
    pairs["integration.transport_note"] = (note, services.BOARD_NOTE_BATCH_PROVIDERS[note])
    for name, (provider, _batch) in pairs.items():
        registry = (
            services.BOARD_NOTE_PROVIDERS
            if name.endswith("_note")
            else services.FIRST_DOSE_FACT_PROVIDERS
        )
        assert provider in registry, name
    return pairs


@pytest.mark.django_db
def test_board_query_count_with_the_real_providers_does_not_grow(
    cast: Cast, adapted_track: str
) -> None:
    _real_pairs()
    _add_real_units(cast, 2, adapted_track)
    board_n, _counts, rows_n = _board_queries(cast)
    assert len(rows_n) == 2 * (len(KINDS) + 1)

    _add_real_units(cast, 2, adapted_track)
    board_2n, _counts, rows_2n = _board_queries(cast)
    assert len(rows_2n) == 4 * (len(KINDS) + 1)
    assert board_2n == board_n

    _check_rows_match_the_one_course_functions(rows_2n)
    for row in rows_2n:
        assert row.notes == [
            n for provider in services.BOARD_NOTE_PROVIDERS if (n := provider(row.episode))
        ]
    # The providers' facts show: transport notes on the unmet rows only (no referral, or one not
    # yet connected); the safety plan and REMS blockers on the rows without them.
    assert sum(bool(r.notes) for r in rows_2n) == 8
    blocked_by = [b for r in rows_2n for b in r.blockers]
    assert any("safety plan" in b for b in blocked_by)
    assert any("REMS" in b for b in blocked_by)
    esketamine = [r for r in rows_2n if r.protocol.id == "esketamine-trd"]
    assert len({tuple(r.blockers) for r in esketamine}) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "care.requirement_records",
        "integration.safety_plan",
        "dosing.rems",
        "integration.transport_note",
    ],
)
def test_each_batch_twin_returns_what_its_provider_does(
    cast: Cast, adapted_track: str, name: str
) -> None:
    provider, batch = _real_pairs()[name]
    _add_real_units(cast, 2, adapted_track)
    episodes = list(services.active_episodes(cast.coordinator_a, cast.program_a))
    with CaptureQueriesContext(connection) as ctx:
        batched = batch(episodes)
    assert len(ctx.captured_queries) <= 2
    assert batched == {e.pk: provider(e) for e in episodes}
    # Not one answer for all: the courses were set up to differ in what each provider reads.
    assert len({repr(value) for value in batched.values()}) > 1
