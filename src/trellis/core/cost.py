"""The cost of a course of care to the patient, and what each payer asks for (CLINICAL.md §8).

Sources: CLINICAL.md §8 "Money" (IV ketamine $400–800 per infusion; Spravato list $590–885 per
session; Medicare codes G2082 (≤ 56 mg) / G2083 (> 56 mg); HRSA sliding fee) and §4 (esketamine
REMS: certified setting, patient enrolled before the first treatment; IV ketamine is off-label).

**Order of application** for each planned session, in plan order (:func:`course_cost`):

1. *Gross*: the program's price for the item (a dose is priced by drug: ``ketamine_iv``,
   ``esketamine_56``, ``esketamine_84``; other sessions by kind).
2. *Coverage* (the payer first): an item the coverage does not list is not covered (the patient's
   share is the gross and it does not count toward the deductible or out-of-pocket maximum). A
   copay item costs the patient ``min(copay, gross)``. A coinsurance item first consumes the
   remaining deductible (patient pays it), then the plan pays ``percent_covered`` of the rest and
   the patient the remainder (rounded half up to the cent). Covered items' shares count toward the
   remaining out-of-pocket maximum and are capped by it. ``covered = gross − share``.
3. *Sliding fee* (HRSA ch. 9, CLINICAL.md §8) on the patient's share: a class with a nominal fee
   (class A of the default schedule) pays ``min(nominal_fee, share)`` per billable visit (gross > 0)
   instead of the share; other classes get ``discount_percent`` off the share (rounded half up
   to the cent). The insurer's deductible and out-of-pocket accumulators count the share *before*
   the sliding-fee discount (what the plan considers patient responsibility).
4. Every amount is Decimal cents; the patient never pays less than 0 nor more than the gross.

Default prices (:data:`DEFAULT_PRICES`) are ★ placeholders from the CLINICAL.md §8 ranges; each
program sets its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.fees import FeeAssessment, parse_dollars

__all__ = [
    "DEFAULT_PRICES",
    "DRUGS",
    "ITEMS",
    "PAYERS",
    "SESSION_KINDS",
    "ChecklistItem",
    "CourseCost",
    "Coverage",
    "CoverageChecklist",
    "LineItem",
    "PlannedSession",
    "course_cost",
    "coverage_checklist",
    "make_coverage",
    "make_prices",
]

SESSION_KINDS: tuple[str, ...] = (
    "preparation",
    "dose",
    "integration",
    "peer_circle",
    "assessment",
    "follow_up",
)
#: Drugs of a ``dose`` session (CLINICAL.md §4): IV racemic ketamine; esketamine 56 or 84 mg.
DRUGS: tuple[str, ...] = ("ketamine_iv", "esketamine_56", "esketamine_84")
#: Priced items: each non-dose kind, and each drug for doses.
ITEMS: tuple[str, ...] = tuple(k for k in SESSION_KINDS if k != "dose") + DRUGS
PAYERS: tuple[str, ...] = ("medicaid", "medicare", "commercial", "va_tricare", "uninsured", "other")

_CENT = Decimal("0.01")

#: ★ Default prices in dollars (CLINICAL.md §8; each program sets its own):
#: IV ketamine $500 (within $400–800 per infusion); esketamine $590 for 56 mg and $885 for 84 mg
#: (the two ends of the Spravato list range $590–885 per session, i.e. 2 and 3 devices at ~$295;
#: our reading of the range, not a quoted price); integration and preparation $150; follow-up
#: $150 (Trellis placeholder, no source); peer circle $0 (free by default; a program may charge
#: e.g. $20); assessment $0 (measurement-based care is not billed to the patient by default).
DEFAULT_PRICES: Mapping[str, Decimal] = MappingProxyType(
    {
        "preparation": Decimal(150),
        "integration": Decimal(150),
        "peer_circle": Decimal(0),
        "assessment": Decimal(0),
        "follow_up": Decimal(150),
        "ketamine_iv": Decimal(500),
        "esketamine_56": Decimal(590),
        "esketamine_84": Decimal(885),
    }
)


def _half_up_cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _money(value: object, field_name: str) -> Decimal:
    amount = parse_dollars(value, field_name)
    assert amount is not None
    return amount


@dataclass(frozen=True)
class PlannedSession:
    """One planned session: ``kind`` in :data:`SESSION_KINDS`; ``drug`` only for ``dose``."""

    kind: str
    drug: str | None = None

    @property
    def item(self) -> str:
        """The priced item: the drug for a dose, else the kind."""
        return self.drug if self.kind == "dose" and self.drug else self.kind


def _check_session(index: int, s: PlannedSession) -> None:
    where = f"sessions[{index}]"
    if s.kind not in SESSION_KINDS:
        raise InvalidInput(
            f"{where}.kind", f"unknown kind {s.kind!r} (known: {', '.join(SESSION_KINDS)})"
        )
    if s.kind == "dose":
        if s.drug not in DRUGS:
            raise InvalidInput(
                f"{where}.drug", f"a dose needs a drug, one of {', '.join(DRUGS)}; got {s.drug!r}"
            )
    elif s.drug is not None:
        raise InvalidInput(f"{where}.drug", f"only a dose has a drug; this is a {s.kind}")


def make_prices(overrides: Mapping[str, object] | None = None) -> Mapping[str, Decimal]:
    """The default price list with a program's ``overrides`` (dollars, ≥ 0, whole cents).

    Unknown items raise :class:`InvalidInput` naming ``prices.<item>``.
    """
    prices = dict(DEFAULT_PRICES)
    for item, value in (overrides or {}).items():
        if item not in ITEMS:
            raise InvalidInput(f"prices.{item}", f"unknown item (known: {', '.join(ITEMS)})")
        prices[item] = _money(value, f"prices.{item}")
    return MappingProxyType(prices)


@dataclass(frozen=True)
class Coverage:
    """What a payer covers, per priced item (see the module docstring for the order applied).

    ``percent_covered[item]`` is the share (0–100) the plan pays after the deductible;
    ``copay[item]`` a flat patient charge per visit instead. An item in neither is not covered.
    Build it with :func:`make_coverage`, which validates.
    """

    payer: str
    percent_covered: Mapping[str, int] = field(default_factory=dict)
    copay: Mapping[str, Decimal] = field(default_factory=dict)
    deductible_remaining: Decimal = Decimal(0)
    out_of_pocket_max_remaining: Decimal | None = None


def make_coverage(
    payer: str,
    percent_covered: Mapping[str, object] | None = None,
    copay: Mapping[str, object] | None = None,
    deductible_remaining: object = 0,
    out_of_pocket_max_remaining: object = None,
) -> Coverage:
    """Validate coverage terms from a person or file into a :class:`Coverage`.

    Refuses (``InvalidInput`` naming the field): an unknown payer; an unknown item; a percent that
    is not a whole number 0–100; an item with both a percent and a copay; negative or sub-cent
    amounts; any coverage terms for ``uninsured``.
    """
    if payer not in PAYERS:
        raise InvalidInput(
            "coverage.payer", f"unknown payer {payer!r} (known: {', '.join(PAYERS)})"
        )
    percents: dict[str, int] = {}
    for item, value in (percent_covered or {}).items():
        name = f"coverage.percent_covered.{item}"
        if item not in ITEMS:
            raise InvalidInput(name, f"unknown item (known: {', '.join(ITEMS)})")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise InvalidInput(name, f"must be a whole percent 0–100, got {value!r}")
        percents[item] = value
    copays: dict[str, Decimal] = {}
    for item, value in (copay or {}).items():
        name = f"coverage.copay.{item}"
        if item not in ITEMS:
            raise InvalidInput(name, f"unknown item (known: {', '.join(ITEMS)})")
        if item in percents:
            raise InvalidInput(name, "an item has either a copay or a percent covered, not both")
        copays[item] = _money(value, name)
    deductible = _money(deductible_remaining, "coverage.deductible_remaining")
    oop = parse_dollars(
        out_of_pocket_max_remaining, "coverage.out_of_pocket_max_remaining", allow_none=True
    )
    if payer == "uninsured" and (percents or copays or deductible or oop is not None):
        raise InvalidInput("coverage.payer", "uninsured coverage cannot have coverage terms")
    return Coverage(payer, MappingProxyType(percents), MappingProxyType(copays), deductible, oop)


@dataclass(frozen=True)
class LineItem:
    """One session's money: gross = covered + discount + patient."""

    index: int
    kind: str
    drug: str | None
    gross: Decimal
    covered: Decimal
    deductible_applied: Decimal
    discount: Decimal
    patient: Decimal


@dataclass(frozen=True)
class CourseCost:
    """Line items and totals of a planned course (all Decimal dollars, to the cent)."""

    lines: tuple[LineItem, ...]
    gross: Decimal
    covered: Decimal
    discount: Decimal
    patient_out_of_pocket: Decimal
    payer: str
    fee_class: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: amounts as strings with two decimals (exact cents)."""

        def m(v: Decimal) -> str:
            return f"{v:.2f}"

        return {
            "payer": self.payer,
            "fee_class": self.fee_class,
            "gross": m(self.gross),
            "covered": m(self.covered),
            "discount": m(self.discount),
            "patient_out_of_pocket": m(self.patient_out_of_pocket),
            "lines": [
                {
                    "index": li.index,
                    "kind": li.kind,
                    "drug": li.drug,
                    "gross": m(li.gross),
                    "covered": m(li.covered),
                    "deductible_applied": m(li.deductible_applied),
                    "discount": m(li.discount),
                    "patient": m(li.patient),
                }
                for li in self.lines
            ],
        }


def course_cost(
    sessions: Sequence[PlannedSession],
    prices: Mapping[str, Decimal] | None = None,
    coverage: Coverage | None = None,
    fee: FeeAssessment | None = None,
) -> CourseCost:
    """Gross, covered, sliding-fee discount and patient out-of-pocket of a planned course.

    CLINICAL.md §8 (prices; HRSA Compliance Manual ch. 9 sliding fee). Coverage is applied first,
    then the sliding-fee discount on the patient's share (class A: the nominal fee per billable
    visit instead); see the module docstring for the exact order. ``coverage`` None means
    uninsured; ``fee`` None means no sliding-fee discount; ``prices`` None means
    :data:`DEFAULT_PRICES`. Invalid sessions raise :class:`InvalidInput` naming
    ``sessions[i].kind`` or ``sessions[i].drug``; nothing is computed half-way.
    """
    for i, s in enumerate(sessions):
        _check_session(i, s)
    price_list = DEFAULT_PRICES if prices is None else prices
    for s in sessions:
        if s.item not in price_list:
            raise InvalidInput(f"prices.{s.item}", "no price for this item")
        price = price_list[s.item]
        if not isinstance(price, Decimal) or not price.is_finite() or price < 0:
            raise InvalidInput(f"prices.{s.item}", f"must be a Decimal ≥ 0, got {price!r}")
    cover = coverage if coverage is not None else Coverage("uninsured")
    deductible = cover.deductible_remaining
    oop_left = cover.out_of_pocket_max_remaining
    lines: list[LineItem] = []
    for i, s in enumerate(sessions):
        gross = _half_up_cents(price_list[s.item])
        applied = Decimal(0)
        if s.item in cover.copay:
            share = min(cover.copay[s.item], gross)
            counts = True
        elif s.item in cover.percent_covered:
            applied = min(deductible, gross)
            deductible -= applied
            rest = gross - applied
            share = applied + _half_up_cents(
                rest * (100 - cover.percent_covered[s.item]) / Decimal(100)
            )
            counts = True
        else:
            share = gross
            counts = False
        if counts and oop_left is not None:
            share = min(share, oop_left)
            applied = min(applied, share)
            oop_left -= share
        covered = gross - share
        if fee is None:
            patient = share
        elif fee.nominal_fee is not None:
            patient = min(fee.nominal_fee, share) if gross > 0 else Decimal(0)
        else:
            patient = share - _half_up_cents(share * fee.discount_percent / Decimal(100))
        patient = max(Decimal(0), min(patient, share))
        lines.append(
            LineItem(
                index=i,
                kind=s.kind,
                drug=s.drug,
                gross=gross,
                covered=covered,
                deductible_applied=applied,
                discount=share - patient,
                patient=patient,
            )
        )
    zero = Decimal("0.00")
    return CourseCost(
        lines=tuple(lines),
        gross=sum((li.gross for li in lines), zero),
        covered=sum((li.covered for li in lines), zero),
        discount=sum((li.discount for li in lines), zero),
        patient_out_of_pocket=sum((li.patient for li in lines), zero),
        payer=cover.payer,
        fee_class=None if fee is None else fee.fee_class,
    )


# --------------------------------------------------------------------------------------------
# Coverage checklist (pure data)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """One thing to have ready. ``status``: ``required`` (FDA label/REMS, any payer),
    ``typical`` (a usual payer criterion: confirm with the plan), ``varies``, ``eligible``,
    ``not_eligible`` or ``not_applicable``."""

    key: str
    label: str
    status: str
    note: str
    source: str


@dataclass(frozen=True)
class CoverageChecklist:
    payer: str
    drug: str
    items: tuple[ChecklistItem, ...]
    billing_codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "payer": self.payer,
            "drug": self.drug,
            "billing_codes": list(self.billing_codes),
            "items": [
                {
                    "key": i.key,
                    "label": i.label,
                    "status": i.status,
                    "note": i.note,
                    "source": i.source,
                }
                for i in self.items
            ],
        }


_REMS = "Spravato REMS (FDA, updated 12/31/2024)"
_PAYER_POLICY = "payer medical policy (typical; confirm with the plan)"
_CHECKLIST_DRUGS = ("esketamine", "esketamine_56", "esketamine_84", "ketamine_iv")

# Payer-policy items for esketamine: what each payer kind typically asks for.
_ESKETAMINE_PAYER_STATUS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "medicaid": {"prior_authorization": "typical", "manufacturer_savings": "not_eligible"},
        "medicare": {"prior_authorization": "varies", "manufacturer_savings": "not_eligible"},
        "commercial": {"prior_authorization": "typical", "manufacturer_savings": "eligible"},
        "va_tricare": {"prior_authorization": "typical", "manufacturer_savings": "not_eligible"},
        "uninsured": {
            "prior_authorization": "not_applicable",
            "manufacturer_savings": "not_eligible",
        },
        "other": {"prior_authorization": "varies", "manufacturer_savings": "varies"},
    }
)


def coverage_checklist(payer: str, drug: str) -> CoverageChecklist:
    """What a payer kind typically requires before a course (CLINICAL.md §4 and §8).

    ``drug``: ``esketamine`` (or ``esketamine_56`` / ``esketamine_84``) or ``ketamine_iv``.
    Esketamine: REMS patient enrolment before the first treatment and a REMS-certified setting
    (required by the FDA REMS for every payer); prior authorisation, documented
    treatment-resistant depression (≥ 2 adequate antidepressant trials) and a concurrent oral
    antidepressant as typical payer criteria; Medicare billing codes G2082 (≤ 56 mg) / G2083
    (> 56 mg); the manufacturer savings programme for commercial insurance only (not Medicaid,
    Medicare or VA/TRICARE). IV ketamine is off-label (CLINICAL.md §4): no REMS, coverage is
    uncommon. Payer-policy items are typical, not guaranteed: confirm with the plan.
    """
    if payer not in PAYERS:
        raise InvalidInput("payer", f"unknown payer {payer!r} (known: {', '.join(PAYERS)})")
    if drug not in _CHECKLIST_DRUGS:
        raise InvalidInput("drug", f"unknown drug {drug!r} (known: {', '.join(_CHECKLIST_DRUGS)})")
    if drug == "ketamine_iv":
        return CoverageChecklist(
            payer,
            drug,
            (
                ChecklistItem(
                    "coverage_check",
                    "Ask the payer whether off-label IV ketamine is covered at all",
                    "not_applicable" if payer == "uninsured" else "typical",
                    "IV racemic ketamine for depression is off-label; many plans do not cover it "
                    "and self-pay is common (confirm with the plan)",
                    "off-label use; typical self-pay $400–800 per infusion",
                ),
                ChecklistItem(
                    "sliding_fee",
                    "Offer a sliding-fee assessment (income and household size only)",
                    "typical",
                    "the patient's share after any coverage is discounted by pay class",
                    "HRSA Health Center Program Compliance Manual ch. 9",
                ),
                ChecklistItem(
                    "rems",
                    "Esketamine REMS",
                    "not_applicable",
                    "the REMS applies to esketamine nasal spray, not to IV ketamine",
                    _REMS,
                ),
            ),
            (),
        )
    status = _ESKETAMINE_PAYER_STATUS[payer]
    policy_status = "not_applicable" if payer == "uninsured" else "typical"
    items = (
        ChecklistItem(
            "rems_patient_enrolment",
            "Patient enrolled in the Spravato REMS before the first treatment",
            "required",
            "required by the FDA REMS whoever pays",
            _REMS,
        ),
        ChecklistItem(
            "rems_certified_setting",
            "REMS-certified outpatient setting (prescriber on site, pulse oximeter)",
            "required",
            "required by the FDA REMS whoever pays",
            _REMS,
        ),
        ChecklistItem(
            "prior_authorization",
            "Prior authorisation",
            status["prior_authorization"],
            {
                "typical": "usually required before the first session",
                "varies": "depends on the plan (e.g. Medicare Advantage plans commonly ask)",
                "not_applicable": "self-pay: no payer authorisation",
            }[status["prior_authorization"]],
            _PAYER_POLICY,
        ),
        ChecklistItem(
            "documented_trd",
            "Documented treatment-resistant depression (≥ 2 adequate antidepressant trials)",
            policy_status,
            "failed trials with drug, dose and duration, as most payer policies ask",
            _PAYER_POLICY,
        ),
        ChecklistItem(
            "concurrent_oral_antidepressant",
            "Concurrent oral antidepressant",
            policy_status,
            "commonly required by payer policies; check the current label and policy",
            _PAYER_POLICY,
        ),
        ChecklistItem(
            "manufacturer_savings",
            "Manufacturer savings programme",
            status["manufacturer_savings"],
            "commercial insurance only; not for Medicaid, Medicare or VA/TRICARE",
            "manufacturer programme terms (confirm current terms)",
        ),
    )
    codes: tuple[str, ...] = ()
    if payer == "medicare":
        codes = {
            "esketamine_56": ("G2082",),
            "esketamine_84": ("G2083",),
        }.get(drug, ("G2082", "G2083"))
    return CoverageChecklist(payer, drug, items, codes)
