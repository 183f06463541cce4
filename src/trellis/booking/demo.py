"""Demo (stage 40): rotas for the demo staff, clinic hours, the nurse ratio, two patients' limits
on when they can come, and one accepted plan.

Synthetic data only. Idempotent: settings and rotas are created once; the plan is made only when
the program has no accepted plan yet.
"""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from trellis.booking import services
from trellis.booking.models import StaffRota
from trellis.patients.services import patients_in_program
from trellis.web.demo import DemoContext, demo_seeder

PLAN_DAYS = 28  # whole courses (6-8 doses twice weekly) need about four weeks


@demo_seeder(stage=40)
def seed_booking(ctx: DemoContext) -> None:
    program = ctx.program
    planner = ctx.staff.get("cora.coordinator")
    if planner is None:
        return
    if not services.clinic_hours(program).exists():
        hours = {wd: (time(8), time(18)) for wd in range(5)}
        services.save_settings(planner, program, services.DEFAULT_NURSE_RATIO, hours)
    if not StaffRota.objects.filter(program=program).exists():
        for user, roles in services.rota_staff(program):
            for role in roles:
                for wd in range(5):
                    services.add_rota(planner, program, user, role, time(8), time(18), weekday=wd)
    if not services.availability_on_file(program):
        # Two synthetic patients with limits, as real ones have: one can come only in the
        # mornings (work), one never on Wednesdays (childcare).
        pts = list(patients_in_program(planner, program).order_by("family_name", "given_name"))
        if pts:
            services.set_availability(planner, pts[0], {wd: (time(8), time(13)) for wd in range(5)})
        if len(pts) > 1:
            services.set_availability(
                planner, pts[1], {wd: (time(8), time(18)) for wd in (0, 1, 3, 4)}
            )
    if services.has_accepted_plan(program):
        return
    # The plan starts today, so that each role's home page shows today's work (doses due, the
    # therapists' sessions): it is made as of 07:00, before the clinic opens.
    now = timezone.make_aware(datetime.combine(ctx.today, time(7)))
    proposal = services.propose(
        planner,
        program,
        "greedy",
        start_date=ctx.today,
        days=PLAN_DAYS,
        now=now,
    )
    made = services.accept(planner, proposal, now=now)
    ctx.created["booking appointments"] = len(made)
