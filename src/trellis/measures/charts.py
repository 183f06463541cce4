"""Trajectory charts: one server-rendered SVG per instrument (no client code, strict CSP).

Bands are shaded from the instrument's data file (CLINICAL.md §1), dose days are vertical lines
(care ``dose_given`` events), each point carries a ``<title>``; the template shows a data table
beside it as the accessible alternative. Styling is by class (``measures.css``), never ``style=``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from trellis.core.instruments import get_instrument
from trellis.measures import labels

WIDTH, HEIGHT = 640, 260
SHORT = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "pcl5": "PCL-5",
    "madrs": "MADRS",
    "ybocs": "Y-BOCS",
    "moaas": "MOAA/S",
    "cadss": "CADSS",
    "qids-sr16": "QIDS-SR16",
    "asrm": "ASRM",
}
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 40


@dataclass(frozen=True)
class Point:
    when: dt.datetime
    total: int
    band: str
    label: str


def band_label(token: str) -> str:
    return labels.band_label(token)


def trajectory_svg(
    instrument_id: str, points: Sequence[Point], doses: Sequence[dt.datetime], chart_id: str
) -> SafeString:
    """The SVG for one instrument's series (``points`` in time order, at least one)."""
    inst = get_instrument(instrument_id)
    lo = inst.range_min or 0
    hi = inst.range_max or max(p.total for p in points)
    days = [timezone.localtime(p.when).date() for p in points]
    dose_days = [timezone.localtime(d).date() for d in doses]
    start = min(days + dose_days)
    end = max(days + dose_days)
    span = max((end - start).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return LEFT + plot_w * (day - start).days / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - lo) / max(hi - lo, 1))

    title = _("%(title)s over time") % {"title": inst.title}
    desc = _("%(n)s scores from %(start)s to %(end)s; %(d)s dose days marked.") % {
        "n": len(points),
        "start": days[0].isoformat(),
        "end": days[-1].isoformat(),
        "d": len(dose_days),
    }
    out: list[str] = [
        f'<svg class="trajectory" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i, band in enumerate(inst.bands):
        top = y(min(band.max + 0.5, hi))
        bottom = y(max(band.min - 0.5, lo))
        out.append(
            f'<rect class="band band-{min(i, 4)}" x="{LEFT}" y="{top:.1f}" width="{plot_w}" '
            f'height="{bottom - top:.1f}"><title>{escape(band_label(band.token))} '
            f"{band.min}–{band.max}</title></rect>"
        )
    # Axes and labels.
    out.append(
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
        f'y2="{TOP + plot_h}"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" '
        f'y2="{TOP + plot_h}"/>'
    )
    ticks = sorted({lo, hi, *(b.min for b in inst.bands)})
    for t in ticks:
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t}</text>'
        )
    out.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 22}">{start.isoformat()}</text>'
        f'<text class="tick" x="{LEFT + plot_w}" y="{HEIGHT - 22}" text-anchor="end">'
        f"{end.isoformat()}</text>"
        f'<text class="axis-label" x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{escape(_("Date"))}</text>'
        f'<text class="axis-label" x="12" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2})">{escape(_("Total score"))}</text>'
    )
    for n, day in enumerate(dose_days, start=1):
        out.append(
            f'<line class="dose" x1="{x(day):.1f}" y1="{TOP}" x2="{x(day):.1f}" '
            f'y2="{TOP + plot_h}"><title>{escape(_("Dose %(n)s") % {"n": n})} '
            f"{day.isoformat()}</title></line>"
        )
    coords = [(x(d), y(p.total)) for d, p in zip(days, points, strict=True)]
    if len(coords) > 1:
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        out.append(f'<polyline class="series" points="{path}"/>')
    for (cx, cy), day, p in zip(coords, days, points, strict=True):
        out.append(
            f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="4"><title>'
            f"{day.isoformat()}: {p.total} ({escape(band_label(p.band))}) {escape(p.label)}"
            "</title></circle>"
        )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308  (every dynamic value above is escaped)


def chart_rows(
    assessments: Sequence[Any], doses: Sequence[dt.datetime], primary: str = "phq9"
) -> list[dict[str, Any]]:
    """One chart (SVG + table rows) per instrument with totals: the primary first, then A-Z."""
    by_inst: dict[str, list[Any]] = {}
    for a in assessments:
        if a.total is not None:
            by_inst.setdefault(a.instrument, []).append(a)
    charts = []
    for n, (inst_id, rows) in enumerate(
        sorted(by_inst.items(), key=lambda kv: (kv[0] != primary, kv[0]))
    ):
        points = [Point(a.taken_at, a.total, a.band, a.get_source_display()) for a in rows]
        charts.append(
            {
                "instrument": inst_id,
                "short": SHORT.get(inst_id, inst_id.upper()),
                "title": get_instrument(inst_id).title,
                "svg": trajectory_svg(inst_id, points, doses, f"traj-{n}"),
                "rows": rows,
            }
        )
    return charts
