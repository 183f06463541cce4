"""Load and validate the instrument data files in ``trellis/core/data/instruments/``.

Each file is checked twice at load: against :data:`SCHEMA` (shape and types, jsonschema) and
then by :func:`parse_instrument` for the rules a schema cannot say (bands cover the range with
no gap or overlap, the range equals what the items can add up to, flags name real items, no
item wording when ``ship_item_text`` is false, ...). Any problem raises
:class:`~trellis.core.errors.InvalidInput` whose field is ``<file>: <path.in.file>``.

The loader reads packaged files only (importlib.resources) and caches the result; the scoring
rules receive the parsed :class:`~.model.Instrument` objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from trellis.core.errors import InvalidInput
from trellis.core.instruments.model import (
    AnswerValue,
    Band,
    Cluster,
    Domain,
    FlagRule,
    Instrument,
    Item,
    Loinc,
    LoincCode,
    Option,
)

DATA_PACKAGE = "trellis.core"
DATA_DIR = ("data", "instruments")

_TEXT = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
_LOINC_CODE = {
    "type": "object",
    "required": ["code", "verify"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "pattern": r"^[0-9]{1,7}-[0-9]$"},
        "verify": {"type": "boolean"},
    },
}
_OPTION = {
    "type": "object",
    "required": ["value", "label"],
    "additionalProperties": False,
    "properties": {"value": {"type": ["integer", "string"]}, "label": _TEXT},
}
_ID_LIST = {"type": "array", "minItems": 1, "items": {"type": "string"}}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "id",
        "title",
        "version",
        "languages",
        "ship_item_text",
        "licence",
        "source",
        "scoring",
        "flags",
        "loinc",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"},
        "title": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "languages": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": r"^[a-z]{2}$"},
        },
        "ship_item_text": {"type": "boolean"},
        "licence": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "preamble": _TEXT,
        "option_sets": {
            "type": "object",
            "additionalProperties": {"type": "array", "minItems": 2, "items": _OPTION},
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "options"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "options": {"type": "string"},
                    "text": _TEXT,
                    "label": _TEXT,
                },
            },
        },
        "scoring": {
            "type": "object",
            "required": ["method"],
            "additionalProperties": False,
            "properties": {
                "method": {"enum": ["sum", "domains", "total_only", "cssrs_screener"]},
                "endorsed_min": {"type": "integer", "minimum": 0},
                "clusters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "items", "min_endorsed"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "string"},
                            "items": _ID_LIST,
                            "min_endorsed": {"type": "integer", "minimum": 0},
                        },
                    },
                },
                "domains": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "items", "combine"],
                        "additionalProperties": False,
                        "properties": {
                            "id": {"type": "string"},
                            "items": _ID_LIST,
                            "combine": {"enum": ["max"]},
                        },
                    },
                },
                "item_count": {"type": "integer", "minimum": 1},
                "item_max": {"type": "integer", "minimum": 1},
            },
        },
        "range": {
            "type": "object",
            "required": ["min", "max"],
            "additionalProperties": False,
            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
        },
        "bands": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["token", "min", "max"],
                "additionalProperties": False,
                "properties": {
                    "token": {"type": "string", "pattern": r"^[a-z][a-z_]*$"},
                    "min": {"type": "integer"},
                    "max": {"type": "integer"},
                },
            },
        },
        "flags": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["token", "rule"],
                "additionalProperties": False,
                "properties": {
                    "token": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "rule": {"enum": ["item_at_least", "total_at_least", "cluster_pattern"]},
                    "item": {"type": "string"},
                    "min": {"type": "integer"},
                },
            },
        },
        "levels": {"type": "array", "items": _OPTION},
        "thresholds": {"type": "object", "additionalProperties": {"type": "integer"}},
        "meaningful_change": {"type": "integer", "minimum": 1},
        "risk_levels": {"type": "array", "items": {"type": "string"}},
        "loinc": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "panel": _LOINC_CODE,
                "total": _LOINC_CODE,
                "items": {"type": "object", "additionalProperties": _LOINC_CODE},
            },
        },
    },
}


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


class _Checker:
    """Raises InvalidInput naming the file and the field."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, path: str, problem: str) -> InvalidInput:
        return InvalidInput(f"{self.filename}: {path}", problem)


def _schema_check(data: Any, chk: _Checker) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        err = errors[0]
        raise chk.fail(_path(err.absolute_path), err.message)


def _labels(text: Mapping[str, str], languages: tuple[str, ...], path: str, chk: _Checker) -> None:
    missing = [lang for lang in languages if lang not in text]
    if missing:
        raise chk.fail(path, f"missing language(s) {', '.join(missing)}")
    extra = [lang for lang in text if lang not in languages]
    if extra:
        raise chk.fail(path, f"language(s) {', '.join(extra)} not listed in languages")


def parse_instrument(data: Any, filename: str) -> Instrument:
    """Validate one instrument definition (already parsed from YAML) and build it.

    Pure: takes the data and the file name used in error messages. Raises
    :class:`InvalidInput` with field ``<filename>: <path>`` on the first problem found.
    """
    chk = _Checker(filename)
    _schema_check(data, chk)
    stem = filename.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    if data["id"] != stem:
        raise chk.fail("id", f"must match the file name {stem!r}, got {data['id']!r}")
    languages = tuple(data["languages"])
    ship = bool(data["ship_item_text"])
    method = data["scoring"]["method"]

    # Option sets
    option_sets: dict[str, tuple[Option, ...]] = {}
    for name, opts in data.get("option_sets", {}).items():
        seen: set[AnswerValue] = set()
        built = []
        for i, o in enumerate(opts):
            path = f"option_sets.{name}[{i}]"
            if o["value"] in seen:
                raise chk.fail(f"{path}.value", f"duplicate option value {o['value']!r}")
            seen.add(o["value"])
            _labels(o["label"], languages, f"{path}.label", chk)
            built.append(Option(o["value"], dict(o["label"])))
        option_sets[name] = tuple(built)

    # Items
    items: list[Item] = []
    item_ids: set[str] = set()
    for i, it in enumerate(data.get("items", [])):
        path = f"items[{i}]"
        if it["id"] in item_ids:
            raise chk.fail(f"{path}.id", f"duplicate item id {it['id']!r}")
        item_ids.add(it["id"])
        if it["options"] not in option_sets:
            raise chk.fail(f"{path}.options", f"unknown option set {it['options']!r}")
        text = dict(it.get("text", {}))
        label = dict(it.get("label", {}))
        if ship:
            _labels(text, languages, f"{path}.text", chk)
        elif text:
            raise chk.fail(f"{path}.text", "item wording present but ship_item_text is false")
        elif not label:
            raise chk.fail(f"{path}.label", "an item without shipped text needs a neutral label")
        if label:
            _labels(label, languages, f"{path}.label", chk)
        options = option_sets[it["options"]]
        if method != "cssrs_screener" and not all(isinstance(o.value, int) for o in options):
            raise chk.fail(f"{path}.options", "rating items need integer option values")
        items.append(Item(it["id"], options, text, label))
    preamble = dict(data.get("preamble", {}))
    if preamble and ship:
        _labels(preamble, languages, "preamble", chk)
    elif preamble:
        raise chk.fail("preamble", "instrument wording present but ship_item_text is false")

    # Scoring and range
    scoring = data["scoring"]
    rng = data.get("range")
    range_min = rng["min"] if rng else None
    range_max = rng["max"] if rng else None
    if method != "cssrs_screener":
        if rng is None:
            raise chk.fail("range", "required for a scored instrument")
        if method in ("sum", "domains") and not items:
            raise chk.fail("items", f"scoring method {method!r} needs items")
        if method == "total_only" and items:
            raise chk.fail("items", "a totals-only instrument must not list items")
    domains: list[Domain] = []
    if method == "domains":
        covered: list[str] = []
        for i, d in enumerate(scoring.get("domains", [])):
            for ref in d["items"]:
                if ref not in item_ids:
                    raise chk.fail(f"scoring.domains[{i}].items", f"unknown item {ref!r}")
            covered.extend(d["items"])
            domains.append(Domain(d["id"], tuple(d["items"]), d["combine"]))
        if sorted(covered) != sorted(item_ids) or len(covered) != len(set(covered)):
            raise chk.fail("scoring.domains", "every item must belong to exactly one domain")
    elif "domains" in scoring:
        raise chk.fail("scoring.domains", f"only for scoring method 'domains', not {method!r}")
    clusters: list[Cluster] = []
    for i, c in enumerate(scoring.get("clusters", [])):
        for ref in c["items"]:
            if ref not in item_ids:
                raise chk.fail(f"scoring.clusters[{i}].items", f"unknown item {ref!r}")
        if c["min_endorsed"] > len(c["items"]):
            raise chk.fail(f"scoring.clusters[{i}].min_endorsed", "larger than the cluster")
        clusters.append(Cluster(c["id"], tuple(c["items"]), c["min_endorsed"]))
    endorsed_min = scoring.get("endorsed_min")
    if clusters and endorsed_min is None:
        raise chk.fail("scoring.endorsed_min", "required when clusters are defined")
    item_count = scoring.get("item_count")
    item_max = scoring.get("item_max")
    if method == "total_only":
        if item_count is None or item_max is None:
            raise chk.fail("scoring", "a totals-only instrument needs item_count and item_max")
    if rng is not None:
        if method == "sum":
            expect = (sum(it.min_value for it in items), sum(it.max_value for it in items))
        elif method == "domains":
            by_id = {it.id: it for it in items}
            expect = (
                sum(min(by_id[r].min_value for r in d.items) for d in domains),
                sum(max(by_id[r].max_value for r in d.items) for d in domains),
            )
        elif method == "total_only":
            assert item_count is not None
            assert item_max is not None
            expect = (0, item_count * item_max)
        else:
            raise chk.fail("range", "the C-SSRS screener has no total range")
        if (range_min, range_max) != expect:
            raise chk.fail(
                "range",
                f"must be {expect[0]}-{expect[1]} (what the items add up to), "
                f"got {range_min}-{range_max}",
            )

    # Bands: contiguous, non-overlapping, covering the whole range.
    bands = [Band(b["token"], b["min"], b["max"]) for b in data.get("bands", [])]
    if bands:
        assert range_min is not None
        assert range_max is not None
        tokens = [b.token for b in bands]
        if len(set(tokens)) != len(tokens):
            raise chk.fail("bands", "duplicate band token")
        expected_min = range_min
        for i, b in enumerate(bands):
            if b.min > b.max:
                raise chk.fail(f"bands[{i}]", f"min {b.min} is above max {b.max}")
            if b.min != expected_min:
                raise chk.fail(
                    f"bands[{i}].min", f"must be {expected_min} (no gap or overlap), got {b.min}"
                )
            expected_min = b.max + 1
        if bands[-1].max != range_max:
            raise chk.fail(f"bands[{len(bands) - 1}].max", f"must end at the range max {range_max}")

    # Flags
    flags: list[FlagRule] = []
    for i, f in enumerate(data["flags"]):
        path = f"flags[{i}]"
        rule = f["rule"]
        if rule == "item_at_least":
            if "item" not in f or "min" not in f:
                raise chk.fail(path, "item_at_least needs item and min")
            if f["item"] not in item_ids:
                raise chk.fail(f"{path}.item", f"unknown item {f['item']!r}")
            it_ = next(x for x in items if x.id == f["item"])
            if not it_.min_value < f["min"] <= it_.max_value:
                raise chk.fail(f"{path}.min", "must be above the item's lowest answer, in range")
        elif rule == "total_at_least":
            if "min" not in f:
                raise chk.fail(path, "total_at_least needs min")
            if range_min is None or range_max is None or not range_min < f["min"] <= range_max:
                raise chk.fail(f"{path}.min", "must lie within the instrument's range")
        elif not clusters:
            raise chk.fail(path, "cluster_pattern needs scoring.clusters")
        flags.append(FlagRule(f["token"], rule, f.get("item"), f.get("min")))

    # Levels (single-rating scales such as MOAA/S)
    levels = [Option(lv["value"], dict(lv["label"])) for lv in data.get("levels", [])]
    for i, lv in enumerate(levels):
        _labels(lv.label, languages, f"levels[{i}].label", chk)
    if levels:
        values = sorted(int(lv.value) for lv in levels)
        full: list[int] = []
        if range_min is not None and range_max is not None:
            full = list(range(range_min, range_max + 1))
        if values != full:
            raise chk.fail("levels", "must define each value of the range exactly once")

    # LOINC
    ld = data["loinc"]
    loinc_items = {}
    for key, code in ld.get("items", {}).items():
        if key not in item_ids:
            raise chk.fail(f"loinc.items.{key}", f"unknown item {key!r}")
        loinc_items[key] = LoincCode(code["code"], code["verify"])
    loinc = Loinc(
        panel=LoincCode(ld["panel"]["code"], ld["panel"]["verify"]) if "panel" in ld else None,
        total=LoincCode(ld["total"]["code"], ld["total"]["verify"]) if "total" in ld else None,
        items=loinc_items,
    )

    if method == "cssrs_screener" and not data.get("risk_levels"):
        raise chk.fail("risk_levels", "required for the C-SSRS screener")

    return Instrument(
        id=data["id"],
        title=data["title"],
        version=data["version"],
        languages=languages,
        ship_item_text=ship,
        licence=data["licence"],
        source=data["source"],
        source_file=filename,
        scoring_method=method,
        items=tuple(items),
        preamble=preamble,
        range_min=range_min,
        range_max=range_max,
        bands=tuple(bands),
        flags=tuple(flags),
        loinc=loinc,
        domains=tuple(domains),
        clusters=tuple(clusters),
        endorsed_min=endorsed_min,
        item_count=item_count,
        item_max=item_max,
        levels=tuple(levels),
        thresholds=dict(data.get("thresholds", {})),
        meaningful_change=data.get("meaningful_change"),
        risk_levels=tuple(data.get("risk_levels", ())),
    )


def parse_instrument_yaml(text: str, filename: str) -> Instrument:
    """Parse YAML text (errors name the file and the line) and validate it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise InvalidInput(f"{filename}: {where}", f"not valid YAML: {exc}") from exc
    return parse_instrument(data, filename)


@cache
def load_all() -> Mapping[str, Instrument]:
    """Every packaged instrument, by id (read once, then cached)."""
    folder = resources.files(DATA_PACKAGE).joinpath(*DATA_DIR)
    found: dict[str, Instrument] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        inst = parse_instrument_yaml(entry.read_text(encoding="utf-8"), entry.name)
        found[inst.id] = inst
    return found


def instrument_ids() -> tuple[str, ...]:
    return tuple(sorted(load_all()))


def get_instrument(instrument_id: str, field: str = "instrument") -> Instrument:
    """The instrument called ``instrument_id``, or InvalidInput naming ``field``."""
    instruments = load_all()
    try:
        return instruments[instrument_id]
    except KeyError:
        known = ", ".join(sorted(instruments))
        message = f"unknown instrument {instrument_id!r} (known: {known})"
        raise InvalidInput(field, message) from None
