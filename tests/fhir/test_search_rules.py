"""Search parameter matching (FHIR R4 search: date prefixes over the period a value means,
tokens with and without a system)."""

from __future__ import annotations

import pytest

from trellis.core.errors import InvalidInput
from trellis.fhir import catalog

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("value", "query", "expected"),
    [
        ("2026-03-02T10:00:00-05:00", "2026-03-02", True),
        ("2026-03-02T10:00:00-05:00", "eq2026-03", True),
        ("2026-03-02T10:00:00-05:00", "2026-03-03", False),
        ("2026-03-02T10:00:00-05:00", "ge2026-03-02", True),
        ("2026-03-02T10:00:00-05:00", "ge2026-03-03", False),
        ("2026-03-02T10:00:00-05:00", "le2026-03-02", True),
        ("2026-03-02T10:00:00-05:00", "le2026-03-01", False),
        ("2026-03-02T10:00:00-05:00", "gt2026-03-02", False),
        ("2026-03-02T10:00:00-05:00", "gt2026-03-01", True),
        ("2026-03-02T10:00:00-05:00", "lt2026-03-02", False),
        ("2026-03-02T10:00:00-05:00", "lt2026-03-03", True),
        ("2026-03-02T10:00:00-05:00", "ne2026-03-02", False),
        ("1985-04-12", "1985-04-12", True),
        ("1985-04-12", "1985", True),
        ("1985-04-12", "ge1986", False),
        (None, "ge2000", False),
    ],
)
def test_date_prefixes(value: str | None, query: str, expected: bool) -> None:
    assert catalog.date_matches(value, query, "date") is expected


def test_a_bad_date_names_the_parameter() -> None:
    with pytest.raises(InvalidInput, match="birthdate"):
        catalog.date_matches("1985-04-12", "ge12/04/1985", "birthdate")


def test_tokens() -> None:
    codings = [{"system": "http://loinc.org", "code": "44261-6"}]
    assert catalog.token_matches(codings, "44261-6")
    assert catalog.token_matches(codings, "http://loinc.org|44261-6")
    assert catalog.token_matches(codings, "70274-6,44261-6")
    assert not catalog.token_matches(codings, "http://snomed.info/sct|44261-6")
    assert not catalog.token_matches(codings, "70274-6")


@pytest.mark.parametrize(
    ("params", "sources"),
    [
        ({}, {"score", "vitals"}),
        ({"category": ["survey"]}, {"score"}),
        (
            {
                "category": [
                    "http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"
                ]
            },
            {"vitals"},
        ),
        ({"category": ["survey,vital-signs"]}, {"score", "vitals"}),
        ({"category": ["laboratory"]}, set()),
        ({"code": ["http://loinc.org|44261-6"]}, {"score"}),
        ({"code": ["8867-4"]}, {"vitals"}),
        ({"code": ["8867-4,44261-6"]}, {"score", "vitals"}),
        ({"category": ["survey"], "code": ["8867-4"]}, set()),
    ],
)
def test_observation_sources(params: dict[str, list[str]], sources: set[str]) -> None:
    assert catalog.observation_sources(params) == sources
