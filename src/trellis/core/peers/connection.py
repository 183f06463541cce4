"""Circle enrolment window and the episode's connection index (CLINICAL.md §7).

★ Trellis definition: the **connection index** of an episode is the share of its planned peer
circle meetings that the patient attended, counting only meetings up to the as-of date. It is
``None`` (not 0) when nothing was planned yet, so "no data" is never read as "disconnected".
Mentor contacts are reported beside it but do not change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from trellis.core.errors import InvalidInput
from trellis.core.peers.defaults import load_defaults


def circle_window(
    first_dose_date: date, from_week: int | None = None, weeks: int | None = None
) -> tuple[date, date]:
    """First and last day (inclusive) of the weeks a patient belongs in a peer circle.

    CLINICAL.md §7 ★ default: weekly circles "for 8 weeks from week 2 of dosing" (Cheung et
    al., Int Rev Psychiatry 2024, for the circle format). Week 1 starts on the first dose, so
    week ``n`` starts ``7·(n−1)`` days later; the window lasts ``weeks`` whole weeks.
    Defaults come from ``data/peers/defaults.yaml``.
    """
    d = load_defaults()
    fw = d.from_week if from_week is None else from_week
    n = d.weeks if weeks is None else weeks
    if not isinstance(first_dose_date, date):
        raise InvalidInput("first_dose_date", f"must be a date, got {first_dose_date!r}")
    if isinstance(fw, bool) or not isinstance(fw, int) or fw < 1:
        raise InvalidInput("from_week", f"must be a whole number ≥ 1, got {fw!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInput("weeks", f"must be a whole number ≥ 1, got {n!r}")
    start = first_dose_date + timedelta(days=7 * (fw - 1))
    return start, start + timedelta(days=7 * n - 1)


def connection_index(planned_meetings: int, attended: int) -> float | None:
    """Share of planned circle meetings attended, 0.0–1.0; ``None`` when none were planned.

    ★ Trellis definition (module docstring; CLINICAL.md §7 for the circles themselves).
    """
    for name, value in (("planned_meetings", planned_meetings), ("attended", attended)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(name, f"must be a whole number ≥ 0, got {value!r}")
    if attended > planned_meetings:
        raise InvalidInput(
            "attended", f"{attended} is more than the {planned_meetings} planned meetings"
        )
    if planned_meetings == 0:
        return None
    return attended / planned_meetings


@dataclass(frozen=True)
class ConnectionSummary:
    """An episode's circle attendance and mentor contacts as of a date."""

    as_of: date
    planned: int
    attended: int
    index: float | None
    mentor_contacts: int

    def to_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "planned": self.planned,
            "attended": self.attended,
            "connection_index": self.index,
            "mentor_contacts": self.mentor_contacts,
        }


def episode_connection(
    meeting_dates: Iterable[date],
    attended_dates: Iterable[date],
    as_of: date,
    mentor_contact_dates: Iterable[date] = (),
) -> ConnectionSummary:
    """The episode's connection index as of ``as_of`` (★ Trellis definition, module docstring).

    Built on the weekly circles of CLINICAL.md §7 (Cheung et al., Int Rev Psychiatry 2024).

    ``meeting_dates`` are the planned meetings of the patient's circle(s); ``attended_dates``
    the meetings they attended, each of which must be a planned meeting. Only meetings on or
    before ``as_of`` count (a future meeting is neither planned-so-far nor missed). Duplicate
    dates count once.
    """
    planned_all = set(meeting_dates)
    attended_all = set(attended_dates)
    stray = sorted(attended_all - planned_all)
    if stray:
        raise InvalidInput(
            "attended_dates", f"{stray[0].isoformat()} is not a planned circle meeting"
        )
    future = sorted(d for d in attended_all if d > as_of)
    if future:
        raise InvalidInput(
            "attended_dates", f"{future[0].isoformat()} is after the as-of date {as_of}"
        )
    planned = sum(1 for d in planned_all if d <= as_of)
    attended = len(attended_all)
    contacts = sum(1 for d in mentor_contact_dates if d <= as_of)
    return ConnectionSummary(
        as_of=as_of,
        planned=planned,
        attended=attended,
        index=connection_index(planned, attended),
        mentor_contacts=contacts,
    )
