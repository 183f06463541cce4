"""Write the network report: report.html (inline SVG, accessible, printable), report.pdf,
report.json and one CSV per table.

The SVG helpers are also used by the app's ``/network/`` page. Charts carry a title and a
description (``role="img"``), and every chart is followed by the table of its numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from trellis.analytics.schema import EQUITY_DIMENSIONS
from trellis.exports import SafeDictWriter

# Okabe–Ito colours (distinguishable with colour-vision deficiency), dark enough on white.
ENGAGED = "#0072B2"
NOT_ENGAGED = "#D55E00"
GREY = "#595959"

LABELS = {
    "poverty_class": "Poverty class",
    "race_ethnicity": "Race and ethnicity",
    "language": "Language",
    "payer": "Payer",
    "rurality": "Rurality",
}


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _num(v: Any) -> str:
    if v is None:
        return "suppressed"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def km_svg(report: dict[str, Any], max_day: int = 365, title_id: str = "km") -> str:
    """Relapse-free survival among responders by engagement: KM steps with 95 % CI bands."""
    w, h, left, right, top, bottom = 640, 320, 56, 16, 16, 44
    pw, ph = w - left - right, h - top - bottom

    def x(day: float) -> float:
        return left + pw * min(day, max_day) / max_day

    def y(s: float) -> float:
        return top + ph * (1 - s)

    parts = []
    for key, colour, name in (
        ("engaged", ENGAGED, "Engaged in integration"),
        ("not_engaged", NOT_ENGAGED, "Not engaged"),
    ):
        pts = [p for p in report["curves"][key] if p["day"] <= max_day]
        if not pts:
            continue
        line = [(0.0, 1.0)]
        upper = [(0.0, 1.0)]
        lower = [(0.0, 1.0)]
        prev_s, prev_lo, prev_hi = 1.0, 1.0, 1.0
        for p in pts:
            line += [(p["day"], prev_s), (p["day"], p["survival"])]
            upper += [(p["day"], prev_hi), (p["day"], p["upper"])]
            lower += [(p["day"], prev_lo), (p["day"], p["lower"])]
            prev_s, prev_lo, prev_hi = p["survival"], p["lower"], p["upper"]
        end = pts[-1]["day"]
        line.append((end, prev_s))
        band = upper + list(reversed(lower))
        parts.append(
            f'<polygon points="{" ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in band)}" '
            f'fill="{colour}" fill-opacity="0.15" stroke="none"/>'
        )
        dash = ' stroke-dasharray="6 3"' if key == "not_engaged" else ""
        parts.append(
            f'<polyline points="{" ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in line)}" '
            f'fill="none" stroke="{colour}" stroke-width="2"{dash}><title>{name}</title>'
            "</polyline>"
        )
    axes = _axes(left, top, pw, ph, max_day, "Days since response", "Relapse-free")
    legend = (
        f'<g font-size="12"><line x1="{left + 10}" y1="{top + ph - 30}" x2="{left + 40}" '
        f'y2="{top + ph - 30}" stroke="{ENGAGED}" stroke-width="2"/>'
        f'<text x="{left + 46}" y="{top + ph - 26}">Engaged in integration</text>'
        f'<line x1="{left + 10}" y1="{top + ph - 12}" x2="{left + 40}" y2="{top + ph - 12}" '
        f'stroke="{NOT_ENGAGED}" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<text x="{left + 46}" y="{top + ph - 8}">Not engaged</text></g>'
    )
    rf = report["relapse_free"]
    desc = (
        f"Kaplan–Meier relapse-free survival among responders. Engaged: n {rf['engaged']['n']}, "
        f"median {rf['engaged']['median_days'] or 'not reached'} days. Not engaged: n "
        f"{rf['not_engaged']['n']}, median {rf['not_engaged']['median_days'] or 'not reached'} "
        "days. Shaded bands are 95 % confidence intervals."
    )
    return _svg(w, h, title_id, "Relapse-free survival by integration engagement", desc,
                axes + "".join(parts) + legend)  # fmt: skip


def _axes(left: int, top: int, pw: int, ph: int, xmax: float, xlabel: str, ylabel: str) -> str:
    out = [
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="{GREY}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="{GREY}"/>',
    ]
    for i in range(6):
        v = i / 5
        yy = top + ph * (1 - v)
        out.append(
            f'<line x1="{left - 4}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" '
            f'stroke="#e0e0e0"/><text x="{left - 8}" y="{yy + 4:.1f}" font-size="11" '
            f'text-anchor="end">{int(v * 100)} %</text>'
        )
    for i in range(5):
        v = xmax * i / 4
        xx = left + pw * i / 4
        out.append(
            f'<text x="{xx:.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">'
            f"{int(round(v))}</text>"
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{top + ph + 36}" font-size="12" '
        f'text-anchor="middle">{escape(xlabel)}</text>'
    )
    out.append(
        f'<text transform="translate(14,{top + ph / 2:.1f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle">{escape(ylabel)}</text>'
    )
    return "".join(out)


def _svg(w: int, h: int, ident: str, title: str, desc: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="chart" '
        f'font-family="system-ui, sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def funnel_svg(
    report: dict[str, Any], title_id: str = "funnel", highlight: str | None = None
) -> str:
    """Funnel plot of programs' response rates against their evaluable n, with the network rate
    and 95 % / 99.8 % control limits; ``highlight`` marks one program."""
    fp = report["funnel_plot"]
    w, h, left, right, top, bottom = 640, 320, 56, 16, 16, 44
    pw, ph = w - left - right, h - top - bottom
    if not fp["limits"] or fp["target"] is None:
        return _svg(w, h, title_id, "Funnel plot", "Not enough data for a funnel plot.", "")
    nmax = float(max(lim["n"] for lim in fp["limits"]))

    def x(n: float) -> float:
        return left + pw * n / nmax

    def y(v: float) -> float:
        return top + ph * (1 - v)

    body = [_axes(left, top, pw, ph, nmax, "Evaluable episodes (n)", "Response rate")]
    lims = fp["limits"]
    for key, dash in (("95", "4 3"), ("998", "")):
        for side in ("lo", "hi"):
            pts = " ".join(f"{x(lim['n']):.1f},{y(lim[side + key]):.1f}" for lim in lims)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(
                f'<polyline points="{pts}" fill="none" stroke="{GREY}" stroke-width="1.2"'
                f"{dash_attr}/>"
            )
    body.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{y(fp["target"]):.1f}" '
        f'y2="{y(fp["target"]):.1f}" stroke="#000" stroke-width="1"/>'
    )
    for p in fp["points"]:
        mine = highlight is not None and p["program_key"] == highlight
        body.append(
            f'<circle cx="{x(p["n"]):.1f}" cy="{y(p["rate"]):.1f}" r="{7 if mine else 4}" '
            f'fill="{NOT_ENGAGED if mine else ENGAGED}" fill-opacity="0.8">'
            f"<title>{'Your program: ' if mine else ''}n {p['n']}, response {pct(p['rate'])}"
            "</title></circle>"
        )
    desc = (
        f"Each dot is a program: response rate against evaluable episodes. Network rate "
        f"{pct(fp['target'])}; dashed lines are 95 % limits, solid lines 99.8 % limits."
    )
    return _svg(w, h, title_id, "Funnel plot of programs' response rates", desc, "".join(body))


def equity_svg(report: dict[str, Any], dimension: str, title_id: str) -> str:
    """Horizontal bars of the response rate per group of one dimension (suppressed: labelled)."""
    rows = [r for r in report["equity"] if r["dimension"] == dimension]
    w, bar_h, left = 640, 22, 170
    h = 24 + bar_h * len(rows) + 10
    body = []
    for i, r in enumerate(rows):
        yy = 20 + i * bar_h
        body.append(
            f'<text x="{left - 8}" y="{yy + 15}" font-size="12" text-anchor="end">'
            f"{escape(str(r['group']))}</text>"
        )
        if r["response_rate"] is None:
            body.append(
                f'<text x="{left + 4}" y="{yy + 15}" font-size="12" fill="{GREY}">'
                "suppressed (fewer than 11)</text>"
            )
            continue
        bw = (w - left - 80) * r["response_rate"]
        body.append(
            f'<rect x="{left}" y="{yy + 3}" width="{bw:.1f}" height="{bar_h - 6}" '
            f'fill="{ENGAGED}"/><text x="{left + bw + 6:.1f}" y="{yy + 15}" font-size="12">'
            f"{pct(r['response_rate'])} (n {r['n']})</text>"
        )
    label = LABELS.get(dimension, dimension)
    desc = f"Response rate among evaluable episodes by {label.lower()}; small cells suppressed."
    return _svg(w, h, title_id, f"Response rate by {label.lower()}", desc, "".join(body))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_num(c) if not isinstance(c, str) else c)}</td>" for c in r)
        + "</tr>"
        for r in rows
    )  # fmt: skip
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;
color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left}
caption{text-align:left;font-weight:600;padding:.25rem 0}
.chart{max-width:100%;height:auto}.banner{background:#fff3cd;border:1px solid #8a6d00;
padding:.5rem 1rem}.figures dt{font-weight:600}.figures dd{margin:0 0 .5rem}
@media print{body{max-width:none;margin:0}h2{break-before:auto}svg,table{break-inside:avoid}
a{color:inherit}}
"""


def figures(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline figures as (label, value) pairs."""
    net = report["network"]
    cox = report["cox_hr_engaged"]
    cost = report["cost_per_durable_remission_usd"]

    def ci(v: list[float] | None) -> str:
        return "" if v is None else f" (95 % CI {pct(v[0])}–{pct(v[1])})"

    hr = (
        "—"
        if cox["hr"] is None
        else f"{cox['hr']:.2f} (95 % CI {cox['ci95'][0]:.2f}–{cox['ci95'][1]:.2f})"
    )
    mi = report["maintenance_index"]
    return [
        ("Episodes", str(report["episodes"])),
        ("Evaluable share", pct(report["evaluable_share"]) + ci(net["evaluable_share_ci95"])),
        ("Response rate", pct(report["response_rate"]) + ci(net["response_rate_ci95"])),
        ("Remission rate", pct(report["remission_rate"]) + ci(net["remission_rate_ci95"])),
        (
            "Durable remission at 90 days",
            pct(report["durable_remission_90d_rate"]) + ci(net["durable_remission_90d_rate_ci95"]),
        ),
        ("Hazard ratio of relapse, engaged vs not (adjusted)", hr),
        (
            "Log-rank p",
            "—" if report["logrank_p"] is None else f"{report['logrank_p']:.3g}",
        ),
        (
            "Maintenance index (doses per patient-year after induction)",
            " / ".join(
                f"{name}: {'—' if v is None else f'{v:.2f}'}"
                for name, v in (("engaged", mi["engaged"]), ("not engaged", mi["not_engaged"]))
            ),
        ),
        ("Cost per durable remission", "—" if cost is None else f"${cost:,.2f}"),
        (
            "Hospitalisations observed (durable-remission denominator)",
            f"{report['hospitalizations']['count']} in {report['hospitalizations']['episodes']}"
            " episodes",
        ),
    ]


def html_report(report: dict[str, Any]) -> str:
    synthetic = report["synthetic"]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Trellis network report</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>Trellis network report</h1>",
    ]
    if synthetic:
        parts.append('<p class="banner"><strong>Synthetic data.</strong> No real patients.</p>')
    parts.append(
        f"<p>Schema {escape(report['schema'])}. Definitions: docs/network.md. Cells under 11 "
        "are suppressed, with complementary suppression.</p><h2>Headline figures</h2>"
        '<dl class="figures">'
    )
    for label, value in figures(report):
        parts.append(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>")
    parts.append("</dl><h2>Relapse-free survival among responders</h2>")
    parts.append(km_svg(report))
    rf = report["relapse_free"]
    parts.append(
        _table(
            ["group", "n", "relapses", "median days", "day 28", "day 56", "day 90", "day 180"],
            [
                [name, c["n"], c["events"], c["median_days"] if c["median_days"] else "not reached"]
                + [pct(c["at_day"][d]) for d in ("28", "56", "90", "180")]
                for name, c in (("engaged", rf["engaged"]), ("not engaged", rf["not_engaged"]))
            ],
            "Relapse-free survival (Kaplan–Meier)",
        )
    )
    parts.append("<h2>Programs: funnel plot</h2>" + funnel_svg(report))
    parts.append(_funnel_table(report["programs"], "program_key", "Funnel by program"))
    parts.append("<h2>Tracks</h2>" + _funnel_table(report["tracks"], "track", "Funnel by track"))
    parts.append("<h2>Equity</h2>")
    for dim in EQUITY_DIMENSIONS:
        parts.append(f"<h3>{escape(LABELS[dim])}</h3>" + equity_svg(report, dim, f"eq-{dim}"))
        parts.append(
            _table(
                ["group", "evaluable n", "response rate", "remission rate"],
                [
                    [r["group"], r["n"], pct(r["response_rate"]), pct(r["remission_rate"])]
                    for r in report["equity"]
                    if r["dimension"] == dim
                ],
                f"{LABELS[dim]}: rates among evaluable episodes",
            )
        )
    parts.append("<h2>Data quality</h2>")
    parts.append(
        _table(
            ["program", "episodes", "missing baseline", "evaluable share"],
            [
                [
                    d["program_key"],
                    d["episodes"],
                    pct(d["missing_baseline_share"]),
                    pct(d["evaluable_share"]),
                ]
                for d in report["data_quality"]
            ],  # fmt: skip
            "Missing baselines and evaluable share by program",
        )
    )
    parts.append("</main></body></html>")
    return "".join(parts)


def _funnel_table(rows: list[dict[str, Any]], key: str, caption: str) -> str:
    return _table(
        [key.replace("_", " "), "episodes", "induction completed", "evaluable", "response",
         "remission", "durable", "response rate", "remission rate"],
        [
            [str(r[key])[:16], r["episodes"], r["induction_completed"], r["evaluable"],
             r["response"], r["remission"], r["durable"], pct(r["response_rate"]),
             pct(r["remission_rate"])]
            for r in rows
        ],
        caption,
    )  # fmt: skip


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        if not rows:
            fh.write("")
            return
        keys = list(rows[0])
        writer = SafeDictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r.items()}
            )


def write_outputs(report: dict[str, Any], out: Path) -> None:
    """report.html, report.pdf, report.json and a CSV per table into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(html_report(report), encoding="utf-8")
    _write_csv(out / "programs.csv", report["programs"])
    _write_csv(out / "tracks.csv", report["tracks"])
    _write_csv(out / "equity.csv", report["equity_detail"])
    _write_csv(out / "network.csv", [report["network"]])
    _write_csv(out / "maintenance.csv", report["maintenance"])
    _write_csv(out / "data_quality.csv", report["data_quality"])
    _write_csv(out / "funnel_plot.csv", report["funnel_plot"]["points"])
    _write_csv(
        out / "survival.csv",
        [{"group": g, **p} for g in ("engaged", "not_engaged") for p in report["curves"][g]],
    )
    write_pdf(report, out / "report.pdf")


def write_pdf(report: dict[str, Any], path: Path) -> None:
    """A printable PDF: headline figures, the KM curves with CI bands and the funnel plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(8.5, 11))
        fig.text(0.08, 0.95, "Trellis network report", fontsize=18, weight="bold")
        y = 0.91
        if report["synthetic"]:
            fig.text(0.08, y, "Synthetic data: no real patients.", fontsize=11, color="#8a6d00")
            y -= 0.03
        for label, value in figures(report):
            fig.text(0.08, y, label, fontsize=10, weight="bold")
            fig.text(0.08, y - 0.018, value, fontsize=10)
            y -= 0.045
        pdf.savefig(fig)
        plt.close(fig)

        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8.5, 11))
        for key, colour, name, style in (
            ("engaged", ENGAGED, "Engaged in integration", "-"),
            ("not_engaged", NOT_ENGAGED, "Not engaged", "--"),
        ):
            pts = report["curves"][key]
            if not pts:
                continue
            days = [0] + [p["day"] for p in pts]
            ax1.step(days, [1.0] + [p["survival"] for p in pts], where="post", color=colour,
                     linestyle=style, label=name)  # fmt: skip
            ax1.fill_between(days, [1.0] + [p["lower"] for p in pts],
                             [1.0] + [p["upper"] for p in pts], step="post", color=colour,
                             alpha=0.15)  # fmt: skip
        ax1.set(xlim=(0, 365), ylim=(0, 1), xlabel="Days since response", ylabel="Relapse-free",
                title="Relapse-free survival among responders (95 % CI)")  # fmt: skip
        if any(report["curves"][k] for k in ("engaged", "not_engaged")):
            ax1.legend()
        fp = report["funnel_plot"]
        if fp["limits"]:
            ns = [lim["n"] for lim in fp["limits"]]
            for key, style in (("95", "--"), ("998", "-")):
                ax2.plot(ns, [lim["lo" + key] for lim in fp["limits"]], color=GREY, ls=style)
                ax2.plot(ns, [lim["hi" + key] for lim in fp["limits"]], color=GREY, ls=style)
            ax2.axhline(fp["target"], color="black", lw=1)
            ax2.scatter([p["n"] for p in fp["points"]], [p["rate"] for p in fp["points"]],
                        color=ENGAGED)  # fmt: skip
        ax2.set(xlabel="Evaluable episodes (n)", ylabel="Response rate", ylim=(0, 1),
                title="Programs: funnel plot (95 % dashed, 99.8 % solid)")  # fmt: skip
        fig.tight_layout()
        pdf.savefig(fig)
        plt.close(fig)
