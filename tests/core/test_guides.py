"""Preparation guides (issue 17): packaged data, selection, teach-back and the readability bar."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trellis.core import guides
from trellis.core.errors import InvalidInput
from trellis.core.protocols import ADAPTATIONS, REQUIREMENTS, list_protocols, load_protocol
from trellis.core.screening import FirstDoseFacts, first_dose_blockers

ALL = guides.list_guides()


def _raw(guide_id: str = "esketamine", lang: str = "en") -> dict:
    return yaml.safe_load(guides.packaged_guide_text(guide_id, lang))


def _parse(data: dict) -> guides.Guide:
    return guides.parse_guide(yaml.safe_dump(data, allow_unicode=True), "copy.yaml")


def _problem(data: dict) -> str:
    with pytest.raises(guides.GuideInvalid) as exc:
        _parse(data)
    return "; ".join(str(e) for e in exc.value.errors)


# --- the packaged guides --------------------------------------------------------------------------


def test_a_guide_per_drug_in_english_and_spanish() -> None:
    assert {(g.drug, g.language) for g in ALL} == {
        (drug, lang) for drug in ("ketamine", "esketamine") for lang in ("en", "es")
    }


@pytest.mark.parametrize("guide", ALL, ids=lambda g: f"{g.id}.{g.language}")
def test_every_packaged_guide_meets_the_plain_language_bar(guide: guides.Guide) -> None:
    result = guides.guide_readability(guide)
    assert result.passes, result.describe()
    if guide.language == "en":
        assert result.score <= guides.MAX_ENGLISH_GRADE
    else:
        assert result.score >= guides.MIN_SPANISH_EASE


@pytest.mark.parametrize("guide", ALL, ids=lambda g: f"{g.id}.{g.language}")
def test_every_guide_covers_what_issue_17_asks(guide: guides.Guide) -> None:
    ids = {s.id for s in guide.sections}
    assert {"what_it_is", "before_and_after", "relief_and_integration", "safety_and_rights"} <= ids
    assert {s.adaptation for s in guide.sections} >= {
        "medical-distrust",
        "family-involved",
        "language-concordant",
    }
    assert guides.TEACH_BACK_MIN <= len(guide.teach_back) <= guides.TEACH_BACK_MAX
    text = guides.guide_text(guide)
    assert "988" in text
    assert "911" in text
    assert "CLINICAL.md" not in text
    assert "[verify]" not in text
    assert guide.reviewed_by
    assert guide.reviewed_on.year >= 2026


def test_esketamine_guide_states_the_rems_and_label_facts() -> None:
    text = guides.guide_text(guides.load_guide("esketamine", "en"))
    assert "at least 2 hours" in text  # REMS: monitoring >= 120 minutes (CLINICAL.md §4)
    assert "5 minutes apart" in text  # devices 5 minutes apart
    assert "2 hours before" in text
    assert "30 minutes before" in text
    assert "next day, after a night of sleep" in text  # no driving


def test_spanish_and_english_twins_have_the_same_shape() -> None:
    for gid in ("ketamine", "esketamine"):
        assert guides.pair_errors(guides.load_guide(gid, "en"), guides.load_guide(gid, "es")) == []


def test_a_section_and_question_change_breaks_the_pair() -> None:
    en = guides.load_guide("ketamine", "en")
    data = _raw("ketamine", "es")
    data["sections"] = data["sections"][1:]
    data["teach_back"][0]["answer"] = "a"
    problems = guides.pair_errors(en, _parse(data))
    assert [p.field for p in problems] == ["sections", "teach_back"]


def test_unknown_guide_names_the_field() -> None:
    with pytest.raises(InvalidInput) as exc:
        guides.load_guide("psilocybin", "en")
    assert exc.value.field == "guide"


# --- validation names file, field and problem ---------------------------------------------------


def test_unknown_source_adaptation_track_and_route_are_refused() -> None:
    data = _raw()
    data["sections"][0]["sources"] = ["nowhere"]
    data["sections"][1]["adaptation"] = "astrology"
    data["sections"][2]["tracks"] = ["iv-unknown"]
    data["sections"][3]["routes"] = ["iv"]  # esketamine is intranasal
    problem = _problem(data)
    assert "sections[0].sources: 'nowhere' is not one of the guide's sources" in problem
    assert "sections[1].adaptation: 'astrology' is not one of:" in problem
    assert "sections[2].tracks: 'iv-unknown' is not a packaged track" in problem
    assert "sections[3].routes: 'iv' is not a route of esketamine" in problem


def test_an_answer_outside_the_options_and_duplicate_ids_are_refused() -> None:
    data = _raw()
    data["teach_back"][0]["answer"] = "z"
    data["teach_back"][1]["id"] = data["teach_back"][2]["id"]
    data["sections"][1]["id"] = data["sections"][0]["id"]
    problem = _problem(data)
    assert "teach_back[0].answer: 'z' is not one of the options" in problem
    assert "teach_back[2].id:" in problem
    assert "is used twice" in problem
    assert "sections[1].id:" in problem


def test_teach_back_needs_three_to_five_questions() -> None:
    data = _raw()
    data["teach_back"] = data["teach_back"][:2]
    assert "teach_back" in _problem(data)
    data = _raw()
    data["teach_back"] = data["teach_back"] * 2
    assert "teach_back" in _problem(data)


def test_structure_errors_and_bad_yaml() -> None:
    data = _raw()
    del data["reviewed"]
    assert "'reviewed' is a required property" in _problem(data)
    with pytest.raises(guides.GuideInvalid) as exc:
        guides.parse_guide("id: [unclosed", "bad.yaml")
    assert str(exc.value.errors[0]).startswith("bad.yaml: (yaml): not valid YAML")
    data = _raw()
    data["reviewed"]["date"] = "last week"
    assert "reviewed.date" in _problem(data)


def test_adaptation_names_come_from_the_protocol_registry() -> None:
    for guide in ALL:
        for section in guide.sections:
            assert section.adaptation is None or section.adaptation in ADAPTATIONS
            assert set(section.tracks) <= {p.id for p in list_protocols()}


# --- what one course gets -----------------------------------------------------------------------


def _ids(sections: list[guides.Section]) -> list[str]:
    return [s.id for s in sections]


def test_sections_follow_route_track_and_adaptations() -> None:
    ket = guides.load_guide("ketamine", "en")
    iv = _ids(guides.sections_for(ket, route="iv", track="iv-ptsd"))
    assert "the_session_iv" in iv
    assert "the_session_im" not in iv
    assert "trauma_track" in iv
    assert "depression_track" not in iv
    assert "trust" not in iv
    assert "for_family" not in iv
    im = _ids(
        guides.sections_for(ket, route="im", track="iv-trd", adaptations=["medical-distrust"])
    )
    assert "the_session_im" in im
    assert "the_session_iv" not in im
    assert "depression_track" in im
    assert "trust" in im
    family = guides.sections_for(
        ket, route="iv", track="iv-trd", adaptations=["family-involved"], audience="family"
    )
    assert _ids(family) == ["for_family"]
    assert guides.sections_for(ket, route="iv", track="iv-trd", audience="family") == []


def test_the_bipolar_track_gets_both_its_sections() -> None:
    ket = guides.load_guide("ketamine", "es")
    ids = _ids(guides.sections_for(ket, route="iv", track="iv-bipolar"))
    assert "depression_track" in ids
    assert "bipolar_track" in ids


@pytest.mark.parametrize("protocol", list_protocols(), ids=lambda p: p.id)
def test_every_track_has_a_guide_with_a_session_section(protocol) -> None:  # type: ignore[no-untyped-def]
    for lang in guides.LANGUAGES:
        guide = guides.load_guide(guides.guide_id_for_drug(protocol.drug), lang)
        ids = _ids(guides.sections_for(guide, route=protocol.route, track=protocol.id))
        assert any(i.startswith("the_session") for i in ids)


# --- teach-back ------------------------------------------------------------------------------


def test_teach_back_all_understood_and_misses() -> None:
    guide = guides.load_guide("esketamine", "en")
    right = {q.id: q.answer for q in guide.teach_back}
    assert guides.check_teach_back(guide, right).all_understood
    wrong = {**right, "visions": "a", "stay": "c"}
    result = guides.check_teach_back(guide, wrong)
    assert result.misunderstood == ("visions", "stay")


def test_teach_back_names_the_unanswered_or_unknown_question() -> None:
    guide = guides.load_guide("ketamine", "en")
    right = {q.id: q.answer for q in guide.teach_back}
    missing = {k: v for k, v in right.items() if k != "driving"}
    with pytest.raises(InvalidInput) as exc:
        guides.check_teach_back(guide, missing)
    assert exc.value.field == "driving"
    with pytest.raises(InvalidInput) as exc:
        guides.check_teach_back(guide, {**right, "stopping": "z"})
    assert exc.value.field == "stopping"
    with pytest.raises(InvalidInput) as exc:
        guides.check_teach_back(guide, {**right, "horoscope": "a"})
    assert exc.value.field == "horoscope"


@given(st.data())
def test_teach_back_misses_are_exactly_the_wrong_choices(data: st.DataObject) -> None:
    guide = guides.load_guide("esketamine", "es")
    answers = {
        q.id: data.draw(st.sampled_from([o.id for o in q.options])) for q in guide.teach_back
    }
    result = guides.check_teach_back(guide, answers)
    assert set(result.misunderstood) == {
        q.id for q in guide.teach_back if answers[q.id] != q.answer
    }


# --- readability ---------------------------------------------------------------------------------

HARD_EN = (
    "Esketamine, a non-competitive N-methyl-D-aspartate receptor antagonist, demonstrates "
    "pharmacodynamic characteristics necessitating comprehensive hemodynamic surveillance, "
    "particularly regarding transient hypertensive manifestations subsequent to administration."
)
HARD_ES = (
    "La esketamina, antagonista no competitivo del receptor N-metil-D-aspartato, presenta "
    "características farmacodinámicas que requieren una vigilancia hemodinámica exhaustiva, "
    "particularmente respecto de manifestaciones hipertensivas transitorias posteriores."
)


def test_readability_refuses_hard_text_in_both_languages() -> None:
    en = guides.readability(HARD_EN, "en")
    assert en.measure == "flesch_kincaid_grade"
    assert en.score > 8
    assert not en.passes
    es = guides.readability(HARD_ES, "es")
    assert es.measure == "fernandez_huerta"
    assert es.score < 70
    assert not es.passes
    assert guides.readability("You rest in a chair. A nurse stays with you.", "en").passes
    assert guides.readability(
        "Usted descansa en un sillón. La enfermera está con usted.", "es"
    ).passes


def test_readability_errors_for_a_hard_copy() -> None:
    data = _raw()
    data["intro"] = " ".join([HARD_EN] * 12)[:600]
    for section in data["sections"]:
        section["paragraphs"] = [HARD_EN]
        section.pop("bullets", None)
    problems = guides.readability_errors(_parse(data), "copy.yaml")
    assert problems
    assert problems[0].field == "(readability)"
    assert "too hard to read: US grade" in problems[0].problem


def test_readability_rejects_empty_text_and_unknown_language() -> None:
    with pytest.raises(InvalidInput):
        guides.readability("  ", "en")
    with pytest.raises(InvalidInput) as exc:
        guides.readability("Hola.", "fr")
    assert exc.value.field == "language"


# --- a track may require the teach-back before dose 1 -------------------------------------------


def test_teach_back_can_be_a_first_dose_requirement() -> None:
    assert "preparation_teach_back" in REQUIREMENTS
    import dataclasses

    proto = dataclasses.replace(
        load_protocol("iv-trd"), requirements_before_first_dose=("preparation_teach_back",)
    )
    done = proto.preparation.count
    facts = FirstDoseFacts(screening_outcome="eligible", preparation_sessions_done=done)
    blockers = first_dose_blockers(proto, facts)
    assert [b.split(":")[0] for b in blockers] == ["preparation_teach_back"]
    answered = dataclasses.replace(facts, teach_back_answered=True)
    assert first_dose_blockers(proto, answered) == []
