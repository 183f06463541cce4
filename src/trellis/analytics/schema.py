"""The ``trellis-network/1`` schema: tables, columns and their Arrow types (docs/network.md).

One source for the export, the synthetic generator and the analytics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from trellis.core.errors import InvalidInput

SCHEMA = "trellis-network/1"
MONEY = pa.decimal128(12, 2)

TABLES: dict[str, pa.Schema] = {
    "episodes": pa.schema(
        [
            ("episode_key", pa.string()),
            ("patient_key", pa.string()),
            ("program_key", pa.string()),
            ("track", pa.string()),
            ("drug", pa.string()),
            ("first_dose_year", pa.int32()),
            ("age", pa.int32()),
            ("sex", pa.string()),
            ("race_ethnicity", pa.string()),
            ("language", pa.string()),
            ("poverty_class", pa.string()),
            ("payer", pa.string()),
            ("rurality", pa.string()),
            ("zip3", pa.string()),
            ("induction_doses", pa.int32()),
            ("status", pa.string()),
            ("last_day", pa.int32()),
        ]
    ),
    "doses": pa.schema([("episode_key", pa.string()), ("day", pa.int32()), ("phase", pa.string())]),
    "assessments": pa.schema(
        [
            ("episode_key", pa.string()),
            ("day", pa.int32()),
            ("instrument", pa.string()),
            ("total", pa.int32()),
        ]
    ),
    "activities": pa.schema(
        [
            ("episode_key", pa.string()),
            ("day", pa.int32()),
            ("kind", pa.string()),
            ("status", pa.string()),
        ]
    ),
    "events": pa.schema([("episode_key", pa.string()), ("day", pa.int32()), ("kind", pa.string())]),
    "charges": pa.schema(
        [
            ("episode_key", pa.string()),
            ("day", pa.int32()),
            ("item", pa.string()),
            ("gross_usd", MONEY),
            ("patient_usd", MONEY),
            ("payer_usd", MONEY),
        ]
    ),
}

DRUGS = ("ketamine", "esketamine")
POVERTY_CLASSES = ("A", "B", "C", "D", "E", "F", "unknown")
PAYERS = ("self_pay", "medicaid", "medicare", "commercial", "other", "unknown")
RURALITY = ("urban", "rural", "unknown")
STATUSES = ("active", "completed", "withdrawn")
DOSE_PHASES = ("induction", "booster", "maintenance")
ACTIVITY_KINDS = ("preparation", "integration", "peer_circle", "follow_up")
ACTIVITY_STATUSES = ("done", "missed", "cancelled")
EVENT_KINDS = ("hospitalization", "suicide_attempt", "emergency_visit")
EQUITY_DIMENSIONS = ("poverty_class", "race_ethnicity", "language", "payer", "rurality")


def manifest(synthetic: bool, programs: int, rows: dict[str, int]) -> dict[str, Any]:
    """The dataset's ``manifest.json`` (exactly these keys)."""
    return {
        "schema": SCHEMA,
        "synthetic": synthetic,
        "programs": programs,
        "tables": {name: rows[name] for name in TABLES},
    }


def read_manifest(data_dir: Path) -> dict[str, Any]:
    """Read and check a dataset's manifest; InvalidInput naming ``--data`` otherwise."""
    path = data_dir / "manifest.json"
    if not path.is_file():
        raise InvalidInput("--data", f"no manifest.json in {data_dir}")
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput("--data", f"manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(man, dict) or man.get("schema") != SCHEMA:
        raise InvalidInput("--data", f"manifest.json: schema must be {SCHEMA!r}")
    for name in TABLES:
        if not (data_dir / f"{name}.parquet").is_file():
            raise InvalidInput("--data", f"missing table {name}.parquet in {data_dir}")
    return man


def money_array(cents: Any) -> pa.Array:
    """A decimal128(12, 2) array from integer cents (exact: never through floats)."""
    import numpy as np

    c = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    return pa.Array.from_buffers(MONEY, len(c), [None, pa.py_buffer(words.tobytes())])
