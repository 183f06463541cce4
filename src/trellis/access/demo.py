"""Synthetic demo data for access to care (stage 40: everything that reads the course).

The default sliding-fee schedule as the program's version 1, a program price list, the demo
service area's urban/rural table (``data/demo_rurality.yaml``), a fee assessment for most demo
patients from the household size and income on their record, and coverage by payer. Idempotent:
each piece is added only when missing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from trellis.access import services
from trellis.access.models import DocumentKind, PriorAuth
from trellis.core import fees as core_fees
from trellis.web.demo import DemoContext, demo_seeder

# A program's own prices (dollars), within the CLINICAL.md §8 ranges.
DEMO_PRICES = {
    "preparation": "120.00",
    "integration": "120.00",
    "peer_circle": "0.00",
    "assessment": "0.00",
    "follow_up": "90.00",
    "ketamine_iv": "450.00",
    "esketamine_56": "590.00",
    "esketamine_84": "885.00",
}
DOCUMENTS = [
    DocumentKind.TAX_RETURN,
    DocumentKind.PAY_STUBS,
    DocumentKind.PAY_STUBS,
    DocumentKind.BENEFIT_LETTER,
    DocumentKind.SELF_ATTESTATION,
]
# Typical made-up terms per payer kind: percent paid after the deductible, deductible left,
# out-of-pocket maximum left; IV ketamine (off-label) is covered only where marked.
TERMS: dict[str, dict[str, Any]] = {
    "medicaid": {
        "percent": 100,
        "deductible": "0",
        "oop": None,
        "ketamine_iv": False,
        "plan": "State Medicaid (synthetic)",
    },
    "medicare": {
        "percent": 80,
        "deductible": "257.00",
        "oop": None,
        "ketamine_iv": False,
        "plan": "Original Medicare Part B (synthetic)",
    },
    "commercial": {
        "percent": 80,
        "deductible": "750.00",
        "oop": "3500.00",
        "ketamine_iv": True,
        "plan": "Example Health PPO (synthetic)",
    },
    "va_tricare": {
        "percent": 100,
        "deductible": "0",
        "oop": None,
        "ketamine_iv": False,
        "plan": "TRICARE Select (synthetic)",
    },
    "other": {
        "percent": 50,
        "deductible": "0",
        "oop": None,
        "ketamine_iv": False,
        "plan": "County indigent care programme (synthetic)",
    },
}


def load_demo_rurality() -> tuple[dict[str, str], str]:
    text = (
        resources.files("trellis.access")
        .joinpath("data", "demo_rurality.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    return {str(k): v for k, v in data["table"].items()}, str(data["source"])


def _configure(ctx: DemoContext) -> None:
    admin = ctx.staff["ada.admin"]
    program = ctx.program
    if services.current_schedule(program).version == 0:
        data = services.schedule_to_data(core_fees.default_schedule())
        services.save_schedule(admin, program, data)
        ctx.created["fee schedules"] = ctx.created.get("fee schedules", 0) + 1
    if services.current_prices(program).version == 0:
        services.save_prices(admin, program, DEMO_PRICES)
        ctx.created["price lists"] = ctx.created.get("price lists", 0) + 1
    if not services.rurality_table(program):
        table, source = load_demo_rurality()
        services.set_rurality_table(admin, program, table, source)


def _track_drug(ctx: DemoContext, patient: Any) -> str | None:
    from trellis.care import services as care

    episode = care.episodes_of(ctx.staff["cora.coordinator"], patient).first()
    return None if episode is None else care.protocol_of(episode).drug


@demo_seeder(stage=40)
def seed_access(ctx: DemoContext) -> None:
    _configure(ctx)
    coordinator = ctx.staff["cora.coordinator"]
    year = max(y for y in core_fees.known_years() if y <= max(ctx.today.year, 2026))
    assessed = covered = 0
    for i, patient in enumerate(ctx.patients):
        # Most patients are assessed; every seventh has not been yet (realistic, and "unknown").
        if (
            i % 7 != 6
            and patient.household_size
            and patient.annual_income is not None
            and services.latest_fee_assessment(coordinator, patient) is None
        ):
            services.assess_patient_fee(
                coordinator,
                patient,
                year=year,
                region="contiguous",
                household_size=patient.household_size,
                annual_income=patient.annual_income,
                document_kind=DOCUMENTS[i % len(DOCUMENTS)],
                document_date=ctx.today - timedelta(days=10 + i),
                today=ctx.today,
            )
            assessed += 1
        if services.current_coverage(coordinator, patient) is not None or not patient.payer:
            continue
        drug = _track_drug(ctx, patient)
        kwargs: dict[str, Any] = {"payer": patient.payer}
        terms = TERMS.get(patient.payer)
        if terms is not None:
            items = [
                "preparation",
                "integration",
                "peer_circle",
                "assessment",
                "follow_up",
                "esketamine_56",
                "esketamine_84",
            ]
            if terms["ketamine_iv"]:
                items.append("ketamine_iv")
            kwargs.update(
                plan_name=terms["plan"],
                member_id=f"SYN{100000 + i * 37}",
                percent_covered=dict.fromkeys(items, terms["percent"]),
                deductible_remaining=Decimal(terms["deductible"]),
                out_of_pocket_max_remaining=(
                    None if terms["oop"] is None else Decimal(terms["oop"])
                ),
            )
            if drug == "esketamine":
                decided = ctx.today - timedelta(days=30 + i)
                approved = i % 3 != 2
                kwargs.update(
                    prior_auth_status=PriorAuth.APPROVED if approved else PriorAuth.PENDING,
                    prior_auth_requested_on=decided - timedelta(days=9),
                    prior_auth_decided_on=decided if approved else None,
                    prior_auth_expires_on=decided + timedelta(days=180) if approved else None,
                )
        services.record_coverage(coordinator, patient, today=ctx.today, **kwargs)
        covered += 1
    if assessed:
        ctx.created["fee assessments"] = ctx.created.get("fee assessments", 0) + assessed
    if covered:
        ctx.created["coverage records"] = ctx.created.get("coverage records", 0) + covered
