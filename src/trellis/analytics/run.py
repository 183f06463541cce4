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
