"""Instrument data files: every packaged file loads; broken files fail naming file and field."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument, instrument_ids, parse_instrument
from trellis.core.instruments.loader import parse_instrument_yaml

EXPECTED = {
    "phq9",
    "gad7",
    "pcl5",
    "cssrs",
    "qids-sr16",
    "madrs",
    "ybocs",
    "moaas",
    "cadss",
    "asrm",
}


def raw(instrument_id: str) -> dict[str, Any]:
    path = resources.files("trellis.core").joinpath("data", "instruments", f"{instrument_id}.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_all_instruments_present() -> None:
    assert set(instrument_ids()) == EXPECTED


@pytest.mark.parametrize(
    ("instrument", "lo", "hi"),
    [
        ("phq9", 0, 27),
        ("gad7", 0, 21),
        ("pcl5", 0, 80),
        ("qids-sr16", 0, 27),
        ("madrs", 0, 60),
        ("ybocs", 0, 40),
        ("moaas", 0, 5),
        ("cadss", 0, 92),
        ("asrm", 0, 20),
    ],
)
def test_ranges_match_clinical_table(instrument: str, lo: int, hi: int) -> None:
    inst = get_instrument(instrument)
    assert (inst.range_min, inst.range_max) == (lo, hi)


@pytest.mark.parametrize("instrument", ["phq9", "gad7"])
def test_phq_family_ships_english_and_spanish(instrument: str) -> None:
    inst = get_instrument(instrument)
    assert inst.languages == ("en", "es")
    assert inst.ship_item_text
    assert set(inst.preamble) == {"en", "es"}
    for item in inst.items:
        assert item.text["en"]
        assert item.text["es"]
        for option in item.options:
            assert set(option.label) == {"en", "es"}


def test_phq9_preamble() -> None:
    preamble = get_instrument("phq9").preamble
    assert preamble["en"] == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert preamble["es"].startswith("Durante las últimas 2 semanas")


@pytest.mark.parametrize("instrument", ["cssrs", "madrs", "ybocs", "cadss", "qids-sr16"])
def test_no_licensed_wording_shipped(instrument: str) -> None:
    inst = get_instrument(instrument)
    assert not inst.ship_item_text
    assert not inst.preamble
    assert all(not item.text for item in inst.items)


def test_loinc_codes_and_verify_marks() -> None:
    phq9 = get_instrument("phq9").loinc
    assert phq9.panel is not None
    assert phq9.total is not None
    assert (phq9.panel.code, phq9.total.code) == ("44249-1", "44261-6")
    assert phq9.items["9"].code == "44260-8"
    assert not phq9.items["9"].verify
    pcl5 = get_instrument("pcl5").loinc
    assert pcl5.panel is not None
    assert pcl5.panel.verify  # CLINICAL §1: [verify] 77040-1 vs 91006-2


def test_moaas_levels_are_published_definitions() -> None:
    levels = {int(lv.value): lv.label["en"] for lv in get_instrument("moaas").levels}
    assert set(levels) == set(range(6))
    assert levels[5].startswith("Responds readily to name")
    assert levels[0].startswith("No response")


def mutate(instrument_id: str, change: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw(instrument_id))
    change(data)
    return data


BROKEN = [
    ("phq9", lambda d: d.pop("title"), "(top level)", "'title' is a required property"),
    ("phq9", lambda d: d["bands"][1].update(min=6), "bands[1].min", "must be 5"),
    ("phq9", lambda d: d["bands"][4].update(max=26), "bands[4].max", "range max 27"),
    ("phq9", lambda d: d["range"].update(max=30), "range", "must be 0-27"),
    ("phq9", lambda d: d["items"][2]["text"].pop("es"), "items[2].text", "missing language(s) es"),
    ("phq9", lambda d: d["items"][1].update(id="1"), "items[1].id", "duplicate item id"),
    ("phq9", lambda d: d["flags"][0].update(item="10"), "flags[0].item", "unknown item '10'"),
    ("phq9", lambda d: d["items"][0].update(options="nope"), "items[0].options", "unknown option"),
    ("phq9", lambda d: d.update(id="phq8"), "id", "must match the file name"),
    ("phq9", lambda d: d["loinc"]["panel"].update(code="x"), "loinc.panel.code", "does not match"),
    ("cssrs", lambda d: d["items"][0].update(text={"en": "Q"}), "items[0].text", "ship_item_text"),
    ("pcl5", lambda d: d["scoring"]["clusters"][0]["items"].append("99"), "scoring.clusters", "99"),
    ("qids-sr16", lambda d: d["scoring"]["domains"].pop(), "scoring.domains", "exactly one"),
    ("madrs", lambda d: d["range"].update(max=66), "range", "must be 0-60"),
    ("moaas", lambda d: d["levels"].pop(), "levels", "each value"),
]


@pytest.mark.parametrize(("instrument", "change", "path", "problem"), BROKEN)
def test_broken_file_names_file_field_and_problem(
    instrument: str, change: Any, path: str, problem: str
) -> None:
    data = mutate(instrument, change)
    with pytest.raises(InvalidInput) as exc:
        parse_instrument(data, f"{instrument}.yaml")
    assert exc.value.field.startswith(f"{instrument}.yaml: {path}")
    assert problem in exc.value.detail


def test_invalid_yaml_names_line() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_instrument_yaml("id: [unclosed\n", "x.yaml")
    assert exc.value.field.startswith("x.yaml: line")


def test_unmodified_raw_data_parses() -> None:
    for instrument in EXPECTED:
        assert parse_instrument(raw(instrument), f"{instrument}.yaml").id == instrument
