"""Synthetic dosing records for the demo.

Stage 20: the demo program's Spravato REMS certification and the enrolment of every patient on
an esketamine track (so that their first dose is not blocked). Stage 35: a signed session record
(pre-dose check, vitals, a few adverse events, discharge, REMS form) for every dose the care
seeder recorded at stage 30, and one or two sessions in progress now, so the live board is alive.
Every seeder is idempotent.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from trellis.care import services as care
from trellis.core.errors import Conflict, InvalidInput
from trellis.dosing import services
from trellis.dosing.models import Status
from trellis.web.demo import DemoContext, demo_seeder

LOTS = ["EK24A117", "EK24B302", "EK25A009", "KT24-5531", "KT25-0142"]


@demo_seeder(stage=20)
def certify_and_enrol(ctx: DemoContext) -> None:
    admin = ctx.staff["ada.admin"]
    coordinator = ctx.staff["cora.coordinator"]
    if not services.setting_certified(ctx.program):
        services.record_certification(
            admin,
            ctx.program,
            setting_name="Riverbend Clinic (synthetic)",
            authorised_representative="Ada Okafor (synthetic)",
            certified_on=ctx.today - timedelta(days=400),
            certification_id="SYN-REMS-0001",
            expires_on=ctx.today + timedelta(days=330),
        )
        ctx.created["REMS certifications"] = 1
    enrolled = 0
    for n, patient in enumerate(ctx.patients):
        episode = care.episodes_of(coordinator, patient).first()
        if episode is None or not episode.protocol_id.startswith("esketamine"):
            continue
        if services.enrolment_of(coordinator, patient) is None:
            services.enrol_patient(
                coordinator,
                patient,
                rems_patient_id=f"SYN{4100 + n:05d}",
                enrolled_on=min(episode.referred_on, ctx.today),
            )
            enrolled += 1
    if enrolled:
        ctx.created["REMS enrolments"] = enrolled


def _predose(rng: random.Random, session: Any, track: Any, start: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "identity_confirmed": True,
        "screening_changes_reviewed": True,
        "concomitant_medicines_reviewed": True,
        "concomitant_medicines": ["benzodiazepines"] if rng.random() < 0.15 else [],
        "phq9_item9": 0,
        "systolic": rng.randint(112, 136),
        "diastolic": rng.randint(68, 86),
        "heart_rate": rng.randint(62, 88),
        "spo2": rng.randint(96, 99),
        "ride_home_confirmed": True,
        "no_driving_advice_given": True,
    }
    if track.asks_pregnancy:
        values["pregnancy_status"] = "not_applicable"
    if track.needs_fasting:
        values["planned_start"] = start.isoformat()
        values["last_food"] = (start - timedelta(hours=3)).isoformat()
        values["last_liquids"] = (start - timedelta(minutes=60)).isoformat()
    if track.needs_weight:
        values["weight_kg"] = float(rng.randint(58, 96))
    return values


def _observe(
    nurse: Any,
    session: Any,
    at: datetime,
    pre: dict[str, Any],
    rise: int,
    shared_alert: bool = True,
    **kw: Any,
) -> None:
    values = {
        "systolic": pre["systolic"] + rise,
        "diastolic": pre["diastolic"] + rise // 2,
        "heart_rate": pre["heart_rate"] + rise // 3,
        "spo2": 97,
        **kw,
    }
    services.record_observation(nurse, session, at=at, values=values, shared_alert=shared_alert)


def _open_session(
    ctx: DemoContext, episode: Any, start: datetime, chair: Any, dose_event: Any = None
) -> Any:
    rng = random.Random(f"{episode.pk}:{start.date()}")
    spanish = episode.patient.preferred_language == "es"
    nurse = ctx.staff["nuria.nurse" if spanish else "noah.nurse"]
    prescriber = ctx.staff["priya.prescriber"]
    session = services.start_session(nurse, episode, chair=chair, dose_event=dose_event)
    track = services.track_requirements(session)
    pre = _predose(rng, session, track, start)
    services.record_predose(nurse, session, pre, now=start - timedelta(minutes=12))
    services.sign_off_predose(prescriber, session)
    requested = None
    if session.drug == "esketamine" and session.dose_index > 1:
        requested = 84.0 if rng.random() < 0.5 else 56.0
    services.start_dose(
        nurse,
        session,
        lot_number=rng.choice(LOTS[:3] if session.drug == "esketamine" else LOTS[3:]),
        started_at=start,
        requested_mg=requested,
    )
    # Each further device recorded as given, 5 min apart (Spravato label, CLINICAL.md §4).
    for n in range(1, session.devices or 0):
        if start + timedelta(minutes=5 * n) <= timezone.now():
            services.record_device(nurse, session, at=start + timedelta(minutes=5 * n))
    return session, nurse, pre, rng


def _past_session(
    ctx: DemoContext, episode: Any, event: Any, chair: Any, k: int, *, sign: bool = True
) -> Any:
    start = event.at
    session, nurse, pre, rng = _open_session(ctx, episode, start, chair, dose_event=event)
    m = timedelta(minutes=1)
    if session.drug == "esketamine":
        plan = [
            (15, 6, 4, "mild"),
            (40, 12, 4, "mild"),
            (60, 8, 5, "none"),
            (90, 4, 5, "none"),
            (120, 2, 5, "none"),
        ]
        end = start + 125 * m
    else:
        services.end_administration(nurse, session, at=start + 40 * m)
        plan = [
            (10, 6, 5, "mild"),
            (20, 10, 4, "moderate"),
            (30, 12, 4, "mild"),
            (40, 10, 5, "mild"),
            (55, 6, 5, "none"),
            (70, 4, 5, "none"),
            (85, 2, 5, "none"),
            (100, 0, 5, "none"),
        ]
        end = start + 105 * m
    spike = k % 7 == 3  # now and then a BP spike at 40 min, resolved by the end
    for minute, rise, moaas, dissociation in plan:
        extra = 70 if spike and minute == 40 else 0
        _observe(
            nurse,
            session,
            start + minute * m,
            pre,
            rise + extra,
            shared_alert=False,  # back-charted: the patient went home long ago
            moaas=moaas,
            dissociation=dissociation,
        )
    if k % 4 == 1:
        services.record_adverse_event(
            nurse,
            session,
            at=start + 25 * m,
            description="Nausea (synthetic)",
            severity="mild",
            action_taken="Ondansetron 4 mg ODT",
            outcome="Resolved within 30 min",
            resolved=True,
        )
    if spike:
        services.record_adverse_event(
            nurse,
            session,
            at=start + 40 * m,
            description="Transient hypertension (synthetic)",
            severity="moderate",
            action_taken="Prescriber informed; repeat BP in 10 min",
            outcome="BP back within 20 % of baseline by 90 min",
            resolved=True,
        )
    services.record_checks(
        nurse,
        session,
        {
            "sedation": True,
            "sedation_resolved": True,
            "dissociation": True,
            "dissociation_resolved": True,
            "respiratory_depression": False,
            "respiratory_depression_resolved": None,
        },
        at=end - 5 * m,
    )
    services.discharge(
        nurse,
        session,
        released_to=rng.choice(["Partner", "Sister", "Friend", "Ride service driver"])
        + " (synthetic)",
        instructions_given=True,
        language=episode.patient.preferred_language,
        at=end,
    )
    if sign:
        services.sign_session(nurse, session)
    return session


@demo_seeder(stage=35)
def record_sessions(ctx: DemoContext) -> None:
    coordinator = ctx.staff["cora.coordinator"]
    chairs = list(services.dosing_chairs(ctx.program))
    made = 0
    esketamine_past: list[Any] = []
    to_record = []
    for patient in ctx.patients:
        episode = care.episodes_of(coordinator, patient).first()
        if episode is None:
            continue
        for k, event in enumerate(care.events_of(episode).filter(kind="dose_given").order_by("at")):
            if event.index is None or services.session_exists(episode, event.index):
                continue
            to_record.append((episode, k, event))
    # The newest IV ketamine record is left discharged but not signed: the prescriber's and the
    # nurse's home pages show a record waiting for its signature.
    ketamine = [t for t in to_record if care.protocol_of(t[0]).drug == "ketamine"]
    unsigned = max(ketamine, key=lambda t: t[2].at)[2].pk if ketamine else None
    for episode, k, event in to_record:
        session = _past_session(
            ctx,
            episode,
            event,
            chairs[(made + k) % len(chairs)],
            made + k,
            sign=event.pk != unsigned,
        )
        made += 1
        if session.drug == "esketamine":
            esketamine_past.append(session)
    # REMS forms: submitted, except one overdue and the recent ones (still due).
    overdue_kept = False
    # Newest first: the overdue one is the most recent form past its 7 days.
    for session in sorted(esketamine_past, key=lambda s: s.started_at, reverse=True):
        age = (ctx.today - timezone.localtime(session.started_at).date()).days
        if age > 7 and not overdue_kept:
            overdue_kept = True
            continue
        if age > 3:
            services.mark_rems_submitted(ctx.staff["noah.nurse"], session)
    if made:
        ctx.created["dosing sessions"] = made
    made_now = _sessions_in_progress(ctx, chairs)
    if made_now:
        ctx.created["sessions in chairs now"] = made_now
        if _waiting_for_sign_off(ctx, chairs):
            ctx.created["pre-dose checks waiting for sign-off"] = 1


def _waiting_for_sign_off(ctx: DemoContext, chairs: list[Any]) -> bool:
    """One more patient in a chair now, pre-dose check recorded, waiting for the prescriber's
    sign-off (the prescriber's home page shows it; the nurse's shows who waits)."""
    coordinator = ctx.staff["cora.coordinator"]
    taken = {
        s.chair_id
        for s in services.sessions_of_day(coordinator, ctx.program, timezone.now())
        if s.in_chair
    }
    free = [c for c in chairs if c.pk not in taken]
    if not free:
        return False
    for patient in reversed(ctx.patients):
        episode = services.episode_for_new_session(coordinator, patient)
        if episode is None or episode.phase != "dosing":
            continue
        spanish = patient.preferred_language == "es"
        nurse = ctx.staff["nuria.nurse" if spanish else "noah.nurse"]
        start = timezone.now() + timedelta(minutes=10)
        try:
            with transaction.atomic():
                session = services.start_session(nurse, episode, chair=free[0])
                track = services.track_requirements(session)
                rng = random.Random(f"{episode.pk}:waiting")
                pre = _predose(rng, session, track, start)
                services.record_predose(nurse, session, pre, now=start - timedelta(minutes=12))
                missing = [m.item for m in services.predose_missing(session)]
                if missing != ["prescriber_sign_off"]:
                    raise Conflict("not only the sign-off missing")
        except (InvalidInput, Conflict):
            continue
        return True
    return False


def _sessions_in_progress(ctx: DemoContext, chairs: list[Any]) -> int:
    """One esketamine and one IV session under way now (skipped if the course refuses a dose
    today, e.g. too soon after the last one)."""
    coordinator = ctx.staff["cora.coordinator"]
    now = timezone.now()
    if services.in_chair_count(coordinator, ctx.program):
        return 0
    wanted = {"esketamine": 50, "ketamine": 25}  # minutes since the first administration
    free = list(chairs)
    made = 0
    for patient in ctx.patients:
        if not wanted or not free:
            break
        episode = services.episode_for_new_session(coordinator, patient)
        if episode is None:
            continue
        drug = care.protocol_of(episode).drug
        if drug not in wanted:
            continue
        if services.next_dose_index(episode) == 1 and care.first_dose_blockers(episode):
            continue
        start = now - timedelta(minutes=wanted[drug])
        if episode.phase != "dosing":
            continue
        m = timedelta(minutes=1)
        try:
            with transaction.atomic():  # a refused dose leaves nothing behind
                session, nurse, pre, _rng = _open_session(ctx, episode, start, free[0])
                if drug == "esketamine":
                    _observe(
                        nurse, session, start + 15 * m, pre, 8, moaas=4, dissociation="moderate"
                    )
                    # The 40-minute BP is out of range: the board shows the alert and threshold.
                    _observe(nurse, session, start + 40 * m, pre, 70, moaas=4, dissociation="mild")
                else:
                    _observe(nurse, session, start + 10 * m, pre, 6, moaas=5, dissociation="mild")
                    _observe(
                        nurse, session, start + 20 * m, pre, 10, moaas=4, dissociation="moderate"
                    )
        except (InvalidInput, Conflict):
            continue
        assert session.status in (Status.DOSING, Status.MONITORING, Status.READY)
        del wanted[drug]
        free.pop(0)
        made += 1
    return made
