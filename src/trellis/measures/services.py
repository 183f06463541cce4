"""Measures services: the only place that queries assessments, checks access and audits.

- Patients answer self-report questionnaires through check-in links
  (:func:`record_patient_answers`); clinicians enter totals of copyrighted scales
  (:func:`record_clinician_total`) and administer the C-SSRS screener (:func:`record_cssrs`).
- A suicide-risk signal (CLINICAL.md §2) raises an urgent alert in the same transaction as the
  assessment: the answers and the alert are stored together or not at all, so an alert can
  never be dropped silently.
- A new score of the track's primary instrument re-evaluates the outcomes (CLINICAL.md §3);
  a relapse warning adds the integration booster and prescriber review (once per warning
  date) and a warning alert.
- :func:`send_due_reminders` (a periodic job) sends a check-in link for each due assessment
  once, per the patient's consent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import require_roles
from trellis.alerts.services import raise_alert
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.care.models import Episode
from trellis.checkin import services as checkin
from trellis.checkin.models import CheckInLink
from trellis.core import measures_rules as rules
from trellis.core.assessment_schedule import DueAssessment
from trellis.core.errors import InvalidInput
from trellis.core.instruments import (
    ScoreResult,
    get_instrument,
    score,
    score_imported_total,
    score_total,
)
from trellis.core.outcomes import Outcome, durable_remission, evaluate_outcomes
from trellis.measures.labels import timepoint_label
from trellis.measures.models import Assessment, Reminder
from trellis.notify.jobs import periodic_job
from trellis.notify.services import message_patient
from trellis.patients.models import Patient
from trellis.patients.services import reminder_contacts

log = logging.getLogger(__name__)

# Clinician-rated totals entered in the chart (CLINICAL.md §1: item text not shipped).
CLINICIAN_TOTALS = ("madrs", "ybocs", "moaas", "cadss", "asrm")
# Item-scored questionnaires answered on the licensed paper form and entered by staff item by
# item (CLINICAL.md §1: QIDS-SR16 electronic use [verify]); item answers keep the item flags
# (QIDS-SR16 item 12, CLINICAL.md §2) that a total would hide.
CLINICIAN_ITEMS = ("qids-sr16",)
# Who may enter clinician totals, administer the C-SSRS and send links.
ENTRY_ROLES = frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST, Role.ADMIN})
# Who may send a check-in link (coordinators too: they arrange the patient's contacts).
SEND_ROLES = CLINICAL_ROLES
# Self-report instruments a patient can answer on a link (CLINICAL.md §1).
DEFAULT_INSTRUMENTS = ("phq9",)
PURPOSE = "assessments"
# Reminder text: no health details beyond "a short check-in" (the issue); plain text.
REMINDER_BODY = "Hello {name}, your care team has a short check-in for you: {url}"
REMINDER_SUBJECT = "A short check-in from your care team"


# Patient-facing names of the self-report questionnaires (translated; CLINICAL.md §1).
PATIENT_TITLES = {
    "phq9": gettext_lazy("Mood questionnaire (PHQ-9)"),
    "gad7": gettext_lazy("Anxiety questionnaire (GAD-7)"),
    "pcl5": gettext_lazy("Stress after difficult events (PCL-5)"),
}


SHORT_NAMES = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "pcl5": "PCL-5",
    "cssrs": "C-SSRS",
    "madrs": "MADRS",
    "ybocs": "Y-BOCS",
    "moaas": "MOAA/S",
    "cadss": "CADSS",
    "qids-sr16": "QIDS-SR16",
    "asrm": "ASRM",
}


def short_name(instrument: str) -> str:
    return SHORT_NAMES.get(instrument, instrument.upper())


def patient_title(instrument: str) -> str:
    return str(PATIENT_TITLES.get(instrument) or get_instrument(instrument).title)


# --- reading ------------------------------------------------------------------------------------


def visible_assessments(user: Any) -> QuerySet[Assessment]:
    return Assessment.objects.visible_to(user)


def series(user: Any, patient: Patient, instrument: str) -> list[Assessment]:
    """The patient's assessments of ``instrument`` in time order.

    ``user`` is a staff member (checked: a clinical role in the patient's program, audited) or
    None for the system (reminders, outcomes, the demo).
    """
    if user is None:
        qs = Assessment.objects.filter(program=patient.program, patient=patient)
    else:
        require_roles(user, patient.program, CLINICAL_ROLES)
        qs = Assessment.objects.visible_to(user).filter(patient=patient)
        record(
            action=Action.VIEW,
            actor=user,
            program=patient.program,
            patient_id=patient.pk,
            object_type="measures.assessment_series",
            detail={"instrument": instrument},
        )
    return list(qs.filter(instrument=instrument).order_by("taken_at", "pk"))


def assessments_of(
    user: Any, patient: Patient, *, request: HttpRequest | None = None
) -> list[Assessment]:
    """Every assessment of the patient, for the chart (checked and audited)."""
    require_roles(user, patient.program, CLINICAL_ROLES)
    rows = list(
        Assessment.objects.visible_to(user)
        .filter(patient=patient)
        .select_related("entered_by")
        .order_by("taken_at", "pk")
    )
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        object_type="measures.assessment_list",
        detail={"count": len(rows)},
    )
    return rows


def totals_by_patient(
    program: Any, instrument: str, since: dt.datetime | None = None
) -> dict[Any, list[tuple[dt.date, int]]]:
    """Every recorded total of ``instrument`` in ``program`` (one query), as (clinic date, total)
    per patient id, oldest first: what quality measures (CMS159) read. Callers check roles."""
    qs = Assessment.objects.filter(program=program, instrument=instrument, total__isnull=False)
    if since is not None:
        qs = qs.filter(taken_at__gte=since)
    out: dict[Any, list[tuple[dt.date, int]]] = {}
    for patient_id, taken_at, total in qs.order_by("taken_at").values_list(
        "patient_id", "taken_at", "total"
    ):
        if total is not None:
            out.setdefault(patient_id, []).append((timezone.localdate(taken_at), int(total)))
    return out


def patients_assessed_in(program: Any, start: dt.datetime, end: dt.datetime) -> set[Any]:
    """Ids of the program's patients with any questionnaire recorded in [start, end)."""
    qs = Assessment.objects.filter(program=program, taken_at__gte=start, taken_at__lt=end)
    return set(qs.values_list("patient_id", flat=True))


def current_episode(patient: Patient) -> Episode | None:
    """The patient's active episode (most recently referred), else their latest one."""
    # Through the patient's own relation: the caller already holds an access-checked patient
    # (or is the system acting for that patient's link).
    # (the reverse relation of care.Episode.patient)
    related: Any = patient.episodes
    episodes: list[Episode] = list(related.order_by("-referred_on", "-created_at"))
    active = [e for e in episodes if e.is_active]
    return active[0] if active else (episodes[0] if episodes else None)


def dose_times(episode: Episode) -> list[dt.datetime]:
    """Times of the doses given (care ``dose_given`` events), in order."""
    return [e.at for e in care.events_of(episode).filter(kind="dose_given").order_by("at", "pk")]


def primary_instrument(episode: Episode | None) -> str:
    if episode is None:
        return "phq9"
    try:
        return care.protocol_of(episode).primary_instrument
    except Exception:  # an unknown or broken track must not hide the scores
        log.exception("cannot resolve the protocol of episode %s", episode.pk)
        return "phq9"


def outcomes_for_episode(episode: Episode) -> Outcome:
    """Outcomes of an episode (CLINICAL.md §3) on the track's primary instrument, the first dose
    from care's ``dose_given`` events. Without a dose (or without scores) the outcome is
    ``undetermined``. The caller holds an access-checked episode (stable API: the access app's
    equity dashboard calls this)."""
    instrument = primary_instrument(episode)
    doses = dose_times(episode)
    try:
        percent = care.protocol_of(episode).response_threshold_percent
        thresholds = rules.track_thresholds(instrument, percent)
    except InvalidInput:
        instrument, thresholds = "phq9", None
    if not doses:
        return Outcome(instrument, None, None, None, None, None, None, "undetermined")
    first = timezone.localtime(doses[0]).date()
    points = [
        (timezone.localtime(a.taken_at).date(), a.total)
        for a in Assessment.objects.filter(
            program=episode.program, patient=episode.patient, instrument=instrument
        ).order_by("taken_at", "pk")
        if a.total is not None
    ]
    return evaluate_outcomes(first, points, instrument=instrument, thresholds=thresholds)


DURABLE_DAYS = 90  # CLINICAL.md §3 ★ durable remission at D = 90 days


def durable_remission_for_episode(episode: Episode, as_of: dt.date) -> bool | None:
    """Durable remission at 90 days (CLINICAL.md §3) for the equity funnel: None while it cannot
    be told yet (induction series not complete, or 90 days not passed by ``as_of``), else the
    pure rule's answer on the track's primary instrument (no assessment near day 90: None)."""
    instrument = primary_instrument(episode)
    doses = list(care.events_of(episode).filter(kind="dose_given").order_by("at", "pk"))
    try:
        protocol = care.protocol_of(episode)
        thresholds = rules.track_thresholds(instrument, protocol.response_threshold_percent)
    except InvalidInput:
        return None
    series_end = [e for e in doses if (e.index or 0) >= protocol.doses.count]
    if not doses or not series_end:
        return None
    first = timezone.localtime(doses[0].at).date()
    induction_end = timezone.localtime(series_end[0].at).date()
    if as_of < induction_end + dt.timedelta(days=DURABLE_DAYS):
        return None
    points = [
        (timezone.localtime(a.taken_at).date(), a.total)
        for a in Assessment.objects.filter(
            program=episode.program, patient=episode.patient, instrument=instrument
        ).order_by("taken_at", "pk")
        if a.total is not None and timezone.localtime(a.taken_at).date() <= as_of
    ]
    try:
        return durable_remission(
            first,
            points,
            induction_end,
            instrument=instrument,
            thresholds=thresholds,
            days=DURABLE_DAYS,
        )
    except InvalidInput:
        return None  # e.g. an instrument without a remission threshold (PCL-5)


def equity_outcomes(episode: Episode, as_of: dt.date) -> dict[str, bool | None]:
    """The access app's outcome provider: durable remission at 90 days."""
    return {"durable_remission_90d": durable_remission_for_episode(episode, as_of)}


# --- writing ------------------------------------------------------------------------------------


def _store(
    *,
    patient: Patient,
    result: ScoreResult,
    source: str,
    taken_at: dt.datetime,
    key: str,
    entered_by: Any = None,
    link: CheckInLink | None = None,
    timepoint: str = "",
    request: HttpRequest | None = None,
    audit_actor: str = "",
) -> Assessment:
    episode = current_episode(patient)
    assessment = Assessment.objects.create(
        program=patient.program,
        patient=patient,
        episode=episode,
        instrument=result.instrument,
        instrument_version=result.version,
        answers=dict(result.answers),
        total=result.total,
        band=result.band or "",
        flags=list(result.flags),
        risk=result.risk or "",
        subtotals=dict(result.subtotals),
        source=source,
        entered_by=entered_by,
        taken_at=taken_at,
        link=link,
        timepoint=timepoint,
        idempotency_key=key,
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=entered_by,
        actor_username=audit_actor or ("" if entered_by is not None else f"patient:{patient.pk}"),
        program=patient.program,
        patient_id=patient.pk,
        obj=assessment,
        detail={"instrument": result.instrument, "source": source},
    )
    if episode is not None:
        from trellis.care.services import complete_assessment_activity

        complete_assessment_activity(episode, result.instrument, taken_at)
    if rules.suicide_risk(result):
        _raise_suicide_alert(assessment)
    if rules.MANIA_FLAG in result.flags:
        _raise_mania_alert(assessment)
    if episode is not None and episode.is_active and result.total is not None:
        _check_relapse_warning(episode, result.instrument, entered_by, request)
    return assessment


def _raise_suicide_alert(assessment: Assessment) -> None:
    """Urgent alert (CLINICAL.md §2): same-day C-SSRS and clinician contact."""
    if assessment.instrument == "cssrs":
        title = f"Suicide risk: C-SSRS screener {assessment.risk}"
    else:
        # The instrument's suicide item (PHQ-9 item 9, QIDS-SR16 item 12), from its data file.
        item = rules.suicide_item(assessment.instrument) or "?"
        value = assessment.answers.get(item)
        title = f"Suicide risk: {short_name(assessment.instrument)} item {item} = {value}"
    via = "check-in link" if assessment.source == Assessment.Source.PATIENT else "clinician entry"
    raise_alert(
        program=assessment.program,
        kind="suicide_risk",
        severity="urgent",
        title=title,
        dedupe_key=f"suicide:assessment:{assessment.pk}",
        detail=(
            f"Answered {timezone.localtime(assessment.taken_at):%Y-%m-%d %H:%M} via {via}. "
            "Contact the patient today and administer the C-SSRS."
        ),
        patient=assessment.patient,
        source=assessment,
        at=assessment.created_at,
    )


def _raise_mania_alert(assessment: Assessment) -> None:
    """ASRM total >= 6 flags ``possible_mania`` (CLINICAL.md §1, Altman 1997): an urgent alert
    for a prescriber review before the next dose (bipolar track, CLINICAL.md §6); the dosing
    pre-dose check holds the dose while the alert is open."""
    raise_alert(
        program=assessment.program,
        kind=rules.MANIA_ALERT_KIND,
        severity="urgent",
        title=f"Possible mania: {short_name(assessment.instrument)} total {assessment.total}",
        dedupe_key=f"mania:assessment:{assessment.pk}",
        detail=(
            f"Rated {timezone.localtime(assessment.taken_at):%Y-%m-%d %H:%M}. A prescriber "
            "reviews the patient before the next dose; acknowledge this alert with the decision."
        ),
        patient=assessment.patient,
        source=assessment,
        at=assessment.created_at,
    )


def _check_relapse_warning(
    episode: Episode, instrument: str, actor: Any, request: HttpRequest | None
) -> None:
    """CLINICAL.md §3: a relapse warning → integration booster within 72 h and a prescriber
    review (once per warning date, care's idempotent ``on_relapse_warning``) + a warning alert."""
    if instrument != primary_instrument(episode):
        return
    outcome = outcomes_for_episode(episode)
    if outcome.relapse_warning is None:
        return
    care.on_relapse_warning(None, episode, outcome.relapse_warning, request=request)
    warned = outcome.relapse_warning.isoformat()
    raise_alert(
        program=episode.program,
        kind="relapse_warning",
        severity="warning",
        title=f"Relapse warning on {short_name(instrument)} ({warned})",
        dedupe_key=f"relapse_warning:{episode.pk}:{outcome.relapse_warning.isoformat()}",
        detail=(
            "Scores rose after response. An integration booster within 72 h "
            "and a prescriber review were added to the course, before any decision to re-dose."
        ),
        patient=episode.patient,
        source=episode,
    )


def due_items(link: CheckInLink) -> list[dict[str, str]]:
    """The questionnaires a link was sent for (its payload), each with a known instrument."""
    items = []
    for raw in (link.payload or {}).get("due", []):
        if isinstance(raw, Mapping) and isinstance(raw.get("instrument"), str):
            items.append(
                {"instrument": raw["instrument"], "timepoint": str(raw.get("timepoint", ""))}
            )
    return items


def link_key(link: CheckInLink, instrument: str, timepoint: str) -> str:
    return f"link:{link.pk}:{instrument}:{timepoint}"


def link_status(link: CheckInLink) -> list[dict[str, Any]]:
    """Each due questionnaire of the link with whether it was answered (the check-in section)."""
    keys = set(
        Assessment.objects.filter(program=link.program, link=link).values_list(
            "idempotency_key", flat=True
        )
    )
    out = []
    for item in due_items(link):
        inst = get_instrument(item["instrument"])
        out.append(
            {
                **item,
                "title": patient_title(inst.id),
                "when": timepoint_label(item["timepoint"]),
                "done": link_key(link, item["instrument"], item["timepoint"]) in keys,
            }
        )
    return out


def answered(link: CheckInLink, instrument: str, timepoint: str) -> Assessment | None:
    return Assessment.objects.filter(
        program=link.program, idempotency_key=link_key(link, instrument, timepoint)
    ).first()


def record_patient_answers(
    link: CheckInLink,
    instrument: str,
    answers: Mapping[str, Any],
    timepoint: str,
    *,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Assessment:
    """Store a patient's answers given through a check-in link, whole or not at all.

    The instrument and timepoint must be among the link's due items and patient-reportable
    (CLINICAL.md §1). Answers are scored by :func:`trellis.core.instruments.score` (InvalidInput
    naming the item). Resubmitting the same form returns the first assessment (idempotency key
    ``link:<id>:<instrument>:<timepoint>``). A suicide-risk flag raises an urgent alert in the
    same transaction.
    """
    if not any(
        d["instrument"] == instrument and d["timepoint"] == timepoint for d in due_items(link)
    ):
        raise InvalidInput("instrument", "this questionnaire is not part of this check-in")
    if not rules.patient_reportable(instrument):
        raise InvalidInput("instrument", f"{instrument} is entered by clinicians only")
    key = link_key(link, instrument, timepoint)
    existing: Assessment | None = Assessment.objects.filter(
        program=link.program, idempotency_key=key
    ).first()
    if existing is not None:
        return existing
    result = score(instrument, dict(answers))
    try:
        with transaction.atomic():
            return _store(
                patient=link.patient,
                result=result,
                source=Assessment.Source.PATIENT,
                taken_at=now or timezone.now(),
                key=key,
                link=link,
                timepoint=timepoint,
                request=request,
            )
    except IntegrityError:
        # A double submit raced us; the first one was stored whole: return it.
        return Assessment.objects.get(program=link.program, idempotency_key=key)


def record_system_answers(
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    *,
    key: str,
    audit_actor: str,
    taken_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Assessment:
    """A patient's answers received from another system (a FHIR QuestionnaireResponse).

    The same path as a check-in (:func:`record_patient_answers`): scored by
    :func:`trellis.core.instruments.score` (InvalidInput naming the item, nothing stored), stored
    with its audit row naming ``audit_actor``, and a suicide-risk flag raises the same urgent
    alert in the same transaction (CLINICAL.md §2). ``key`` makes a resubmission return the first
    assessment. The caller has checked that ``patient`` is in the system's program.
    """
    if not rules.patient_reportable(instrument):
        raise InvalidInput("instrument", f"{instrument} is entered by clinicians only")
    taken = _check_taken_at(taken_at)
    existing: Assessment | None = Assessment.objects.filter(
        program=patient.program, idempotency_key=key
    ).first()
    if existing is not None:
        return existing
    result = score(instrument, dict(answers))
    with transaction.atomic():
        return _store(
            patient=patient,
            result=result,
            source=Assessment.Source.PATIENT,
            taken_at=taken,
            key=key,
            request=request,
            audit_actor=audit_actor,
        )


def import_total(
    patient: Patient,
    instrument: str,
    total: Any,
    taken_at: dt.datetime,
    *,
    key: str,
    audit_actor: str,
) -> Assessment:
    """A past total read from an imported record (``trellis fhir import``): score history.

    Scored by :func:`trellis.core.instruments.score_imported_total` (range and band; no item
    flags can be derived from a total, CLINICAL.md §2). ``key`` makes a re-import return the
    first assessment. The caller owns the transaction (the whole import or nothing).
    """
    existing: Assessment | None = Assessment.objects.filter(
        program=patient.program, idempotency_key=key
    ).first()
    if existing is not None:
        return existing
    result = score_imported_total(instrument, total)
    return _store(
        patient=patient,
        result=result,
        source=Assessment.Source.PATIENT,
        taken_at=_check_taken_at(taken_at),
        key=key,
        audit_actor=audit_actor,
    )


def _check_taken_at(taken_at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if taken_at is None:
        return now
    if taken_at > now + dt.timedelta(minutes=5):
        raise InvalidInput("taken_at", _("The time cannot be in the future."))
    return taken_at


@transaction.atomic
def record_clinician_total(
    user: Any,
    patient: Patient,
    instrument: str,
    total: Any,
    taken_at: dt.datetime | None = None,
    *,
    request: HttpRequest | None = None,
) -> Assessment:
    """A clinician-rated total (MADRS 0-60, Y-BOCS 0-40, MOAA/S 0-5, CADSS 0-92; CLINICAL.md
    §1): range-checked by :func:`trellis.core.instruments.score_total`."""
    require_roles(user, patient.program, ENTRY_ROLES)
    if instrument not in CLINICIAN_TOTALS:
        raise InvalidInput("instrument", _("Choose one of the clinician-rated scales."))
    result = score_total(instrument, total)
    return _store(
        patient=patient,
        result=result,
        source=Assessment.Source.CLINICIAN,
        taken_at=_check_taken_at(taken_at),
        key=f"clinician:{uuid.uuid4()}",
        entered_by=user,
        request=request,
    )


@transaction.atomic
def record_clinician_items(
    user: Any,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    taken_at: dt.datetime | None = None,
    *,
    request: HttpRequest | None = None,
) -> Assessment:
    """Item answers of a paper questionnaire entered by staff (QIDS-SR16, CLINICAL.md §1),
    scored by :func:`trellis.core.instruments.score`; item 12 >= 1 raises the same urgent
    suicide-risk alert as PHQ-9 item 9 (CLINICAL.md §2), in the same transaction."""
    require_roles(user, patient.program, ENTRY_ROLES)
    if instrument not in CLINICIAN_ITEMS:
        raise InvalidInput("instrument", _("Choose a questionnaire entered item by item."))
    result = score(instrument, dict(answers))
    return _store(
        patient=patient,
        result=result,
        source=Assessment.Source.CLINICIAN,
        taken_at=_check_taken_at(taken_at),
        key=f"clinician:{uuid.uuid4()}",
        entered_by=user,
        request=request,
    )


@transaction.atomic
def record_cssrs(
    user: Any,
    patient: Patient,
    answers: Mapping[str, str],
    taken_at: dt.datetime | None = None,
    *,
    request: HttpRequest | None = None,
) -> Assessment:
    """The C-SSRS screener administered by a clinician (answers as codes; skip logic enforced
    by :func:`trellis.core.instruments.normalise_answers`); ``moderate``/``high`` risk raises an
    urgent alert (CLINICAL.md §2)."""
    require_roles(user, patient.program, ENTRY_ROLES)
    result = score("cssrs", dict(answers))
    return _store(
        patient=patient,
        result=result,
        source=Assessment.Source.CLINICIAN,
        taken_at=_check_taken_at(taken_at),
        key=f"clinician:{uuid.uuid4()}",
        entered_by=user,
        request=request,
    )


# --- schedule and links -------------------------------------------------------------------------


def _track_measures(episode: Episode) -> list[rules.TrackMeasure]:
    protocol = care.protocol_of(episode)
    return [
        rules.TrackMeasure(m.instrument, m.timepoints, m.weekly_weeks, m.monthly_months)
        for m in protocol.measures
    ]


def _planned_dose_times(episode: Episode, after: dt.datetime | None) -> list[dt.datetime]:
    """Times of the doses still planned (scheduled time, else 09:00 on the target day)."""
    out = []
    for act in (
        care.activities_of(episode)
        .filter(kind="dose", status__in=["planned", "scheduled"])
        .order_by("index")
    ):
        when = act.scheduled_at or timezone.make_aware(
            dt.datetime.combine(act.target, dt.time(9, 0)), timezone.get_current_timezone()
        )
        if after is None or when > after:
            out.append(when)
    return out


def schedule_for(episode: Episode) -> list[DueAssessment]:
    """Every due measure of the episode's track. Doses given come from care's events; doses
    still planned stand in for the future ones, so the baseline and "before each dose"
    reminders go out before the dose (a "24 h after" timepoint needs the dose given)."""
    given = dose_times(episode)
    protocol = care.protocol_of(episode)
    planned = _planned_dose_times(episode, given[-1] if given else None)
    doses = given + planned
    if not doses:
        return []
    induction = given[protocol.doses.count - 1] if len(given) >= protocol.doses.count else None
    schedule = rules.track_schedule(_track_measures(episode), doses[0], doses, induction)
    return [
        d
        for d in schedule
        if d.kind != "post_dose" or int(d.timepoint.rsplit("_", 1)[1]) <= len(given)
    ]


def open_due(episode: Episode, now: dt.datetime) -> list[DueAssessment]:
    """Due measures whose window is open now and not yet satisfied by an assessment."""
    taken = [
        (a.instrument, a.taken_at)
        for a in Assessment.objects.filter(program=episode.program, patient=episode.patient)
    ]
    return rules.open_now(schedule_for(episode), now, taken)


def _message(patient: Patient, token: str) -> tuple[str, str]:
    lang = patient.preferred_language if patient.preferred_language in ("en", "es") else "en"
    with translation.override(lang):
        body = _("Hello %(name)s, your care team has a short check-in for you: %(url)s") % {
            "name": patient.display_first_name,
            "url": checkin.link_url(token),
        }
        subject = _("A short check-in from your care team")
    return subject, body


def _send(patient: Patient, link: CheckInLink, token: str, dedupe: str) -> list[tuple[str, str]]:
    subject, body = _message(patient, token)
    return message_patient(
        program=patient.program,
        patient=patient,
        subject=subject,
        body=body,
        purpose="measures_checkin",
        dedupe=dedupe,
    )


@dataclass(frozen=True)
class SentLink:
    link: CheckInLink
    token: str
    url: str
    sent_to: list[tuple[str, str]]


@transaction.atomic
def send_checkin_now(
    user: Any, patient: Patient, *, request: HttpRequest | None = None
) -> SentLink:
    """Staff send a check-in link now: the questionnaires due (open windows), else the track's
    patient-reportable measures (the primary first). Sent by SMS/e-mail per consent; the URL is
    returned so staff can also open it on an in-clinic tablet."""
    require_roles(user, patient.program, SEND_ROLES)
    episode = current_episode(patient)
    now = timezone.now()
    items: list[dict[str, str]] = []
    schedule_ok = True
    if episode is not None:
        try:
            due = open_due(episode, now)
        except Exception as exc:  # a broken schedule must not stop staff sending a link
            log.exception("due assessments failed for episode %s", episode.pk)
            _raise_reminder_failure(episode, exc, now)
            due, schedule_ok = [], False
        for d in due:
            if rules.patient_reportable(d.instrument):
                items.append({"instrument": d.instrument, "timepoint": d.timepoint})
    if not items:
        stamp = f"clinic-{now:%Y%m%d%H%M}"
        instruments = [primary_instrument(episode)]
        if episode is not None and schedule_ok:
            instruments += [m.instrument for m in _track_measures(episode)]
        seen: list[str] = []
        for inst in instruments:
            if inst not in seen and rules.patient_reportable(inst):
                seen.append(inst)
        items = [{"instrument": i, "timepoint": stamp} for i in seen or list(DEFAULT_INSTRUMENTS)]
    link, token = checkin.issue_link(
        patient, purpose=PURPOSE, payload={"due": items}, created_by=user
    )
    sent = _send(patient, link, token, f"measures:link:{link.pk}")
    record(
        action=Action.NOTIFY,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=link,
        detail={"channels": [c for c, _a in sent], "items": len(items)},
    )
    return SentLink(link, token, checkin.link_url(token), sent)


@periodic_job("measures.send_due_reminders")
def send_due_reminders(now: dt.datetime | None = None) -> int:
    """For each active episode, send one link for the due assessments whose window is open, not
    done and not yet sent (each due item once, across runs), per consent; returns links sent."""
    now = now or timezone.now()
    count = 0
    # The system acts for every program (no staff user): each program's patients through
    # their own relations, since care offers no user-less listing of active courses.
    episodes: list[Episode] = []
    for program in Program.objects.all():
        for patient in program.patients.filter(episodes__isnull=False).distinct():
            related: Any = patient.episodes
            episodes += list(related.exclude(phase__in=["completed", "withdrawn"]))
    for episode in episodes:
        try:
            count += _remind_episode(episode, now)
        except Exception as exc:  # one bad course must not stop the others (notify.jobs contract)
            log.exception("reminders failed for episode %s", episode.pk)
            _raise_reminder_failure(episode, exc, now)
    return count


def _raise_reminder_failure(episode: Episode, exc: Exception, now: dt.datetime) -> None:
    """A staff alert (not only a log line) when a course's check-in reminders cannot be worked
    out: its patient gets no reminder, PHQ-9 included, until someone fixes the cause (issue 18).
    One alert per course and day; a failure to raise it must not stop the other courses."""
    try:
        day = timezone.localtime(now).date().isoformat()
        raise_alert(
            program=episode.program,
            kind="reminder_failed",
            severity="warning",
            title=f"Check-in reminders could not be sent ({episode.protocol_id})",
            dedupe_key=f"reminder_failed:{episode.pk}:{day}",
            detail=(
                "The reminder job could not work out this course's due questionnaires, so the "
                f"patient got no check-in reminder. Send a check-in from the chart. Cause: {exc}"
            )[:2000],
            patient=episode.patient,
            source=episode,
            at=now,
        )
    except Exception:
        log.exception("could not raise the reminder-failure alert for episode %s", episode.pk)


@transaction.atomic
def _remind_episode(episode: Episode, now: dt.datetime) -> int:
    due = [d for d in open_due(episode, now) if rules.patient_reportable(d.instrument)]
    if not due:
        return 0
    sent_before = set(
        Reminder.objects.filter(episode=episode).values_list("instrument", "timepoint")
    )
    fresh = [d for d in due if (d.instrument, d.timepoint) not in sent_before]
    if not fresh:
        return 0
    patient = episode.patient
    contacts = reminder_contacts(patient)
    if not contacts:
        return 0  # no consent or no address: staff can still send or hand over a link
    link, token = checkin.issue_link(
        patient,
        purpose=PURPOSE,
        payload={"due": [{"instrument": d.instrument, "timepoint": d.timepoint} for d in fresh]},
        now=now,
    )
    sent = _send(patient, link, token, f"measures:link:{link.pk}")
    for d in fresh:
        Reminder.objects.create(
            program=episode.program,
            patient=patient,
            episode=episode,
            instrument=d.instrument,
            timepoint=d.timepoint,
            link=link,
            channels=[c for c, _a in sent],
            sent_at=now,
        )
    record(
        action=Action.NOTIFY,
        program=episode.program,
        patient_id=patient.pk,
        obj=link,
        detail={"reminder": [f"{d.instrument}:{d.timepoint}" for d in fresh]},
    )
    return 1


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_assessments(program: Program) -> QuerySet[Assessment]:
    """The program's assessments.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Assessment.objects.filter(program=program).select_related("patient")
