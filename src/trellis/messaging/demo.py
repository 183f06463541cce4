"""Demo (stage 45): a few message threads between synthetic patients and the care team: one in
Spanish answered and read, one answered and assigned to a therapist, two waiting unread (one in
Spanish). Synthetic data only; idempotent (a patient with a thread is skipped)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from trellis.checkin.services import issue_link
from trellis.messaging import services
from trellis.web.demo import DemoContext, demo_seeder

# (language, patient's message, staff username or "", reply, hours ago, assign to, read by patient)
THREADS: list[tuple[str, str, str, str, int, str, bool]] = [
    (
        "es",
        "¿Puedo traer a mi esposo a la sesión de integración del jueves?",
        "nuria.nurse",
        "Sí, puede acompañarle en la sala de espera. La sesión es solo para usted.",
        50,
        "",
        True,
    ),
    (
        "en",
        "I wrote in my journal about last week's session and would like to talk about it.",
        "tomas.therapist",
        "Thank you for telling me. We will make time for it at your next integration session.",
        26,
        "tomas.therapist",
        False,
    ),
    (
        "en",
        "I have a cold and a cough. Should I still come in for my appointment on Thursday?",
        "",
        "",
        3,
        "",
        False,
    ),
    (
        "es",
        "Necesito cambiar mi cita del martes porque tengo que trabajar. ¿Es posible?",
        "",
        "",
        1,
        "",
        False,
    ),
]


@demo_seeder(stage=45)
def message_threads(ctx: DemoContext) -> None:
    now = timezone.now()
    by_language: dict[str, list[Any]] = {}
    for patient in ctx.patients:
        by_language.setdefault(patient.preferred_language, []).append(patient)
    made = 0
    for i, (lang, text, replier, reply, hours, assignee, read) in enumerate(THREADS):
        candidates = by_language.get(lang, [])
        if len(candidates) <= i:
            continue
        patient = candidates[-(i + 1)]
        if services.has_thread(patient):
            continue
        link, _token = issue_link(patient, purpose="messages")
        sent = now - timedelta(hours=hours)
        services.write_as_patient(link, text, language=lang, now=sent)
        if replier:
            staff = ctx.staff[replier]
            services.reply(staff, ctx.program, patient.pk, reply, now=sent + timedelta(hours=2))
        if assignee:
            services.assign(ctx.staff[assignee], ctx.program, patient.pk, ctx.staff[assignee].pk)
        if read:
            services.mark_read_by_patient(link)
        made += 1
    if made:
        ctx.created["message threads"] = made
