"""The advocacy brief (issue 16, part 3): two pages a community board member can read, and one
page of method and caveats, in English or Spanish, as PDF (matplotlib) or HTML.

Every figure comes from the network report's statistics (CLINICAL.md §9, :mod:`trellis.core.
network`), computed on the program's own de-identified rows; the network's figures come from a
dataset report or a bundles report. Cells under 11 are suppressed (§9). The cost of a psychiatric
hospitalisation is a setting that must carry its source.
"""

from __future__ import annotations

import csv
import io
import math
import os
import textwrap
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from html import escape
from pathlib import Path
from typing import Any

from trellis.core import network as rules
from trellis.core.errors import InvalidInput

SCHEMA = "trellis-brief/1"
LANGS = ("en", "es")
DIMENSIONS = ("poverty_class", "race_ethnicity", "language", "payer")
COST_ENV = "TRELLIS_HOSPITALIZATION_COST_USD"
SOURCE_ENV = "TRELLIS_HOSPITALIZATION_COST_SOURCE"
SYNTHETIC_CENSUS = Path(__file__).parent / "data" / "census-synthetic.csv"
# The demo's illustrative cost: never a real figure, and it says so.
DEMO_COST = {
    "usd": 15000.0,
    "source": "Illustrative synthetic value for the demo, not a real cost",
    "illustrative": True,
}
MIN_CELL = 11


# --- inputs ----------------------------------------------------------------------------------


def hospitalization_cost(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The cost of one psychiatric hospitalisation from the environment, with its source.

    None when unset. A cost without a source, or a source without a cost, is refused (naming the
    variable); the cost must be a positive number of dollars."""
    env = os.environ if env is None else env
    raw = env.get(COST_ENV, "").strip()
    source = env.get(SOURCE_ENV, "").strip()
    if not raw and not source:
        return None
    if not source:
        raise InvalidInput(SOURCE_ENV, f"is required when {COST_ENV} is set: name the source")
    if not raw:
        raise InvalidInput(COST_ENV, f"is not set but {SOURCE_ENV} is")
    try:
        usd = Decimal(raw)
    except InvalidOperation as exc:
        raise InvalidInput(COST_ENV, f"{raw!r} is not a number of dollars") from exc
    if not usd.is_finite() or usd <= 0 or usd > 10_000_000:
        raise InvalidInput(COST_ENV, f"{raw!r} must be more than 0 and at most 10,000,000")
    if len(source) > 300:
        raise InvalidInput(SOURCE_ENV, "is longer than 300 characters")
    return {"usd": float(usd), "source": source, "illustrative": False}


def read_census(path: Path, field: str = "--census") -> list[dict[str, Any]]:
    """The service area's census table: CSV ``dimension,group,share`` (shares 0–1 summing to
    about 1 per dimension). InvalidInput naming ``field`` and the line otherwise."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(field, f"cannot read {path}: {exc}") from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != ["dimension", "group", "share"]:
        raise InvalidInput(field, "the first line must be: dimension,group,share")
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for line, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != 3:
            raise InvalidInput(field, f"line {line}: expected 3 columns, got {len(rec)}")
        dim, group, share_text = (c.strip() for c in rec)
        if dim not in DIMENSIONS:
            raise InvalidInput(field, f"line {line}: dimension must be one of "
                               f"{', '.join(DIMENSIONS)}, got {dim!r}")  # fmt: skip
        if not group or len(group) > 40:
            raise InvalidInput(field, f"line {line}: group must be 1 to 40 characters")
        try:
            share = float(share_text)
        except ValueError as exc:
            raise InvalidInput(field, f"line {line}: share {share_text!r} is not a number") from exc
        if not (math.isfinite(share) and 0 <= share <= 1):
            raise InvalidInput(field, f"line {line}: share must be between 0 and 1")
        if (dim, group) in seen:
            raise InvalidInput(field, f"line {line}: {dim} {group!r} appears twice")
        seen.add((dim, group))
        rows.append({"dimension": dim, "group": group, "share": share})
    if not rows:
        raise InvalidInput(field, "has no rows")
    for dim in DIMENSIONS:
        total = sum(r["share"] for r in rows if r["dimension"] == dim)
        if total and not 0.98 <= total <= 1.02:
            raise InvalidInput(field, f"the shares of {dim} add up to {total:.3f}, not 1")
    return rows


# --- figures ---------------------------------------------------------------------------------


def served(episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who was served: distinct patients per group of each dimension (a patient counted once,
    by their first episode), cells under 11 suppressed with complementary suppression (§9)."""
    first: dict[str, dict[str, Any]] = {}
    for e in sorted(episodes, key=lambda e: (e["first_dose_year"] or 0, e["episode_key"])):
        first.setdefault(e["patient_key"], e)
    total = len(first)
    out = []
    for dim in DIMENSIONS:
        counts: dict[str, int] = {}
        for e in first.values():
            g = e[dim] if e[dim] is not None else "unknown"
            counts[g] = counts.get(g, 0) + 1
        groups = sorted(counts)
        marks = rules.complementary_suppression([counts[g] for g in groups])
        for g, hidden in zip(groups, marks, strict=True):
            out.append(
                {
                    "dimension": dim,
                    "group": g,
                    "n": None if hidden else counts[g],
                    "share": None if hidden or not total else counts[g] / total,
                }
            )
    return out


def _shown(k: int | None, n: int | None) -> bool:
    return k is not None and n is not None and k >= MIN_CELL and n >= MIN_CELL


def _outcomes(report: dict[str, Any]) -> dict[str, Any]:
    from trellis.analytics.report import suppress_rows

    net = suppress_rows([report["network"]])[0]
    return {
        "episodes": net["episodes"],
        "evaluable": net["evaluable"],
        "response_rate": net["response_rate"],
        "response_rate_ci95": net["response_rate_ci95"],
        "remission_rate": net["remission_rate"],
        "remission_rate_ci95": net["remission_rate_ci95"],
        "durable": net["durable"],
        "durable_remission_90d_rate": net["durable_remission_90d_rate"],
        "durable_remission_90d_rate_ci95": net["durable_remission_90d_rate_ci95"],
    }


def _network_outcomes(report: dict[str, Any]) -> dict[str, Any]:
    net = report["network"]
    return {
        "episodes": net["episodes"],
        "programs": len(report.get("programs", [])),
        "response_rate": net["response_rate"],
        "response_rate_ci95": net["response_rate_ci95"],
        "remission_rate": net["remission_rate"],
        "remission_rate_ci95": net["remission_rate_ci95"],
        "durable_remission_90d_rate": net["durable_remission_90d_rate"],
        "durable_remission_90d_rate_ci95": net["durable_remission_90d_rate_ci95"],
    }


def build_brief(
    *,
    program: str,
    report: dict[str, Any],
    episodes: list[dict[str, Any]],
    census: list[dict[str, Any]] | None,
    network: dict[str, Any] | None,
    cost: dict[str, Any] | None,
    synthetic: bool,
    source: str,
    census_synthetic: bool = False,
) -> dict[str, Any]:
    """The brief's figures (JSON-ready), suppression applied. ``report`` is the network report
    computed on the program's rows alone; ``network`` the network's report or None."""
    census_share = {(c["dimension"], c["group"]): c["share"] for c in census or []}
    who = [
        {**r, "census_share": census_share.get((r["dimension"], r["group"]))}
        for r in served(episodes)
    ]
    integration: dict[str, Any] = {}
    for g in ("engaged", "not_engaged"):
        c = report["relapse_free"][g]
        ok = c["n"] >= MIN_CELL
        integration[g] = {
            "n": c["n"] if ok else None,
            "relapse_free_90d": c["at_day"]["90"] if ok else None,
            "relapse_free_90d_ci95": c["at_day_ci95"]["90"] if ok else None,
            "maintenance_index": report["maintenance_index"][g] if ok else None,
        }
    outcomes = _outcomes(report)
    hosp = report["hospitalizations"]
    durable = outcomes["durable"]
    per_durable = (
        report["cost_per_durable_remission_usd"] if durable is not None and durable > 0 else None
    )
    count = hosp["count"] if hosp["count"] >= MIN_CELL else None
    return {
        "schema": SCHEMA,
        "program": program,
        "synthetic": synthetic or bool(network and network.get("synthetic")),
        "source": source,
        "served": who,
        "census": census is not None,
        "census_synthetic": census is not None and census_synthetic,
        "outcomes": {
            "program": outcomes,
            "network": None if network is None else _network_outcomes(network),
            "network_source": None if network is None else network.get("brief_source", "dataset"),
        },
        "integration": {**integration, "logrank_p": report["logrank_p"]},
        "cost": {
            "per_durable_remission_usd": per_durable,
            "hospitalizations": count,
            "hospitalizations_hidden": count is None,
            "hospitalization_cost": cost,
            "hospitalizations_cost_usd": (
                None if cost is None or count is None else round(cost["usd"] * count, 2)
            ),
        },
    }


def program_figures(
    data_dir: Path, program_key: str, synthetic: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report on one program's rows of a dataset, and those rows' episodes."""
    from trellis.analytics import bundle, engine
    from trellis.analytics.report import build_report

    tables = bundle.program_tables(engine.load(engine.connect("duckdb"), data_dir), program_key)
    episodes: list[dict[str, Any]] = tables["episodes"].to_pyarrow().to_pylist()
    if not episodes:
        raise InvalidInput("--program", "the program has no episode to report yet")
    return build_report(engine.aggregates(tables), synthetic), episodes


# --- words -----------------------------------------------------------------------------------

GROUPS: dict[str, dict[str, str]] = {
    "en": {
        "poverty_class": "Income (poverty class)",
        "race_ethnicity": "Race and ethnicity",
        "language": "Language",
        "payer": "Payer",
        "unknown": "unknown",
        "white": "White", "black": "Black", "hispanic": "Hispanic or Latino", "asian": "Asian",
        "aian": "American Indian or Alaska Native", "nhpi": "Native Hawaiian or Pacific Islander",
        "mena": "Middle Eastern or North African", "multiple": "More than one",
        "en": "English", "es": "Spanish", "zh": "Chinese", "vi": "Vietnamese", "other": "Other",
        "medicaid": "Medicaid", "medicare": "Medicare", "commercial": "Private insurance",
        "self_pay": "Self-pay",
    },
    "es": {
        "poverty_class": "Ingresos (clase de pobreza)",
        "race_ethnicity": "Raza y origen étnico",
        "language": "Idioma",
        "payer": "Pagador",
        "unknown": "desconocido",
        "white": "Blanco", "black": "Negro", "hispanic": "Hispano o latino", "asian": "Asiático",
        "aian": "Indígena de las Américas o de Alaska", "nhpi": "Nativo de Hawái o del Pacífico",
        "mena": "Medio Oriente o norte de África", "multiple": "Más de uno",
        "en": "Inglés", "es": "Español", "zh": "Chino", "vi": "Vietnamita", "other": "Otro",
        "medicaid": "Medicaid", "medicare": "Medicare", "commercial": "Seguro privado",
        "self_pay": "Pago propio",
    },
}  # fmt: skip

T: dict[str, dict[str, Any]] = {
    "en": {
        "title": "What our program does for the community",
        "synthetic": "Synthetic data: no real patients. For demonstration only.",
        "p1": "Page 1 of 3", "p2": "Page 2 of 3", "p3": "Page 3 of 3: method and caveats",
        "who": "Who we served, and who lives in our area",
        "who_text": "{n} people started care. The bars compare the people we served with the "
                    "people who live in our service area.",
        "who_nocensus": "No census table was supplied, so we cannot compare with the area.",
        "census_synthetic": "The census table is synthetic, for demonstration only.",
        "served": "Served", "area": "Service area",
        "with": "With integration", "without": "Without",
        "rfs_title": "Still well 90 days after responding (95 % CI)",
        "demo_src": "an illustrative synthetic value for the demo",
        "hidden": "fewer than 11",
        "outcomes": "Did people get better?",
        "response": "Response (depression score fell by half)",
        "remission": "Remission (few or no symptoms)",
        "durable": "Still well 90 days after remission",
        "ours": "Our program", "network": "Network",
        "net_none": "No network figures: no network report was given.",
        "net_from": "Network: {episodes} courses in {programs} programs.",
        "line_rate": "{label}: {ours} in our program; {net} in the network.",
        "integration": "What integration support adds",
        "int_text": "Among people who got better, {eng} of those who took part in integration "
                    "support were still well 90 days later, against {not_} of those who did not.",
        "int_mi": "Extra doses per person-year after the first course: {eng} with integration, "
                  "{not_} without.",
        "int_caveat": "This is an association seen in everyday care, not proof that integration "
                      "causes the difference: people who take part may differ in other ways.",
        "cost": "Cost and hospitalisations",
        "cost_per": "Cost per person still well at 90 days: {v}.",
        "hosp": "Psychiatric hospitalisations observed: {n}.",
        "hosp_cost": "At {usd} per hospitalisation ({src}), that is {total}.",
        "hosp_cost_illustrative": "This cost is an illustrative synthetic value, not a real cost.",
        "hosp_unset": "The cost of a hospitalisation is not set, so it is not shown.",
        "method": "Method and caveats",
        "m": [
            "Source: {source}.",
            "Response: the depression score (PHQ-9) fell by at least half by day 31. Remission: "
            "a score under 5. Still well at 90 days: remission that lasted 90 days without "
            "relapse.",
            "The ranges in brackets are 95 % confidence intervals: the true value is likely "
            "within them.",
            "Relapse-free at 90 days comes from Kaplan–Meier survival among people who "
            "responded; integration support means taking part in integration sessions.",
            "Engaged and not engaged people were not assigned at random. The difference is an "
            "association in observational data, not proof of cause.",
            "Groups of fewer than 11 people are not shown, and another small group is hidden "
            "with them so that none can be worked out.",
            "Cost per person still well is the gross charges of the courses counted, divided "
            "by the people still well at 90 days.",
            "Hospitalisations are those recorded in the program's records during the courses "
            "counted; the cost per hospitalisation is a setting with its source: {cost_src}.",
            "Census shares describe the service area; the program's shares count each person "
            "once.",
        ],
        "cost_src_unset": "not set",
        "src_dataset": "a network dataset report",
        "src_bundles": "programs' aggregate bundles",
        "na": "not available",
        "ci": "(95 % CI {lo}–{hi})",
    },
    "es": {
        "title": "Lo que nuestro programa hace por la comunidad",
        "synthetic": "Datos sintéticos: no son pacientes reales. Solo para demostración.",
        "p1": "Página 1 de 3", "p2": "Página 2 de 3", "p3": "Página 3 de 3: método y salvedades",
        "who": "A quién atendimos y quién vive en nuestra zona",
        "who_text": "{n} personas comenzaron la atención. Las barras comparan a las personas "
                    "que atendimos con las que viven en nuestra zona de servicio.",
        "who_nocensus": "No se proporcionó una tabla del censo, así que no podemos comparar "
                        "con la zona.",
        "census_synthetic": "La tabla del censo es sintética, solo para demostración.",
        "served": "Atendidos", "area": "Zona de servicio",
        "with": "Con integración", "without": "Sin integración",
        "rfs_title": "Siguen bien 90 días después de responder (IC 95 %)",
        "demo_src": "un valor sintético ilustrativo para la demostración",
        "hidden": "menos de 11",
        "outcomes": "¿Mejoraron las personas?",
        "response": "Respuesta (el puntaje de depresión bajó a la mitad)",
        "remission": "Remisión (pocos o ningún síntoma)",
        "durable": "Siguen bien 90 días después de la remisión",
        "ours": "Nuestro programa", "network": "Red",
        "net_none": "Sin cifras de la red: no se proporcionó un informe de la red.",
        "net_from": "Red: {episodes} tratamientos en {programs} programas.",
        "line_rate": "{label}: {ours} en nuestro programa; {net} en la red.",
        "integration": "Lo que aporta el apoyo de integración",
        "int_text": "Entre las personas que mejoraron, {eng} de quienes participaron en el apoyo "
                    "de integración seguían bien 90 días después, frente a {not_} de quienes no "
                    "participaron.",
        "int_mi": "Dosis adicionales por persona y año después del primer tratamiento: {eng} con "
                  "integración, {not_} sin ella.",
        "int_caveat": "Es una asociación observada en la atención diaria, no una prueba de que la "
                      "integración cause la diferencia: quienes participan pueden ser distintos "
                      "en otros aspectos.",
        "cost": "Costo y hospitalizaciones",
        "cost_per": "Costo por persona que sigue bien a los 90 días: {v}.",
        "hosp": "Hospitalizaciones psiquiátricas observadas: {n}.",
        "hosp_cost": "A {usd} por hospitalización ({src}), suman {total}.",
        "hosp_cost_illustrative": "Este costo es un valor sintético ilustrativo, no un costo "
                                  "real.",
        "hosp_unset": "No se ha fijado el costo de una hospitalización, así que no se muestra.",
        "method": "Método y salvedades",
        "m": [
            "Fuente: {source}.",
            "Respuesta: el puntaje de depresión (PHQ-9) bajó al menos a la mitad para el día 31. "
            "Remisión: un puntaje menor de 5. Siguen bien a los 90 días: una remisión que duró "
            "90 días sin recaída.",
            "Los rangos entre paréntesis son intervalos de confianza del 95 %: es probable que "
            "el valor real esté dentro de ellos.",
            "Sin recaída a los 90 días se calcula con el método de Kaplan–Meier entre quienes "
            "respondieron; apoyo de integración significa participar en sesiones de "
            "integración.",
            "Las personas que participaron y las que no participaron no se asignaron al azar. "
            "La diferencia es una asociación en datos de observación, no una prueba de causa.",
            "No se muestran grupos de menos de 11 personas, y se oculta con ellos otro grupo "
            "pequeño para que ninguno pueda deducirse.",
            "El costo por persona que sigue bien son los cargos brutos de los tratamientos "
            "contados, divididos entre las personas que siguen bien a los 90 días.",
            "Las hospitalizaciones son las registradas por el programa durante los tratamientos "
            "contados; el costo por hospitalización es un ajuste con su fuente: {cost_src}.",
            "Los porcentajes del censo describen la zona de servicio; los del programa cuentan "
            "a cada persona una vez.",
        ],
        "cost_src_unset": "no fijado",
        "src_dataset": "un informe de un conjunto de datos de la red",
        "src_bundles": "paquetes de datos agregados de los programas",
        "na": "no disponible",
        "ci": "(IC 95 % {lo}–{hi})",
    },
}  # fmt: skip


def pct(v: float | None, lang: str) -> str:
    """A percentage with one decimal (a decimal comma in Spanish); None → not available."""
    if v is None:
        return str(T[lang]["na"])
    s = f"{100 * v:.1f} %"
    return s.replace(".", ",") if lang == "es" else s


def usd(v: float | None, lang: str) -> str:
    if v is None:
        return str(T[lang]["na"])
    s = f"${v:,.0f}"
    return s.replace(",", ".") if lang == "es" else s


def num(v: float | None, lang: str) -> str:
    if v is None:
        return str(T[lang]["na"])
    s = f"{v:.2f}"
    return s.replace(".", ",") if lang == "es" else s


def _with_ci(v: float | None, ci: list[float] | None, lang: str) -> str:
    if v is None:
        return str(T[lang]["hidden"])
    if ci is None:
        return pct(v, lang)
    return f"{pct(v, lang)} " + str(T[lang]["ci"]).format(lo=pct(ci[0], lang), hi=pct(ci[1], lang))


def group_label(g: str, lang: str) -> str:
    return GROUPS[lang].get(g, g)


def text(brief: dict[str, Any], lang: str) -> dict[str, Any]:
    """Every sentence of the brief in ``lang`` (the PDF and the HTML print the same words)."""
    if lang not in LANGS:
        raise InvalidInput("--lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
    t = T[lang]
    people = sum(r["n"] or 0 for r in brief["served"] if r["dimension"] == DIMENSIONS[0])
    hidden = any(r["n"] is None for r in brief["served"] if r["dimension"] == DIMENSIONS[0])
    total = f"{people}+" if hidden else str(people)
    who = [t["who_text"].format(n=total)]
    if not brief["census"]:
        who.append(t["who_nocensus"])
    elif brief.get("census_synthetic"):
        who.append(t["census_synthetic"])
    ours, net = brief["outcomes"]["program"], brief["outcomes"]["network"]
    lines = []
    for key, label in (("response_rate", "response"), ("remission_rate", "remission"),
                       ("durable_remission_90d_rate", "durable")):  # fmt: skip
        mine = _with_ci(ours[key], ours.get(f"{key}_ci95"), lang)
        theirs = t["na"] if net is None else _with_ci(net[key], net.get(f"{key}_ci95"), lang)
        lines.append(t["line_rate"].format(label=t[label], ours=mine, net=theirs))
    if net is None:
        lines.append(t["net_none"])
    else:
        lines.append(t["net_from"].format(episodes=net["episodes"], programs=net["programs"]))
    ig = brief["integration"]
    integ = [
        t["int_text"].format(
            eng=_with_ci(
                ig["engaged"]["relapse_free_90d"], ig["engaged"]["relapse_free_90d_ci95"], lang
            ),
            not_=_with_ci(
                ig["not_engaged"]["relapse_free_90d"],
                ig["not_engaged"]["relapse_free_90d_ci95"],
                lang,
            ),
        ),  # fmt: skip
        t["int_mi"].format(
            eng=num(ig["engaged"]["maintenance_index"], lang),
            not_=num(ig["not_engaged"]["maintenance_index"], lang),
        ),
        t["int_caveat"],
    ]
    c = brief["cost"]
    cost = [t["cost_per"].format(v=usd(c["per_durable_remission_usd"], lang))]
    cost.append(
        t["hosp"].format(n=t["hidden"] if c["hospitalizations"] is None else c["hospitalizations"])
    )
    hc = c["hospitalization_cost"]
    if hc is None:
        cost.append(t["hosp_unset"])
    else:
        total_cost = usd(c["hospitalizations_cost_usd"], lang)
        if c["hospitalizations_cost_usd"] is None:
            total_cost = t["hidden"]
        src_text = t["demo_src"] if hc.get("illustrative") else hc["source"]
        cost.append(t["hosp_cost"].format(usd=usd(hc["usd"], lang), src=src_text,
                                          total=total_cost))  # fmt: skip
        if hc.get("illustrative"):
            cost.append(t["hosp_cost_illustrative"])
    src = brief["outcomes"]["network_source"]
    source = brief["source"]
    if src is not None:
        source += "; " + (t["src_bundles"] if src == "bundles" else t["src_dataset"])
    method = [
        m.format(
            source=source,
            cost_src=(t["demo_src"] if hc.get("illustrative") else hc["source"])
            if hc
            else t["cost_src_unset"],
        )
        for m in t["m"]
    ]
    return {"title": t["title"], "who": who, "outcomes": lines, "integration": integ,
            "cost": cost, "method": method}  # fmt: skip


# --- PDF -------------------------------------------------------------------------------------


def write_pdf(brief: dict[str, Any], lang: str, path: Path) -> None:
    """Three pages: who was served against the area, outcomes and what integration adds and
    costs, then method and caveats. Synthetic data is labelled on every page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.ticker import PercentFormatter

    from trellis.analytics.render import ENGAGED, GREY, NOT_ENGAGED

    t, words = T[lang], text(brief, lang)

    def header(fig: Any, page: str) -> None:
        fig.text(0.06, 0.955, words["title"], fontsize=14, weight="bold")
        fig.text(0.06, 0.935, brief["program"], fontsize=10)
        fig.text(0.06, 0.03, page, fontsize=8, color=GREY)
        if brief["synthetic"]:
            fig.text(0.06, 0.915, t["synthetic"], fontsize=10, color="#8a6d00", weight="bold")

    def para(fig: Any, y: float, lines: list[str], size: int = 10, width: int = 95) -> float:
        for line in lines:
            for piece in textwrap.wrap(line, width):
                fig.text(0.06, y, piece, fontsize=size)
                y -= 0.018
            y -= 0.008
        return y

    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(8.5, 11))
        header(fig, t["p1"])
        fig.text(0.06, 0.885, t["who"], fontsize=12, weight="bold")
        para(fig, 0.86, words["who"])
        for i, dim in enumerate(DIMENSIONS):
            ax = fig.add_axes((0.3, 0.63 - i * 0.19, 0.62, 0.14))
            rows = [r for r in brief["served"] if r["dimension"] == dim]
            ys = range(len(rows))
            ax.barh([y + 0.2 for y in ys], [r["share"] or 0 for r in rows], 0.4, color=ENGAGED,
                    label=t["served"])  # fmt: skip
            if brief["census"]:
                ax.barh([y - 0.2 for y in ys], [r["census_share"] or 0 for r in rows], 0.4,
                        color=NOT_ENGAGED, label=t["area"], hatch="//")  # fmt: skip
            ax.set_yticks(list(ys), [group_label(r["group"], lang) for r in rows], fontsize=7)
            ax.invert_yaxis()
            for row_y, r in zip(ys, rows, strict=True):
                ax.text((r["share"] or 0) + 0.01, row_y + 0.2,
                        t["hidden"] if r["share"] is None else pct(r["share"], lang),
                        fontsize=6, va="center")  # fmt: skip
                if brief["census"] and r["census_share"] is not None:
                    ax.text(r["census_share"] + 0.01, row_y - 0.2, pct(r["census_share"], lang),
                            fontsize=6, va="center", color=GREY)  # fmt: skip
            ax.set_xlim(0, 1)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_title(GROUPS[lang][dim], fontsize=9, loc="left")
            ax.tick_params(axis="x", labelsize=7)
            if i == 0:
                ax.legend(fontsize=7, loc="lower right")
        pdf.savefig(fig)
        plt.close(fig)

        fig = plt.figure(figsize=(8.5, 11))
        header(fig, t["p2"])
        fig.text(0.06, 0.885, t["outcomes"], fontsize=12, weight="bold")
        y = para(fig, 0.86, words["outcomes"], size=9)
        ax = fig.add_axes((0.1, y - 0.17, 0.38, 0.15))
        ours, net = brief["outcomes"]["program"], brief["outcomes"]["network"]
        keys = ("response_rate", "remission_rate", "durable_remission_90d_rate")
        xs = range(len(keys))
        ax.bar([x - 0.2 for x in xs], [ours[k] or 0 for k in keys], 0.4, color=ENGAGED,
               label=t["ours"])  # fmt: skip
        if net is not None:
            ax.bar([x + 0.2 for x in xs], [net[k] or 0 for k in keys], 0.4, color=GREY,
                   label=t["network"])  # fmt: skip
        ax.set_xticks(list(xs), [t["response"].split(" (")[0], t["remission"].split(" (")[0],
                                 "90 d"], fontsize=7)  # fmt: skip
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.tick_params(axis="y", labelsize=7)
        ax.legend(fontsize=7)
        ig = brief["integration"]
        ax2 = fig.add_axes((0.58, y - 0.17, 0.34, 0.15))
        for x, g, colour in ((0, "engaged", ENGAGED), (1, "not_engaged", NOT_ENGAGED)):
            v, ci = ig[g]["relapse_free_90d"], ig[g]["relapse_free_90d_ci95"]
            if v is None:
                continue
            err = None if ci is None else [[v - ci[0]], [ci[1] - v]]
            ax2.bar([x], [v], 0.6, color=colour, yerr=err, capsize=4)
        ax2.set_xticks([0, 1], [t["with"], t["without"]], fontsize=7)
        ax2.set_ylim(0, 1)
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax2.set_title(t["rfs_title"], fontsize=8)
        ax2.tick_params(axis="y", labelsize=7)
        y -= 0.21
        fig.text(0.06, y, t["integration"], fontsize=12, weight="bold")
        y = para(fig, y - 0.025, words["integration"], size=9)
        fig.text(0.06, y, t["cost"], fontsize=12, weight="bold")
        para(fig, y - 0.025, words["cost"], size=9)
        pdf.savefig(fig)
        plt.close(fig)

        fig = plt.figure(figsize=(8.5, 11))
        header(fig, t["p3"])
        fig.text(0.06, 0.885, t["method"], fontsize=12, weight="bold")
        para(fig, 0.86, words["method"], size=9)
        pdf.savefig(fig)
        plt.close(fig)


# --- HTML ------------------------------------------------------------------------------------


def html_body(brief: dict[str, Any], lang: str) -> str:
    """The brief as an HTML fragment (headings, paragraphs, tables; everything escaped)."""
    t, words = T[lang], text(brief, lang)
    parts = []
    if brief["synthetic"]:
        parts.append(f'<p class="banner"><strong>{escape(t["synthetic"])}</strong></p>')
    parts.append(f'<h2 id="brief-who">{escape(t["who"])}</h2>')
    parts += [f"<p>{escape(p)}</p>" for p in words["who"]]
    for dim in DIMENSIONS:
        rows = [r for r in brief["served"] if r["dimension"] == dim]
        body = "".join(
            f"<tr><td>{escape(group_label(r['group'], lang))}</td>"
            f"<td>{escape(t['hidden'] if r['share'] is None else pct(r['share'], lang))}</td>"
            f"<td>{escape(pct(r['census_share'], lang) if brief['census'] else t['na'])}</td></tr>"
            for r in rows
        )
        parts.append(
            f"<table><caption>{escape(GROUPS[lang][dim])}</caption><thead><tr>"
            f'<th scope="col"></th><th scope="col">{escape(t["served"])}</th>'
            f'<th scope="col">{escape(t["area"])}</th></tr></thead><tbody>{body}</tbody></table>'
        )
    for key in ("outcomes", "integration", "cost"):
        parts.append(f"<h2>{escape(t[key])}</h2>")
        parts += [f"<p>{escape(p)}</p>" for p in words[key]]
    parts.append(f"<h2>{escape(t['method'])}</h2><ul>")
    parts += [f"<li>{escape(p)}</li>" for p in words["method"]]
    parts.append("</ul>")
    return "".join(parts)
