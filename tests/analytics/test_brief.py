"""The advocacy brief (issue 16, part 3): ``trellis report brief`` and /network/brief/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader

from trellis.analytics import brief as briefs
from trellis.core.errors import InvalidInput

COST = {briefs.COST_ENV: "12000", briefs.SOURCE_ENV: "Illustrative synthetic cost (test)"}


def _pdf_text(path: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages]


def test_hospitalisation_cost_needs_its_source() -> None:
    assert briefs.hospitalization_cost({}) is None
    assert briefs.hospitalization_cost(COST) == {
        "usd": 12000.0, "source": COST[briefs.SOURCE_ENV], "illustrative": False,
    }  # fmt: skip
    with pytest.raises(InvalidInput) as e:
        briefs.hospitalization_cost({briefs.COST_ENV: "12000"})
    assert e.value.field == briefs.SOURCE_ENV
    for bad in ("-5", "0", "abc", "nan"):
        with pytest.raises(InvalidInput) as e:
            briefs.hospitalization_cost({**COST, briefs.COST_ENV: bad})
        assert e.value.field == briefs.COST_ENV


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("dim,group,share\n", "first line"),
        ("dimension,group,share\nzip,a,0.5\n", "line 2"),
        ("dimension,group,share\nlanguage,en,1.5\n", "between 0 and 1"),
        ("dimension,group,share\nlanguage,en,0.5\nlanguage,en,0.5\n", "twice"),
        ("dimension,group,share\nlanguage,en,0.5\n", "add up"),
    ],
)
def test_census_is_validated(tmp_path: Path, content: str, needle: str) -> None:
    f = tmp_path / "census.csv"
    f.write_text(content)
    with pytest.raises(InvalidInput) as e:
        briefs.read_census(f)
    assert e.value.field == "--census"
    assert needle in e.value.detail


def test_served_suppresses_small_cells() -> None:
    eps = [
        {"episode_key": f"e{i}", "patient_key": f"p{i}", "first_dose_year": 2025,
         "poverty_class": "A" if i < 20 else ("B" if i < 32 else "C"),
         "race_ethnicity": "white", "language": "en",
         "payer": "medicaid" if i < 20 else ("other" if i < 35 else "commercial")}
        for i in range(40)
    ]  # fmt: skip
    rows = {(r["dimension"], r["group"]): r for r in briefs.served(eps)}
    assert rows[("poverty_class", "A")]["n"] == 20
    assert rows[("poverty_class", "A")]["share"] == 0.5
    assert rows[("poverty_class", "C")]["n"] is None  # 8: primary suppression
    assert rows[("poverty_class", "B")]["n"] is None  # 12: complementary suppression
    assert rows[("poverty_class", "B")]["share"] is None
    assert rows[("race_ethnicity", "white")]["share"] == 1.0
    assert rows[("payer", "medicaid")]["n"] == 20
    assert rows[("payer", "other")]["n"] is None  # complementary to the 5
    assert rows[("payer", "commercial")]["n"] is None  # 5


@pytest.mark.parametrize(
    ("extra", "env", "field"),
    [
        (["--lang", "fr"], {}, "--lang"),
        (["--lang", "en", "--census", "/nonexistent-brief.csv"], {}, "--census"),
        (["--lang", "en", "--network", "/nonexistent-brief"], {}, "--network"),
        (["--lang", "en"], {briefs.COST_ENV: "9000"}, briefs.SOURCE_ENV),
    ],
)
def test_cli_bad_input_exits_2_naming_the_field(
    tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch, extra: list[str],
    env: dict[str, str], field: str,
) -> None:  # fmt: skip
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "brief.pdf"
    r = cli("report", "brief", "--program", "demo", *extra, "--out", str(out))
    assert r.code == 2
    assert r.out == ""
    assert field in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.django_db
def test_demo_brief_in_both_languages(
    tmp_path: Path, cli: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    from trellis.analytics.run import run_report
    from trellis.audit.models import AuditEvent
    from trellis.network import services
    from trellis.web.demo import DEMO_SLUG, seed_demo

    settings.NETWORK_DATA_DIR = tmp_path / "network" / "dataset"
    seed_demo()
    data = services.dataset_dir()
    for k, v in COST.items():
        monkeypatch.setenv(k, v)
    # Independently: the program's rows of the dataset, the network's report.
    from trellis.accounts.models import Program

    program = Program.objects.get(slug=DEMO_SLUG)
    pk = services.program_key(program, services.network_key(synthetic_demo=True))
    eps = [e for e in pq.read_table(data / "episodes.parquet").to_pylist()
           if e["program_key"] == pk]  # fmt: skip
    patients = {e["patient_key"]: e for e in eps}
    spanish = sum(1 for e in patients.values() if e["language"] == "es") / len(patients)
    network = run_report(data, "duckdb", True)["network"]

    texts = {}
    for lang in ("en", "es"):
        out = tmp_path / f"brief-{lang}.pdf"
        census = str(briefs.SYNTHETIC_CENSUS)
        r = cli("report", "brief", "--program", DEMO_SLUG, "--network", str(data),
                "--census", census, "--lang", lang, "--out", str(out))  # fmt: skip
        assert r.code == 0, r.err
        pages = _pdf_text(out)
        assert len(pages) == 3
        texts[lang] = pages
    en, es = texts["en"], texts["es"]
    for page in en:
        assert "Synthetic data" in page
    for page in es:
        assert "Datos sintéticos" in page

    def p(v: float, lang: str) -> str:
        s = f"{100 * v:.1f} %"
        return s.replace(".", ",") if lang == "es" else s

    assert p(spanish, "en") in en[0]
    assert p(spanish, "es") in es[0]
    assert "19.0 %" in en[0]  # the synthetic census share of Spanish speakers
    assert f"{p(network['response_rate'], 'en')} (95 % CI" in en[1]
    assert p(network["durable_remission_90d_rate"], "es") in es[1]
    assert "association" in en[1]
    assert "not proof" in en[1]
    assert "asociación" in es[1]
    assert "no una prueba" in es[1]
    assert "$12,000 per hospitalisation (Illustrative synthetic cost (test))" in en[1]
    assert "$12.000" in es[1]
    assert "Method and caveats" in en[2]
    assert "Método y salvedades" in es[2]

    # JSON figures match the PDF: program response rate and relapse-free at 90 days.
    r = cli("report", "brief", "--program", DEMO_SLUG, "--network", str(data), "--lang", "en",
            "--out", str(tmp_path / "b.pdf"), "--format", "json")  # fmt: skip
    import json

    fig = json.loads(r.out)
    assert fig["census"] is False
    ours = fig["outcomes"]["program"]
    assert ours["episodes"] == len(eps)
    assert p(ours["response_rate"], "en") in en[1]
    eng = fig["integration"]["engaged"]["relapse_free_90d"]
    assert eng is not None
    assert p(eng, "en") in en[1]

    # The network's figures from bundles instead of a dataset.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from trellis.analytics.run import run_bundles_report, write_bundle
    from trellis.analytics.synth import synthesise

    synthesise(tmp_path / "partners", programs=2, patients=300, seed=9)
    keys = sorted({e["program_key"] for e in pq.read_table(
        tmp_path / "partners" / "episodes.parquet").to_pylist()})  # fmt: skip
    files = []
    for i, key in enumerate(keys):
        f = tmp_path / f"partner-{i}.json"
        write_bundle(tmp_path / "partners", f, Ed25519PrivateKey.generate(), key, True)
        files.append(f)
    pooled = run_bundles_report(files)["network"]
    out = tmp_path / "bundles.pdf"
    r = cli("report", "brief", "--program", DEMO_SLUG, "--bundles", *map(str, files),
            "--lang", "en", "--out", str(out))  # fmt: skip
    assert r.code == 0, r.err
    pages = _pdf_text(out)
    assert f"{p(pooled['response_rate'], 'en')} (95 % CI" in pages[1]
    assert "programs' aggregate bundles" in pages[2]

    # Without network figures, the brief says so; without the cost, it says it is not set.
    monkeypatch.delenv(briefs.COST_ENV)
    monkeypatch.delenv(briefs.SOURCE_ENV)
    out = tmp_path / "alone.pdf"
    assert cli("report", "brief", "--program", DEMO_SLUG, "--lang", "en",
               "--out", str(out)).code == 0  # fmt: skip
    alone = " ".join(_pdf_text(out))
    assert "No network figures" in alone
    assert "is not set" in alone

    # The HTML for analysts and directors, audited; the demo's cost is labelled illustrative.
    settings.REQUIRE_2FA = False
    settings.DEMO_MODE = True
    client.post("/accounts/login/", {"username": "ana.analyst", "password": "demo-trellis-2026"})
    page = client.get("/network/")
    assert b"/network/brief/" in page.content
    html = client.get("/network/brief/?lang=es").content.decode()
    assert p(network["response_rate"], "es") in html
    assert "valor sintético ilustrativo" in html
    assert "Lo que nuestro programa hace por la comunidad" in html
    assert AuditEvent.objects.filter(object_type="network.brief").exists()
    assert client.get("/network/brief/?lang=fr").status_code == 404


@pytest.mark.django_db
def test_brief_page_without_episodes_says_so(client: Any, cast: Any, settings: Any) -> None:
    from tests.support import sign_in

    settings.NETWORK_KEY = "a-network-key-for-the-brief-test"
    sign_in(client, cast.analyst_a)
    r = client.get("/network/brief/")
    assert r.status_code == 200
    assert "The brief cannot be made yet" in r.content.decode()
    client.logout()
    sign_in(client, cast.peer_a)  # peer facilitators do not see the brief
    assert client.get("/network/brief/").status_code in (403, 404)
