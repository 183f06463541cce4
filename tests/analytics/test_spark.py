"""The same Ibis code on PySpark gives the DuckDB report, to 1e-9 (one small network, one
Spark session). Needs the ``trellis[spark]`` extra and Java 17; CI installs both and sets
TRELLIS_REQUIRE_SPARK=1 so that a missing piece fails instead of skipping."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from trellis.analytics.run import run_report
from trellis.analytics.synth import synthesise


def _spark_ready() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'trellis[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (Debian: openjdk-17-jre-headless)"
    return None


def _close(a: Any, b: Any, path: str = "$") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert list(a) == list(b), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list), path
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert isinstance(b, int | float), path
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), f"{path}: {a} != {b}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_spark_report_equals_duckdb(tmp_path: Path) -> None:
    reason = _spark_ready()
    if reason:
        if os.environ.get("TRELLIS_REQUIRE_SPARK") == "1":
            pytest.fail(f"the Spark test is required in CI: {reason}")
        pytest.skip(reason)
    synthesise(tmp_path, programs=4, patients=800, seed=3)
    duck = run_report(tmp_path, "duckdb", synthetic=True)
    spark = run_report(tmp_path, "spark", synthetic=True)
    assert duck["episodes"] == 800
    assert duck["cox_hr_engaged"]["hr"] is not None
    _close(duck, spark)
