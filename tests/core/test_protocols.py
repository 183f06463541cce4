"""Protocol tracks: the packaged files load, carry the clinical content of CLINICAL.md §3–7,
and bad files are refused with errors naming the file, the field and the problem."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from trellis.core.errors import InvalidInput
from trellis.core.protocols import (
    ADAPTATIONS,
    ProtocolError,
    ProtocolInvalid,
    list_protocols,
    load_protocol,
    load_protocol_file,
    parse_protocol,
    parse_protocol_text,
    protocol_ids,
    validate_protocol_data,
)

TRACKS = (
    "complex-trauma",
    "esketamine-suicidal",
    "esketamine-trd",
    "iv-aud",
    "iv-bipolar",
    "iv-ocd",
    "iv-ptsd",
    "iv-trd",
)


def raw(track: str) -> dict[str, Any]:
    text = (
        resources.files("trellis.core").joinpath("data", "protocols", f"{track}.yaml").read_text()
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def errors_of(data: Any, filename: str = "iv-trd.yaml") -> list[str]:
    return [str(e) for e in validate_protocol_data(data, filename)]


def test_all_tracks_are_packaged_and_valid() -> None:
    assert protocol_ids() == TRACKS
    assert [p.id for p in list_protocols()] == list(TRACKS)
    for track in TRACKS:
        assert errors_of(raw(track), f"{track}.yaml") == []


@pytest.mark.parametrize("track", TRACKS)
def test_every_track_cites_sources_and_defines_every_part(track: str) -> None:
    p = load_protocol(track)
    assert p.sources
    assert p.version
    assert p.preparation.count >= 1
    assert p.doses.count >= 1
    assert p.integration.within_hours == 72
    assert p.peer_circle.from_week == 2
    assert p.peer_circle.weeks == 8
    assert p.sustained_support.check_in_days
    assert p.relapse_policy.booster_within_hours == 72
    assert p.relapse_policy.prescriber_review_before_redose
    assert p.relapse_policy.redose_requires_reason
    assert p.primary_instrument in {m.instrument for m in p.measures}
    assert any("baseline" in m.timepoints for m in p.measures)
    assert {"current_psychosis", "current_mania"} <= {i.id for i in p.screening if i.kind == "hard"}


@pytest.mark.parametrize(
    ("track", "drug", "route", "primary", "threshold", "count"),
    [
        ("iv-trd", "ketamine", "iv", "phq9", 50, 6),
        ("esketamine-trd", "esketamine", "intranasal", "phq9", 50, 12),
        ("esketamine-suicidal", "esketamine", "intranasal", "phq9", 50, 8),
        ("iv-bipolar", "ketamine", "iv", "phq9", 50, 6),
        ("iv-ptsd", "ketamine", "iv", "pcl5", 50, 6),
        ("complex-trauma", "ketamine", "iv", "pcl5", 50, 6),
        ("iv-ocd", "ketamine", "iv", "ybocs", 35, 1),
        ("iv-aud", "ketamine", "iv", "phq9", 50, 3),
    ],
)
def test_track_table(
    track: str, drug: str, route: str, primary: str, threshold: int, count: int
) -> None:
    p = load_protocol(track)
    assert (p.drug, p.route, p.primary_instrument) == (drug, route, primary)
    assert p.response_threshold_percent == threshold
    assert p.doses.count == count


def test_track_specific_rules() -> None:
    # Spravato REMS: patient enrolled before the first treatment (CLINICAL.md §4).
    for track in ("esketamine-trd", "esketamine-suicidal"):
        assert "rems_patient_enrolment" in load_protocol(track).requirements_before_first_dose
    suicidal = load_protocol("esketamine-suicidal")
    assert suicidal.start_within_hours_of_referral == 48
    assert "safety_plan" in suicidal.requirements_before_first_dose
    assert suicidal.dose_rule.first_dose_mg == 84
    cssrs = next(m for m in suicidal.measures if m.instrument == "cssrs")
    assert "every_visit" in cssrs.timepoints
    assert [(b.from_week, b.to_week, b.per_week) for b in suicidal.doses.cadence] == [(1, 4, 2)]

    trd = load_protocol("esketamine-trd")
    assert [(b.from_week, b.to_week, b.per_week) for b in trd.doses.cadence] == [
        (1, 4, 2),
        (5, 8, 1),
    ]
    assert trd.doses.maintenance is not None
    assert trd.doses.maintenance.every_weeks == (1, 2)
    assert trd.dose_rule.fixed_mg == (56, 84)
    assert (trd.dose_rule.first_dose_mg, trd.dose_rule.first_dose_mg_age_65_plus) == (56, 28)

    bipolar = load_protocol("iv-bipolar")
    assert "mood_stabiliser_documented" in bipolar.requirements_before_first_dose
    asrm = next(m for m in bipolar.measures if m.instrument == "asrm")
    assert "every_visit" in asrm.timepoints

    ptsd = load_protocol("iv-ptsd")
    assert next(m for m in ptsd.measures if m.instrument == "pcl5").monthly_months
    assert {"grounding_skills", "consent_to_touch"} <= set(ptsd.preparation.topics)

    trauma = load_protocol("complex-trauma")
    assert trauma.preparation.count >= 3
    assert trauma.integration.every == 1
    iv_trd = load_protocol("iv-trd")
    assert trauma.doses.min_days_between > iv_trd.doses.min_days_between  # slower pacing

    aud = load_protocol("iv-aud")
    assert "part2_consent" in aud.requirements_before_first_dose
    assert aud.dose_rule.mg_per_kg == 0.8
    assert [(s.name, s.count) for s in aud.extra_sessions] == [("relapse-prevention", 7)]

    assert iv_trd.dose_rule.mg_per_kg == 0.5
    assert iv_trd.dose_rule.infusion_minutes == 40


@pytest.mark.parametrize("track", ["esketamine-trd", "esketamine-suicidal"])
def test_esketamine_contraindications_are_hard(track: str) -> None:
    items = {i.id: i for i in load_protocol(track).screening}
    for hard in (
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_haemorrhage_history",
        "esketamine_hypersensitivity",
        "age_under_18",
    ):
        assert items[hard].kind == "hard", hard
    assert items["age_under_18"].age_below == 18


@pytest.mark.parametrize("track", [t for t in TRACKS if t.startswith(("iv-", "complex"))])
def test_iv_tracks_exclude_pregnancy_and_review_relative_items(track: str) -> None:
    items = {i.id: i for i in load_protocol(track).screening}
    assert items["pregnancy"].kind == "hard"
    for review in ("uncontrolled_hypertension", "raised_icp", "glaucoma", "recent_seizures"):
        assert items[review].kind == "review"
    assert items["age_under_18"].kind == "review"


def test_adaptation_names_are_exact() -> None:
    assert ADAPTATIONS == (
        "language-concordant",
        "interpreter",
        "chw-navigator",
        "medical-distrust",
        "family-involved",
        "transport",
    )


def test_error_renders_file_field_problem() -> None:
    data = raw("iv-trd")
    data["doses"]["min_days_between"] = 5
    data["doses"]["max_days_between"] = 3
    data["doses"].pop("target_days_between")
    assert errors_of(data) == ["iv-trd.yaml: doses.min_days_between: must be ≤ max (5 > 3)"]
    with pytest.raises(ProtocolInvalid) as info:
        parse_protocol(data, "iv-trd.yaml")
    assert info.value.field == "iv-trd.yaml"
    assert info.value.message == "iv-trd.yaml: doses.min_days_between: must be ≤ max (5 > 3)"
    assert info.value.errors == (
        ProtocolError("iv-trd.yaml", "doses.min_days_between", "must be ≤ max (5 > 3)"),
    )
    assert isinstance(info.value, InvalidInput)


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value


DELETE = object()


@pytest.mark.parametrize(
    ("track", "path", "value", "field", "fragment"),
    [
        ("iv-trd", "title", DELETE, "title", "is required"),
        ("iv-trd", "doses.count", 0, "doses.count", "less than the minimum of 1"),
        ("iv-trd", "doses.count", 6.0, "doses.count", "is not of type 'integer'"),
        ("iv-trd", "doses.count", True, "doses.count", "is not of type 'integer'"),
        ("iv-trd", "doses.colour", "blue", "doses.colour", "not a known field"),
        ("iv-trd", "drug", "psilocybin", "drug", "'psilocybin' is not one of"),
        ("iv-trd", "route", "intranasal", "route", "not a route for ketamine"),
        ("iv-trd", "version", "one", "version", "semantic version"),
        ("iv-trd", "primary_instrument", "bdi", "primary_instrument", "unknown instrument 'bdi'"),
        ("iv-trd", "measures.0.instrument", "hamd", "measures[0].instrument", "unknown instrument"),
        ("iv-trd", "screening.0.kind", "soft", "screening[0].kind", "'soft' is not one of"),
        ("iv-trd", "screening.1.id", "pregnancy", "screening[1].id", "duplicate item id"),
        ("iv-trd", "doses.target_days_between", 9, "doses.target_days_between", "within [2, 4]"),
        ("iv-trd", "integration.every", 7, "integration.every", "must be ≤ doses.count"),
        ("iv-trd", "dose_rule.mg_per_kg", DELETE, "dose_rule.mg_per_kg", "is required for keta"),
        (
            "iv-trd",
            "sustained_support.check_in_days",
            [14, 7],
            "sustained_support.check_in_days",
            "strictly increasing",
        ),
        (
            "iv-trd",
            "requirements_before_first_dose",
            ["x"],
            "requirements_before_first_dose[0]",
            "unknown requirement 'x'",
        ),
        ("esketamine-trd", "doses.count", 10, "doses.count", "must equal the doses in the cadence"),
        (
            "esketamine-trd",
            "doses.cadence.1.from_week",
            6,
            "doses.cadence[1].from_week",
            "must be 5",
        ),
        (
            "esketamine-trd",
            "requirements_before_first_dose",
            ["safety_plan"],
            "requirements_before_first_dose",
            "rems_patient_enrolment",
        ),
        (
            "esketamine-trd",
            "dose_rule.fixed_mg",
            [56, 70],
            "dose_rule.fixed_mg[1]",
            "not a multiple of a 28 mg device",
        ),
        (
            "esketamine-suicidal",
            "preparation.count",
            3,
            "start_within_hours_of_referral",
            "after the 48 h limit",
        ),
    ],
)
def test_bad_field_is_named(track: str, path: str, value: Any, field: str, fragment: str) -> None:
    data = copy.deepcopy(raw(track))
    _set(data, path, value)
    errors = validate_protocol_data(data, f"{track}.yaml")
    assert errors, "the change should have been refused"
    matching = [e for e in errors if e.field == field]
    assert matching, [str(e) for e in errors]
    assert fragment in matching[0].problem
    assert all(e.file == f"{track}.yaml" for e in errors)


def test_id_must_match_the_file_name() -> None:
    errors = errors_of(raw("iv-trd"), "my-clinic-trd.yaml")
    assert errors == [
        "my-clinic-trd.yaml: id: must match the file name ('iv-trd' in my-clinic-trd.yaml)"
    ]


def test_not_a_mapping_and_bad_yaml() -> None:
    assert errors_of(None, "x.yaml") == [
        "x.yaml: (top level): must be a mapping of fields, not empty"
    ]
    assert errors_of([1, 2], "x.yaml") == [
        "x.yaml: (top level): must be a mapping of fields, not list"
    ]
    with pytest.raises(ProtocolInvalid) as info:
        parse_protocol_text("id: [unclosed\n", "broken.yaml")
    assert info.value.message.startswith("broken.yaml: (file): not valid YAML at line")


def test_load_file_round_trip_and_adapted_copy(tmp_path: Path) -> None:
    data = raw("iv-trd")
    data["id"] = "clinic-a-trd"
    data["version"] = 2
    data["preparation"]["count"] = 3
    path = tmp_path / "clinic-a-trd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    proto = load_protocol_file(path)
    assert (proto.id, proto.version, proto.preparation.count) == ("clinic-a-trd", "2", 3)
    with pytest.raises(ProtocolInvalid, match="cannot read"):
        load_protocol_file(tmp_path / "missing.yaml")


def test_unknown_protocol_names_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        load_protocol("iv-xyz", field="--protocol")
    assert info.value.field == "--protocol"
    assert "iv-trd" in info.value.detail


def test_instrument_names_come_from_the_instrument_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One source of truth (issue 18): the validator reads the instrument registry, so a track
    naming an instrument the registry lacks is refused, naming file, field and value."""
    import trellis.core.protocols as protocols_module
    from trellis.core.instruments import instrument_ids

    assert not hasattr(protocols_module, "KNOWN_INSTRUMENTS")  # no private second list
    data = raw("iv-bipolar")
    assert validate_protocol_data(data, "iv-bipolar.yaml") == []
    without_asrm = tuple(i for i in instrument_ids() if i != "asrm")
    monkeypatch.setattr(protocols_module, "instrument_ids", lambda: without_asrm)
    errors = validate_protocol_data(data, "iv-bipolar.yaml")
    assert [(e.file, e.field) for e in errors] == [("iv-bipolar.yaml", "measures[1].instrument")]
    assert "unknown instrument 'asrm'" in errors[0].problem


def test_unknown_requirement_is_refused_from_the_requirement_registry() -> None:
    data = raw("iv-trd")
    data["requirements_before_first_dose"] = ["safety_plan", "moon_phase_checked"]
    errors = validate_protocol_data(data, "iv-trd.yaml")
    assert [e.field for e in errors] == ["requirements_before_first_dose[1]"]
    assert "'moon_phase_checked'" in errors[0].problem


@pytest.mark.parametrize(
    ("track", "citations"),
    [
        ("iv-trd", ["Murrough", "Wilkinson"]),
        ("esketamine-trd", ["Spravato", "REMS"]),
        ("esketamine-suicidal", ["Spravato", "REMS"]),
        ("iv-bipolar", ["Bahji"]),
        ("iv-ptsd", ["Feder"]),
        ("complex-trauma", ["Feder", "Wilkinson"]),
        ("iv-ocd", ["Rodriguez"]),
        ("iv-aud", ["Grabski", "Part 2"]),
    ],
)
def test_each_track_cites_its_evidence(track: str, citations: list[str]) -> None:
    text = " ".join(load_protocol(track).sources)
    assert "CLINICAL.md §" in text
    for citation in citations:
        assert citation in text


@pytest.mark.parametrize(
    ("path", "value", "field", "fragment"),
    [
        (("doses", "session_minutes"), 90, "doses.session_minutes", "legal floor of 120"),
        (("dose_rule", "fixed_mg"), [56, 112], "dose_rule.fixed_mg[1]", "highest dose of 84"),
        (("dose_rule", "first_dose_mg"), 112, "dose_rule.first_dose_mg", "highest dose of 84"),
    ],
)
def test_an_esketamine_copy_cannot_lower_the_law(
    path: tuple[str, str], value: object, field: str, fragment: str
) -> None:
    """CLINICAL.md §4-5: REMS monitoring time and the label's doses bind every copy."""
    data = raw("esketamine-trd")
    data[path[0]][path[1]] = value
    errors = validate_protocol_data(data, "esketamine-trd.yaml")
    assert [e.field for e in errors] == [field]
    assert fragment in errors[0].problem
    data = raw("esketamine-trd")
    data["doses"]["session_minutes"] = 150  # raising it is the program's choice
    assert validate_protocol_data(data, "esketamine-trd.yaml") == []
