"""Check a protocol track against every registry it feeds, by running it through them.

:func:`trellis.core.protocols.parse_protocol` checks a file's shape and sense. A track is also
read by other registries at run time: the instrument registry (scores, the assessment schedule
and its reminders), the requirement names of the first-dose gate, the plan's activity kinds and
the cultural and access adaptations, the outcome thresholds and the dosing safety rules. Issue 18
found a track that named an instrument the registry did not hold: the validator accepted it (it
read a private list) and the reminder job then failed for every course on that track.

:func:`registry_errors` dry-runs one parsed track through each of those registries with a
synthetic course (fixed dates, no clock, no I/O) and returns every problem as a
:class:`~trellis.core.protocols.ProtocolError` naming the file, the field and the value.
:func:`check_track` raises them. The tests run it over every packaged track; ``trellis serve``
runs it over the packaged tracks and every program's adapted copy before it starts, and the
protocol validator and the copy editor run it on save.
"""

from __future__ import annotations

import datetime as dt

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument, instrument_ids
from trellis.core.measures_rules import TrackMeasure, track_schedule, track_thresholds
from trellis.core.pathway import ACTIVITY_KINDS, plan
from trellis.core.protocols import (
    ADAPTATIONS,
    REQUIREMENTS,
    Protocol,
    ProtocolError,
    ProtocolInvalid,
)
from trellis.core.safety.tracks import dose_rule_from_protocol, track_requirements_from_protocol
from trellis.core.screening import requirement_fact

# A synthetic course start for the dry run (a Monday; any date would do).
_START = dt.date(2026, 1, 5)


def _synthetic_doses(protocol: Protocol) -> list[dt.datetime]:
    """One dose time per induction dose, ``min_days_between`` apart (09:00, naive)."""
    gap = max(1, protocol.doses.min_days_between)
    first = dt.datetime.combine(_START, dt.time(9, 0))
    return [first + dt.timedelta(days=gap * i) for i in range(protocol.doses.count)]


def registry_errors(protocol: Protocol, filename: str) -> list[ProtocolError]:
    """Every problem found running ``protocol`` through the registries (see the module doc).

    - instruments: the primary instrument and each measure's instrument are in the instrument
      registry (CLINICAL.md §1), and each measure's schedule can be computed for a whole course
      (before, during and after the induction series);
    - outcome thresholds for the primary instrument (CLINICAL.md §3);
    - requirement names: each is a known requirement with a first-dose fact behind it;
    - activity kinds and adaptations: the plan, alone and with every adaptation, only holds
      known activity kinds;
    - the dose rule and the pre-dose requirements (CLINICAL.md §4-5) can be built.
    """
    errs: list[ProtocolError] = []

    def err(field: str, problem: str) -> None:
        errs.append(ProtocolError(filename, field, problem))

    known = set(instrument_ids())
    if protocol.primary_instrument not in known:
        err(
            "primary_instrument",
            f"unknown instrument {protocol.primary_instrument!r} "
            f"(known: {', '.join(sorted(known))})",
        )
    else:
        try:
            track_thresholds(protocol.primary_instrument, protocol.response_threshold_percent)
        except InvalidInput as exc:
            err("primary_instrument", f"{protocol.primary_instrument!r}: {exc.detail}")

    doses = _synthetic_doses(protocol)
    for i, m in enumerate(protocol.measures):
        if m.instrument not in known:
            err(
                f"measures[{i}].instrument",
                f"unknown instrument {m.instrument!r} (known: {', '.join(sorted(known))})",
            )
            continue
        get_instrument(m.instrument)
        measure = TrackMeasure(m.instrument, m.timepoints, m.weekly_weeks, m.monthly_months)
        try:
            for given in (doses[:1], doses):
                end = doses[-1] if len(given) == len(doses) else None
                track_schedule([measure], doses[0], given, end)
        except InvalidInput as exc:
            err(f"measures[{i}].instrument", f"{m.instrument!r}: {exc}")

    for i, req in enumerate(protocol.requirements_before_first_dose):
        if req not in REQUIREMENTS or requirement_fact(req) is None:
            err(
                f"requirements_before_first_dose[{i}]",
                f"unknown requirement {req!r} (known: {', '.join(REQUIREMENTS)})",
            )

    for adaptations in [(), *((a,) for a in ADAPTATIONS), ADAPTATIONS]:
        where = f"adaptations {', '.join(adaptations)}" if adaptations else "plan"
        try:
            planned = plan(protocol, _START, adaptations)
        except InvalidInput as exc:
            err(where, f"cannot be planned: {exc}")
            continue
        bad = sorted({a.kind for a in planned.activities} - set(ACTIVITY_KINDS))
        if bad:
            err(where, f"plans unknown activity kind(s) {', '.join(map(repr, bad))}")

    try:
        dose_rule_from_protocol(protocol)
    except InvalidInput as exc:
        err("dose_rule", str(exc))
    try:
        track_requirements_from_protocol(protocol)
    except InvalidInput as exc:
        err("drug", str(exc))
    return errs


def check_track(protocol: Protocol, filename: str) -> Protocol:
    """``protocol`` unchanged, or :class:`ProtocolInvalid` listing every registry problem."""
    errors = registry_errors(protocol, filename)
    if errors:
        raise ProtocolInvalid(errors)
    return protocol
