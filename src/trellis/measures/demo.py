"""Synthetic measures for the demo (stage 40): score histories that read the course.

For every demo episode: a baseline before dose 1 (PHQ-9, GAD-7 where the track measures it),
a PHQ-9 before each dose, then weekly after the last dose; PCL-5 for PTSD tracks, Y-BOCS totals
for OCD, MADRS totals for some, ASRM totals (the hypomania screen, below its cut-off) at each
visit on the bipolar track. Courses follow one of four made-up trajectories: responder,
remitter, a relapse after response (which raises the relapse warning and adds the booster), and
a non-responder. Patient answers go through real (now expired) check-in links, so Spanish-speaking
patients' answers are stored exactly as theirs would be. One recent PHQ-9 has item 9 = 1: the
program shows an open urgent alert. Courses without a dose get a baseline only.

Idempotent: a patient who already has assessments is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from trellis.care import services as care
from trellis.checkin import services as checkin
from trellis.measures import services
from trellis.patients.models import Patient
from trellis.web.demo import DemoContext, demo_seeder

PROFILES = ("responder", "remitter", "relapse", "non_responder")
PTSD_TRACKS = {"iv-ptsd", "complex-trauma"}
OCD_TRACKS = {"iv-ocd"}


def _spread(total: int, items: list[str], top: int) -> dict[str, int]:
    """Answers to ``items`` (each 0..top) that sum to ``total`` (clamped), spread evenly."""
    total = max(0, min(total, top * len(items)))
    answers = dict.fromkeys(items, 0)
    k = 0
    while total > 0:
        item = items[k % len(items)]
        if answers[item] < top:
            answers[item] += 1
            total -= 1
        k += 1
    return answers


def _level(profile: str, base: int, step: int, steps: int) -> float:
    """Fraction of baseline at point ``step`` of ``steps`` (0 = baseline)."""
    p = step / max(steps, 1)
    if profile == "responder":
        return 1 - 0.6 * p
    if profile == "remitter":
        return max(0.12, 1 - 1.1 * p)
    if profile == "relapse":
        # Down to ~35 % by mid-course, then back up: a rise of >= 5 points after response.
        return 1 - 1.3 * p if p <= 0.5 else 0.35 + 0.9 * (p - 0.5)
    return 0.9 + 0.05 * ((step % 3) - 1)  # non-responder: small wobble around 90 %


def _answer(patient: Patient, instrument: str, answers: dict[str, int], when: datetime) -> None:
    tag = f"demo-{when:%Y%m%d%H%M}"
    link, _ = checkin.issue_link(
        patient,
        purpose=services.PURPOSE,
        payload={"due": [{"instrument": instrument, "timepoint": tag}]},
        now=when - timedelta(minutes=30),
    )
    services.record_patient_answers(link, instrument, answers, tag, now=when)


def _points(doses: list[datetime], now: datetime) -> list[datetime]:
    """Baseline 2 days before dose 1, before each dose, then weekly after the last dose."""
    first = doses[0]
    times = [first - timedelta(days=2)]
    times += [d - timedelta(hours=1) for d in doses[1:]]
    week = doses[-1] + timedelta(days=7)
    while week < now and len(times) < 30:
        times.append(week)
        week += timedelta(days=7)
    return [t for t in times if t < now]


@demo_seeder(stage=40)
def seed_measures(ctx: DemoContext) -> None:
    nurse = ctx.staff["noah.nurse"]
    now = timezone.now()
    added = 0
    flagged = False
    for i, patient in enumerate(ctx.patients):
        if services.series(None, patient, "phq9") or services.series(None, patient, "madrs"):
            continue  # seeded before
        episode = services.current_episode(patient)
        if episode is None:
            continue
        track = episode.protocol_id
        instruments = {m.instrument for m in care.protocol_of(episode).measures}
        doses = services.dose_times(episode)
        profile = PROFILES[i % len(PROFILES)]
        base = 14 + ctx.rng.randint(0, 9)  # PHQ-9 baseline 14-23
        if not doses:
            if episode.phase in ("preparing", "screening") and episode.is_active:
                when = now - timedelta(days=1, hours=ctx.rng.randint(0, 8))
                _answer(
                    patient,
                    "phq9",
                    _spread(base, [str(k) for k in range(1, 9)], 3) | {"9": 0},
                    when,
                )
                added += 1
            continue
        times = _points(doses, now)
        for step, when in enumerate(times):
            frac = _level(profile, base, step, len(times) - 1)
            total = round(base * frac + ctx.rng.choice((-1, 0, 0, 1)))
            answers = _spread(total, [str(k) for k in range(1, 9)], 3) | {"9": 0}
            _answer(patient, "phq9", answers, when)
            added += 1
            if step == 0 and "gad7" in instruments:
                gad = _spread(round(base * 0.7), [str(k) for k in range(1, 8)], 3)
                _answer(patient, "gad7", gad, when + timedelta(minutes=5))
                added += 1
            if track in PTSD_TRACKS and (step == 0 or step == len(times) - 1):
                pcl = round(52 * (frac if step else 1))
                _answer(
                    patient,
                    "pcl5",
                    _spread(pcl, [str(k) for k in range(1, 21)], 4),
                    when + timedelta(minutes=10),
                )
                added += 1
            if "asrm" in instruments:
                # CLINICAL.md §1, §6: the hypomania screen at every visit, totals only; kept
                # below the possible-mania cut-off (6) so the demo course is not held.
                asrm = (i + step) % 5  # (not from ctx.rng: the other seeds stay as they were)
                services.record_clinician_total(
                    nurse, patient, "asrm", asrm, when + timedelta(minutes=15)
                )
                added += 1
            if track in OCD_TRACKS:
                ybocs = max(0, min(40, round(28 * frac)))
                services.record_clinician_total(
                    nurse, patient, "ybocs", ybocs, when + timedelta(minutes=20)
                )
                added += 1
            elif i % 3 == 0:
                madrs = max(0, min(60, round(32 * frac)))
                services.record_clinician_total(
                    nurse, patient, "madrs", madrs, when + timedelta(minutes=20)
                )
                added += 1
        if not flagged and profile == "non_responder" and episode.is_active:
            # One recent PHQ-9 with item 9 = 1: an urgent alert stays open until acknowledged.
            answers = _spread(base - 2, [str(k) for k in range(1, 9)], 3) | {"9": 1}
            _answer(patient, "phq9", answers, now - timedelta(hours=2))
            flagged = True
            added += 1
    ctx.created["assessments"] = ctx.created.get("assessments", 0) + added
