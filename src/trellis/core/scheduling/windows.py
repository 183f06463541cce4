"""Care-plan date windows for a scheduling instance, from the pathway (one source of truth).

:func:`trellis.core.pathway.plan` gives every activity of a course an ``earliest``/``latest``
date (preparation slots, the dose series' spacing or weekly cadence, integration after each dose;
CLINICAL.md §4, §6, §7). The booking app stores those activities when a course starts and the
generator asks the pathway for them; both turn them into an instance patient's ``windows`` here,
so the scheduler and its verifier keep every session inside its care-plan window.

A course in the instance numbers its sessions from 1: preparation 1…p are the course's open
preparations in order, dose 1…n its open doses in order, and integration k belongs to dose k
(paired by the *pathway's* dose index, because a plan renumbers what is already done).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol


class Dated(Protocol):
    """A care-plan activity: its index and its date window (``pathway.Activity``, a stored
    care activity)."""

    @property
    def index(self) -> int: ...

    @property
    def earliest(self) -> date: ...

    @property
    def latest(self) -> date: ...


def windows_json(
    preparations: Sequence[Dated],
    doses: Sequence[Dated],
    integrations: Mapping[int, Dated],
) -> list[dict[str, Any]]:
    """Instance ``windows`` for a course: ``preparations`` and ``doses`` in order (instance
    indices 1…), ``integrations`` keyed by the pathway's dose index they follow."""

    def item(kind: str, index: int, act: Dated) -> dict[str, Any]:
        return {
            "kind": kind,
            "index": index,
            "earliest": act.earliest.isoformat(),
            "latest": act.latest.isoformat(),
        }

    out = [item("preparation", i, a) for i, a in enumerate(preparations, start=1)]
    for k, dose in enumerate(doses, start=1):
        out.append(item("dose", k, dose))
        follow = integrations.get(dose.index)
        if follow is not None:
            out.append(item("integration", k, follow))
    return out


def pathway_windows(
    protocol_id: str,
    preparation_count: int,
    dose_count: int,
    release: date,
    open_weekdays: frozenset[int],
) -> list[dict[str, Any]]:
    """Windows for a synthetic course of ``protocol_id`` released on ``release``, planned by
    :func:`trellis.core.pathway.plan` on the clinic's open weekdays.

    The generator's tracks may book fewer preparations than the protocol plans: the course
    takes the protocol's *last* ``preparation_count`` preparations, with the pathway started
    early enough that the first of them opens on the release day, and its first ``dose_count``
    doses (a track longer than the protocol keeps the track's rules for the rest). Empty when
    the protocol is unknown or the calendar leaves no day for a session.
    """
    from datetime import timedelta

    from trellis.core import pathway
    from trellis.core.errors import InvalidInput
    from trellis.core.protocols import load_protocol, protocol_ids

    if protocol_id not in protocol_ids():
        return []
    protocol = load_protocol(protocol_id)
    extra = max(0, protocol.preparation.count - preparation_count)
    start = release - timedelta(days=extra * protocol.preparation.days_between)
    try:
        plan = pathway.plan(
            protocol, start, calendar=pathway.ClinicCalendar(open_weekdays=open_weekdays)
        )
    except InvalidInput:
        return []
    preps = list(plan.of_kind("preparation"))
    preps = preps[len(preps) - preparation_count :] if preparation_count else []
    doses = list(plan.of_kind("dose"))[:dose_count]
    integ = {a.index: a for a in plan.of_kind("integration", "integration")}
    return windows_json(preps, doses, integ)
