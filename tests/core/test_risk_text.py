"""Suicide-risk words in a patient's free text (trellis.core.risk_text, CLINICAL.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core.risk_text import RISK_PHRASES, normalise, risk_phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I want to die", ["want to die"]),
        ("i   WANT to   DIE!!", ["want to die"]),
        ("Sometimes I think everyone would be better off without me.", ["better off without me"]),
        ("I don't want to live like this", ["don t want to live"]),
        ("Quiero morirme, ya no puedo", ["quiero morirme"]),
        ("No tengo razón para vivir", ["no tengo razon para vivir"]),
        ("Pensé en hacerme daño", ["hacerme dano"]),
        ("He pensado en el SUICIDIO", ["suicidio"]),
    ],
)
def test_phrases_found_in_english_and_spanish(text: str, expected: list[str]) -> None:
    assert risk_phrases(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Can I move my Thursday appointment?",
        "The parking lot was full, I nearly died laughing at the sign",
        "Mi cita es el jueves, ¿puedo cambiarla?",
        "I killed it at work today",  # not "kill myself"
        "skill myself up",  # whole words only
    ],
)
def test_ordinary_messages_raise_nothing(text: str) -> None:
    assert risk_phrases(text) == []


def test_negation_is_not_parsed_on_purpose() -> None:
    # Recall over precision: the clinician reads it and decides.
    assert risk_phrases("I would never kill myself") == ["kill myself"]


def test_every_phrase_is_stored_normalised() -> None:
    for phrase in RISK_PHRASES:
        assert normalise(phrase) == f" {phrase} ", phrase


@given(st.sampled_from(RISK_PHRASES), st.text(max_size=40), st.text(max_size=40))
def test_a_phrase_between_any_words_is_found(phrase: str, before: str, after: str) -> None:
    assert phrase in risk_phrases(f"{before} {phrase.upper()} {after}")
