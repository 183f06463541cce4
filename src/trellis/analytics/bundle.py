"""Federated bundles: a program's evidence without its records (issue 16, part 1).

A bundle is the engine's aggregate tables for one program (:class:`~trellis.analytics.engine.
Aggregates` without the one-row-per-responder table the Cox model needs): the funnel counts
per grouping (network, program, track, every equity dimension: episodes, evaluable, responses,
remissions, the durable-remission denominator and its charges …), the relapse-free survival
counts per engagement group and per day (events and censored, from which the numbers at risk
follow), and the maintenance index's boosters and exposure days. Every table is a sum over
episodes, so the bundles of several programs add up to exactly the tables of their pooled
records: Kaplan–Meier with Greenwood intervals, the log-rank test and every rate computed from
merged bundles equal the same report on the pooled row-level data (a test holds them equal to
1e-9). What needs rows, the adjusted Cox model, is reported as not computable, never faked.

Bundles are JSON (schema ``trellis-network-bundle/1``), money as decimal strings, signed with the
program's Ed25519 key over the canonical JSON of everything but the signature: the hub checks
integrity always, and origin against the public keys it trusts (``--trust``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa

from trellis.analytics.engine import Aggregates
from trellis.core.errors import InvalidInput

BUNDLE_SCHEMA = "trellis-network-bundle/1"
COX_NOT_COMPUTABLE = (
    "not computable from aggregate bundles: the adjusted Cox model needs one row per responder"
)

# The key columns of each table (every other column is a count or a sum).
_FUNNEL_PREFIX = "funnel/"
_KEYS = {"survival": ("engaged", "rfs_time"), "maintenance": ("engaged",)}


def program_tables(tables: Mapping[str, ir.Table], program_key: str) -> dict[str, ir.Table]:
    """The dataset's tables restricted to one program (episodes by ``program_key``, every other
    table by its episodes), lazily in the engine."""
    episodes = tables["episodes"].filter(tables["episodes"].program_key == program_key)
    keys = episodes.select("episode_key")
    out = {"episodes": episodes}
    for name, table in tables.items():
        if name != "episodes":
            out[name] = table.semi_join(keys, "episode_key")
    return out


# --- (de)serialising tables -----------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _table_json(table: pa.Table) -> dict[str, Any]:
    return {
        "columns": table.column_names,
        "types": [str(f.type) for f in table.schema],
        "rows": [[_cell(v) for v in row.values()] for row in table.to_pylist()],
    }


def _arrow_type(name: str) -> pa.DataType:
    if name.startswith("decimal128("):
        precision, scale = (int(x) for x in name[len("decimal128(") : -1].split(","))
        return pa.decimal128(precision, scale)
    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_(),
             "double": pa.float64()}  # fmt: skip
    if name not in types:
        raise InvalidInput("bundle", f"unsupported column type {name!r}")
    return types[name]


def _table_from_json(data: Mapping[str, Any], where: str) -> pa.Table:
    try:
        columns, types, rows = data["columns"], data["types"], data["rows"]
    except (KeyError, TypeError) as exc:
        raise InvalidInput(where, "needs columns, types and rows") from exc
    if len(columns) != len(types) or any(len(r) != len(columns) for r in rows):
        raise InvalidInput(where, "rows do not match the columns")
    arrays = []
    for i, (name, type_name) in enumerate(zip(columns, types, strict=True)):
        arrow = _arrow_type(type_name)
        values = [r[i] for r in rows]
        if pa.types.is_decimal(arrow):
            values = [None if v is None else Decimal(v) for v in values]
        try:
            arrays.append(pa.array(values, type=arrow))
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as exc:
            raise InvalidInput(where, f"column {name!r}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=list(columns))


# --- making and signing a bundle --------------------------------------------------------------


def make_bundle(agg: Aggregates, *, program_key: str, synthetic: bool) -> dict[str, Any]:
    """One program's bundle (unsigned): its aggregate tables, no row-level data."""
    programs = agg.funnel["program_key"].column("program_key").to_pylist()
    if programs != [program_key]:
        raise InvalidInput("--program", f"the aggregates hold programs {programs}, not one")
    tables = {f"{_FUNNEL_PREFIX}{name}": _table_json(t) for name, t in agg.funnel.items()}
    tables["survival"] = _table_json(agg.survival)
    tables["maintenance"] = _table_json(agg.maintenance)
    return {
        "schema": BUNDLE_SCHEMA,
        "program_key": program_key,
        "synthetic": synthetic,
        "tables": tables,
    }


def canonical(bundle: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in bundle.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_private_key(path: str | Path) -> Any:
    """An Ed25519 private key from a PEM file (``openssl genpkey -algorithm ed25519``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInput("--key", f"cannot read an Ed25519 private key from {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("--key", "must be an Ed25519 private key")
    return key


def public_key_text(private_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _b64(raw)


def sign(bundle: dict[str, Any], private_key: Any) -> dict[str, Any]:
    signed = {k: v for k, v in bundle.items() if k != "signature"}
    signed["signature"] = {
        "alg": "Ed25519",
        "public_key": public_key_text(private_key),
        "value": _b64(private_key.sign(canonical(signed))),
    }
    return signed


def verify(bundle: Mapping[str, Any], trusted: Mapping[str, str] | None, where: str) -> None:
    """Check a bundle's signature (always) and that its key is the one the hub trusts for its
    program (when ``trusted`` is given). Raises :class:`InvalidInput` naming the file."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = bundle.get("signature")
    if not isinstance(sig, Mapping) or sig.get("alg") != "Ed25519":
        raise InvalidInput(where, "is not signed (Ed25519)")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(sig["public_key"]))
        public.verify(base64.b64decode(sig["value"]), canonical(bundle))
    except (InvalidSignature, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(where, "signature does not match: the bundle was altered") from exc
    if trusted is not None:
        program = str(bundle.get("program_key", ""))
        if trusted.get(program) != sig["public_key"]:
            raise InvalidInput(where, f"not signed with the key trusted for program {program!r}")


# --- reading and merging -----------------------------------------------------------------------


def read_bundle(path: str | Path, trusted: Mapping[str, str] | None = None) -> dict[str, Any]:
    p = Path(path)
    where = p.name
    try:
        data = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(where, f"cannot read a bundle: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != BUNDLE_SCHEMA:
        raise InvalidInput(where, f"is not a {BUNDLE_SCHEMA} bundle")
    verify(data, trusted, where)
    return data


def read_trust(path: str | Path) -> dict[str, str]:
    """``{program_key: public key (base64 raw Ed25519)}`` from a JSON file."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput("--trust", f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise InvalidInput("--trust", "must map program keys to public keys")
    return {str(k): v for k, v in data.items()}


def _sum_tables(tables: Sequence[pa.Table], keys: Sequence[str]) -> pa.Table:
    combined = pa.concat_tables(tables)
    metrics = [c for c in combined.column_names if c not in keys]
    grouped = combined.group_by(list(keys), use_threads=False).aggregate(
        [(c, "sum") for c in metrics]
    )
    renamed = {f"{c}_sum": c for c in metrics}
    grouped = grouped.rename_columns([renamed.get(c, c) for c in grouped.column_names])
    grouped = grouped.select([*keys, *metrics]).cast(
        pa.schema([combined.schema.field(c) for c in [*keys, *metrics]])
    )
    return grouped.sort_by([(k, "ascending") for k in keys])


def merge(bundles: Iterable[Mapping[str, Any]]) -> tuple[Aggregates, bool]:
    """The network's aggregates from program bundles (sums), and whether any is synthetic.
    The Cox table is empty: the adjusted model is not computable from aggregates."""
    items = list(bundles)
    if not items:
        raise InvalidInput("--bundles", "give at least one bundle")
    programs = [str(b["program_key"]) for b in items]
    if len(set(programs)) != len(programs):
        raise InvalidInput("--bundles", "the same program's bundle is given twice")
    names = set(items[0]["tables"])
    for b in items[1:]:
        if set(b["tables"]) != names:
            raise InvalidInput("--bundles", f"program {b['program_key']}: different tables")
    parsed = {
        name: [_table_from_json(b["tables"][name], f"{b['program_key']}:{name}") for b in items]
        for name in sorted(names)
    }
    funnel = {}
    for name, tables in parsed.items():
        if name.startswith(_FUNNEL_PREFIX):
            # The first column is the group (the network table's is one constant "").
            funnel[name[len(_FUNNEL_PREFIX) :]] = _sum_tables(tables, [tables[0].column_names[0]])
    survival = _sum_tables(parsed["survival"], _KEYS["survival"])
    maintenance = _sum_tables(parsed["maintenance"], _KEYS["maintenance"])
    cox = pa.table(
        {
            "rfs_time": pa.array([], pa.int64()),
            "rfs_event": pa.array([], pa.bool_()),
            "engaged": pa.array([], pa.bool_()),
            "baseline": pa.array([], pa.int64()),
            "track": pa.array([], pa.string()),
            "age": pa.array([], pa.int64()),
        }
    )
    synthetic = any(bool(b.get("synthetic")) for b in items)
    return Aggregates(funnel, survival, maintenance, cox), synthetic
