"""The network measures as Ibis expressions: the same code on DuckDB and on PySpark.

The engine does the heavy lifting (per-episode flags over millions of rows, per-day counts at
risk and events); :func:`aggregates` returns only small tables. The definitions are those of
:mod:`trellis.core.network` (CLINICAL.md §3, §9), whose per-episode reference implementation a
test holds equal to :func:`episode_features` on a synthetic network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from trellis.analytics.schema import EQUITY_DIMENSIONS, TABLES
from trellis.core import network as rules
from trellis.core.errors import InvalidInput

ENGINES = ("duckdb", "spark")
_NEVER = 1_000_000  # a day later than any real one (stands in for "no relapse")


def connect(engine: str) -> Any:
    """An Ibis backend: in-process DuckDB, or PySpark (local mode unless ``SPARK_REMOTE`` or
    ``PYSPARK_SUBMIT_ARGS``/``spark-defaults`` point it at a cluster; docs/network.md)."""
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise InvalidInput(
                "--engine", "spark needs the optional extra: pip install 'trellis[spark]'"
            ) from exc
        # Settings for a small local run; on a cluster, spark-submit's own configuration
        # (master, executors, partitions) takes precedence over these defaults.
        session = (
            SparkSession.builder.appName("trellis-network")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", os.environ.get("TRELLIS_SPARK_PARTITIONS", "2"))
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    raise InvalidInput("--engine", f"must be one of {', '.join(ENGINES)}, got {engine!r}")


def load(con: Any, data_dir: Path) -> dict[str, ir.Table]:
    """The dataset's tables as Ibis tables (read lazily from Parquet)."""
    tables = {}
    for name in TABLES:
        tables[name] = con.read_parquet(str(data_dir / f"{name}.parquet"), table_name=f"n_{name}")
    return tables


def episode_features(t: dict[str, ir.Table]) -> ir.Table:
    """One row per episode with every per-episode quantity of CLINICAL.md §9 (see
    :class:`trellis.core.network.EpisodeMeasures`)."""
    key = "episode_key"
    a = t["assessments"].filter(t["assessments"].instrument == rules.PRIMARY)
    a = a.select(key, "day", "total")
    lo, hi = rules.BASELINE_WINDOW
    ev_lo, ev_hi = rules.EVALUABLE_WINDOW
    in_pre = (a.day >= lo) & (a.day <= hi)
    per_a = (
        a.group_by(key)
        .agg(
            baseline=a.total.argmax(a.day, where=in_pre),
            n_window=a.count(where=(a.day >= ev_lo) & (a.day <= ev_hi)),
            last_phq=a.day.max(),
        )
        .cache()
    )
    base = per_a.filter(per_a.baseline.notnull()).select(key, "baseline")
    post = a.filter(a.day >= 1).inner_join(base, key).cache()
    outcome = (
        post.group_by(key)
        .agg(
            response_day=post.day.min(where=2 * post.total <= post.baseline),
            remission_day=post.day.min(where=post.total <= rules.REMISSION_MAX),
        )
        .cache()
    )
    resp = outcome.filter(outcome.response_day.notnull()).select(key, "response_day")

    # Relapse by scores (§3): runs of relapse-level assessments after the response day.
    after = post.inner_join(resp, key)
    after = after.filter(after.day > after.response_day)
    level = (after.total >= rules.RELAPSE_MIN) & (2 * after.total > after.baseline)
    after = after.mutate(level=level)
    after = after.mutate(run=ibis.ifelse(after.level, 0, 1).cumsum(group_by=key, order_by="day"))
    lv = after.filter(after.level).select(key, "day", "run").cache()
    lv2 = lv.view().rename(b_key=key, b_day="day", b_run="run")
    lo_gap, hi_gap = rules.RELAPSE_GAP
    pairs = lv.inner_join(
        lv2,
        [
            lv[key] == lv2.b_key,
            lv.run == lv2.b_run,
            lv2.b_day >= lv.day + lo_gap,
            lv2.b_day <= lv.day + hi_gap,
        ],
    )
    score_relapse = pairs.group_by(key).agg(score_relapse=pairs.day.min())
    ev = t["events"].left_join(resp, key).drop(f"{key}_right")
    is_relapse_event = ev.kind.isin(rules.RELAPSE_EVENTS) & (ev.day >= ev.response_day)
    events = ev.group_by(key).agg(
        event_relapse=ev.day.min(where=is_relapse_event),
        hospitalizations=ev.count(where=ev.kind == "hospitalization"),
    )

    doses = t["doses"]
    is_ind = doses.phase == "induction"
    dose_stats = (
        doses.group_by(key)
        .agg(
            induction_end=doses.day.max(where=is_ind),
            n_induction=doses.count(where=is_ind),
            boosters=doses.count(where=doses.phase.isin(("booster", "maintenance"))),
        )
        .cache()
    )
    induction = dose_stats.filter(dose_stats.induction_end.notnull()).select(key, "induction_end")

    acts = t["activities"].filter(t["activities"].kind == "integration")
    acts = acts.inner_join(induction, key)
    acts = acts.filter((acts.day >= 0) & (acts.day <= acts.induction_end + rules.ENGAGED_AFTER_L))
    engagement = acts.group_by(key).agg(
        n_done=acts.count(where=acts.status == "done"),
        n_counted=acts.count(where=acts.status.isin(("done", "missed"))),
    )

    ch = t["charges"]
    gross = ch.group_by(key).agg(gross_usd=ch.gross_usd.sum())

    ep = t["episodes"]
    f = ep
    for part in (per_a, outcome, score_relapse, events, dose_stats, engagement, gross):
        f = f.left_join(part, key).drop(f"{key}_right")
    relapse = ibis.least(
        f.score_relapse.fill_null(_NEVER), f.event_relapse.fill_null(_NEVER)
    ).nullif(_NEVER)
    has_base = f.baseline.notnull()
    evaluable = has_base & (f.n_window.fill_null(0) > 0)
    has_l = f.induction_end.notnull()
    n_done = f.n_done.fill_null(0)
    n_counted = f.n_counted.fill_null(0)
    f = f.mutate(
        relapse_day=relapse,
        evaluable=evaluable,
        engaged=has_l & (n_counted > 0) & (5 * n_done >= 4 * n_counted),
        durable_den=evaluable & has_l & (f.last_day >= f.induction_end + rules.DURABLE_DAYS),
        induction_completed=f.n_induction.fill_null(0) >= f.induction_doses,
        boosters=f.boosters.fill_null(0),
        exposure_days=ibis.ifelse(has_l, ibis.greatest(f.last_day - f.induction_end, 0), 0),
        gross_usd=f.gross_usd.fill_null(0),
        hospitalizations=f.hospitalizations.fill_null(0),
    )
    f = f.mutate(
        responded=f.evaluable & f.response_day.notnull() & (f.response_day <= rules.RATE_DAY_MAX),
        remitted=f.evaluable & f.remission_day.notnull() & (f.remission_day <= rules.RATE_DAY_MAX),
        rfs_time=ibis.coalesce(f.relapse_day, f.last_phq) - f.response_day,
        rfs_event=f.relapse_day.notnull(),
    ).cache()
    # Durable remission: the PHQ-9 nearest L + 90 within ± 14 days, a tie taking the later.
    cand = post.inner_join(f.filter(f.durable_den).select(key, "induction_end", "relapse_day"), key)
    target = cand.induction_end + rules.DURABLE_DAYS
    gap = (cand.day - target).abs()
    cand = cand.filter(gap <= rules.DURABLE_WINDOW)
    order = 2 * gap + ibis.ifelse(cand.day < target, 1, 0)
    chosen = cand.group_by(key).agg(
        chosen_day=cand.day.argmin(order), chosen_total=cand.total.argmin(order)
    )
    f = f.left_join(chosen, key).drop(f"{key}_right")
    durable = (
        f.durable_den
        & f.chosen_total.notnull()
        & (f.chosen_total <= rules.REMISSION_MAX)
        & (f.relapse_day.isnull() | (f.relapse_day > f.chosen_day))
    )
    return f.mutate(durable=durable.fill_null(False)).cache()


@dataclass
class Aggregates:
    """The small tables the report is computed from (pyarrow, sorted for determinism)."""

    funnel: dict[str, pa.Table]  # "network", "program_key", "track", each equity dimension
    survival: pa.Table  # engaged, rfs_time, events, censored
    maintenance: pa.Table  # engaged, boosters, exposure_days, episodes
    cox: pa.Table  # responders: rfs_time, rfs_event, engaged, baseline, track, age


_FUNNEL_METRICS = (
    "episodes",
    "induction_completed",
    "missing_baseline",
    "evaluable",
    "response",
    "remission",
    "durable_denominator",
    "durable",
    "gross_durable_denominator_usd",
    "hospitalizations_durable_denominator",
    "engaged",
)


def _funnel(f: ir.Table, by: list[str]) -> ir.Table:
    i = ibis.literal(1)
    zero = ibis.literal(0)

    def count(cond: ir.BooleanValue) -> ir.IntegerScalar:
        return ibis.ifelse(cond, i, zero).sum()

    metrics = {
        "episodes": f.count(),
        "induction_completed": count(f.induction_completed),
        "missing_baseline": count(f.baseline.isnull()),
        "evaluable": count(f.evaluable),
        "response": count(f.responded),
        "remission": count(f.remitted),
        "durable_denominator": count(f.durable_den),
        "durable": count(f.durable),
        "gross_durable_denominator_usd": ibis.ifelse(
            f.durable_den, f.gross_usd, ibis.literal(0).cast(f.gross_usd.type())
        ).sum(),
        "hospitalizations_durable_denominator": ibis.ifelse(
            f.durable_den, f.hospitalizations, zero
        ).sum(),
        "engaged": count(f.engaged),
    }
    assert tuple(metrics) == _FUNNEL_METRICS
    if by:
        return f.group_by(by).agg(**metrics)
    return f.aggregate(**metrics)


def aggregates(t: dict[str, ir.Table], progress: Any = None) -> Aggregates:
    """Run the engine: every aggregate the report needs, as small pyarrow tables."""
    f = episode_features(t)
    steps = [("network", None), ("program_key", "program_key"), ("track", "track")]
    steps += [(d, d) for d in EQUITY_DIMENSIONS]
    # One query for every grouping (a union), so a cluster runs one job, not nine.
    parts = []
    for name, col in steps:
        g = _funnel(f, [col] if col else [])
        group = g[col].cast("string") if col else ibis.literal("").cast("string")
        g = g.mutate(grouping=ibis.literal(name), group=group)
        parts.append(g.select("grouping", "group", *_FUNNEL_METRICS))
    union = ibis.union(*parts).to_pyarrow()
    if progress:
        progress()
    funnel: dict[str, pa.Table] = {}
    for name, col in steps:
        rows = union.filter(pc.equal(union["grouping"], name))
        rows = rows.sort_by([("group", "ascending")]).drop_columns(["grouping"])
        funnel[name] = rows.rename_columns([col or "group", *rows.column_names[1:]])
    resp = f.filter(f.response_day.notnull())
    survival = (
        resp.group_by(["engaged", "rfs_time"])
        .agg(
            events=ibis.ifelse(resp.rfs_event, 1, 0).sum(),
            censored=ibis.ifelse(resp.rfs_event, 0, 1).sum(),
        )
        .order_by(["engaged", "rfs_time"])
        .to_pyarrow()
    )
    if progress:
        progress()
    withl = f.filter(f.induction_end.notnull())
    maintenance = (
        withl.group_by("engaged")
        .agg(
            boosters=withl.boosters.sum(),
            exposure_days=withl.exposure_days.sum(),
            episodes=withl.count(),
        )
        .order_by("engaged")
        .to_pyarrow()
    )
    cox = (
        resp.select("rfs_time", "rfs_event", "engaged", "baseline", "track", "age")
        .order_by(["rfs_time", "rfs_event", "engaged", "baseline", "track", "age"])
        .to_pyarrow()
    )
    if progress:
        progress()
    return Aggregates(funnel, survival, maintenance, cox)
