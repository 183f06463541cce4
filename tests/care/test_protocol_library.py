"""The program's protocol library: enable, copy and adapt (validated, versioned); courses start
only on enabled tracks and keep the version they started on."""

from __future__ import annotations

import pytest
from tests.care.conftest import START, open_course
from tests.support import Cast

from trellis.audit.models import AuditEvent
from trellis.care import services
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.core.protocols import ProtocolInvalid, protocol_ids


@pytest.mark.django_db
def test_every_packaged_track_is_enabled_by_default(cast: Cast) -> None:
    entries = services.protocol_library(cast.program_a)
    assert {e.id for e in entries} == set(protocol_ids())
    assert all(e.enabled and e.packaged for e in entries)


@pytest.mark.django_db
def test_a_switched_off_track_cannot_start_a_course(cast: Cast, prescriber_a: object) -> None:
    services.set_protocol_enabled(prescriber_a, cast.program_a, "iv-ocd", False)
    assert "iv-ocd" not in {p.id for p in services.enabled_protocols(cast.program_a)}
    with pytest.raises(InvalidInput, match="switched off") as err:
        open_course(cast, track="iv-ocd")
    assert err.value.field == "protocol"
    # Program B is not affected; switching it back on lets the course start.
    assert "iv-ocd" in {p.id for p in services.enabled_protocols(cast.program_b)}
    services.set_protocol_enabled(prescriber_a, cast.program_a, "iv-ocd", True)
    assert open_course(cast, track="iv-ocd").protocol_id == "iv-ocd"
    assert AuditEvent.objects.filter(object_type="care.programprotocol").count() == 2


@pytest.mark.django_db
def test_only_admins_and_prescribers_edit_the_library(cast: Cast) -> None:
    for who in (cast.nurse_a, cast.coordinator_a, cast.therapist_a, cast.coordinator_b):
        with pytest.raises(NotAllowed):
            services.set_protocol_enabled(who, cast.program_a, "iv-trd", False)
        with pytest.raises(NotAllowed):
            services.copy_protocol(who, cast.program_a, "iv-trd")
    services.set_protocol_enabled(cast.admin_a, cast.program_a, "iv-trd", False)


@pytest.mark.django_db
def test_copy_adapt_validate_and_start_on_the_copy(cast: Cast, prescriber_a: object) -> None:
    row = services.copy_protocol(prescriber_a, cast.program_a, "iv-trd")
    assert row.protocol_id == "prog-a-iv-trd"
    assert row.based_on == "iv-trd"
    assert not row.enabled  # a copy starts switched off
    assert "id: prog-a-iv-trd" in row.yaml_text
    with pytest.raises(InvalidInput, match="switched off"):
        open_course(cast, track="prog-a-iv-trd")

    # Adapt: three preparation sessions; a changed text needs a new version.
    text = row.yaml_text.replace("  count: 2\n  minutes: 60", "  count: 3\n  minutes: 60", 1)
    with pytest.raises(InvalidInput, match="new version"):
        services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, text)
    text = text.replace('version: "1.0.0"', 'version: "1.1.0"', 1)
    saved = services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, text)
    assert (saved.revision, saved.version) == (2, "1.1.0")
    assert [r.version for r in services.revisions_of(saved)] == ["1.1.0", "1.0.0"]

    services.set_protocol_enabled(prescriber_a, cast.program_a, row.protocol_id, True)
    episode = open_course(cast, track="prog-a-iv-trd")
    assert episode.protocol_version == "1.1.0"
    assert services.activities_of(episode).filter(kind="preparation").count() == 3
    assert services.protocol_of(episode).preparation.count == 3

    # A later edit does not change the running course (it keeps version 1.1.0).
    text4 = text.replace("  count: 3\n  minutes: 60", "  count: 4\n  minutes: 60", 1).replace(
        'version: "1.1.0"', 'version: "1.2.0"', 1
    )
    services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, text4)
    episode.refresh_from_db()
    assert services.protocol_of(episode).preparation.count == 3
    assert services.resolve_protocol(cast.program_a, "prog-a-iv-trd").preparation.count == 4


@pytest.mark.django_db
def test_invalid_copy_names_file_and_field_and_saves_nothing(
    cast: Cast, prescriber_a: object
) -> None:
    row = services.copy_protocol(prescriber_a, cast.program_a, "iv-trd")
    bad = row.yaml_text.replace("min_days_between: 2", "min_days_between: 9", 1).replace(
        'version: "1.0.0"', 'version: "1.0.1"', 1
    )
    with pytest.raises(ProtocolInvalid) as err:
        services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, bad)
    assert str(err.value.errors[0]) == (
        "prog-a-iv-trd.yaml: doses.min_days_between: must be ≤ max (9 > 4)"
    )
    with pytest.raises(ProtocolInvalid, match="not valid YAML"):
        services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, "id: [")
    renamed = row.yaml_text.replace("id: prog-a-iv-trd", "id: other", 1)
    with pytest.raises(ProtocolInvalid, match="must match the file name"):
        services.save_protocol_copy(prescriber_a, cast.program_a, row.protocol_id, renamed)
    row.refresh_from_db()
    assert (row.revision, row.version) == (1, "1.0.0")


@pytest.mark.django_db
def test_copy_ids_belong_to_the_program(cast: Cast, prescriber_a: object) -> None:
    for bad, message in [
        ("iv-trd-2", "starts with the program"),
        ("Prog-A-x", "lower-case"),
        ("prog-a-", "lower-case"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            services.copy_protocol(prescriber_a, cast.program_a, "iv-trd", bad)
    services.copy_protocol(prescriber_a, cast.program_a, "iv-trd")
    with pytest.raises(InvalidInput, match="already has"):
        services.copy_protocol(prescriber_a, cast.program_a, "iv-ptsd", "prog-a-iv-trd")
    # Another program cannot see or start on program A's copy.
    with pytest.raises(InvalidInput, match="unknown protocol"):
        services.resolve_protocol(cast.program_b, "prog-a-iv-trd")


@pytest.mark.django_db
def test_packaged_ids_keep_working(cast: Cast) -> None:
    episode = open_course(cast, track="esketamine-trd", referred_on=START)
    assert services.protocol_of(episode).id == "esketamine-trd"


@pytest.mark.django_db
def test_serve_refuses_to_start_on_an_invalid_program_protocol(cast: Cast, cli: object) -> None:
    """Issue 18: ``trellis serve`` checks every packaged track and every program copy against
    the registries before it starts; a stored copy naming an unknown instrument (saved before
    a registry change, or written around the editor) stops it, naming file, field and value."""
    from trellis.care.models import ProgramProtocol

    assert services.check_all_protocols() == len(protocol_ids())
    text = (
        services.packaged_protocol_text("iv-bipolar")
        .replace("id: iv-bipolar", "id: prog-a-bipolar", 1)
        .replace("{instrument: asrm,", "{instrument: hypomania-x,", 1)
    )
    ProgramProtocol.objects.create(
        program=cast.program_a, protocol_id="prog-a-bipolar", yaml_text=text, version="1.0.0"
    )
    with pytest.raises(ProtocolInvalid):
        services.check_all_protocols()
    result = cli("serve", "--port", "8799")  # type: ignore[operator]
    assert result.code == 2
    assert result.out == ""
    line = result.err.strip()
    assert len(line.splitlines()) == 1
    assert "prog-a/prog-a-bipolar.yaml" in line
    assert "measures[1].instrument" in line
    assert "'hypomania-x'" in line
