"""Demo (stage 45, after the measures): a problem list for every course, and last year's
depression care for some patients, so the CMS159 page shows a real rate.

Diagnoses follow each course's track (major depression for the depression tracks, bipolar
disorder on the bipolar track: a CMS159 exclusion, PTSD, OCD and alcohol use disorder with
depression for some). Ten patients were first seen for depression last year: a PHQ-9 above 9 in
January to March (the index), then PHQ-9s about monthly; six reach remission near twelve
months, two do not, one has no PHQ-9 in the window, one is excluded (personality
disorder). Synthetic data only. Idempotent: a patient with a diagnosis on record is left alone.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.utils import timezone

from trellis.care import services as care
from trellis.checkin import services as checkin
from trellis.measures import services as measures
from trellis.reporting import services
from trellis.web.demo import DemoContext, demo_seeder

TRACK_CODES: dict[str, list[tuple[str, str]]] = {
    "iv-trd": [("F33.2", "Major depressive disorder, recurrent, severe")],
    "esketamine-trd": [("F33.2", "Major depressive disorder, recurrent, severe")],
    "esketamine-suicidal": [("F32.2", "Major depressive disorder, single episode, severe")],
    "iv-bipolar": [("F31.4", "Bipolar disorder, current episode depressed, severe")],
    "iv-ptsd": [("F43.10", "Post-traumatic stress disorder"), ("F33.1", "Major depressive "
                "disorder, recurrent, moderate")],
    "complex-trauma": [("F43.10", "Post-traumatic stress disorder")],
    "iv-ocd": [("F42.2", "Obsessive-compulsive disorder, mixed")],
    "iv-aud": [("F10.20", "Alcohol dependence, uncomplicated"), ("F32.A", "Depression, "
               "unspecified")],
}  # fmt: skip
# Last year's course of PHQ-9s per demo patient index: month of the index, then the totals
# (about monthly); the last one near twelve months decides remission.
HISTORY: dict[int, list[int]] = {
    0: [18, 15, 12, 11, 9, 8, 7, 6, 5, 4, 4, 3],  # remission
    1: [16, 14, 12, 10, 8, 6, 5, 4, 3, 3, 2, 2],
    3: [21, 18, 15, 12, 10, 9, 7, 6, 5, 4, 4, 4],
    4: [14, 13, 11, 9, 8, 8, 6, 5, 4, 4, 3, 3],
    12: [19, 17, 14, 12, 11, 9, 8, 7, 6, 5, 4, 3],
    14: [15, 12, 10, 8, 7, 6, 5, 5, 4, 3, 3, 2],
    2: [17, 16, 15, 14, 13, 12, 12, 11, 10, 10, 11, 10],  # no remission
    5: [20, 18, 16, 14, 12, 10, 9, 8, 8, 7, 7, 7],
    6: [13, 11, 10, 9],  # no PHQ-9 near twelve months
    19: [22, 20, 18, 16, 14, 12, 10, 9, 8, 7, 6, 5],  # excluded (personality disorder)
}
PERSONALITY_DISORDER = {19}


def _phq9_answers(total: int) -> dict[str, int]:
    answers = dict.fromkeys([str(k) for k in range(1, 10)], 0)
    left, k = total, 0
    while left > 0:  # items 1-8 only: item 9 stays 0 in these histories
        item = str(k % 8 + 1)
        if answers[item] < 3:
            answers[item] += 1
            left -= 1
        k += 1
    return answers


@demo_seeder(stage=45)
def seed_reporting(ctx: DemoContext) -> None:
    coordinator = ctx.staff["cora.coordinator"]
    year = ctx.today.year - 1
    added = 0
    for i, patient in enumerate(ctx.patients):
        if services.has_diagnoses(patient):
            continue
        episode = care.episodes_of(coordinator, patient).first()
        if episode is None:
            continue
        onset = max(patient.date_of_birth + timedelta(days=365 * 18), dt.date(year - 3, 5, 1))
        track = episode.protocol_id
        for code, text in TRACK_CODES.get(track, []):
            services.add_diagnosis(coordinator, patient, code=code, onset=onset, description=text)
            added += 1
        scores = HISTORY.get(i)
        if not scores or not any(c.startswith(("F32", "F33")) for c, _ in TRACK_CODES[track]):
            continue
        start = timezone.make_aware(dt.datetime(year, 1 + i % 3, 8 + i % 10, 10, 0))
        for k, total in enumerate(scores):
            when = start + timedelta(days=32 * k) if k < 11 else start + timedelta(days=365)
            tag = f"cms159-{when:%Y%m%d}"
            link, _token = checkin.issue_link(
                patient,
                purpose=measures.PURPOSE,
                payload={"due": [{"instrument": "phq9", "timepoint": tag}]},
                now=when - timedelta(minutes=30),
            )
            measures.record_patient_answers(link, "phq9", _phq9_answers(total), tag, now=when)
        if i in PERSONALITY_DISORDER:
            services.add_diagnosis(
                coordinator,
                patient,
                code="F60.3",
                onset=onset,
                description="Emotionally unstable personality disorder",
            )
    ctx.created["diagnoses"] = ctx.created.get("diagnoses", 0) + added
