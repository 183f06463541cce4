"""Run the network report end to end on an engine (the CLI's and the app's entry point)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trellis.analytics import engine
from trellis.analytics.report import build_report


def run_report(
    data_dir: Path,
    engine_name: str = "duckdb",
    synthetic: bool = False,
    progress: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """Load the dataset, let the engine aggregate, and build the report dict."""
    con = engine.connect(engine_name)
    tables = engine.load(con, data_dir)
    agg = engine.aggregates(tables, progress=progress)
    return build_report(agg, synthetic, progress=progress)


def write_bundle(
    data_dir: Path, out: Path, private_key: Any, program_key: str | None, synthetic: bool
) -> dict[str, Any]:
    """A program's signed aggregate-only bundle from its dataset (issue 16)."""
    import json

    from trellis.analytics import bundle
    from trellis.core.errors import InvalidInput

    con = engine.connect("duckdb")
    tables = engine.load(con, data_dir)
    programs = sorted(
        r["program_key"]
        for r in tables["episodes"].select("program_key").distinct().to_pyarrow().to_pylist()
    )
    if program_key is None:
        if len(programs) != 1:
            raise InvalidInput("--program", f"the data holds {len(programs)} programs: name one")
        program_key = programs[0]
    elif program_key not in programs:
        raise InvalidInput("--program", f"no program {program_key!r} in the data")
    agg = engine.aggregates(bundle.program_tables(tables, program_key))
    signed = bundle.sign(
        bundle.make_bundle(agg, program_key=program_key, synthetic=synthetic), private_key
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(signed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return signed


def run_bundles_report(files: list[Path], trust: Path | None = None) -> dict[str, Any]:
    """The network report from programs' bundles alone: every count-based statistic exactly as
    from the pooled records; the adjusted Cox model reported as not computable."""
    from trellis.analytics import bundle

    trusted = bundle.read_trust(trust) if trust is not None else None
    bundles = [bundle.read_bundle(f, trusted) for f in files]
    agg, synthetic = bundle.merge(bundles)
    report = build_report(agg, synthetic)
    report["cox_hr_engaged"] = {"hr": None, "ci95": None, "note": bundle.COX_NOT_COMPUTABLE}
    report["source"] = {
        "bundles": len(bundles),
        "programs": [b["program_key"] for b in bundles],
        "origin_checked": trusted is not None,
    }
    return report
