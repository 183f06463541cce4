"""CMS159 (Depression Remission at Twelve Months) at each boundary, on hand-built patients."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core import cms159 as m
from trellis.core.errors import InvalidInput

D = dt.date
INDEX = D(2025, 3, 10)
BIRTH = D(1980, 1, 1)
MDD = m.Diagnosis("depression", D(2024, 1, 1))


def patient(*phq9: tuple[dt.date, int], **kw: object) -> m.PatientRecord:
    return m.PatientRecord(
        key=str(kw.get("key", "p")),
        birth_date=kw.get("birth", BIRTH),  # type: ignore[arg-type]
        diagnoses=kw.get("diagnoses", (MDD,)),  # type: ignore[arg-type]
        status=kw.get("status", ()),  # type: ignore[arg-type]
        phq9=tuple(phq9),
    )


def later(days: int) -> dt.date:
    return INDEX + dt.timedelta(days=days)


def result(record: m.PatientRecord, year: int = 2025) -> m.Cms159Result:
    return m.cms159([record], year)


# --- index event: PHQ-9 > 9 with a depression diagnosis in the year -----------------------------


def test_phq9_of_9_is_not_an_index_event_and_10_is() -> None:
    assert result(patient((INDEX, 9), (later(365), 2))).denominator == 0
    r = result(patient((INDEX, 10), (later(365), 2)))
    assert r.denominator == 1
    assert r.patients[0].index_date == INDEX


def test_the_index_is_the_first_qualifying_score_in_the_year() -> None:
    record = patient((D(2024, 12, 31), 20), (INDEX, 15), (later(30), 18), (later(365), 3))
    assert result(record).patients[0].index_date == INDEX
    assert result(record, 2024).denominator == 1  # 2024's own index (31 Dec)


def test_no_depression_diagnosis_on_the_day_no_index() -> None:
    late = m.Diagnosis("depression", later(1))
    assert result(patient((INDEX, 15), diagnoses=(late,))).denominator == 0
    resolved = m.Diagnosis("depression", D(2024, 1, 1), resolved=later(-1))
    assert result(patient((INDEX, 15), diagnoses=(resolved,))).denominator == 0
    dysthymia = m.Diagnosis("dysthymia", D(2024, 6, 1))
    assert result(patient((INDEX, 15), diagnoses=(dysthymia,))).denominator == 1


def test_patients_under_12_on_the_index_day_are_not_counted() -> None:
    twelfth = INDEX.replace(year=INDEX.year - 12)
    assert result(patient((INDEX, 15), birth=twelfth)).denominator == 1
    assert result(patient((INDEX, 15), birth=twelfth + dt.timedelta(days=1))).denominator == 0


# --- numerator: the last PHQ-9 in 12 months ± 60 days is below 5 ----------------------------------


@pytest.mark.parametrize(
    ("day", "total", "remission"),
    [
        (305, 4, True),  # first day of the window
        (304, 4, False),  # one day early: outside the window
        (425, 4, True),  # last day of the window
        (426, 4, False),  # one day late
        (365, 4, True),
        (365, 5, False),  # 5 is not remission
    ],
)
def test_remission_window_and_cut_off(day: int, total: int, remission: bool) -> None:
    r = result(patient((INDEX, 16), (later(day), total)))
    assert r.denominator == 1
    assert r.numerator == (1 if remission else 0)


def test_the_last_score_in_the_window_decides() -> None:
    assert result(patient((INDEX, 16), (later(310), 3), (later(400), 7))).numerator == 0
    assert result(patient((INDEX, 16), (later(310), 9), (later(400), 4))).numerator == 1
    # A later score outside the window does not count.
    assert result(patient((INDEX, 16), (later(400), 4), (later(430), 12))).numerator == 1


def test_rate_and_empty_denominator() -> None:
    records = [
        patient((INDEX, 16), (later(365), 2), key="a"),
        patient((INDEX, 16), (later(365), 8), key="b"),
        patient((INDEX, 16), key="c"),
    ]
    r = m.cms159(records, 2025)
    assert (r.denominator, r.numerator) == (3, 1)
    assert r.rate == pytest.approx(1 / 3)
    assert m.cms159([], 2025).rate is None
    assert m.cms159([], 2025).as_dict()["exclusions"] == dict.fromkeys(m.EXCLUSION_REASONS, 0)


# --- exclusions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "category",
    ["bipolar", "personality_disorder", "psychotic_disorder", "pervasive_developmental_disorder"],
)
def test_each_diagnosis_exclusion(category: m.Category) -> None:
    within = m.Diagnosis(category, later(425))
    r = result(patient((INDEX, 16), (later(365), 2), diagnoses=(MDD, within)))
    assert r.denominator == 0
    assert r.numerator == 0
    assert r.exclusions[category] == 1
    after = m.Diagnosis(category, later(426))
    assert result(patient((INDEX, 16), (later(365), 2), diagnoses=(MDD, after))).denominator == 1


@pytest.mark.parametrize("kind", ["death", "hospice", "palliative_care", "long_term_care"])
def test_each_status_exclusion(kind: m.StatusKind) -> None:
    r = result(patient((INDEX, 16), status=((kind, later(200)),)))
    assert r.denominator == 0
    assert r.exclusions[kind] == 1
    assert result(patient((INDEX, 16), status=((kind, later(426)),))).denominator == 1


def test_one_reason_per_excluded_patient_in_order() -> None:
    record = patient(
        (INDEX, 16),
        diagnoses=(MDD, m.Diagnosis("psychotic_disorder", D(2020, 1, 1))),
        status=(("death", later(100)),),
    )
    r = result(record)
    assert r.exclusions["psychotic_disorder"] == 1
    assert r.exclusions["death"] == 0


# --- ICD-10-CM classification --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("F32.0", "depression"),
        ("F32.A", "depression"),
        ("F33.1", "depression"),
        ("F33.42", "depression"),
        ("F32.81", None),  # premenstrual dysphoric disorder: not in the value set
        ("F34.1", "dysthymia"),
        ("F31.81", "bipolar"),
        ("F60.3", "personality_disorder"),
        ("F60.2", None),
        ("F20.9", "psychotic_disorder"),
        ("F25.0", "psychotic_disorder"),
        ("F84.0", "pervasive_developmental_disorder"),
        ("F43.10", None),  # PTSD
        ("f331", "depression"),
    ],
)
def test_classify_icd10(code: str, category: str | None) -> None:
    assert m.classify_icd10(code) == category


@pytest.mark.parametrize("code", ["", "depression", "F3", "33.1", "F33.12345"])
def test_classify_refuses_what_is_not_a_code(code: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        m.classify_icd10(code)
    assert exc.value.field == "code"


def test_bad_scores_and_years_are_refused() -> None:
    with pytest.raises(InvalidInput):
        result(patient((INDEX, 28)))
    with pytest.raises(InvalidInput) as exc:
        m.cms159([], 1999)
    assert exc.value.field == "year"


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=600), st.integers(min_value=0, max_value=27)),
        max_size=12,
    )
)
def test_numerator_within_denominator(scores: list[tuple[int, int]]) -> None:
    record = patient((INDEX, 15), *((later(d), t) for d, t in scores))
    r = result(record)
    assert 0 <= r.numerator <= r.denominator <= 1
