"""Demo (stage 40): peer circles, memberships, attendance, notes, a waitlist and two mentors.

Synthetic data only. Idempotent: nothing is seeded when the program already has circles.
"""

from __future__ import annotations

from datetime import time, timedelta

from trellis.accounts.models import Room
from trellis.core.errors import TrellisError
from trellis.patients.models import ConsentKind
from trellis.patients.services import add_consent, has_active_consent
from trellis.peers import services
from trellis.peers.models import DEFAULT_AGREEMENTS, Attendance, Circle, Meeting
from trellis.web.demo import DemoContext, demo_seeder

IDENTITY = "LGBTQ+"


@demo_seeder(stage=40)
def seed_peers(ctx: DemoContext) -> None:
    program = ctx.program
    if Circle.objects.filter(program=program).exists():
        return
    coordinator = ctx.staff.get("cora.coordinator")
    facilitator = ctx.staff.get("pat.peer")
    if coordinator is None or facilitator is None:
        return
    room = Room.objects.filter(site__program=program, kind=Room.Kind.CIRCLE_ROOM).first()
    today = ctx.today
    base = {
        "facilitator": facilitator,
        "length_minutes": 90,
        "capacity": 10,
        "start_date": today - timedelta(days=42),
        "end_date": today + timedelta(days=56),
        "agreements": DEFAULT_AGREEMENTS,
        "focus_track": "",
        "identity_focus": "",
    }
    specs = [
        {
            "name": "Tuesday evening circle (synthetic)",
            "language": "en",
            "weekday": 1,
            "start_time": time(18),
            "format": "in_person",
            "room": room,
            "video_link": "",
        },
        {
            "name": "Círculo de los jueves (synthetic)",
            "language": "es",
            "weekday": 3,
            "start_time": time(18),
            "format": "video",
            "room": None,
            "video_link": "https://video.example.org/circulo-jueves",
        },
        {
            "name": "LGBTQ+ circle (synthetic)",
            "language": "en",
            "weekday": 2,
            "start_time": time(18, 30),
            "format": "in_person",
            "room": room,
            "video_link": "",
            "identity_focus": IDENTITY,
        },
        {
            "name": "Saturday video circle (synthetic)",
            "language": "en",
            "weekday": 5,
            "start_time": time(10),
            "format": "video",
            "room": None,
            "capacity": 6,
            "video_link": "https://video.example.org/saturday-circle",
        },
    ]
    circles = [services.create_circle(coordinator, program, {**base, **s}) for s in specs]
    # Preferences: most can do weekday evenings; some only Saturday mornings or only Mondays
    # (they stay on the waitlist); every fourth patient opted in to the LGBTQ+ circle.
    for i, patient in enumerate(ctx.patients):
        if i % 7 == 6:
            windows = [{"weekday": 0, "start": "12:00", "end": "14:00"}]
        elif i % 3 == 0:
            windows = [{"weekday": 5, "start": "09:00", "end": "13:00"}]
        else:
            windows = [{"weekday": d, "start": "17:00", "end": "21:00"} for d in range(5)]
        identities = [IDENTITY] if i % 4 == 1 else []
        services.set_preferences(
            coordinator, patient, windows, identities, mentor_opt_in=i % 5 == 0
        )
        if i % 8 != 7 and not has_active_consent(patient, ConsentKind.GROUP):
            add_consent(
                coordinator,
                patient,
                kind=ConsentKind.GROUP,
                given_on=today - timedelta(days=60),
                scope="Peer integration circle (synthetic)",
            )
    view = services.run_matching(coordinator, program, today)
    joined = 0
    for proposal in view.proposals:
        if proposal.circle is None:
            continue
        on = max(proposal.circle.start_date, today - timedelta(days=28))
        try:
            services.join_circle(coordinator, proposal.circle, proposal.patient, on)
        except TrellisError:
            continue
        joined += 1
    ctx.created["peer circle members"] = joined
    ctx.created["peer circle waitlist"] = len(view.waitlist)
    statuses = [Attendance.Status.PRESENT] * 4 + [
        Attendance.Status.ABSENT,
        Attendance.Status.EXCUSED,
    ]
    for circle in circles:
        _meetings, rows = services.roster(coordinator, circle)
        for meeting in Meeting.objects.filter(circle=circle, date__lte=today):
            marks: dict[int, str] = {}
            for row in rows:
                m = services.memberships_of_circle(circle).get(pk=row.membership_id)
                if m.joined_on <= meeting.date:
                    marks[row.membership_id] = str(ctx.rng.choice(statuses))
            if marks:
                services.record_attendance(facilitator, circle, meeting.pk, marks)
    services.add_note(
        facilitator, circles[0], "Warm meeting; the group talked about sleep and returning to work."
    )
    services.add_note(
        facilitator, circles[1], "Buena energía; hablamos de la familia y de la integración."
    )
    _seed_mentors(ctx, coordinator)


def _seed_mentors(ctx: DemoContext, coordinator: object) -> None:
    finished = [p for p in ctx.patients if services.finished_course(p)][:2]
    made = 0
    for patient in finished:
        prefs = services.preferences_of(patient)
        services.set_preferences(
            coordinator,
            patient,
            prefs.availability if prefs else [],
            prefs.identity_opt_in if prefs else [],
            mentor_opt_in=True,
        )
        profile = services.mark_mentor_training(
            coordinator, patient, ctx.today - timedelta(days=20)
        )
        proposals = services.propose_mentors(coordinator, ctx.program)
        for mentee_id, mentor_id in proposals["pairs"].items():
            if mentor_id != str(profile.pk):
                continue
            mentee = proposals["mentees"][mentee_id]
            pairing = services.pair_mentor(
                coordinator, profile, mentee, ctx.today - timedelta(days=14)
            )
            services.log_contact(coordinator, pairing, ctx.today - timedelta(days=10), "phone", 25)
            services.log_contact(coordinator, pairing, ctx.today - timedelta(days=3), "video", 30)
            made += 1
    ctx.created["peer mentor pairings"] = made
