"""Access services: fee assessments, schedules, prices, coverage, the cost of a course, equity.

The only place that queries this app's tables. Every read and write of patient data checks the
user's roles in the patient's program and writes the audit log; every write is one transaction
with its audit event. The rules themselves live in the pure core: :mod:`trellis.core.fees`
(poverty guidelines, HRSA schedules, assessment), :mod:`trellis.core.cost` (cost of a course,
payer checklist), :mod:`trellis.core.equity` (funnel aggregation and suppression) and
:mod:`trellis.core.access_rules` (billed sessions, the funnel of one episode).

Other apps may call:

* ``latest_fee_assessment(user, patient)`` / ``current_coverage(user, patient)``;
* ``estimate_course_cost(user, patient, protocol_id=None, adaptations=(), later_dose_mg=None)``;
* ``equity_records(program, as_of)`` (no access check: the caller checks; see its docstring);
* ``OUTCOME_PROVIDERS``: the measures app appends ``callable(episode, as_of) -> {"response",
  "remission", "durable_remission_90d"} | None`` so the equity funnel sees outcomes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.access.models import (
    AccessSettings,
    Coverage,
    DocumentKind,
    FeeAssessment,
    FeeSchedule,
    PriceList,
    PriorAuth,
    Region,
)
from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core import cost as core_cost
from trellis.core import equity as core_equity
from trellis.core import fees as core_fees
from trellis.core.access_rules import (
    NOT_BILLED_NAMES,
    billed_sessions,
    episode_funnel,
    omb_categories,
)
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.core.pathway import plan as plan_pathway
from trellis.core.pathway import validate_adaptations
from trellis.core.protocols import Protocol
from trellis.exports import SafeWriter
from trellis.patients.models import Patient

# Who records fee assessments and coverage (issue 6: "a coordinator records…").
FEE_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})
# Who edits the program's sliding-fee schedule and price list.
SCHEDULE_ROLES = frozenset({Role.ADMIN})
# Who sees the equity dashboard: aggregates only, no names (analysts see it de-identified).
EQUITY_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.ANALYST})

# The measures app adds outcomes for the equity funnel: callable(episode, as_of) -> mapping of
# response / remission / durable_remission_90d (True, False or None = unknown), or None.
OUTCOME_PROVIDERS: list[Callable[[Any, date], Mapping[str, bool | None] | None]] = []


class ScheduleRefused(InvalidInput):
    """A schedule that breaks a structural or HRSA rule; ``violations`` says which."""

    def __init__(self, violations: Sequence[core_fees.Violation]) -> None:
        super().__init__("schedule", "; ".join(f"{v.rule}: {v.message}" for v in violations))
        self.violations = list(violations)


def _today() -> date:
    return timezone.localdate()


# --- sliding-fee schedule -----------------------------------------------------------------------


def schedule_to_data(schedule: core_fees.FeeSchedule) -> dict[str, Any]:
    """A core schedule as JSON-safe data that :func:`trellis.core.fees.parse_schedule` reads."""

    def pct(value: Fraction | None) -> str | None:
        if value is None:
            return None
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")

    return {
        "name": schedule.name,
        "source": schedule.source,
        "criteria": list(schedule.criteria),
        "classes": [
            {
                "label": c.label,
                "max_percent": pct(c.max_percent),
                "discount_percent": c.discount_percent,
                "nominal_fee": None if c.nominal_fee is None else f"{c.nominal_fee:.2f}",
            }
            for c in schedule.classes
        ],
    }


@dataclass(frozen=True)
class CurrentSchedule:
    schedule: core_fees.FeeSchedule
    version: int  # 0: the Trellis default schedule
    created_at: datetime | None


def current_schedule(program: Program) -> CurrentSchedule:
    """The program's latest sliding-fee schedule, or the Trellis default (version 0)."""
    row = FeeSchedule.objects.filter(program=program).order_by("-version").first()
    if row is None:
        return CurrentSchedule(core_fees.default_schedule(), 0, None)
    where = f"schedule v{row.version}"
    parsed = core_fees.check_schedule(core_fees.parse_schedule(row.data, where), where)
    return CurrentSchedule(parsed, row.version, row.created_at)


def check_schedule_data(data: Mapping[str, Any]) -> core_fees.FeeSchedule:
    """Parse and check schedule data; :class:`ScheduleRefused` lists every broken rule."""
    schedule = core_fees.parse_schedule(data, "schedule")
    violations = core_fees.validate_schedule(schedule)
    if violations:
        raise ScheduleRefused(violations)
    return schedule


@transaction.atomic
def save_schedule(
    user: Any, program: Program, data: Mapping[str, Any], *, request: HttpRequest | None = None
) -> FeeSchedule:
    """Store a new version of the program's schedule if it passes every HRSA rule (admins)."""
    require_roles(user, program, SCHEDULE_ROLES)
    schedule = check_schedule_data(data)
    latest = FeeSchedule.objects.select_for_update().filter(program=program).first()
    row = FeeSchedule.objects.create(
        program=program,
        version=(latest.version if latest else 0) + 1,
        data=schedule_to_data(schedule),
        created_by=user,
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"version": row.version, "classes": len(schedule.classes)},
    )
    return row


# --- prices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentPrices:
    prices: Mapping[str, Decimal]
    version: int  # 0: the Trellis defaults (trellis.core.cost.DEFAULT_PRICES)


def current_prices(program: Program) -> CurrentPrices:
    row = PriceList.objects.filter(program=program).order_by("-version").first()
    if row is None:
        return CurrentPrices(core_cost.make_prices(), 0)
    return CurrentPrices(core_cost.make_prices(row.prices), row.version)


@transaction.atomic
def save_prices(
    user: Any, program: Program, prices: Mapping[str, object], *, request: HttpRequest | None = None
) -> PriceList:
    """Store a new version of the program's price list (admins); every item validated."""
    require_roles(user, program, SCHEDULE_ROLES)
    checked = core_cost.make_prices(prices)
    latest = PriceList.objects.select_for_update().filter(program=program).first()
    row = PriceList.objects.create(
        program=program,
        version=(latest.version if latest else 0) + 1,
        prices={item: f"{amount:.2f}" for item, amount in checked.items()},
        created_by=user,
    )
    record(action=Action.UPDATE, request=request, actor=user, program=program, obj=row)
    return row


# --- access settings (rurality table) -----------------------------------------------------------


def rurality_table(program: Program) -> Mapping[str, str]:
    row = AccessSettings.objects.filter(program=program).first()
    if row is None or not row.rurality_table:
        return {}
    return core_equity.parse_rurality_table(row.rurality_table, "rurality_table")


@transaction.atomic
def set_rurality_table(
    user: Any,
    program: Program,
    table: Mapping[str, str],
    source: str,
    *,
    request: HttpRequest | None = None,
) -> AccessSettings:
    """Set the program's ZIP → urban/rural table (admins); validated, never guessed."""
    require_roles(user, program, SCHEDULE_ROLES)
    checked = core_equity.parse_rurality_table(dict(table), "rurality_table")
    row, _ = AccessSettings.objects.update_or_create(
        program=program, defaults={"rurality_table": dict(checked), "rurality_source": source}
    )
    record(action=Action.UPDATE, request=request, actor=user, program=program, obj=row)
    return row


# --- fee assessments ----------------------------------------------------------------------------


def poverty_percent_by_patient(program: Program) -> dict[Any, Fraction]:
    """Each patient's income as an exact percent of the poverty guideline, from their latest fee
    assessment (one query): what the UDS income table reads. Callers check roles."""
    out: dict[Any, Fraction] = {}
    rows = FeeAssessment.objects.filter(program=program).order_by(
        "patient_id", "-document_date", "-pk"
    )
    for patient_id, income, guideline in rows.values_list(
        "patient_id", "annual_income", "poverty_guideline"
    ):
        if patient_id not in out and guideline:
            out[patient_id] = Fraction(Decimal(income)) * 100 / guideline
    return out


def fee_assessments_of(user: Any, patient: Patient) -> QuerySet[FeeAssessment]:
    """The patient's assessments, newest first (empty unless ``user`` may see the patient)."""
    rows: QuerySet[FeeAssessment] = FeeAssessment.objects.visible_to(user).filter(patient=patient)
    return rows


def latest_fee_assessment(user: Any, patient: Patient) -> FeeAssessment | None:
    return fee_assessments_of(user, patient).first()


@transaction.atomic
def assess_patient_fee(
    user: Any,
    patient: Patient,
    *,
    year: int,
    region: str,
    household_size: int,
    annual_income: Decimal | int | str,
    document_kind: str,
    document_date: date,
    document_note: str = "",
    today: date | None = None,
    request: HttpRequest | None = None,
) -> FeeAssessment:
    """Assess the patient's sliding-fee class with the program's schedule and store it whole.

    CLINICAL.md §8 / HRSA ch. 9: only income and household size are used. An unknown guideline
    year or region, or a household the guideline data cannot assess, is an :class:`InvalidInput`
    naming the field (never a fallback to another year). The document seen and its date are
    required; "other" needs a note.
    """
    require_roles(user, patient.program, FEE_ROLES)
    today = today or _today()
    if region not in Region.values:
        raise InvalidInput(
            "region", f"unknown region {region!r} (known: {', '.join(Region.values)})"
        )
    if document_kind not in DocumentKind.values:
        raise InvalidInput("document_kind", f"unknown document kind {document_kind!r}")
    note = " ".join(document_note.split())
    if document_kind == DocumentKind.OTHER and not note:
        raise InvalidInput("document_note", "say which document was seen")
    if document_date > today:
        raise InvalidInput("document_date", "the document date cannot be in the future")
    current = current_schedule(patient.program)
    result = core_fees.assess_fee(year, region, household_size, annual_income, current.schedule)
    row = FeeAssessment.objects.create(
        patient=patient,
        program=patient.program,
        year=result.year,
        region=result.region,
        household_size=result.household_size,
        annual_income=result.annual_income,
        document_kind=document_kind,
        document_note=note,
        document_date=document_date,
        poverty_guideline=result.poverty_guideline,
        percent_of_poverty=result.percent_of_poverty,
        fee_class=result.fee_class,
        discount_percent=result.discount_percent,
        nominal_fee=result.nominal_fee,
        schedule_version=current.version,
        schedule_name=current.schedule.name,
        assessed_by=user,
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=row,
        detail={"class": row.fee_class, "schedule_version": row.schedule_version},
    )
    return row


def core_fee(row: FeeAssessment) -> core_fees.FeeAssessment:
    """A stored assessment as the core value :func:`trellis.core.cost.course_cost` takes."""
    return core_fees.FeeAssessment(
        year=row.year,
        region=row.region,
        household_size=row.household_size,
        annual_income=Decimal(row.annual_income),
        poverty_guideline=row.poverty_guideline,
        percent_exact=Fraction(Decimal(row.percent_of_poverty)),
        percent_of_poverty=Decimal(row.percent_of_poverty),
        fee_class=row.fee_class,
        discount_percent=row.discount_percent,
        nominal_fee=None if row.nominal_fee is None else Decimal(row.nominal_fee),
    )


# --- coverage -----------------------------------------------------------------------------------


def coverages_of(user: Any, patient: Patient) -> QuerySet[Coverage]:
    rows: QuerySet[Coverage] = Coverage.objects.visible_to(user).filter(patient=patient)
    return rows


def current_coverage(user: Any, patient: Patient) -> Coverage | None:
    return coverages_of(user, patient).first()


def core_coverage(row: Coverage | None) -> core_cost.Coverage | None:
    if row is None:
        return None
    return core_cost.make_coverage(
        row.payer,
        percent_covered=row.percent_covered,
        copay=row.copay,
        deductible_remaining=Decimal(row.deductible_remaining),
        out_of_pocket_max_remaining=(
            None
            if row.out_of_pocket_max_remaining is None
            else Decimal(row.out_of_pocket_max_remaining)
        ),
    )


@transaction.atomic
def record_coverage(
    user: Any,
    patient: Patient,
    *,
    payer: str,
    plan_name: str = "",
    member_id: str = "",
    prior_auth_status: str = PriorAuth.NOT_NEEDED,
    prior_auth_requested_on: date | None = None,
    prior_auth_decided_on: date | None = None,
    prior_auth_expires_on: date | None = None,
    percent_covered: Mapping[str, object] | None = None,
    copay: Mapping[str, object] | None = None,
    deductible_remaining: object = 0,
    out_of_pocket_max_remaining: object = None,
    today: date | None = None,
    request: HttpRequest | None = None,
) -> Coverage:
    """Record the patient's coverage (a new row; the latest is current), stored whole.

    Coverage terms are checked by :func:`trellis.core.cost.make_coverage`; prior-authorisation
    dates must fit the status (pending: requested; approved/denied: decided, not before the
    request); an uninsured patient has no plan, member id or prior authorisation.
    """
    require_roles(user, patient.program, FEE_ROLES)
    today = today or _today()
    terms = core_cost.make_coverage(
        payer,
        percent_covered=percent_covered,
        copay=copay,
        deductible_remaining=deductible_remaining,
        out_of_pocket_max_remaining=out_of_pocket_max_remaining,
    )
    plan_name = " ".join(plan_name.split())
    member_id = member_id.strip()
    if prior_auth_status not in PriorAuth.values:
        raise InvalidInput("prior_auth_status", f"unknown status {prior_auth_status!r}")
    if payer == "uninsured":
        if plan_name:
            raise InvalidInput("plan_name", "an uninsured patient has no plan")
        if member_id:
            raise InvalidInput("member_id", "an uninsured patient has no member ID")
        if prior_auth_status != PriorAuth.NOT_NEEDED:
            raise InvalidInput("prior_auth_status", "self-pay needs no prior authorisation")
    elif not member_id and payer != "other":
        raise InvalidInput("member_id", "give the member ID from the insurance card")
    for name, value in (
        ("prior_auth_requested_on", prior_auth_requested_on),
        ("prior_auth_decided_on", prior_auth_decided_on),
    ):
        if value is not None and value > today:
            raise InvalidInput(name, "cannot be in the future")
    if prior_auth_status == PriorAuth.PENDING and prior_auth_requested_on is None:
        raise InvalidInput("prior_auth_requested_on", "give the date the request was sent")
    if prior_auth_status in (PriorAuth.APPROVED, PriorAuth.DENIED):
        if prior_auth_decided_on is None:
            raise InvalidInput("prior_auth_decided_on", "give the date of the payer's decision")
    elif prior_auth_decided_on is not None:
        raise InvalidInput("prior_auth_decided_on", "only an approved or denied request has one")
    if (
        prior_auth_requested_on
        and prior_auth_decided_on
        and prior_auth_decided_on < prior_auth_requested_on
    ):
        raise InvalidInput("prior_auth_decided_on", "cannot be before the request")
    if prior_auth_expires_on is not None:
        if prior_auth_status != PriorAuth.APPROVED:
            raise InvalidInput("prior_auth_expires_on", "only an approved authorisation expires")
        if prior_auth_decided_on and prior_auth_expires_on < prior_auth_decided_on:
            raise InvalidInput("prior_auth_expires_on", "cannot be before the approval")
    row = Coverage.objects.create(
        patient=patient,
        program=patient.program,
        payer=terms.payer,
        plan_name=plan_name,
        member_id=member_id,
        prior_auth_status=prior_auth_status,
        prior_auth_requested_on=prior_auth_requested_on,
        prior_auth_decided_on=prior_auth_decided_on,
        prior_auth_expires_on=prior_auth_expires_on,
        percent_covered=dict(terms.percent_covered),
        copay={k: f"{v:.2f}" for k, v in terms.copay.items()},
        deductible_remaining=terms.deductible_remaining,
        out_of_pocket_max_remaining=terms.out_of_pocket_max_remaining,
        recorded_by=user,
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=row,
        detail={"payer": row.payer, "prior_auth": row.prior_auth_status},
    )
    return row


def rems_enrolment_on_file(user: Any, patient: Patient) -> Any | None:
    """The patient's Spravato REMS enrolment as the dosing app records it (it owns the REMS
    records: the one source of REMS patient enrolment, read by dosing and by coverage), or
    None."""
    try:
        from trellis.dosing import services as dosing
    except ImportError:  # pragma: no cover - the dosing app is part of Trellis
        return None
    enrolment_of = getattr(dosing, "enrolment_of", None)
    return None if enrolment_of is None else enrolment_of(user, patient)


def checklist_drug(protocol: Protocol | None) -> str:
    """The payer checklist's drug for a track (esketamine when no track is chosen yet)."""
    if protocol is None or protocol.drug == "esketamine":
        return "esketamine"
    return "ketamine_iv"


def payer_checklist(payer: str, protocol: Protocol | None = None) -> core_cost.CoverageChecklist:
    """What the payer typically requires for the track's drug (CLINICAL.md §4, §8)."""
    return core_cost.coverage_checklist(payer, checklist_drug(protocol))


def savings_programme_eligible(payer: str) -> bool:
    """Whether the manufacturer's esketamine savings programme applies (commercial only)."""
    items = core_cost.coverage_checklist(payer, "esketamine").items
    return any(i.key == "manufacturer_savings" and i.status == "eligible" for i in items)


# --- cost of a course ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    """The cost of a course for one patient, computed on view from the current data."""

    patient: Patient
    protocol: Protocol
    source: str  # "episode" (the active course's activities) or "plan" (a planned track)
    adaptations: tuple[str, ...]
    first_dose_mg: int | None
    later_dose_mg: int | None
    cost: core_cost.CourseCost
    not_billed: int
    fee: FeeAssessment | None
    coverage: Coverage | None
    prices_version: int
    checklist: core_cost.CoverageChecklist
    computed_on: date
    #: "pending" or "denied" while the esketamine prior authorisation is not approved: then
    #: ``cost`` is the self-pay figure (the plan pays nothing yet) and ``if_approved`` what the
    #: patient would pay once it is approved (pending only). Issue 19.
    prior_auth: str = ""
    if_approved: core_cost.CourseCost | None = None

    @property
    def savings_eligible(self) -> bool:
        return any(
            i.key == "manufacturer_savings" and i.status == "eligible" for i in self.checklist.items
        )

    def summary_lines(self) -> list[dict[str, Any]]:
        """Line items grouped by item (kind or drug): count, gross, covered, discount, patient."""
        groups: dict[str, dict[str, Any]] = {}
        for li in self.cost.lines:
            key = li.drug or li.kind
            g = groups.setdefault(
                key,
                {
                    "item": key,
                    "kind": li.kind,
                    "count": 0,
                    "gross": Decimal("0.00"),
                    "covered": Decimal("0.00"),
                    "discount": Decimal("0.00"),
                    "patient": Decimal("0.00"),
                },
            )
            g["count"] += 1
            for name in ("gross", "covered", "discount", "patient"):
                g[name] += getattr(li, name)
        return list(groups.values())


def _dose_mgs(
    protocol: Protocol, patient: Patient, later_dose_mg: int | None, today: date
) -> tuple[int | None, int | None]:
    if protocol.drug != "esketamine":
        return None, None
    rule = protocol.dose_rule
    first = rule.first_dose_mg
    if rule.first_dose_mg_age_65_plus and patient.age_on(today) >= 65:
        first = rule.first_dose_mg_age_65_plus
    allowed = tuple(rule.fixed_mg)
    if later_dose_mg is None:
        # The higher label dose: an estimate should not promise less than the course may cost.
        later = max(allowed) if allowed else first
    elif allowed and later_dose_mg not in allowed:
        raise InvalidInput("later_dose_mg", f"this track doses {' or '.join(map(str, allowed))} mg")
    else:
        later = later_dose_mg
    return first, later


def estimate_course_cost(
    user: Any,
    patient: Patient,
    *,
    protocol_id: str | None = None,
    adaptations: Iterable[str] = (),
    later_dose_mg: int | None = None,
    start: date | None = None,
    request: HttpRequest | None = None,
) -> CostEstimate:
    """The expected out-of-pocket of a course (CLINICAL.md §8; order in trellis.core.cost).

    With ``protocol_id`` the track is planned from ``start`` (today) with ``adaptations``
    (before enrolment); without it the patient's active episode's activities are used (not the
    cancelled ones). Prices are the program's; coverage and the sliding-fee class are the
    patient's latest. Computed on every call, so it follows the plan as it changes. Audited as a
    view of the patient's data.
    """
    from trellis.care import services as care

    require_roles(user, patient.program, CLINICAL_ROLES)
    today = _today()
    activities: list[tuple[str, str]]
    if protocol_id:
        # The program's own adapted tracks too (issue 19), not only the packaged ones.
        protocol = care.resolve_protocol(patient.program, protocol_id)
        adapt = validate_adaptations(adaptations)
        planned = plan_pathway(protocol, start or today, adapt)
        activities = [(a.kind, a.name) for a in planned.activities]
        source = "plan"
    else:
        episode = (
            care.episodes_of(user, patient).exclude(phase__in=["completed", "withdrawn"]).first()
        )
        if episode is None:
            raise InvalidInput("protocol", "choose a track: this patient has no active course")
        protocol = care.protocol_of(episode)
        adapt = tuple(episode.adaptations)
        activities = [
            (a.kind, a.name)
            for a in care.activities_of(episode)
            .exclude(status="cancelled")
            .order_by("target", "id")
        ]
        source = "episode"
    first_mg, later_mg = _dose_mgs(protocol, patient, later_dose_mg, today)
    billed = billed_sessions(
        protocol.drug, activities, first_dose_mg=first_mg, later_dose_mg=later_mg
    )
    prices = current_prices(patient.program)
    fee = latest_fee_assessment(user, patient)
    coverage = current_coverage(user, patient)
    result = core_cost.course_cost(
        billed.sessions,
        prices.prices,
        core_coverage(coverage),
        None if fee is None else core_fee(fee),
    )
    prior_auth = prior_auth_hold(coverage, protocol)
    if_approved = None
    if prior_auth:
        # Until the payer approves, the plan pays nothing: the estimate is self-pay, with the
        # covered figure beside it "if approved" (never counted as if it were certain).
        if_approved = result if prior_auth == PriorAuth.PENDING else None
        result = core_cost.course_cost(
            billed.sessions, prices.prices, None, None if fee is None else core_fee(fee)
        )
    payer = coverage.payer if coverage is not None else "uninsured"
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        object_type="access.course_cost",
        detail={"protocol": protocol.id, "source": source},
    )
    return CostEstimate(
        patient=patient,
        protocol=protocol,
        source=source,
        adaptations=tuple(adapt),
        first_dose_mg=first_mg,
        later_dose_mg=later_mg,
        cost=result,
        not_billed=billed.not_billed,
        fee=fee,
        coverage=coverage,
        prices_version=prices.version,
        checklist=payer_checklist(payer, protocol),
        computed_on=today,
        prior_auth=prior_auth,
        if_approved=if_approved,
    )


def prior_auth_hold(coverage: Coverage | None, protocol: Protocol) -> str:
    """``"pending"`` or ``"denied"`` when the current coverage's prior authorisation for an
    esketamine track is not approved (the coverage form records it for esketamine); ``""``
    otherwise (approved, not needed, self-pay, or not an esketamine track)."""
    if coverage is None or protocol.drug != "esketamine":
        return ""
    if coverage.prior_auth_status in (PriorAuth.PENDING, PriorAuth.DENIED):
        return str(coverage.prior_auth_status)
    return ""


def prior_auth_blocks(episode: Any) -> str:
    """Why the course cannot be booked for its payer (issue 19): ``""`` when it can. A pending
    or denied prior authorisation recorded on the patient's current coverage means this payer
    requires one and has not given it: esketamine is not booked until it is approved."""
    from trellis.care import services as care

    protocol = care.protocol_of(episode)
    coverage = (
        Coverage.objects.filter(patient_id=episode.patient_id)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    hold = prior_auth_hold(coverage, protocol)
    if not hold:
        return ""
    return (
        "prior authorisation pending with the payer"
        if hold == PriorAuth.PENDING
        else "prior authorisation denied by the payer"
    )


# --- equity -------------------------------------------------------------------------------------


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def equity_records(program: Program, as_of: date) -> list[core_equity.EpisodeRecord]:
    """One :class:`~trellis.core.equity.EpisodeRecord` per episode of ``program`` referred on or
    before ``as_of``, from what the program's records say at the end of that day.

    No access check and no audit here: this is the aggregation step; callers
    (:func:`equity_report`, :func:`equity_csv`) check roles and audit. The records carry no
    identifying data. Sources, per field:

    * poverty class: the patient's latest fee assessment made by ``as_of`` (else unknown);
    * race and ethnicity, preferred language: the patient record (OMB SPD 15 mapping in
      :mod:`trellis.core.access_rules`; "prefer not to say" is unknown);
    * payer: the latest coverage recorded by ``as_of``, else the payer on the patient record;
    * rurality: the patient's ZIP code in the program's rurality table (else unknown);
    * funnel: care events up to ``as_of`` (screened, dose 1 given, every induction dose given
      with integration adherence ≥ 80 %, :func:`trellis.core.access_rules.episode_funnel`);
      response and remission come from ``trellis.measures.services.outcomes_for_episode``
      (CLINICAL.md §3, dated on or before ``as_of``); durable remission at 90 days, which the
      measures services do not offer yet, and any other outcome come from ``OUTCOME_PROVIDERS``;
      an outcome nobody provides counts as not reached (False), which the dashboard says;
    * out-of-pocket: the expected out-of-pocket of the episode's planned course (program prices,
      the coverage and fee class above): what the patient is expected to pay, not payments.

    Reads patients and episodes through their program and patient relations (the care and
    patients services offer only per-user, clinical-role queries, and analysts hold none).
    """
    from trellis.care import services as care

    end = _end_of(as_of)
    table = rurality_table(program)
    prices = current_prices(program).prices
    fees: dict[Any, FeeAssessment] = {}
    for fa in FeeAssessment.objects.filter(program=program, assessed_at__lte=end).order_by(
        "assessed_at", "id"
    ):
        fees[fa.patient_id] = fa
    coverages: dict[Any, Coverage] = {}
    for cv in Coverage.objects.filter(program=program, recorded_at__lte=end).order_by(
        "recorded_at", "id"
    ):
        coverages[cv.patient_id] = cv
    records = []
    for patient in program.patients.all().order_by("pk"):
        # The reverse relation of care.Episode.patient (care owns the model).
        episodes = patient.episodes
        for episode in episodes.filter(referred_on__lte=as_of).order_by("referred_on"):
            protocol = care.protocol_of(episode)
            events = [e for e in care.events_of(episode) if e.at <= end]
            doses = {e.index for e in events if e.kind == "dose_given"}
            screened = any(e.kind == "screened" for e in events)
            report = care.adherence(episode, min(end, timezone.now()))
            outcomes: dict[str, bool | None] = {}
            for provider in (_measures_outcomes, *OUTCOME_PROVIDERS):
                outcomes.update(provider(episode, as_of) or {})
            flags = episode_funnel(
                screened=screened,
                doses_given=len(doses),
                doses_planned=protocol.doses.count,
                adherence_percent=report.percent,
                outcomes=outcomes,
            )
            fee = fees.get(patient.pk)
            coverage = coverages.get(patient.pk)
            payer = coverage.payer if coverage else (patient.payer or None)
            try:
                rurality = core_equity.rurality_for_zip(patient.zip_code or None, table)
            except InvalidInput:
                rurality = core_equity.UNKNOWN
            first_mg, later_mg = _dose_mgs(protocol, patient, None, as_of)
            acts = [
                (a.kind, a.name)
                for a in care.activities_of(episode)
                .exclude(status="cancelled")
                .order_by("target", "id")
            ]
            billed = billed_sessions(
                protocol.drug, acts, first_dose_mg=first_mg, later_dose_mg=later_mg
            )
            oop = core_cost.course_cost(
                billed.sessions,
                prices,
                core_coverage(coverage),
                None if fee is None else core_fee(fee),
            ).patient_out_of_pocket
            records.append(
                core_equity.EpisodeRecord(
                    poverty_class=fee.fee_class if fee else None,
                    race_ethnicity=omb_categories(patient.race_ethnicity or []),
                    language=patient.preferred_language or None,
                    payer=payer,
                    rurality=rurality,
                    out_of_pocket=oop,
                    **flags,
                )
            )
    return records


def _measures_outcomes_function() -> Callable[[Any], Any] | None:
    try:
        from trellis.measures import services as measures
    except ImportError:  # pragma: no cover - the measures app is part of Trellis
        return None
    function: Callable[[Any], Any] | None = getattr(measures, "outcomes_for_episode", None)
    return function


def _measures_outcomes(episode: Any, as_of: date) -> dict[str, bool | None] | None:
    """Response and remission from the measures app (CLINICAL.md §3), dated on or before
    ``as_of``. Durable remission at 90 days is not offered by the measures services yet: it stays
    unknown (False in the funnel) unless an ``OUTCOME_PROVIDERS`` entry gives it."""
    function = _measures_outcomes_function()
    if function is None:
        return None
    try:
        outcome = function(episode)
    except InvalidInput:
        return None
    response = getattr(outcome, "response", None)
    remission = getattr(outcome, "remission", None)
    return {
        "response": response is not None and response <= as_of,
        "remission": remission is not None and remission <= as_of,
    }


def outcome_stages_known() -> frozenset[str]:
    """Funnel stages past "completed" that some app provides (the rest count as not reached)."""
    known: set[str] = set()
    if _measures_outcomes_function() is not None:
        known |= {"response", "remission"}
    if OUTCOME_PROVIDERS:
        known |= {"response", "remission", "durable_remission_90d"}
    return frozenset(known)


def outcomes_known() -> bool:
    """Whether every outcome stage (response, remission, durable remission) is provided."""
    return outcome_stages_known() == {"response", "remission", "durable_remission_90d"}


def equity_report(
    user: Any, program: Program | None, as_of: date, *, request: HttpRequest | None = None
) -> core_equity.EquityReport:
    """The program's equity funnel, suppressed for release (admins, coordinators, analysts).

    Aggregates only: no names, no identifiers; audited as a view of the program's aggregate.
    """
    if program is None:
        raise NotAllowed("Choose a program first.")
    require_roles(user, program, EQUITY_ROLES)
    report = core_equity.aggregate(equity_records(program, as_of))
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="access.equity_dashboard",
        detail={"as_of": as_of.isoformat()},
    )
    return report


CSV_STAGE_FIELDS = ("count", "rate", "disparity_ratio")


def equity_csv_text(program: Program, report: core_equity.EquityReport, as_of: date) -> str:
    """The report as CSV: one row per dimension and group (plus each dimension's total).

    Display values only ("<11", "suppressed"); the ``data`` column says ``synthetic`` for a
    synthetic program. No identifying data.
    """
    out = io.StringIO()
    writer = SafeWriter(out, lineterminator="\n")
    header = ["data", "program", "as_of", "dimension", "group", "episodes"]
    for stage in core_equity.FUNNEL:
        header += [f"{stage}_{f}" for f in CSV_STAGE_FIELDS]
    header.append("median_out_of_pocket")
    writer.writerow(header)
    label = "synthetic" if program.is_synthetic else ""

    def cell(value: Any) -> str:
        if value is None:
            return ""
        return str(value)

    for name, dim in report.dimensions.items():
        for g in (*dim.groups, dim.total):
            row = [label, program.slug, as_of.isoformat(), name, g.group, cell(g.episodes)]
            for stage in core_equity.FUNNEL:
                s = g.stages[stage]
                row += [cell(s.count), cell(s.rate), cell(s.disparity_ratio)]
            row.append(cell(g.median_out_of_pocket))
            writer.writerow(row)
    return out.getvalue()


def equity_csv(
    user: Any, program: Program | None, as_of: date, *, request: HttpRequest | None = None
) -> str:
    """The equity report as CSV (same roles as the dashboard); audited as an export."""
    if program is None:
        raise NotAllowed("Choose a program first.")
    require_roles(user, program, EQUITY_ROLES)
    report = core_equity.aggregate(equity_records(program, as_of))
    text = equity_csv_text(program, report, as_of)
    record(
        action=Action.EXPORT,
        request=request,
        actor=user,
        program=program,
        object_type="access.equity_csv",
        detail={"as_of": as_of.isoformat(), "synthetic": program.is_synthetic},
    )
    return text


def prior_auth_board_note(episode: Any) -> str | None:
    """The pathway board's note on a course whose prior authorisation is pending or denied."""
    return prior_auth_board_notes([episode]).get(episode.pk)


def prior_auth_board_notes(episodes: list[Any]) -> dict[Any, str | None]:
    """:func:`prior_auth_board_note` of every episode in one coverage query (its batch twin)."""
    from trellis.care import services as care

    latest: dict[Any, Coverage] = {}
    for row in Coverage.objects.filter(patient_id__in={e.patient_id for e in episodes}).order_by(
        "recorded_at", "pk"
    ):
        latest[row.patient_id] = row
    out: dict[Any, str | None] = {}
    for e in episodes:
        coverage = latest.get(e.patient_id)
        hold = (
            prior_auth_hold(coverage, care.protocol_of(e))
            if coverage is not None and coverage.prior_auth_status in ("pending", "denied")
            else ""
        )
        out[e.pk] = (
            str(_("Prior authorisation pending: not booked until approved"))
            if hold == PriorAuth.PENDING
            else str(_("Prior authorisation denied: not booked"))
            if hold == PriorAuth.DENIED
            else None
        )
    return out


# --- the de-identified network dataset (trellis.network) ------------------------------------

#: Patient-record payers → the network schema's payers (docs/network.md).
NETWORK_PAYERS: Mapping[str, str] = {
    "medicaid": "medicaid",
    "medicare": "medicare",
    "commercial": "commercial",
    "uninsured": "self_pay",
    "va_tricare": "other",
    "other": "other",
}


@dataclass(frozen=True)
class NetworkCharge:
    """One billed session of an episode: its date, item and money (exact cents)."""

    on: date
    item: str
    gross: Decimal
    patient: Decimal
    payer: Decimal


def network_fields(patient: Patient) -> dict[str, str]:
    """Poverty class (latest fee assessment: A–F, else ``unknown``), payer (latest coverage,
    else the patient record; network vocabulary) and rurality (the program's ZIP table) of a
    patient, for the de-identified export. No access check here: the network export service
    checks the admin role and audits."""
    fee = FeeAssessment.objects.filter(patient=patient).order_by("-assessed_at", "-id").first()
    cover = Coverage.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()
    payer = cover.payer if cover else (patient.payer or "")
    try:
        rurality = core_equity.rurality_for_zip(
            patient.zip_code or None, rurality_table(patient.program)
        )
    except InvalidInput:
        rurality = core_equity.UNKNOWN
    fee_class = fee.fee_class if fee else ""
    return {
        "poverty_class": fee_class if fee_class in ("A", "B", "C", "D", "E", "F") else "unknown",
        "payer": NETWORK_PAYERS.get(payer, "unknown"),
        "rurality": rurality,
    }


def network_charges(episode: Any, done: Sequence[tuple[date, str, str]]) -> list[NetworkCharge]:
    """The charges of an episode's sessions done, ``(date, kind, name)`` in order: program
    prices, the patient's latest coverage and sliding-fee class, applied as
    :func:`trellis.core.cost.course_cost` does (CLINICAL.md §8)."""
    from trellis.care import services as care

    patient = episode.patient
    protocol = care.protocol_of(episode)
    billable = [
        (d, k, n)
        for d, k, n in done
        if n not in NOT_BILLED_NAMES and k in core_cost.SESSION_KINDS and k != "assessment"
    ]
    if not billable:
        return []
    first_mg, later_mg = _dose_mgs(protocol, patient, None, billable[0][0])
    billed = billed_sessions(
        protocol.drug, [(k, n) for _, k, n in billable], first_dose_mg=first_mg,
        later_dose_mg=later_mg,
    )  # fmt: skip
    fee = FeeAssessment.objects.filter(patient=patient).order_by("-assessed_at", "-id").first()
    cover = Coverage.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()
    cost = core_cost.course_cost(
        billed.sessions,
        current_prices(patient.program).prices,
        core_coverage(cover),
        None if fee is None else core_fee(fee),
    )
    return [
        NetworkCharge(
            on, line.drug or line.kind, line.gross, line.patient, line.gross - line.patient
        )
        for (on, _, _), line in zip(billable, cost.lines, strict=True)
    ]
