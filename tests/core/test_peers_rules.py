"""trellis.core.peers_rules: a facilitator note may name no member (issue 5)."""

from __future__ import annotations

from trellis.core.peers_rules import names_in_note

MEMBERS = [("Ana", "Quintero"), ("José", "Núñez")]


def test_full_names_in_either_order_case_and_accents_folded() -> None:
    assert names_in_note("ana QUINTERO shared a lot", MEMBERS) == ["Ana Quintero"]
    assert names_in_note("Nunez, Jose arrived late", MEMBERS) == ["José Núñez"]


def test_first_names_and_partial_words_pass() -> None:
    assert names_in_note("Ana shared; the group was warm", MEMBERS) == []
    assert names_in_note("Anastasia Quinteros is not a member", MEMBERS) == []
    assert names_in_note("anything", [("", "Solo")]) == []
