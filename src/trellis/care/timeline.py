"""The episode timeline: phases and a server-rendered SVG of planned vs done activities.

Geometry only (no queries): the view passes the episode's activities and the adherence report.
The SVG carries a <title> and <desc>; the activity table beside it is the text alternative, and
state is never shown by colour alone (done = filled, planned = hollow, overdue/gap = a cross and
the word in the table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from trellis.care.forms import activity_label
from trellis.care.models import CareActivity

# The main path of a course (ARCHITECTURE.md "Data model"); maintenance/completed/withdrawn end it.
MAIN_PHASES = ("referred", "screening", "preparing", "dosing", "integrating", "sustaining")
PHASE_LABELS: dict[str, Any] = {
    "referred": _("Referred"),
    "screening": _("Screening"),
    "preparing": _("Preparing"),
    "dosing": _("Dosing"),
    "integrating": _("Integrating"),
    "sustaining": _("Sustaining"),
    "maintenance": _("Maintenance"),
    "completed": _("Completed"),
    "withdrawn": _("Withdrawn"),
}
ROWS: tuple[tuple[str, Any], ...] = (
    ("preparation", _("Preparation")),
    ("dose", _("Doses")),
    ("integration", _("Integration")),
    ("peer_circle", _("Peer circle")),
    ("assessment", _("Measures")),
    ("follow_up", _("Follow-up")),
)

WIDTH = 760
LEFT = 110
RIGHT = 16
TOP = 28
ROW_H = 30


@dataclass(frozen=True)
class Step:
    phase: str
    label: Any
    state: str  # "done", "current", "todo"


def phase_steps(phase: str) -> list[Step]:
    """The main path with the current phase marked; an ended course adds its end as the last."""
    path = list(MAIN_PHASES)
    if phase in ("maintenance", "completed", "withdrawn"):
        path.append(phase)
    current = path.index(phase) if phase in path else 0
    if phase == "withdrawn":
        # Withdrawn can happen at any point: earlier steps are not "done", just passed.
        return [Step(p, PHASE_LABELS[p], "current" if p == phase else "todo") for p in path]
    return [
        Step(
            p,
            PHASE_LABELS[p],
            "done" if i < current else ("current" if i == current else "todo"),
        )
        for i, p in enumerate(path)
    ]


def activity_state(act: CareActivity, today: date, gap_doses: set[int]) -> str:
    """done / gap / overdue / cancelled / planned (for the table, the SVG and the board)."""
    if act.status == CareActivity.Status.DONE:
        return "done"
    if act.status == CareActivity.Status.CANCELLED:
        return "cancelled"
    if act.kind == "integration" and act.name == "integration" and act.index in gap_doses:
        return "gap"
    if act.status in ("planned", "scheduled") and act.latest < today:
        return "overdue"
    return "planned"


STATE_LABELS: dict[str, Any] = {
    "done": _("done"),
    "gap": _("integration gap"),
    "overdue": _("overdue"),
    "cancelled": _("cancelled"),
    "planned": _("planned"),
}


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    x1: float
    x2: float
    state: str
    label: str

    @property
    def cross(self) -> str:
        """An ✕ centred on the mark (overdue or gap: a shape, not colour alone)."""
        return f"M{self.x - 5:.1f} {self.y - 5:.1f} l10 10 m0 -10 l-10 10"


def svg_timeline(
    activities: Sequence[CareActivity], today: date, gap_doses: set[int]
) -> dict[str, Any] | None:
    """Coordinates for ``care/_timeline.svg.html``: one row per activity kind, a window line
    from earliest to latest and a mark on the target date (or the day it was done)."""
    acts = [a for a in activities if a.status != CareActivity.Status.CANCELLED]
    if not acts:
        return None
    first = min(a.earliest for a in acts)
    last = max(a.latest for a in acts)
    last = max(last, first + timedelta(days=7))
    span = (last - first).days or 1
    inner = WIDTH - LEFT - RIGHT

    def x_of(day: date) -> float:
        return round(LEFT + inner * (day - first).days / span, 1)

    rows = []
    marks = []
    for i, (kind, label) in enumerate(ROWS):
        y = TOP + i * ROW_H + ROW_H / 2
        rows.append({"label": label, "y": y, "text_y": y + 4})
        for a in acts:
            if a.kind != kind:
                continue
            when = timezone_date(a.done_at) if a.done_at else a.target
            state = activity_state(a, today, gap_doses)
            marks.append(
                Mark(
                    x=x_of(min(max(when, first), last)),
                    y=y,
                    x1=x_of(a.earliest),
                    x2=x_of(a.latest),
                    state=state,
                    label=f"{activity_label(a)}: {a.target:%Y-%m-%d} ({STATE_LABELS[state]})",
                )
            )
    height = TOP + len(ROWS) * ROW_H + 24
    ticks = []
    step = 7 if span <= 120 else 28
    day = first
    while day <= last:
        ticks.append({"x": x_of(day), "label": f"{day:%m-%d}"})
        day += timedelta(days=step)
    today_x = x_of(today) if first <= today <= last else None
    return {
        "width": WIDTH,
        "height": height,
        "rows": rows,
        "marks": marks,
        "ticks": ticks,
        "axis_y": height - 18,
        "tick_y": height - 4,
        "today_x": today_x,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "first": first,
        "last": last,
    }


def timezone_date(moment: Any) -> date:
    from django.utils import timezone

    return timezone.localtime(moment).date()
