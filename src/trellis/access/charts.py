"""The equity dashboard's tables and server-rendered SVG bar charts.

Charts are plain SVG with a ``<title>`` and ``<desc>`` (role="img"); the table beside each chart
carries the same numbers (the accessible alternative). No inline styles: presentation attributes
and classes only (strict CSP). Suppressed values are never drawn as bars.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trellis.core import equity as core_equity
from trellis.patients.models import Language, Payer

STAGE_LABELS = {
    "referred": gettext_lazy("Referred"),
    "screened": gettext_lazy("Screened"),
    "started": gettext_lazy("Started"),
    "completed_series_with_80pct_integration": gettext_lazy(
        "Completed the dose series with ≥ 80 % integration"
    ),
    "response": gettext_lazy("Response"),
    "remission": gettext_lazy("Remission"),
    "durable_remission_90d": gettext_lazy("Durable remission at 90 days"),
}
DIMENSION_LABELS = {
    "poverty_class": gettext_lazy("Sliding-fee (poverty) class"),
    "race_ethnicity": gettext_lazy("Race and ethnicity"),
    "language": gettext_lazy("Preferred language"),
    "payer": gettext_lazy("Payer"),
    "rurality": gettext_lazy("Rurality"),
}

BAR_WIDTH = 300
LABEL_WIDTH = 340
ROW_HEIGHT = 26


def stage_choices() -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in STAGE_LABELS.items()]


def group_label(dimension: str, group: str) -> str:
    if group == "total":
        return _("All episodes")
    if group == core_equity.UNKNOWN:
        return {
            "poverty_class": _("Not assessed"),
            "race_ethnicity": _("Not given"),
        }.get(dimension, _("Unknown"))
    if dimension == "poverty_class":
        return _("Class %(label)s") % {"label": group}
    if dimension == "race_ethnicity":
        if group == core_equity.MULTIPLE:
            return _("Multiracial and/or Multiethnic")
        return str(core_equity.OMB_CATEGORIES.get(group, group))
    if dimension == "language":
        return str(dict(Language.choices).get(group, group))
    if dimension == "payer":
        return str(dict(Payer.choices).get(group, group))
    if dimension == "rurality":
        return {"urban": _("Urban"), "rural": _("Rural")}.get(group, group)
    return group


def show(value: Any, *, percent: bool = False, money: bool = False) -> str:
    """A cell for people: counts as is, rates as percents, "<11"/"suppressed" as they are."""
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        if percent:
            return f"{(value * 100).quantize(Decimal('1'))} %"
        if money:
            return f"${value:,.2f}"
        return f"{value}"
    if value == core_equity.SUPPRESSED_VALUE:
        return _("suppressed")
    return str(value)


def _rows(dimension: str, stats: core_equity.DimensionStats, stage: str) -> list[dict[str, Any]]:
    rows = []
    for g in (*stats.groups, stats.total):
        s = g.stages[stage]
        rows.append(
            {
                "group": g.group,
                "label": group_label(dimension, g.group),
                "is_total": g is stats.total,
                "is_reference": stats.reference_group.get(stage) == g.group,
                "episodes": show(g.episodes),
                "cells": [
                    {
                        "stage": name,
                        "count": show(g.stages[name].count),
                        "rate": show(g.stages[name].rate, percent=True),
                        "ratio": show(g.stages[name].disparity_ratio),
                    }
                    for name in core_equity.FUNNEL
                ],
                "stage_count": show(s.count),
                "stage_rate": show(s.rate, percent=True),
                "stage_ratio": show(s.disparity_ratio),
                "median_oop": show(g.median_out_of_pocket, money=True),
                "rate_value": s.rate if isinstance(s.rate, Decimal) else None,
                "rate_text": show(s.rate, percent=True),
            }
        )
    return rows


def bar_svg(
    chart_id: str, title: str, desc: str, bars: list[tuple[str, Decimal | None, str]]
) -> SafeString:
    """Horizontal bars of rates (0–1): (label, rate or None, the text shown at the bar's end)."""
    height = ROW_HEIGHT * len(bars) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="access-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    for i, (label, rate, text) in enumerate(bars):
        y = 5 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="#1b1f24">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{BAR_WIDTH}" height="{ROW_HEIGHT - 8}" '
            'fill="#f4f6f8" stroke="#c9d1d9"/>'
        )
        if rate is not None:
            w = int(min(max(rate, Decimal(0)), Decimal(1)) * BAR_WIDTH)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{w}" height="{ROW_HEIGHT - 8}" '
                'fill="#0b5c8a"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 17}" font-size="13" '
            f'fill="#1b1f24">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)


def dimension_views(report: core_equity.EquityReport, stage: str) -> list[dict[str, Any]]:
    out = []
    stage_label = str(STAGE_LABELS[stage])
    for name, stats in report.dimensions.items():
        rows = _rows(name, stats, stage)
        label = str(DIMENSION_LABELS[name])
        bars = [(r["label"], r["rate_value"], r["rate_text"]) for r in rows if not r["is_total"]]
        shown = [f"{r['label']}: {r['rate_text']}" for r in rows if not r["is_total"]]
        svg = bar_svg(
            f"chart-{name}",
            _("%(stage)s rate by %(dimension)s")
            % {"stage": stage_label, "dimension": label.lower()},
            _(
                "Share of each group's episodes that reached “%(stage)s”: %(values)s. "
                "Suppressed groups have no bar."
            )
            % {"stage": stage_label, "values": "; ".join(shown)},
            bars,
        )
        ref = stats.reference_group.get(stage)
        out.append(
            {
                "name": name,
                "label": label,
                "rows": rows,
                "svg": svg,
                "reference": group_label(name, ref) if ref else None,
            }
        )
    return out


def funnel_rows(report: core_equity.EquityReport) -> list[dict[str, str]]:
    total = next(iter(report.dimensions.values())).total
    return [
        {
            "stage": name,
            "label": str(STAGE_LABELS[name]),
            "count": show(total.stages[name].count),
            "rate": show(total.stages[name].rate, percent=True),
        }
        for name in core_equity.FUNNEL
    ]


def funnel_svg(report: core_equity.EquityReport) -> SafeString:
    total = next(iter(report.dimensions.values())).total
    bars = []
    for name in core_equity.FUNNEL:
        s = total.stages[name]
        rate = s.rate if isinstance(s.rate, Decimal) else None
        bars.append(
            (str(STAGE_LABELS[name]), rate, f"{show(s.count)} ({show(s.rate, percent=True)})")
        )
    return bar_svg(
        "chart-funnel",
        _("The care funnel, all episodes"),
        _("Episodes reaching each step, as a share of all episodes: %(values)s.")
        % {"values": "; ".join(f"{b[0]}: {b[2]}" for b in bars)},
        bars,
    )
