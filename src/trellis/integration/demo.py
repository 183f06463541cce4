"""Synthetic integration records for the demo program.

Stage 20: a complete safety plan for every demo course (the first-dose gate needs one), in the
patient's language. Stage 40: intentions, preparation, experience notes, integration sessions
with commitments and their reviews, journal entries (some shared, some private), social needs
screenings with a few positives and referrals to a small synthetic resource directory.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from trellis.care import services as care
from trellis.checkin.services import issue_link
from trellis.core.integration_rules import CommitmentReview, ReviewOutcome
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


# --- stage 40: the thread of each course ---------------------------------------------------------

TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "intentions": [
            "I want to feel close to my kids again",
            "Stop being so hard on myself",
            "Find a reason to get up in the morning",
            "Make peace with what happened in the service",
        ],
        "insights": [
            "I saw that the heaviness is not all of me",
            "I remembered my grandmother's kitchen and felt safe",
            "The voice that says I'm a failure is my father's, not mine",
            "I can ask for help without it meaning I'm weak",
        ],
        "commitments": [
            "Call my daughter on Sunday",
            "Ten minutes of breathing practice after breakfast",
            "Clear the dining table so we can eat together",
            "Walk to the park twice this week",
            "Tell my supervisor I need Fridays off for treatment",
        ],
        "experience": [
            "Calm throughout; some tearfulness at 25 min, settled with music. BP stable.",
            "Mild nausea at 15 min, resolved. Described vivid images of the sea. Alert by 90 min.",
            "Quiet, eyes closed most of the session; smiled on waking. No adverse events.",
        ],
        "journal": [
            "Slept through the night for the first time in weeks.",
            "Hard day. Argued with my brother but I didn't shut down like before.",
            "Took the long way home past the river and just sat for a while.",
        ],
        "reflection": "The colours, and feeling that I was allowed to rest.",
        "hopes": "To have more good days than bad days",
        "fears": "Losing control, or feeling nothing at all",
        "supports": "My partner, my dog, the Tuesday group at church",
    },
    "es": {
        "intentions": [
            "Quiero volver a sentirme cerca de mis hijos",
            "Dejar de ser tan dura conmigo misma",
            "Encontrar una razón para levantarme cada mañana",
            "Hacer las paces con lo que pasó",
        ],
        "insights": [
            "Vi que la tristeza no es todo lo que soy",
            "Recordé la cocina de mi abuela y me sentí segura",
            "Puedo pedir ayuda sin que eso signifique que soy débil",
            "La voz que me critica no es la mía",
        ],
        "commitments": [
            "Llamar a mi hija el domingo",
            "Diez minutos de respiración después del desayuno",
            "Caminar al parque dos veces esta semana",
            "Cocinar con mi hermana el sábado",
            "Pedir los viernes libres en el trabajo",
        ],
        "experience": [
            "Calm throughout; brief tearfulness at 20 min, settled with music. BP stable.",
            "Spoke of her mother; peaceful afterwards. Alert at 80 min, no adverse events.",
            "Mild dizziness on standing at 60 min, resolved with rest and water.",
        ],
        "journal": [
            "Hoy dormí toda la noche por primera vez en semanas.",
            "Fue un día difícil, pero no me encerré en mi cuarto.",
            "Caminé junto al río y me senté un rato a escuchar el agua.",
        ],
        "reflection": "Los colores, y sentir que podía descansar.",
        "hopes": "Tener más días buenos que malos",
        "fears": "Perder el control o no sentir nada",
        "supports": "Mi esposo, mi comadre, el grupo de la iglesia",
    },
}
# Community resources of the synthetic directory (made-up names and numbers).
RESOURCES = [
    ("Riverbend Dial-a-Ride (synthetic)", "transport", "555-0150"),
    ("Volunteer Driver Network (synthetic)", "transport", "555-0151"),
    ("Eastside Community Food Pantry (synthetic)", "food", "555-0160"),
    ("County Emergency Housing Line (synthetic)", "housing", "555-0170"),
    ("Utility Assistance Fund (synthetic)", "utilities", "555-0180"),
    ("Safe Harbor Domestic Violence Services (synthetic)", "safety", "555-0190"),
]
NO_NEEDS = {
    "housing_situation": "steady",
    "housing_problems": "no",
    "food_worry": "never",
    "food_ran_out": "never",
    "transport": "no",
    "utilities": "no",
    "safety_hurt": "never",
    "safety_insult": "never",
    "safety_threaten": "never",
    "safety_scream": "never",
}
# Demo patient index → needs found at intake (the rest screen negative). Patient 11 (iv-aud, the
# "transport" adaptation) has a transportation need no referral has met yet.
NEEDS: dict[int, dict[str, str]] = {
    2: {"food_worry": "sometimes", "food_ran_out": "sometimes"},
    4: {"transport": "yes"},
    7: {"housing_situation": "worried", "utilities": "yes"},
    11: {"transport": "yes", "food_worry": "often"},
    16: {"safety_insult": "frequently", "safety_scream": "fairly_often"},
}
CONNECTED = {4, 2}  # whose referrals were followed up and met
OUTCOMES: list[ReviewOutcome] = ["done", "partly", "done", "not_yet", "dropped", "done"]
REASONS = {
    "partly": "Only managed once",
    "not_yet": "Was unwell this week",
    "dropped": "No longer fits",
}


def _lang(patient: Any) -> str:
    return "es" if patient.preferred_language == "es" else "en"


def _pick(items: list[str], n: int) -> str:
    return items[n % len(items)]


def _course(ctx: DemoContext, i: int, episode: Any) -> int:
    """Intentions, preparation, experience notes, session notes with commitments and reviews."""
    therapist = episode.primary_therapist or ctx.staff["tessa.therapist"]
    patient = episode.patient
    lang = _lang(patient)
    text = TEXTS[lang]
    made = 0
    if not services.intentions_of(episode).exists():
        services.save_preparation(
            therapist,
            episode,
            new_intentions=[_pick(text["intentions"], i), _pick(text["intentions"], i + 1)],
            hopes=text["hopes"],
            fears=text["fears"],
            supports=text["supports"],
            language=lang,
            at=timezone.make_aware(datetime.combine(episode.start_date, time(11))),
        )
        made += 1
    if services.notes_of(episode).exists():
        return made
    nurse = ctx.staff["nuria.nurse" if lang == "es" else "noah.nurse"]
    doses = services.doses_given(episode)
    for index, dosed_at in doses:
        services.add_experience_note(
            nurse,
            episode,
            dose_index=index,
            text=_pick(text["experience"], i + index),
            at=dosed_at + timedelta(hours=2),
        )
    intentions = list(services.intentions_of(episode))
    sessions = list(care.events_of(episode).filter(kind="integration_done").order_by("at"))
    for n, event in enumerate(sessions):
        open_rows = list(services.open_commitments(episode))
        reviews = []
        for k, c in enumerate(open_rows):
            outcome = OUTCOMES[(i + n + k) % len(OUTCOMES)]
            reviews.append(CommitmentReview(c.pk, outcome, REASONS.get(outcome, "")))
        review_day = event.at.date() + timedelta(days=3)
        services.write_integration_note(
            therapist,
            episode,
            dose_index=event.index or 1,
            at=event.at,
            insights=_pick(text["insights"], i + n),
            risk="none",
            intention_ids=[intentions[(i + n) % len(intentions)].pk] if intentions else [],
            barriers="" if n % 2 else "Work schedule; no car on weekdays",
            supports_needed="" if n % 3 else "Check-in call from the peer mentor",
            commitments=[
                services.NewCommitment(_pick(text["commitments"], i + n), review_day),
                services.NewCommitment(_pick(text["commitments"], i + n + 2), review_day),
            ][: 1 + (n % 2)],
            reviews=reviews,
            next_review={c.pk: review_day for c in open_rows},
        )
        made += 1
    return made


def _journal(ctx: DemoContext, i: int, episode: Any) -> int:

    patient = episode.patient
    if services.has_journal(patient) or i % 3 == 2:
        return 0
    doses = services.doses_given(episode)
    if not doses:
        return 0
    text = TEXTS[_lang(patient)]
    link, _token = issue_link(patient, purpose="journal", now=doses[-1][1])
    last_dose = doses[-1][1]
    if i % 2 == 0 and last_dose + timedelta(hours=5) < timezone.now():
        services.add_reflection(
            link, text["reflection"], language=_lang(patient), now=last_dose + timedelta(hours=5)
        )
    for k, entry in enumerate(text["journal"]):
        written = last_dose + timedelta(hours=20 + 3 * k)
        if written > timezone.now():
            written = timezone.now() - timedelta(minutes=30 * (len(text["journal"]) - k))
        services.add_journal_entry(
            link,
            entry,
            share=(k + i) % 2 == 0,
            language=_lang(patient),
            now=written,
        )
    return len(text["journal"])


def _social_needs(ctx: DemoContext, i: int, episode: Any) -> int:
    patient = episode.patient
    if services.latest_hrsn(patient) is not None:
        return 0
    coordinator = ctx.staff["cora.coordinator"]
    start = timezone.make_aware(datetime.combine(episode.start_date, time(10)))
    screening = services.record_hrsn(
        coordinator,
        patient,
        timing="intake",
        answers={**NO_NEEDS, **NEEDS.get(i, {})},
        episode=episode,
        at=start,
    )
    made = 1
    for domain in screening.positive_domains:
        resource = services.resources_of(ctx.program, domain).first()
        if resource is None or (i == 11 and domain == "transport"):
            continue  # patient 11's transport need waits for a referral (shown on the boards)
        referral = services.add_referral(
            coordinator,
            screening,
            resource_id=resource.pk,
            follow_up_on=ctx.today + timedelta(days=2 + i % 5),
            note="Warm hand-off by phone (synthetic)",
        )
        if i in CONNECTED:
            services.follow_up_referral(
                coordinator, referral.pk, status="connected", note="Patient confirmed (synthetic)"
            )
    # A need still open after the series is not screened again here (it stays on the boards).
    settled = i not in NEEDS or i in CONNECTED
    if settled and episode.phase in ("sustaining", "completed", "maintenance"):
        services.record_hrsn(
            coordinator,
            patient,
            timing="after_series",
            answers={**NO_NEEDS},
            episode=episode,
            at=start + timedelta(days=30),
        )
        made += 1
    return made


@demo_seeder(stage=40)
def integration_threads(ctx: DemoContext) -> None:
    for name, domain, phone in RESOURCES:
        services.ensure_resource(
            ctx.program, name=name, domain=domain, phone=phone, note="Synthetic directory entry"
        )
    threads = journals = screenings = 0
    for i, episode in enumerate(_demo_episodes(ctx)):
        threads += _course(ctx, i, episode)
        journals += _journal(ctx, i, episode)
        screenings += _social_needs(ctx, i, episode)
    tomas = ctx.staff["tomas.therapist"]
    mine = [e for e in _demo_episodes(ctx) if e.primary_therapist_id == tomas.pk][:2]
    for episode in mine:
        if not services.process_notes_of(tomas, episode.patient).exists():
            services.add_process_note(
                tomas,
                episode.patient,
                "Process note (synthetic): themes of loyalty and guilt toward family; "
                "my own sense of urgency in the room — slow down next time.",
            )
    ctx.created["integration notes"] = ctx.created.get("integration notes", 0) + threads
    ctx.created["journal entries"] = ctx.created.get("journal entries", 0) + journals
    ctx.created["social needs screenings"] = (
        ctx.created.get("social needs screenings", 0) + screenings
    )
