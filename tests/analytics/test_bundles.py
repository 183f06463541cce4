"""Federated bundles (issue 16): the network report from programs' aggregate-only bundles
equals the report on their pooled records to 1e-9; bundles carry no row-level data; signatures
catch an altered bundle and a key the hub does not trust; the CLI contract."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trellis.analytics import engine
from trellis.analytics.report import build_report
from trellis.analytics.run import run_bundles_report, write_bundle
from trellis.analytics.synth import synthesise
from trellis.core.errors import InvalidInput

pytestmark = pytest.mark.pure


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("network")
    synthesise(out, programs=4, patients=1200, seed=23)
    return out


@pytest.fixture(scope="module")
def signed(network: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One bundle file per program, each with its own key; the trust file the hub keeps."""
    folder = tmp_path_factory.mktemp("bundles")
    tables = engine.load(engine.connect("duckdb"), network)
    programs = sorted(
        r["program_key"]
        for r in tables["episodes"].select("program_key").distinct().to_pyarrow().to_pylist()
    )
    files, trust = [], {}
    for i, pk in enumerate(programs):
        key = Ed25519PrivateKey.generate()
        f = folder / f"program-{i}.json"
        written = write_bundle(network, f, key, pk, synthetic=True)
        files.append(f)
        trust[pk] = written["signature"]["public_key"]
    trust_file = folder / "trust.json"
    trust_file.write_text(json.dumps(trust), encoding="utf-8")
    return {"files": files, "trust": trust_file, "programs": programs}


def _equal(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict):
        out = []
        for k in a:
            if k in {"cox_hr_engaged", "source"}:
                continue
            out += [f"{path}/{k}: missing"] if k not in b else _equal(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return [f"{path}: length"]
        return [
            e
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for e in _equal(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=0, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_report_from_bundles_equals_the_pooled_report(
    network: Path, signed: dict[str, Any]
) -> None:
    tables = engine.load(engine.connect("duckdb"), network)
    pooled = build_report(engine.aggregates(tables), True)
    merged = run_bundles_report(signed["files"], signed["trust"])
    assert _equal(pooled, merged) == []
    # The statistics that matter are there and not trivially empty.
    assert merged["relapse_free"]["engaged"]["n"] > 0
    assert merged["logrank_p"] is not None
    assert merged["episodes"] == pooled["episodes"]
    assert len(merged["programs"]) == len(signed["programs"])


def test_cox_is_reported_as_not_computable(signed: dict[str, Any]) -> None:
    report = run_bundles_report(signed["files"])
    assert report["cox_hr_engaged"]["hr"] is None
    assert "not computable" in report["cox_hr_engaged"]["note"]
    assert report["source"]["origin_checked"] is False


def test_a_bundle_holds_no_row_level_data(network: Path, signed: dict[str, Any]) -> None:
    text = signed["files"][0].read_text("utf-8")
    data = json.loads(text)
    assert "cox" not in data["tables"]
    ep = engine.load(engine.connect("duckdb"), network)["episodes"].to_pyarrow()
    for key in ep.column("episode_key").to_pylist()[:500]:
        assert key not in text
    for patient in ep.column("patient_key").to_pylist()[:500]:
        assert patient not in text


def test_an_altered_bundle_is_refused(signed: dict[str, Any], tmp_path: Path) -> None:
    data = json.loads(signed["files"][0].read_text("utf-8"))
    rows = data["tables"]["funnel/network"]["rows"]
    rows[0][1] += 1  # one more episode
    bad = tmp_path / "altered.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInput, match="altered"):
        run_bundles_report([bad, *signed["files"][1:]])


def test_a_key_the_hub_does_not_trust_is_refused(
    network: Path, signed: dict[str, Any], tmp_path: Path
) -> None:
    impostor = tmp_path / "impostor.json"
    write_bundle(network, impostor, Ed25519PrivateKey.generate(), signed["programs"][0], True)
    with pytest.raises(InvalidInput, match="trusted"):
        run_bundles_report([impostor, *signed["files"][1:]], signed["trust"])
    with pytest.raises(InvalidInput, match="twice"):
        run_bundles_report([signed["files"][0], signed["files"][0]])


def test_cli_bundle_and_network_from_bundles(cli: Any, network: Path, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "program.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    whole = cli("report", "bundle", "--data", str(network), "--out", str(tmp_path / "b.json"),
                "--key", str(pem))  # fmt: skip
    assert whole.code == 2
    assert whole.err.startswith("trellis: error: --program")
    tables = engine.load(engine.connect("duckdb"), network)
    pk = tables["episodes"].to_pyarrow().column("program_key")[0].as_py()
    made = cli("report", "bundle", "--data", str(network), "--out", str(tmp_path / "b.json"),
               "--key", str(pem), "--program", pk, "--format", "json")  # fmt: skip
    assert made.code == 0
    summary = json.loads(made.out)
    assert summary["program_key"] == pk
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert summary["public_key"] == base64.b64encode(raw).decode()
    report = cli("report", "network", "--bundles", str(tmp_path / "b.json"), "--format", "json")
    assert report.code == 0
    data = json.loads(report.out)
    assert data["schema"] == "trellis-network/1"
    assert data["cox_hr_engaged"]["hr"] is None
    bad = cli("report", "network", "--bundles", str(tmp_path / "nope.json"))
    assert bad.code == 2
    assert bad.out == ""
