"""The network report: statistics from the engine's small aggregate tables (CLINICAL.md §9).

:func:`build_report` turns :class:`~trellis.analytics.engine.Aggregates` into the JSON report
(the ``trellis report network --format json`` contract) plus the tables behind the HTML/PDF
report and the CSVs. Every statistic comes from :mod:`trellis.core.network`, computed from
counts; only the adjusted Cox model needs one row per responder (lifelines).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from trellis.analytics.engine import Aggregates
from trellis.analytics.schema import EQUITY_DIMENSIONS, SCHEMA
from trellis.core import network as rules

AT_DAYS = (28, 56, 90, 180)
FUNNEL_STAGES = (
    "episodes",
    "induction_completed",
    "evaluable",
    "response",
    "remission",
    "durable",
)


def _ci(k: int, n: int) -> list[float] | None:
    ci = rules.wilson(k, n)
    return None if ci is None else [ci[0], ci[1]]


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _int(v: Any) -> int:
    return int(v or 0)


def funnel_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One unsuppressed funnel row: counts, rates (fractions) and Wilson 95 % intervals."""
    n = _int(row["episodes"])
    ev = _int(row["evaluable"])
    dd = _int(row["durable_denominator"])
    out: dict[str, Any] = {k: _int(row[k]) for k in FUNNEL_STAGES}
    out["durable_denominator"] = dd
    out["missing_baseline"] = _int(row["missing_baseline"])
    out["engaged"] = _int(row["engaged"])
    out["evaluable_share"] = rules.rate(ev, n)
    out["evaluable_share_ci95"] = _ci(ev, n)
    out["missing_baseline_share"] = rules.rate(out["missing_baseline"], n)
    for name, k, d in (
        ("response_rate", out["response"], ev),
        ("remission_rate", out["remission"], ev),
        ("durable_remission_90d_rate", out["durable"], dd),
    ):
        out[name] = rules.rate(k, d)
        out[f"{name}_ci95"] = _ci(k, d)
    return out


def suppress_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Suppress the count columns under 11, with complementary suppression down each column,
    and every rate built on a suppressed count (§9, CMS cell-size policy)."""
    counts = [*FUNNEL_STAGES, "durable_denominator", "missing_baseline", "engaged"]
    marks = rules.suppressed_table(rows, counts)
    uses = {
        "evaluable_share": ("evaluable", "episodes"),
        "missing_baseline_share": ("missing_baseline", "episodes"),
        "response_rate": ("response", "evaluable"),
        "remission_rate": ("remission", "evaluable"),
        "durable_remission_90d_rate": ("durable", "durable_denominator"),
    }
    out = []
    for row, mark in zip(rows, marks, strict=True):
        shown = dict(row)
        for c in counts:
            if mark[c]:
                shown[c] = None
        for r, (num, den) in uses.items():
            if mark[num] or mark[den]:
                shown[r] = None
                if f"{r}_ci95" in shown:
                    shown[f"{r}_ci95"] = None
        shown["suppressed"] = any(mark.values())
        out.append(shown)
    return out


def _curve_json(curve: rules.Curve) -> dict[str, Any]:
    return {
        "n": curve.n,
        "events": curve.events,
        "median_days": curve.median,
        "at_day": {str(d): curve.at(d) for d in AT_DAYS},
        "at_day_ci95": {
            str(d): (list(ci) if (ci := curve.ci_at(d)) is not None else None) for d in AT_DAYS
        },
    }


def _cox(table: pa.Table) -> dict[str, Any]:
    """Cox proportional-hazards HR of engagement, adjusted for baseline PHQ-9, track and age
    (lifelines, Efron ties). Null when it cannot be fitted (no events, a single group)."""
    null = {"hr": None, "ci95": None}
    if table.num_rows < 5:
        return null
    import pandas as pd
    from lifelines import CoxPHFitter

    df = table.to_pandas()
    if df["rfs_event"].sum() == 0 or df["engaged"].nunique() < 2:
        return null
    x = pd.DataFrame(
        {
            "T": df["rfs_time"].astype(float).clip(lower=1e-9),
            "E": df["rfs_event"].astype(int),
            "engaged": df["engaged"].astype(float),
            "baseline": df["baseline"].astype(float),
            "age": df["age"].astype(float),
        }
    )
    tracks = sorted(df["track"].unique())
    for tr in tracks[1:]:
        col = (df["track"] == tr).astype(float)
        if col.sum() >= 1:
            x[f"track_{tr}"] = col
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph = CoxPHFitter(penalizer=0.0)
            cph.fit(x, duration_col="T", event_col="E")
    except Exception:  # convergence failure on degenerate data: report undefined
        return null
    beta = float(cph.params_["engaged"])
    se = float(cph.standard_errors_["engaged"])
    if not (math.isfinite(beta) and math.isfinite(se)):
        return null
    return {
        "hr": math.exp(beta),
        "ci95": [math.exp(beta - rules.Z95 * se), math.exp(beta + rules.Z95 * se)],
        "n": int(len(x)),
        "events": int(x["E"].sum()),
        "adjusted_for": ["baseline_phq9", "track", "age"],
    }


def build_report(
    agg: Aggregates, synthetic: bool, progress: Callable[[], None] | None = None
) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (keys of the CLI contract first)."""
    net = funnel_row(agg.funnel["network"].to_pylist()[0])
    surv = {True: [], False: []}  # type: dict[bool, list[tuple[int, int, int]]]
    for r in _rows(agg.survival):
        surv[bool(r["engaged"])].append((int(r["rfs_time"]), int(r["events"]), int(r["censored"])))
    curves = {g: rules.kaplan_meier(rows) for g, rows in surv.items()}
    lr = rules.logrank(surv[True], surv[False])
    cox = _cox(agg.cox)
    if progress:
        progress()
    maint = {True: None, False: None}  # type: dict[bool, float | None]
    maint_rows = []
    for r in _rows(agg.maintenance):
        g = bool(r["engaged"])
        maint[g] = rules.maintenance_index(_int(r["boosters"]), _int(r["exposure_days"]))
        maint_rows.append(
            {
                "engaged": g,
                "episodes": _int(r["episodes"]),
                "boosters": _int(r["boosters"]),
                "patient_years": _int(r["exposure_days"]) / rules.DAYS_PER_YEAR,
                "maintenance_index": maint[g],
            }
        )
    raw = agg.funnel["network"].to_pylist()[0]
    gross = Decimal(raw["gross_durable_denominator_usd"] or 0)
    cost = rules.cost_per_durable_remission(gross, net["durable"])

    equity: list[dict[str, Any]] = []
    equity_full: list[dict[str, Any]] = []
    for dim in EQUITY_DIMENSIONS:
        rows = [
            {"group": r[dim] if r[dim] is not None else "unknown", **funnel_row(r)}
            for r in _rows(agg.funnel[dim])
        ]
        shown = suppress_rows(rows)
        for r in shown:
            equity.append(
                {
                    "dimension": dim,
                    "group": r["group"],
                    "n": r["evaluable"],
                    "response_rate": r["response_rate"],
                    "remission_rate": r["remission_rate"],
                }
            )
            equity_full.append({"dimension": dim, **r})

    programs = suppress_rows(
        [
            {"program_key": r["program_key"], **funnel_row(r)}
            for r in _rows(agg.funnel["program_key"])
        ]
    )
    tracks = suppress_rows(
        [{"track": r["track"], **funnel_row(r)} for r in _rows(agg.funnel["track"])]
    )
    p0 = net["response_rate"]
    funnel_plot = {
        "measure": "response_rate",
        "target": p0,
        "points": [
            {"program_key": p["program_key"], "n": p["evaluable"], "rate": p["response_rate"]}
            for p in programs
            if p["evaluable"] is not None and p["response_rate"] is not None
        ],
        "limits": _funnel_limits(p0, [p["evaluable"] for p in programs]),
    }
    hosp = _int(raw["hospitalizations_durable_denominator"])
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "synthetic": synthetic,
        "episodes": net["episodes"],
        "evaluable_share": net["evaluable_share"],
        "response_rate": net["response_rate"],
        "remission_rate": net["remission_rate"],
        "durable_remission_90d_rate": net["durable_remission_90d_rate"],
        "relapse_free": {
            "engaged": _curve_json(curves[True]),
            "not_engaged": _curve_json(curves[False]),
        },
        "logrank_p": None if lr is None else lr.p,
        "cox_hr_engaged": cox,
        "maintenance_index": {"engaged": maint[True], "not_engaged": maint[False]},
        "cost_per_durable_remission_usd": None if cost is None else float(cost),
        "equity": equity,
        # More detail (the contract allows more keys after these).
        "network": net,
        "logrank_chi2": None if lr is None else lr.chi2,
        "hospitalizations": {
            "episodes": net["durable_denominator"],
            "count": hosp,
            "gross_charges_usd": float(gross),
        },
        "maintenance": maint_rows,
        "programs": programs,
        "tracks": tracks,
        "funnel_plot": funnel_plot,
        "data_quality": [
            {
                "program_key": p["program_key"],
                "episodes": p["episodes"],
                "missing_baseline_share": p["missing_baseline_share"],
                "evaluable_share": p["evaluable_share"],
            }
            for p in programs
        ],
        "equity_detail": equity_full,
        "curves": {
            "engaged": _curve_points(curves[True]),
            "not_engaged": _curve_points(curves[False]),
        },
    }
    return report


def _curve_points(c: rules.Curve) -> list[dict[str, Any]]:
    return [
        {"day": t, "at_risk": n, "survival": s, "lower": lo, "upper": hi}
        for t, n, s, lo, hi in zip(c.times, c.at_risk, c.survival, c.lower, c.upper, strict=True)
    ]


def _funnel_limits(p0: float | None, ns: Sequence[int | None]) -> list[dict[str, float]]:
    known = [n for n in ns if n]
    if p0 is None or not known:
        return []
    top = max(known)
    points = sorted({max(1, round(top * (i / 40) ** 2)) for i in range(1, 41)} | {11, top})
    out = []
    for n in points:
        l95 = rules.funnel_limits(p0, n, rules.Z95)
        l998 = rules.funnel_limits(p0, n, rules.Z998)
        out.append({"n": n, "lo95": l95[0], "hi95": l95[1], "lo998": l998[0], "hi998": l998[1]})
    return out
