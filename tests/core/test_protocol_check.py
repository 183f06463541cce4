"""Every packaged track against every registry it feeds (issue 18): instruments (and the
assessment schedule built from them), requirement names, activity kinds, adaptations, outcome
thresholds and the dosing rules."""

from __future__ import annotations

import dataclasses

import pytest

import trellis.core.protocol_check as protocol_check
from trellis.core.protocol_check import check_track, registry_errors
from trellis.core.protocols import Measure, ProtocolInvalid, list_protocols, load_protocol


@pytest.mark.parametrize("protocol", list_protocols(), ids=lambda p: p.id)
def test_every_packaged_track_passes_every_registry(protocol: object) -> None:
    assert registry_errors(protocol, f"{protocol.id}.yaml") == []  # type: ignore[attr-defined]


def test_bipolar_track_schedules_a_real_instrument() -> None:
    """The defect of issue 18: iv-bipolar planned ASRM, which the registry did not hold."""
    bipolar = load_protocol("iv-bipolar")
    assert "asrm" in {m.instrument for m in bipolar.measures}
    assert check_track(bipolar, "iv-bipolar.yaml") is bipolar


def test_unknown_instrument_names_file_field_and_value() -> None:
    track = load_protocol("iv-bipolar")
    bad = dataclasses.replace(
        track, measures=(*track.measures, Measure("hypomania-x", ("baseline",)))
    )
    with pytest.raises(ProtocolInvalid) as info:
        check_track(bad, "riverbend/iv-bipolar.yaml")
    error = info.value.errors[0]
    assert error.file == "riverbend/iv-bipolar.yaml"
    assert error.field == f"measures[{len(track.measures)}].instrument"
    assert "'hypomania-x'" in error.problem


def test_unknown_requirement_and_activity_kind_are_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    track = load_protocol("iv-trd")
    bad = dataclasses.replace(track, requirements_before_first_dose=("safety_plan", "x_ray"))
    fields = [e.field for e in registry_errors(bad, "iv-trd.yaml")]
    assert fields == ["requirements_before_first_dose[1]"]
    # A plan kind the registry does not know (e.g. a registry edited without the planner).
    monkeypatch.setattr(protocol_check, "ACTIVITY_KINDS", ("dose",))
    problems = registry_errors(track, "iv-trd.yaml")
    assert problems
    assert problems[0].field == "plan"
    assert "unknown activity kind" in problems[0].problem
