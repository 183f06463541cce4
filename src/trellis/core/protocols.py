"""Protocol tracks: versioned YAML files, validated at load, parsed into frozen dataclasses.

A track (``iv-trd``, ``esketamine-trd``, …) is **data**, not code (ARCHITECTURE.md, rule 2): one
YAML file per track under ``trellis/core/data/protocols/``, checked first against
``protocol.schema.json`` (structure) and then by :func:`semantic_errors` (min ≤ max, known
instrument ids, cadences that add up to the dose count, esketamine tracks requiring REMS
enrolment…). Every problem is a :class:`ProtocolError` naming the file, the field and the problem,
rendered like ``iv-trd.yaml: doses.min_days_between: must be ≤ max (5 > 3)``.

The clinical content of each file cites CLINICAL.md §3–7 and the original publications
(Murrough 2013, Wilkinson 2021, the Spravato label and REMS, Feder 2021, Rodriguez 2013,
Grabski 2022, Bahji 2021). docs/protocols.md describes the format field by field.

File reading happens only in the loader functions here (:func:`load_protocol`,
:func:`load_protocol_file`); :func:`parse_protocol` is pure and the rule modules
(:mod:`trellis.core.screening`, :mod:`trellis.core.pathway`) only take :class:`Protocol` objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from trellis.core.errors import FileInvalid, FileProblem, InvalidInput
from trellis.core.instruments import instrument_ids

DATA_PACKAGE = "trellis.core"
DATA_DIR = ("data", "protocols")
SCHEMA_FILE = "protocol.schema.json"

#: Requirements that must be met before the first dose, and what each one means.
REQUIREMENTS: Mapping[str, str] = {
    "rems_patient_enrolment": "patient enrolled in the Spravato REMS",
    "safety_plan": "a written safety plan on file",
    "part2_consent": "42 CFR Part 2 consent for substance-use records",
    "mood_stabiliser_documented": "a mood stabiliser documented (Bahji 2021)",
    "consent_to_touch_documented": "consent to touch discussed and documented (trauma-informed)",
    "preparation_teach_back": "the preparation guide read and its teach-back questions answered",
}

#: Cultural and access adaptations that layer on any track (exact names).
ADAPTATIONS = (
    "language-concordant",
    "interpreter",
    "chw-navigator",
    "medical-distrust",
    "family-involved",
    "transport",
)

#: Legal floors and limits for esketamine tracks (CLINICAL.md §4-5: law, not a setting): the
#: REMS monitoring time a session must allow for, and the label's highest dose (3 devices).
ESKETAMINE_MIN_SESSION_MINUTES = 120
ESKETAMINE_MAX_MG = 84

Drug = Literal["ketamine", "esketamine"]
Route = Literal["iv", "im", "intranasal"]
ItemKind = Literal["hard", "review"]

_DRUG_ROUTES: Mapping[str, frozenset[str]] = {
    "ketamine": frozenset({"iv", "im"}),
    "esketamine": frozenset({"intranasal"}),
}


#: One problem in one protocol file (file, field, problem).
ProtocolError = FileProblem


class ProtocolInvalid(FileInvalid):
    """A protocol file failed validation; ``errors`` lists every problem found (the CLI prints
    each as one line, the first naming the file and the field)."""


@dataclass(frozen=True)
class ScreeningItem:
    """An inclusion/exclusion item: ``hard`` excludes, ``review`` needs a prescriber's review.

    ``age_below`` makes the item computed from the patient's age rather than answered.
    """

    id: str
    question: str
    kind: ItemKind
    age_below: int | None = None


@dataclass(frozen=True)
class Preparation:
    count: int
    minutes: int
    topics: tuple[str, ...]
    days_between: int = 3


@dataclass(frozen=True)
class CadenceBlock:
    """Weeks ``from_week``–``to_week`` of dosing (1-based, inclusive), ``per_week`` doses each."""

    from_week: int
    to_week: int
    per_week: int

    @property
    def dose_count(self) -> int:
        return (self.to_week - self.from_week + 1) * self.per_week


@dataclass(frozen=True)
class Maintenance:
    every_weeks: tuple[int, ...]
    optional: bool = True


@dataclass(frozen=True)
class DoseSeries:
    """The induction series: either interval spacing (min/target/max days) or a weekly cadence."""

    count: int
    min_days_between: int
    max_days_between: int | None
    target_days_between: int | None
    cadence: tuple[CadenceBlock, ...]
    first_dose_window_days: int = 7
    session_minutes: int | None = None
    maintenance: Maintenance | None = None

    @property
    def uses_cadence(self) -> bool:
        return bool(self.cadence)


@dataclass(frozen=True)
class DoseRule:
    mg_per_kg: float | None = None
    infusion_minutes: int | None = None
    max_mg: float | None = None
    fixed_mg: tuple[int, ...] = ()
    first_dose_mg: int | None = None
    first_dose_mg_age_65_plus: int | None = None


@dataclass(frozen=True)
class Integration:
    within_hours: int
    minutes: int
    every: int = 1


@dataclass(frozen=True)
class ExtraSessions:
    """Therapy sessions beside the integration sessions (e.g. relapse prevention, Grabski 2022)."""

    name: str
    count: int
    minutes: int
    every_days: int
    from_day: int = 0


@dataclass(frozen=True)
class PeerCircle:
    """CLINICAL.md §7 ★ default: weekly, 90 min, for 8 weeks from week 2 of dosing."""

    from_week: int = 2
    weeks: int = 8
    minutes: int = 90


@dataclass(frozen=True)
class Measure:
    instrument: str
    timepoints: tuple[str, ...] = ()
    weekly_weeks: int | None = None
    monthly_months: int | None = None


@dataclass(frozen=True)
class SustainedSupport:
    check_in_days: tuple[int, ...]
    window_days: int = 3
    minutes: int = 30


@dataclass(frozen=True)
class RelapsePolicy:
    booster_within_hours: int = 72
    prescriber_review_before_redose: bool = True
    redose_requires_reason: bool = True


@dataclass(frozen=True)
class Protocol:
    id: str
    version: str
    title: str
    condition: str
    drug: Drug
    route: Route
    primary_instrument: str
    response_threshold_percent: float
    sources: tuple[str, ...]
    screening: tuple[ScreeningItem, ...]
    requirements_before_first_dose: tuple[str, ...]
    preparation: Preparation
    doses: DoseSeries
    dose_rule: DoseRule
    integration: Integration
    extra_sessions: tuple[ExtraSessions, ...]
    peer_circle: PeerCircle
    measures: tuple[Measure, ...]
    sustained_support: SustainedSupport
    relapse_policy: RelapsePolicy
    start_within_hours_of_referral: int | None = None

    def summary(self) -> dict[str, str]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "drug": self.drug,
            "route": self.route,
        }


# --------------------------------------------------------------------------------------------
# Validation


def _field_path(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _schema_error(filename: str, err: jsonschema.ValidationError) -> ProtocolError:
    path = list(err.absolute_path)
    problem = err.message
    if err.validator == "required":
        match = re.match(r"'(.+)' is a required property", err.message)
        if match:
            path.append(match.group(1))
            problem = "is required"
    elif err.validator == "additionalProperties":
        match = re.search(r"\('(.+?)'", err.message)
        if match:
            path.append(match.group(1))
            problem = "is not a known field"
    elif err.validator == "enum":
        values: Any = err.validator_value
        allowed = ", ".join(str(v) for v in values)
        problem = f"{err.instance!r} is not one of: {allowed}"
    elif err.validator == "oneOf" and path == ["version"]:
        problem = f"{err.instance!r} must be a semantic version like '1.0.0' or an integer ≥ 1"
    return ProtocolError(filename, _field_path(path), problem)


@cache
def _schema() -> dict[str, Any]:
    text = resources.files(DATA_PACKAGE).joinpath(*DATA_DIR, SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema() -> dict[str, Any]:
    """The JSON Schema every protocol file must satisfy (a copy, safe to modify)."""
    return json.loads(json.dumps(_schema()))  # type: ignore[no-any-return]


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 6.0 as an integer; a dose count of 6.0 in YAML is a mistake to report.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", _is_strict_integer
    ),
)


def schema_errors(data: Any, filename: str) -> list[ProtocolError]:
    """Structural problems (JSON Schema), sorted by field path."""
    validator = _Validator(_schema())
    errors = [_schema_error(filename, e) for e in validator.iter_errors(data)]
    return sorted(errors, key=lambda e: (e.field, e.problem))


def semantic_errors(data: Mapping[str, Any], filename: str) -> list[ProtocolError]:
    """Problems the schema cannot express; ``data`` must already satisfy the schema.

    Sources: doses and routes CLINICAL.md §4; REMS enrolment before dose 1 (Spravato REMS,
    CLINICAL.md §4); instrument ids CLINICAL.md §1; peer circle §7.
    """
    errs: list[ProtocolError] = []

    def err(field: str, problem: str) -> None:
        errs.append(ProtocolError(filename, field, problem))

    stem = Path(filename).name.removesuffix(".yaml").removesuffix(".yml")
    if stem != Path(filename).name and data["id"] != stem:
        err("id", f"must match the file name ({data['id']!r} in {Path(filename).name})")

    drug, route = data["drug"], data["route"]
    if route not in _DRUG_ROUTES[drug]:
        allowed = " or ".join(sorted(_DRUG_ROUTES[drug]))
        err("route", f"{route!r} is not a route for {drug} (use {allowed})")

    # One source of truth: the instrument registry (trellis/core/data/instruments), never a
    # second list here (issue 18: a private list let a track name an instrument that did not
    # exist, and the reminder job then failed for every course on it).
    known_instruments = set(instrument_ids())
    primary = data["primary_instrument"]
    if primary not in known_instruments:
        err("primary_instrument", f"unknown instrument {primary!r} ({_known()})")

    if drug == "esketamine" and "rems_patient_enrolment" not in data.get(
        "requirements_before_first_dose", []
    ):
        err(
            "requirements_before_first_dose",
            "esketamine tracks must require rems_patient_enrolment (Spravato REMS)",
        )
    reqs = data["requirements_before_first_dose"]
    for i, req in enumerate(reqs):
        # The requirement registry is REQUIREMENTS (one list; the schema does not repeat it).
        if req not in REQUIREMENTS:
            err(
                f"requirements_before_first_dose[{i}]",
                f"unknown requirement {req!r} (known: {', '.join(REQUIREMENTS)})",
            )
    if len(set(reqs)) != len(reqs):
        err("requirements_before_first_dose", "lists a requirement twice")

    seen: set[str] = set()
    for i, item in enumerate(data["screening"]):
        if item["id"] in seen:
            err(f"screening[{i}].id", f"duplicate item id {item['id']!r}")
        seen.add(item["id"])

    doses = data["doses"]
    count = doses["count"]
    lo, hi = doses.get("min_days_between"), doses.get("max_days_between")
    target = doses.get("target_days_between")
    cadence = doses.get("cadence")
    if cadence is not None:
        if hi is not None or target is not None:
            err(
                "doses",
                "give either cadence or max_days_between/target_days_between, not both",
            )
        expected_week = 1
        total = 0
        for i, block in enumerate(cadence):
            if block["from_week"] > block["to_week"]:
                err(
                    f"doses.cadence[{i}].from_week",
                    f"must be ≤ to_week ({block['from_week']} > {block['to_week']})",
                )
            if block["from_week"] != expected_week:
                err(
                    f"doses.cadence[{i}].from_week",
                    f"must be {expected_week} (blocks must follow each other from week 1)",
                )
            expected_week = block["to_week"] + 1
            total += max(0, block["to_week"] - block["from_week"] + 1) * block["per_week"]
        if total != count:
            err("doses.count", f"must equal the doses in the cadence ({count} ≠ {total})")
        if lo is not None and any(7 // b["per_week"] < lo for b in cadence):
            err("doses.min_days_between", f"{lo} days cannot fit the cadence's doses per week")
    else:
        if lo is None:
            err("doses.min_days_between", "is required when no cadence is given")
        if hi is None:
            err("doses.max_days_between", "is required when no cadence is given")
        if lo is not None and hi is not None:
            if lo > hi:
                err("doses.min_days_between", f"must be ≤ max ({lo} > {hi})")
            elif target is not None and not lo <= target <= hi:
                err("doses.target_days_between", f"must be within [{lo}, {hi}] (got {target})")
    if drug == "esketamine":
        # Law, not a setting (CLINICAL.md §4-5): floors a program's copy may raise, never lower.
        minutes = doses.get("session_minutes")
        if minutes is not None and minutes < ESKETAMINE_MIN_SESSION_MINUTES:
            err(
                "doses.session_minutes",
                f"{minutes} is below the legal floor of {ESKETAMINE_MIN_SESSION_MINUTES} "
                "(Spravato REMS: monitoring for at least 120 minutes after the first device)",
            )
    if doses.get("maintenance") is not None and drug != "esketamine":
        err("doses.maintenance", "a label maintenance cadence applies to esketamine only")

    rule = data["dose_rule"]
    if drug == "ketamine":
        if rule.get("mg_per_kg") is None:
            err("dose_rule.mg_per_kg", "is required for ketamine (weight-based dosing)")
        for key in ("fixed_mg", "first_dose_mg", "first_dose_mg_age_65_plus"):
            if key in rule:
                err(f"dose_rule.{key}", "applies to esketamine only")
    else:
        fixed = rule.get("fixed_mg")
        if not fixed:
            err("dose_rule.fixed_mg", "is required for esketamine (fixed 28 mg devices)")
        else:
            for i, mg in enumerate(fixed):
                if mg % 28:
                    err(f"dose_rule.fixed_mg[{i}]", f"{mg} mg is not a multiple of a 28 mg device")
                elif mg > ESKETAMINE_MAX_MG:
                    err(f"dose_rule.fixed_mg[{i}]", _above_label_dose(mg))
        for key in ("first_dose_mg", "first_dose_mg_age_65_plus"):
            mg = rule.get(key)
            if mg is not None and mg % 28:
                err(f"dose_rule.{key}", f"{mg} mg is not a multiple of a 28 mg device")
            elif mg is not None and mg > ESKETAMINE_MAX_MG:
                err(f"dose_rule.{key}", _above_label_dose(mg))
        for key in ("mg_per_kg", "infusion_minutes", "max_mg"):
            if key in rule:
                err(f"dose_rule.{key}", "applies to ketamine only")

    every = data["integration"].get("every", 1)
    if every > count:
        err("integration.every", f"must be ≤ doses.count ({every} > {count})")

    instruments: set[str] = set()
    for i, measure in enumerate(data["measures"]):
        inst = measure["instrument"]
        if inst not in known_instruments:
            err(f"measures[{i}].instrument", f"unknown instrument {inst!r} ({_known()})")
        if inst in instruments:
            err(f"measures[{i}].instrument", f"{inst!r} is listed twice")
        instruments.add(inst)
        tps = measure.get("timepoints", [])
        if len(set(tps)) != len(tps):
            err(f"measures[{i}].timepoints", "lists a timepoint twice")
        if not tps and "weekly_weeks" not in measure and "monthly_months" not in measure:
            err(f"measures[{i}]", "has no timepoints, weekly_weeks or monthly_months")
    if primary in known_instruments and primary not in instruments:
        err("measures", f"must schedule the primary instrument {primary!r}")
    if not any("baseline" in m.get("timepoints", []) for m in data["measures"]):
        err("measures", "must take a baseline (without one, outcomes cannot be measured)")

    days = data["sustained_support"]["check_in_days"]
    if list(days) != sorted(set(days)):
        err("sustained_support.check_in_days", "must be strictly increasing")

    hours = data.get("start_within_hours_of_referral")
    if hours is not None:
        prep = data["preparation"]
        first_dose_day = prep["count"] * prep.get("days_between", 3)
        if first_dose_day > hours // 24:
            err(
                "start_within_hours_of_referral",
                f"{prep['count']} preparation session(s) {prep.get('days_between', 3)} day(s) "
                f"apart put dose 1 on day {first_dose_day}, after the {hours} h limit",
            )
    return errs


def _above_label_dose(mg: int) -> str:
    # Source: CLINICAL.md §4 (the message is shown to people, so it names the label only).
    return (
        f"{mg} mg is above the label's highest dose of {ESKETAMINE_MAX_MG} mg "
        "(Spravato label: 56 or 84 mg; a legal limit, not a setting)"
    )


def _known() -> str:
    return "known: " + ", ".join(instrument_ids())


# --------------------------------------------------------------------------------------------
# Parsing


def _build(data: Mapping[str, Any]) -> Protocol:
    d = data["doses"]
    cadence = tuple(
        CadenceBlock(b["from_week"], b["to_week"], b["per_week"]) for b in d.get("cadence", [])
    )
    maint = d.get("maintenance")
    rule = data["dose_rule"]
    prep = data["preparation"]
    circle = data["peer_circle"]
    support = data["sustained_support"]
    relapse = data["relapse_policy"]
    return Protocol(
        id=data["id"],
        version=str(data["version"]),
        title=data["title"],
        condition=data["condition"],
        drug=data["drug"],
        route=data["route"],
        primary_instrument=data["primary_instrument"],
        response_threshold_percent=float(data.get("response_threshold_percent", 50)),
        sources=tuple(data["sources"]),
        screening=tuple(
            ScreeningItem(i["id"], i["question"], i["kind"], i.get("age_below"))
            for i in data["screening"]
        ),
        requirements_before_first_dose=tuple(data["requirements_before_first_dose"]),
        preparation=Preparation(
            prep["count"], prep["minutes"], tuple(prep["topics"]), prep.get("days_between", 3)
        ),
        doses=DoseSeries(
            count=d["count"],
            min_days_between=d.get("min_days_between", 1),
            max_days_between=d.get("max_days_between"),
            target_days_between=(
                d.get("target_days_between", d.get("min_days_between")) if not cadence else None
            ),
            cadence=cadence,
            first_dose_window_days=d.get("first_dose_window_days", 7),
            session_minutes=d.get("session_minutes"),
            maintenance=(
                Maintenance(tuple(maint["every_weeks"]), maint.get("optional", True))
                if maint
                else None
            ),
        ),
        dose_rule=DoseRule(
            mg_per_kg=rule.get("mg_per_kg"),
            infusion_minutes=rule.get("infusion_minutes"),
            max_mg=rule.get("max_mg"),
            fixed_mg=tuple(rule.get("fixed_mg", ())),
            first_dose_mg=rule.get("first_dose_mg"),
            first_dose_mg_age_65_plus=rule.get("first_dose_mg_age_65_plus"),
        ),
        integration=Integration(
            data["integration"]["within_hours"],
            data["integration"]["minutes"],
            data["integration"].get("every", 1),
        ),
        extra_sessions=tuple(
            ExtraSessions(
                s["name"], s["count"], s["minutes"], s["every_days"], s.get("from_day", 0)
            )
            for s in data.get("extra_sessions", [])
        ),
        peer_circle=PeerCircle(
            circle.get("from_week", 2), circle.get("weeks", 8), circle.get("minutes", 90)
        ),
        measures=tuple(
            Measure(
                m["instrument"],
                tuple(m.get("timepoints", ())),
                m.get("weekly_weeks"),
                m.get("monthly_months"),
            )
            for m in data["measures"]
        ),
        sustained_support=SustainedSupport(
            tuple(support["check_in_days"]),
            support.get("window_days", 3),
            support.get("minutes", 30),
        ),
        relapse_policy=RelapsePolicy(
            relapse["booster_within_hours"],
            relapse["prescriber_review_before_redose"],
            relapse["redose_requires_reason"],
        ),
        start_within_hours_of_referral=data.get("start_within_hours_of_referral"),
    )


def validate_protocol_data(data: Any, filename: str) -> list[ProtocolError]:
    """Every problem in already-parsed YAML ``data``: schema first, then semantic checks."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return [ProtocolError(filename, "(top level)", f"must be a mapping of fields, not {kind}")]
    errors = schema_errors(data, filename)
    if errors:
        return errors
    return semantic_errors(data, filename)


def parse_protocol(data: Any, filename: str) -> Protocol:
    """Validate ``data`` (parsed YAML) and build a :class:`Protocol`, or raise ProtocolInvalid."""
    errors = validate_protocol_data(data, filename)
    if errors:
        raise ProtocolInvalid(errors)
    return _build(data)


def parse_protocol_text(text: str, filename: str) -> Protocol:
    """Parse YAML text; YAML syntax errors are reported like any other ProtocolError."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ProtocolInvalid(
            [ProtocolError(filename, "(file)", f"not valid YAML{where}: {problem}")]
        ) from exc
    return parse_protocol(data, filename)


# --------------------------------------------------------------------------------------------
# Loading (the only file I/O of the protocol modules)


def _data_dir() -> Any:
    return resources.files(DATA_PACKAGE).joinpath(*DATA_DIR)


@cache
def _packaged() -> dict[str, Protocol]:
    found: dict[str, Protocol] = {}
    for entry in sorted(_data_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            proto = parse_protocol_text(entry.read_text("utf-8"), entry.name)
            found[proto.id] = proto
    return found


def protocol_ids() -> tuple[str, ...]:
    """Ids of the packaged tracks, sorted."""
    return tuple(sorted(_packaged()))


def list_protocols() -> tuple[Protocol, ...]:
    """Every packaged track, sorted by id (loaded and validated once, then cached)."""
    packaged = _packaged()
    return tuple(packaged[k] for k in sorted(packaged))


def load_protocol(protocol_id: str, field: str = "protocol") -> Protocol:
    """The packaged track ``protocol_id``, or InvalidInput naming ``field``."""
    packaged = _packaged()
    if protocol_id not in packaged:
        raise InvalidInput(
            field, f"unknown protocol {protocol_id!r} (known: {', '.join(sorted(packaged))})"
        )
    return packaged[protocol_id]


def load_protocol_file(path: str | Path) -> Protocol:
    """Read and validate a protocol file (e.g. a program's adapted copy of a track)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolInvalid([ProtocolError(p.name, "(file)", f"cannot read: {exc}")]) from exc
    return parse_protocol_text(text, p.name)
