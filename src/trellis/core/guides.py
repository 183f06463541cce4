"""Preparation guides: what ketamine is and is not, per drug and track, in plain language.

A guide is **data** (ARCHITECTURE.md, rule 2): one YAML file per drug and language under
``trellis/core/data/guides/`` (``ketamine.en.yaml``, ``esketamine.es.yaml`` …), adaptable by a
program like its protocols. Each file names its sources and the date the medical director last
reviewed it; every section cites the sources it rests on (CLINICAL.md §3–§7, the Spravato label
and REMS, Murrough 2013, Salloum 2020, Wilkinson 2017 …).

A section may be limited to some routes (``iv``/``im``/``intranasal``), to some tracks (ids of
packaged protocols) or to one adaptation (``medical-distrust``, ``family-involved``,
``language-concordant``: the names are :data:`trellis.core.protocols.ADAPTATIONS`, the one list).
Sections for ``audience: family`` make the separate page for family.

The teach-back (3–5 plain questions per guide) is not a grade: :func:`check_teach_back` returns
the questions the patient misunderstood with what to explain, for the therapist's preparation.

Plain language is measured (:func:`readability`): English at or below US grade 8
(Flesch–Kincaid grade level), Spanish "fairly easy" or easier (Fernández Huerta ≥ 70), both with
``textstat``. A program's adapted copy must meet the same bar.

File reading happens only in the loader functions (:func:`load_guide`, :func:`list_guides`);
:func:`parse_guide` and the rules take text or :class:`Guide` objects.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from trellis.core.errors import FileInvalid, FileProblem, InvalidInput
from trellis.core.protocols import ADAPTATIONS, list_protocols

DATA_PACKAGE = "trellis.core"
DATA_DIR = ("data", "guides")
SCHEMA_FILE = "guide.schema.json"

LANGUAGES = ("en", "es")
#: Plain-language bars (issue 17): English at or below US grade 8 (Flesch–Kincaid grade,
#: Kincaid et al. 1975); Spanish "fairly easy" or easier (Fernández Huerta 1959 index ≥ 70,
#: the Spanish adaptation of Flesch reading ease: 70–80 "bastante fácil").
MAX_ENGLISH_GRADE = 8.0
MIN_SPANISH_EASE = 70.0
TEACH_BACK_MIN, TEACH_BACK_MAX = 3, 5
#: Which routes each drug is given by (the same pairs as trellis.core.protocols).
DRUG_ROUTES: Mapping[str, tuple[str, ...]] = {
    "ketamine": ("iv", "im"),
    "esketamine": ("intranasal",),
}

Audience = Literal["patient", "family"]


@dataclass(frozen=True)
class Section:
    """One part of a guide. Empty ``routes``/``tracks`` mean every route/track of the drug."""

    id: str
    title: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...]
    sources: tuple[str, ...]
    routes: tuple[str, ...] = ()
    tracks: tuple[str, ...] = ()
    adaptation: str | None = None
    audience: Audience = "patient"

    def text(self) -> str:
        """The section's words as one text, for readability (a bullet counts as a sentence)."""
        parts = [self.title if self.title.endswith((".", "?", "!")) else self.title + "."]
        parts += list(self.paragraphs)
        parts += [b if b.endswith((".", "?", "!")) else b + "." for b in self.bullets]
        return " ".join(parts)


@dataclass(frozen=True)
class Option:
    id: str
    text: str


@dataclass(frozen=True)
class Question:
    """A teach-back question: the patient picks one option; ``explain`` is what the therapist
    (and, after answering, the patient) reads when the choice shows a misunderstanding."""

    id: str
    question: str
    options: tuple[Option, ...]
    answer: str
    explain: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Guide:
    id: str
    language: str
    version: str
    drug: str
    title: str
    intro: str
    reviewed_by: str
    reviewed_on: dt.date
    sources: Mapping[str, str]
    sections: tuple[Section, ...]
    teach_back: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        for q in self.teach_back:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "version": self.version,
            "drug": self.drug,
            "title": self.title,
            "reviewed_on": self.reviewed_on.isoformat(),
            "sections": len(self.sections),
            "teach_back": len(self.teach_back),
        }


#: One problem in one guide file (file, field, problem).
GuideError = FileProblem


class GuideInvalid(FileInvalid):
    """A guide failed validation; ``errors`` lists every problem (the first one is the message)."""


# --- parsing and validation -----------------------------------------------------------------------


@cache
def _schema() -> dict[str, Any]:
    text = resources.files(DATA_PACKAGE).joinpath(*DATA_DIR, SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _track_ids() -> frozenset[str]:
    return frozenset(p.id for p in list_protocols())


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top)"


def parse_guide(text: str, file: str = "guide.yaml") -> Guide:
    """Parse and validate one guide's YAML text; :class:`GuideInvalid` names file, field, problem.

    Structure comes from ``guide.schema.json``; the meaning is checked here: section and question
    ids unique, every cited source defined, adaptations from the one list
    (:data:`trellis.core.protocols.ADAPTATIONS`), tracks from the packaged protocols, routes of
    the guide's drug, each question's answer among its options.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GuideInvalid([GuideError(file, "(yaml)", f"not valid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise GuideInvalid([GuideError(file, "(top)", "must be a mapping")])
    validator = jsonschema.Draft202012Validator(_schema())
    schema_errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if schema_errors:
        raise GuideInvalid([GuideError(file, _path(e), e.message) for e in schema_errors])
    errors: list[GuideError] = []

    def err(field: str, problem: str) -> None:
        errors.append(GuideError(file, field, problem))

    sources: dict[str, str] = data["sources"]
    drug: str = data["drug"]
    reviewed = data["reviewed"]
    reviewed_on = reviewed["date"]
    if isinstance(reviewed_on, str):
        try:
            reviewed_on = dt.date.fromisoformat(reviewed_on)
        except ValueError:
            err("reviewed.date", f"{reviewed_on!r} is not a date (YYYY-MM-DD)")
            reviewed_on = dt.date.min
    if not isinstance(reviewed_on, dt.date):
        err("reviewed.date", "must be a date (YYYY-MM-DD)")
        reviewed_on = dt.date.min
    sections: list[Section] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["sections"]):
        where = f"sections[{i}]"
        if raw["id"] in seen:
            err(f"{where}.id", f"{raw['id']!r} is used twice")
        seen.add(raw["id"])
        for src in raw["sources"]:
            if src not in sources:
                err(f"{where}.sources", f"{src!r} is not one of the guide's sources")
        for route in raw.get("routes", []):
            if route not in DRUG_ROUTES[drug]:
                allowed = ", ".join(DRUG_ROUTES[drug])
                err(f"{where}.routes", f"{route!r} is not a route of {drug} ({allowed})")
        for track in raw.get("tracks", []):
            if track not in _track_ids():
                err(f"{where}.tracks", f"{track!r} is not a packaged track")
        adaptation = raw.get("adaptation")
        if adaptation is not None and adaptation not in ADAPTATIONS:
            err(f"{where}.adaptation", f"{adaptation!r} is not one of: {', '.join(ADAPTATIONS)}")
        if not raw.get("paragraphs") and not raw.get("bullets"):
            err(where, "needs paragraphs or bullets")
        sections.append(
            Section(
                id=raw["id"],
                title=raw["title"],
                paragraphs=tuple(raw.get("paragraphs", [])),
                bullets=tuple(raw.get("bullets", [])),
                sources=tuple(raw["sources"]),
                routes=tuple(raw.get("routes", [])),
                tracks=tuple(raw.get("tracks", [])),
                adaptation=adaptation,
                audience=raw.get("audience", "patient"),
            )
        )
    questions: list[Question] = []
    qseen: set[str] = set()
    for i, raw in enumerate(data["teach_back"]):
        where = f"teach_back[{i}]"
        if raw["id"] in qseen:
            err(f"{where}.id", f"{raw['id']!r} is used twice")
        qseen.add(raw["id"])
        option_ids = [str(o["id"]) for o in raw["options"]]
        if len(set(option_ids)) != len(option_ids):
            err(f"{where}.options", "option ids must be unique")
        if str(raw["answer"]) not in option_ids:
            err(f"{where}.answer", f"{raw['answer']!r} is not one of the options")
        for src in raw["sources"]:
            if src not in sources:
                err(f"{where}.sources", f"{src!r} is not one of the guide's sources")
        questions.append(
            Question(
                id=raw["id"],
                question=raw["question"],
                options=tuple(Option(str(o["id"]), o["text"]) for o in raw["options"]),
                answer=str(raw["answer"]),
                explain=raw["explain"],
                sources=tuple(raw["sources"]),
            )
        )
    if not any(s.audience == "patient" and s.adaptation is None for s in sections):
        err("sections", "needs at least one section for every patient")
    if errors:
        raise GuideInvalid(errors)
    return Guide(
        id=data["id"],
        language=data["language"],
        version=str(data["version"]),
        drug=drug,
        title=data["title"],
        intro=data["intro"],
        reviewed_by=reviewed["by"],
        reviewed_on=reviewed_on,
        sources=dict(sources),
        sections=tuple(sections),
        teach_back=tuple(questions),
    )


def pair_errors(first: Guide, second: Guide, file: str = "guide.yaml") -> list[GuideError]:
    """Problems between two languages of one guide: the same drug, the same sections (ids,
    routes, tracks, adaptations, audience) and the same questions with the same answers, so a
    patient reads the same guide whichever language they choose."""
    errors: list[GuideError] = []
    if first.drug != second.drug:
        errors.append(GuideError(file, "drug", f"{second.drug!r} differs from {first.drug!r}"))

    def shape(s: Section) -> tuple[Any, ...]:
        return (s.id, s.routes, s.tracks, s.adaptation, s.audience)

    if [shape(s) for s in first.sections] != [shape(s) for s in second.sections]:
        errors.append(
            GuideError(file, "sections", f"differ from the {first.language} version's sections")
        )
    ours = [(q.id, q.answer, tuple(o.id for o in q.options)) for q in first.teach_back]
    theirs = [(q.id, q.answer, tuple(o.id for o in q.options)) for q in second.teach_back]
    if ours != theirs:
        errors.append(
            GuideError(file, "teach_back", f"differs from the {first.language} version's questions")
        )
    return errors


# --- the packaged guides -----------------------------------------------------------------------


def _guide_files() -> list[Any]:
    folder = resources.files(DATA_PACKAGE).joinpath(*DATA_DIR)
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: str(f.name)
    )


@cache
def _packaged() -> dict[tuple[str, str], Guide]:
    guides: dict[tuple[str, str], Guide] = {}
    for f in _guide_files():
        guide = parse_guide(f.read_text("utf-8"), f.name)
        expected = f"{guide.id}.{guide.language}.yaml"
        if f.name != expected:
            raise GuideInvalid([GuideError(f.name, "id", f"the file should be named {expected}")])
        guides[(guide.id, guide.language)] = guide
    for (gid, lang), guide in guides.items():
        other = guides.get((gid, "en"))
        if other is None:
            raise GuideInvalid([GuideError(f"{gid}.{lang}.yaml", "language", "no English twin")])
        problems = pair_errors(other, guide, f"{gid}.{lang}.yaml")
        if problems:
            raise GuideInvalid(problems)
    return guides


def list_guides() -> list[Guide]:
    """Every packaged guide in every language (validated; raises on a broken package)."""
    return list(_packaged().values())


def load_guide(guide_id: str, language: str, *, field: str = "guide") -> Guide:
    try:
        return _packaged()[(guide_id, language)]
    except KeyError:
        known = sorted({g for g, _ in _packaged()})
        raise InvalidInput(
            field, f"no guide {guide_id!r} in {language!r} (known: {', '.join(known)})"
        ) from None


def packaged_guide_text(guide_id: str, language: str) -> str:
    """The YAML text of a packaged guide (the starting point of a program's adapted copy)."""
    load_guide(guide_id, language)
    name = f"{guide_id}.{language}.yaml"
    return resources.files(DATA_PACKAGE).joinpath(*DATA_DIR, name).read_text("utf-8")


def load_guide_file(path: str | Path) -> Guide:
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise InvalidInput("file", f"cannot read {p}: {exc.strerror}") from exc
    return parse_guide(text, p.name)


def guide_id_for_drug(drug: str) -> str:
    """The packaged guide of a drug (one guide per drug; sections narrow it to the track)."""
    for guide in list_guides():
        if guide.drug == drug and guide.language == "en":
            return guide.id
    raise InvalidInput("drug", f"no guide for {drug!r}")


# --- what one patient reads -----------------------------------------------------------------------


def sections_for(
    guide: Guide,
    *,
    route: str,
    track: str,
    adaptations: Sequence[str] = (),
    audience: Audience = "patient",
) -> list[Section]:
    """The sections of ``guide`` for one course: those of its route and track, plus those of the
    course's adaptations, for one audience (the patient's page or the family page)."""
    chosen = []
    for s in guide.sections:
        if s.audience != audience:
            continue
        if s.routes and route not in s.routes:
            continue
        if s.tracks and track not in s.tracks:
            continue
        if s.adaptation is not None and s.adaptation not in adaptations:
            continue
        chosen.append(s)
    return chosen


@dataclass(frozen=True)
class TeachBackResult:
    """Answers to a guide's teach-back: which questions show a misunderstanding (not a grade)."""

    answers: Mapping[str, str]
    misunderstood: tuple[str, ...]

    @property
    def all_understood(self) -> bool:
        return not self.misunderstood


def check_teach_back(guide: Guide, answers: Mapping[str, str]) -> TeachBackResult:
    """Check a patient's teach-back answers against ``guide``: every question answered with one
    of its options (else :class:`InvalidInput` naming the question), and the questions whose
    answer shows a misunderstanding. Teach-back (Schillinger 2003, Arch Intern Med 163:83) is a
    check of the explanation, not of the patient: a miss becomes a note for the therapist."""
    extra = sorted(set(answers) - {q.id for q in guide.teach_back})
    if extra:
        raise InvalidInput(extra[0], "is not a question of this guide")
    misunderstood = []
    for q in guide.teach_back:
        chosen = answers.get(q.id)
        if chosen is None or chosen == "":
            raise InvalidInput(q.id, "please choose an answer")
        if chosen not in {o.id for o in q.options}:
            raise InvalidInput(q.id, f"{chosen!r} is not one of the choices")
        if chosen != q.answer:
            misunderstood.append(q.id)
    return TeachBackResult(dict(answers), tuple(misunderstood))


# --- readability ----------------------------------------------------------------------------------

_TEXTSTAT_LOCK = threading.Lock()


@dataclass(frozen=True)
class Readability:
    """A text's readability in its language, and whether it meets the plain-language bar."""

    language: str
    measure: Literal["flesch_kincaid_grade", "fernandez_huerta"]
    score: float
    passes: bool

    def describe(self) -> str:
        if self.measure == "flesch_kincaid_grade":
            return f"US grade {self.score:.1f} (Flesch–Kincaid; at most {MAX_ENGLISH_GRADE:g})"
        return f"ease {self.score:.1f} (Fernández Huerta; at least {MIN_SPANISH_EASE:g})"


def readability(text: str, language: str) -> Readability:
    """English: Flesch–Kincaid grade ≤ 8; Spanish: Fernández Huerta ≥ 70 (issue 17's bar).

    textstat keeps its language in module state, so calls are serialised here."""
    import textstat  # heavy import (dictionaries), only when measuring

    if not text.strip():
        raise InvalidInput("text", "is empty")
    with _TEXTSTAT_LOCK:
        if language == "en":
            textstat.set_lang("en_US")
            score = float(textstat.flesch_kincaid_grade(text))
            return Readability(language, "flesch_kincaid_grade", score, score <= MAX_ENGLISH_GRADE)
        if language == "es":
            textstat.set_lang("es")
            try:
                score = float(textstat.fernandez_huerta(text))
            finally:
                textstat.set_lang("en_US")
            return Readability(language, "fernandez_huerta", score, score >= MIN_SPANISH_EASE)
    raise InvalidInput("language", f"{language!r} is not one of: {', '.join(LANGUAGES)}")


def guide_text(guide: Guide) -> str:
    """All the words a reader of ``guide`` meets: intro, sections and teach-back."""
    parts = [guide.intro]
    parts += [s.text() for s in guide.sections]
    for q in guide.teach_back:
        parts.append(q.question)
        parts += [o.text if o.text.endswith((".", "?", "!")) else o.text + "." for o in q.options]
        parts.append(q.explain)
    return " ".join(parts)


def guide_readability(guide: Guide) -> Readability:
    return readability(guide_text(guide), guide.language)


def readability_errors(guide: Guide, file: str = "guide.yaml") -> list[GuideError]:
    """The plain-language bar as validation: the whole guide must pass in its language."""
    result = guide_readability(guide)
    if result.passes:
        return []
    return [GuideError(file, "(readability)", f"too hard to read: {result.describe()}")]
