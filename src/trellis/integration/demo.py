"""Synthetic integration records for the demo program.

Stage 20: a complete safety plan for every demo course (the first-dose gate needs one), in the
patient's language. Stage 40: intentions, preparation, experience notes, integration sessions
with commitments and their reviews, journal entries (some shared, some private), social needs
screenings with a few positives and referrals to a small synthetic resource directory.
"""

from __future__ import annotations

from typing import Any

from trellis.care import services as care
from trellis.integration import services
from trellis.web.demo import DemoContext, demo_seeder

PLANS: dict[str, dict[str, list[str]]] = {
    "en": {
        "warning_signs": [
            "Staying in bed past noon and skipping meals",
            "Thinking 'everyone would be better off without me'",
        ],
        "coping_strategies": ["Walk around the block with headphones", "Cold water on my face"],
        "distraction": ["Coffee shop on Main Street", "Call my cousin to talk about baseball"],
        "help_contacts": ["My sister (synthetic) 555-0101", "Friend from work 555-0102"],
        "professionals": [
            "Call or text 988 (Suicide & Crisis Lifeline)",
            "Clinic on-call line 555-0100",
            "In an emergency call 911",
        ],
        "environment": ["Medications kept by my partner", "No firearms at home"],
    },
    "es": {
        "warning_signs": [
            "Quedarme en la cama todo el día y no comer",
            "Pensar que soy una carga para mi familia",
        ],
        "coping_strategies": ["Salir a caminar al parque", "Escuchar música de mi tierra"],
        "distraction": ["Ir a la iglesia los domingos", "Llamar a mi comadre"],
        "help_contacts": ["Mi hermana (sintética) 555-0201", "Mi vecino 555-0202"],
        "professionals": [
            "Llamar o enviar un mensaje al 988 (opción en español)",
            "Línea de guardia de la clínica 555-0100",
            "En una emergencia, llamar al 911",
        ],
        "environment": ["Mi esposo guarda los medicamentos", "No hay armas en la casa"],
    },
}


def _demo_episodes(ctx: DemoContext) -> list[Any]:
    coordinator = ctx.staff["cora.coordinator"]
    episodes = []
    for patient in ctx.patients:
        episode = care.episodes_of(coordinator, patient).first()
        if episode is not None:
            episodes.append(episode)
    return episodes


@demo_seeder(stage=20)
def safety_plans(ctx: DemoContext) -> None:
    made = 0
    for episode in _demo_episodes(ctx):
        patient = episode.patient
        if services.safety_plan_on_file(patient):
            continue
        author = episode.primary_therapist or ctx.staff["tessa.therapist"]
        lang = "es" if patient.preferred_language == "es" else "en"
        services.save_safety_plan(author, patient, PLANS[lang], language=lang)
        made += 1
    ctx.created["safety plans"] = ctx.created.get("safety plans", 0) + made
