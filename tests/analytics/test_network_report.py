"""The network analytics on a synthetic network: the engine equals the core definitions per
episode, the report recovers the planted effects, and the CLI keeps its contract."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from trellis.analytics import engine
from trellis.analytics.report import build_report
from trellis.analytics.schema import TABLES
from trellis.analytics.synth import synthesise
from trellis.core import network as nw

REPORT_KEYS = [
    "schema",
    "synthetic",
    "episodes",
    "evaluable_share",
    "response_rate",
    "remission_rate",
    "durable_remission_90d_rate",
    "relapse_free",
    "logrank_p",
    "cox_hr_engaged",
    "maintenance_index",
    "cost_per_durable_remission_usd",
    "equity",
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("net")
    synthesise(out, programs=6, patients=3000, seed=11)
    return out


def _reference(data: Path) -> dict[str, nw.EpisodeMeasures]:
    """Every episode's measures by the pure core definitions (trellis.core.network)."""
    rows = {name: pq.read_table(data / f"{name}.parquet").to_pylist() for name in TABLES}
    by: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows["assessments"]:
        if r["instrument"] == "phq9":
            by[r["episode_key"]]["phq9"].append((r["day"], r["total"]))
    for r in rows["doses"]:
        by[r["episode_key"]]["doses"].append((r["day"], r["phase"]))
    for r in rows["activities"]:
        if r["kind"] == "integration":
            by[r["episode_key"]]["integration"].append((r["day"], r["status"]))
    for r in rows["events"]:
        by[r["episode_key"]]["events"].append((r["day"], r["kind"]))
    out = {}
    for e in rows["episodes"]:
        k = e["episode_key"]
        out[k] = nw.episode_measures(
            nw.EpisodeInput(
                e["last_day"],
                by[k]["phq9"],
                by[k]["doses"],
                by[k]["integration"],
                by[k]["events"],
            )
        )
    return out


def test_engine_equals_the_core_definitions_per_episode(small: Path):
    ref = _reference(small)
    con = engine.connect("duckdb")
    feats = engine.episode_features(engine.load(con, small)).to_pyarrow().to_pylist()
    assert len(feats) == len(ref) == 3000
    checked = defaultdict(int)
    for f in feats:
        m = ref[f["episode_key"]]
        got = (
            f["baseline"],
            f["evaluable"],
            f["response_day"],
            f["remission_day"],
            f["relapse_day"],
            f["induction_end"],
            f["engaged"],
            f["durable_den"],
            f["durable"],
            f["rfs_time"] if f["response_day"] is not None else None,
            f["rfs_event"] if f["response_day"] is not None else None,
            f["boosters"],
            f["exposure_days"],
            f["responded"],
            f["remitted"],
        )
        want = (
            m.baseline,
            m.evaluable,
            m.response_day,
            m.remission_day,
            m.relapse_day,
            m.induction_end,
            m.engaged,
            m.durable_denominator,
            m.durable,
            m.rfs_time,
            m.rfs_event,
            m.boosters,
            m.exposure_days,
            m.responded_by_31,
            m.remitted_by_31,
        )
        assert got == want, f["episode_key"]
        checked["relapse"] += m.relapse_day is not None
        checked["durable"] += m.durable
        checked["engaged"] += m.engaged
    # The network exercises every branch (not a vacuous comparison).
    assert min(checked.values()) > 50


def test_report_recovers_the_planted_effects(tmp_path: Path):
    synthesise(tmp_path, programs=8, patients=12000, seed=5, hazard_ratio=0.6)
    con = engine.connect("duckdb")
    agg = engine.aggregates(engine.load(con, tmp_path))
    report = build_report(agg, synthetic=True)
    assert list(report)[: len(REPORT_KEYS)] == REPORT_KEYS
    lo, hi = report["cox_hr_engaged"]["ci95"]
    assert lo <= 0.6 <= hi  # the planted hazard ratio of engagement
    assert report["logrank_p"] < 0.001
    rf = report["relapse_free"]
    assert rf["engaged"]["at_day"]["90"] > rf["not_engaged"]["at_day"]["90"]
    # Planted maintenance effect: engaged patients get half the booster rate (rate ratio 0.5).
    m = {r["engaged"]: r for r in report["maintenance"]}
    ratio = m[True]["maintenance_index"] / m[False]["maintenance_index"]
    se = math.sqrt(1 / m[True]["boosters"] + 1 / m[False]["boosters"])
    assert math.exp(math.log(ratio) - 1.96 * se) <= 0.5 <= math.exp(math.log(ratio) + 1.96 * se)
    for key in ("evaluable_share", "response_rate", "remission_rate", "durable_remission_90d_rate"):
        assert 0 <= report[key] <= 1


def test_equity_and_programs_are_suppressed_under_11(small: Path):
    con = engine.connect("duckdb")
    report = build_report(engine.aggregates(engine.load(con, small)), synthetic=True)
    by_dim = defaultdict(list)
    for row in report["equity"]:
        assert set(row) == {"dimension", "group", "n", "response_rate", "remission_rate"}
        by_dim[row["dimension"]].append(row)
        if row["n"] is None:
            assert row["response_rate"] is None
            assert row["remission_rate"] is None
        else:
            assert row["n"] >= 11
    for rows in by_dim.values():
        assert sum(r["n"] is None for r in rows) != 1  # complementary suppression
    # nhpi is 0.5 % of 3000 ≈ 15 people, fewer than 11 of them evaluable: suppressed.
    race = {r["group"]: r for r in by_dim["race_ethnicity"]}
    assert race["nhpi"]["n"] is None


def test_cli_synth_and_report(tmp_path: Path, cli):
    data, out = tmp_path / "data", tmp_path / "out"
    r = cli("synth", "network", "--programs", "3", "--patients", "400", "--seed", "2",
            "--out", str(data), "--format", "json")  # fmt: skip
    assert r.code == 0, r.err
    man = json.loads(r.out)
    assert set(man) == {"schema", "synthetic", "programs", "tables"}
    assert man["synthetic"] is True
    assert set(man["tables"]) == set(TABLES)
    assert json.loads((data / "manifest.json").read_text()) == man
    r = cli("report", "network", "--data", str(data), "--out", str(out), "--format", "json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert list(report)[: len(REPORT_KEYS)] == REPORT_KEYS
    assert set(report["relapse_free"]["engaged"]["at_day"]) == {"28", "56", "90", "180"}
    assert set(report["cox_hr_engaged"]) >= {"hr", "ci95"}
    for name in ("report.html", "report.pdf", "programs.csv", "equity.csv", "survival.csv"):
        assert (out / name).stat().st_size > 0
    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 3
    assert 'role="img"' in html
    assert "Synthetic data" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_synth_is_seeded(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    synthesise(a, 2, 300, seed=4)
    synthesise(b, 2, 300, seed=4)
    for name in TABLES:
        assert pq.read_table(a / f"{name}.parquet").equals(pq.read_table(b / f"{name}.parquet"))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["synth", "network", "--programs", "0", "--patients", "5", "--seed", "1"], "--programs"),
        (["synth", "network", "--programs", "2", "--patients", "x", "--seed", "1"], "--patients"),
        (["report", "network", "--data", "/nonexistent-i20"], "--data"),
        (["report", "network", "--data", ".", "--engine", "pandas"], "--engine"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_field(tmp_path: Path, cli, args, field):
    r = cli(*args, "--out", str(tmp_path / "o"), "--format", "json")
    assert r.code == 2
    assert r.out == ""
    assert field in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_an_empty_dataset_reports_null_rates(tmp_path: Path, cli):
    import pyarrow as pa

    from trellis.analytics.schema import manifest

    data = tmp_path / "empty"
    data.mkdir()
    for name, schema in TABLES.items():
        pq.write_table(pa.Table.from_pylist([], schema=schema), data / f"{name}.parquet")
    (data / "manifest.json").write_text(json.dumps(manifest(False, 0, dict.fromkeys(TABLES, 0))))
    r = cli("report", "network", "--data", str(data), "--out", str(tmp_path / "o"), "--format",
            "json")  # fmt: skip
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["episodes"] == 0
    for key in ("evaluable_share", "response_rate", "remission_rate", "durable_remission_90d_rate",
                "logrank_p", "cost_per_durable_remission_usd"):  # fmt: skip
        assert report[key] is None
    assert report["cox_hr_engaged"]["hr"] is None
    assert report["relapse_free"]["engaged"]["median_days"] is None
    assert report["maintenance_index"] == {"engaged": None, "not_engaged": None}
    assert report["equity"] == []
