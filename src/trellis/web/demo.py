"""The synthetic demo program: realistic, made-up data so a newcomer sees Trellis at work.

Every person here is invented (names drawn from common-name lists, seeded randomness); the
program is flagged synthetic, so the UI shows a banner and exports label every row. Seeding is
idempotent: running it again adds nothing new.

Apps extend the demo with :func:`demo_seeder` (imported in ``AppConfig.ready``); each seeder gets
the :class:`DemoContext` (after the base program, staff and patients exist), runs in stage order
and must itself be idempotent. Stages:

- 10 episodes and their plans, screening, preparation (care);
- 20 what must be on file before dose 1 (safety plans, REMS enrolment, documented requirements);
- 30 doses and integration sessions as they happened (care; dosing records);
- 40 measures, outcomes, circles, fees, schedules and everything that reads the course.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from trellis.accounts.models import Program, Role, Room, Site, User
from trellis.accounts.services import create_staff
from trellis.patients.models import ConsentKind, Patient
from trellis.patients.services import ensure_synthetic_patient

DEMO_SLUG = "riverbend-demo"
OTHER_SLUG = "lakeside-demo"
DEMO_SEED = 2026

# Demo logins: only ever used with synthetic data in demo mode (TOTP is off there).
DEMO_STAFF: list[dict[str, Any]] = [
    {
        "username": "ada.admin",
        "first_name": "Ada",
        "last_name": "Okafor",
        "roles": [Role.ADMIN, Role.COORDINATOR],
        "languages": ["en"],
    },
    {
        "username": "priya.prescriber",
        "first_name": "Priya",
        "last_name": "Raman",
        "roles": [Role.PRESCRIBER],
        "languages": ["en"],
    },
    {
        "username": "noah.nurse",
        "first_name": "Noah",
        "last_name": "Bennett",
        "roles": [Role.NURSE],
        "languages": ["en"],
    },
    {
        "username": "nuria.nurse",
        "first_name": "Nuria",
        "last_name": "Castillo",
        "roles": [Role.NURSE],
        "languages": ["en", "es"],
    },
    {
        "username": "tomas.therapist",
        "first_name": "Tomás",
        "last_name": "Herrera",
        "roles": [Role.THERAPIST],
        "languages": ["es", "en"],
    },
    {
        "username": "tessa.therapist",
        "first_name": "Tessa",
        "last_name": "Nguyen",
        "roles": [Role.THERAPIST],
        "languages": ["en", "vi"],
    },
    {
        "username": "cora.coordinator",
        "first_name": "Cora",
        "last_name": "Whitfield",
        "roles": [Role.COORDINATOR],
        "languages": ["en"],
    },
    {
        "username": "pat.peer",
        "first_name": "Pat",
        "last_name": "Rivers",
        "roles": [Role.PEER_FACILITATOR],
        "languages": ["en", "es"],
    },
    {
        "username": "ana.analyst",
        "first_name": "Ana",
        "last_name": "Lindqvist",
        "roles": [Role.ANALYST],
        "languages": ["en"],
    },
]
OTHER_STAFF: list[dict[str, Any]] = [
    {
        "username": "lee.lakeside",
        "first_name": "Lee",
        "last_name": "Morrow",
        "roles": [Role.COORDINATOR],
        "languages": ["en"],
    },
]
DEMO_PASSWORD = "demo-trellis-2026"

FIRST_NAMES = {
    "en": [
        "Jordan",
        "Avery",
        "Marcus",
        "Keisha",
        "Emily",
        "Darnell",
        "Hannah",
        "Tyrone",
        "Megan",
        "Caleb",
        "Aaliyah",
        "Logan",
        "Brianna",
        "Wyatt",
        "Imani",
        "Dakota",
    ],
    "es": [
        "María",
        "José",
        "Lucía",
        "Alejandro",
        "Guadalupe",
        "Carlos",
        "Valentina",
        "Miguel",
        "Rosa",
        "Javier",
    ],
    "vi": ["Linh", "Minh", "Thảo"],
}
LAST_NAMES = {
    "en": [
        "Carter",
        "Brooks",
        "Walker",
        "Jefferson",
        "Sullivan",
        "Hayes",
        "Coleman",
        "Foster",
        "Greene",
        "Patterson",
        "Redcloud",
        "Yazzie",
        "Kim",
        "Haddad",
    ],
    "es": ["García", "Hernández", "López", "Martínez", "Ramírez", "Torres", "Flores", "Morales"],
    "vi": ["Trần", "Phạm", "Lê"],
}
# ZIP codes of the made-up service area: (zip, rural?) — urban core and rural counties.
ZIPS = [
    ("60614", False),
    ("60623", False),
    ("60629", False),
    ("60651", False),
    ("61938", True),
    ("62901", True),
    ("62420", True),
]


@dataclass
class DemoContext:
    program: Program
    other_program: Program
    staff: dict[str, User]
    patients: list[Patient]
    today: date
    rng: random.Random
    created: dict[str, int] = field(default_factory=dict)


DEMO_SEEDERS: list[tuple[int, Callable[[DemoContext], None]]] = []


def demo_seeder(
    stage: int,
) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Register a seeder for ``stage`` (see the module docstring)."""

    def register(fn: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        if all(existing is not fn for _, existing in DEMO_SEEDERS):
            DEMO_SEEDERS.append((stage, fn))
        return fn

    return register


def _program(slug: str, name: str) -> Program:
    program, _ = Program.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "is_synthetic": True,
            "on_call_name": "On-call prescriber (synthetic)",
            "on_call_email": "oncall@riverbend.example",
            "on_call_phone": "+15555550100",
        },
    )
    return program


def _rooms(program: Program, site_name: str) -> None:
    site, _ = Site.objects.get_or_create(
        program=program, name=site_name, defaults={"zip_code": "60614", "address": "100 Demo St"}
    )
    layout = [(f"Chair {n}", Room.Kind.DOSING_CHAIR) for n in range(1, 7)]
    layout += [(f"Therapy room {n}", Room.Kind.THERAPY_ROOM) for n in range(1, 4)]
    layout += [("Circle room", Room.Kind.CIRCLE_ROOM)]
    for name, kind in layout:
        Room.objects.get_or_create(site=site, name=name, defaults={"kind": kind})


def _staff(program: Program, people: list[dict[str, Any]]) -> dict[str, User]:
    staff = {}
    for person in people:
        staff[person["username"]] = create_staff(
            username=person["username"],
            password=DEMO_PASSWORD,
            program=program,
            roles=person["roles"],
            first_name=person["first_name"],
            last_name=person["last_name"],
            email=f"{person['username']}@riverbend.example",
            languages=person["languages"],
        )
    return staff


def _patient_rows(rng: random.Random, today: date, count: int) -> list[dict[str, Any]]:
    rows = []
    races = ["white", "black", "hispanic", "asian", "aian", "mena", "nhpi"]
    payers = [
        "medicaid",
        "medicaid",
        "medicare",
        "commercial",
        "commercial",
        "uninsured",
        "va_tricare",
        "other",
    ]
    for i in range(count):
        lang = rng.choices(["en", "es", "vi"], weights=[68, 26, 6])[0]
        given = FIRST_NAMES[lang][i % len(FIRST_NAMES[lang])]
        family = LAST_NAMES[lang][(i * 7 + 3) % len(LAST_NAMES[lang])]
        age = rng.randint(19, 74)
        dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
        if lang == "es":
            race = ["hispanic"] + (["white"] if rng.random() < 0.3 else [])
        elif lang == "vi":
            race = ["asian"]
        else:
            race = [rng.choice(races[:2] * 3 + races[3:])]
            if rng.random() < 0.08:
                race = ["prefer_not"]
        household = rng.choice([1, 1, 2, 2, 3, 4, 5, 6])
        # Incomes spread across the sliding-fee classes (about 60 %–350 % of poverty).
        guideline = 15960 + 5680 * (household - 1)
        income = Decimal(int(guideline * rng.uniform(0.6, 3.5)) // 100 * 100)
        zip_code, _rural = rng.choice(ZIPS)
        phone = f"+1555555{1000 + i:04d}"
        rows.append(
            {
                "given_name": given,
                "family_name": family,
                "date_of_birth": dob,
                "email": f"{given.lower()}.{i}@patient.example".encode("ascii", "ignore").decode(),
                "phone": phone,
                "preferred_language": lang,
                "interpreter_needed": lang != "en" and rng.random() < 0.5,
                "race_ethnicity": race,
                "sex": rng.choice(["female", "male", "female", "male", "intersex", ""]),
                "gender_identity": rng.choice(["", "", "woman", "man", "non-binary"]),
                "zip_code": zip_code,
                "household_size": household,
                "annual_income": income,
                "payer": rng.choice(payers),
                "emergency_contact_name": f"{rng.choice(FIRST_NAMES['en'])} {family}",
                "emergency_contact_phone": f"+1555556{1000 + i:04d}",
                "emergency_contact_relationship": rng.choice(
                    ["partner", "sibling", "parent", "friend"]
                ),
            }
        )
    return rows


@transaction.atomic
def seed_demo(today: date | None = None, patient_count: int = 32) -> str:
    """Create (or complete) the synthetic demo programs; returns a one-line summary."""
    today = today or timezone.localdate()
    rng = random.Random(DEMO_SEED)
    program = _program(DEMO_SLUG, "Riverbend Community Ketamine Program (synthetic demo)")
    other = _program(OTHER_SLUG, "Lakeside Health Center (synthetic demo)")
    _rooms(program, "Riverbend Clinic")
    _rooms(other, "Lakeside Clinic")
    staff = _staff(program, DEMO_STAFF)
    staff.update(_staff(other, OTHER_STAFF))
    coordinator = staff["cora.coordinator"]
    patients = []
    created = 0
    # Fixed reference date for the demo population so that re-seeding on another day finds the
    # same people (idempotent), while activity dates below are relative to ``today``.
    population_day = date(2026, 1, 15)
    for row in _patient_rows(rng, population_day, patient_count):
        consent_day = today - timedelta(days=rng.randint(20, 120))
        consents = [(ConsentKind.TREATMENT, consent_day, "Ketamine-assisted treatment course")]
        if rng.random() < 0.8:
            consents.append(
                (ConsentKind.REMINDERS_SMS, consent_day, "Check-in links and reminders")
            )
        if rng.random() < 0.5:
            consents.append((ConsentKind.REMINDERS_EMAIL, consent_day, "Check-in links"))
        if rng.random() < 0.6:
            consents.append((ConsentKind.RESEARCH, consent_day, "De-identified outcomes"))
        if rng.random() < 0.75:
            consents.append((ConsentKind.GROUP, consent_day, "Peer integration circles"))
        patient, was_created = ensure_synthetic_patient(coordinator, program, row, consents)
        patients.append(patient)
        created += int(was_created)
    lee = staff["lee.lakeside"]
    for row in _patient_rows(random.Random(DEMO_SEED + 1), population_day, 6):
        patient, was_created = ensure_synthetic_patient(
            lee, other, row, [(ConsentKind.TREATMENT, today - timedelta(days=30), "Treatment")]
        )
        created += int(was_created)
    ctx = DemoContext(program, other, staff, patients, today, rng, {"patients": created})
    for _stage, seeder in sorted(DEMO_SEEDERS, key=lambda pair: pair[0]):
        seeder(ctx)
    extras = ", ".join(f"{k} +{v}" for k, v in sorted(ctx.created.items()))
    return f"{program.name}: {len(patients)} synthetic patients ({extras})"


def print_logins() -> None:
    print(f"\nDemo logins (synthetic data only; password for all: {DEMO_PASSWORD})")
    for person in DEMO_STAFF + OTHER_STAFF:
        roles = ", ".join(str(r) for r in person["roles"])
        print(f"  {person['username']:<20} {roles}")
    print()
