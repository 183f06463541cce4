"""Demo (stage 20, before dose 1): patients read their preparation guide and answer its
questions; a few miss a point, which shows on the therapist's preparation page and the chart.

Synthetic data only. Idempotent: a course that already has a reading is left alone.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from trellis.care import services as care
from trellis.checkin.services import issue_link
from trellis.guides import services
from trellis.web.demo import DemoContext, demo_seeder

# Demo patient indexes that have not opened their guide yet (courses just starting).
NOT_YET = {15, 17}
# Demo patients whose answers show a misunderstanding: question id -> the option they chose.
MISSES = {2: {"visions": "a"}, 4: {"driving": "a"}, 7: {"integration": "a"}}


def _at(day: datetime | object, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))  # type: ignore[arg-type]


@demo_seeder(stage=20)
def seed_guides(ctx: DemoContext) -> None:
    coordinator = ctx.staff["cora.coordinator"]
    read = 0
    for i, patient in enumerate(ctx.patients):
        if i in NOT_YET:
            continue
        episode = care.episodes_of(coordinator, patient).first()
        if episode is None or any(services.progress(episode)):
            continue
        moment = _at(episode.start_date + timedelta(days=1), 19)
        if moment > timezone.now():
            moment = timezone.now() - timedelta(hours=2)
        link, _token = issue_link(patient, purpose="guide", now=moment)
        pg = services.guide_for_episode(episode, patient.preferred_language)
        services.record_reading(link, pg, now=moment)
        read += 1
        if pg.family_sections:
            services.record_reading(link, pg, audience="family", now=moment)
        if i % 5 == 4 and i not in MISSES:
            continue  # read but not answered yet
        answers = {q.id: q.answer for q in pg.guide.teach_back}
        for qid, chosen in MISSES.get(i, {}).items():
            if qid in answers:
                answers[qid] = chosen
        services.submit_teach_back(link, pg, answers, now=moment + timedelta(minutes=12))
    ctx.created["guide readings"] = ctx.created.get("guide readings", 0) + read
