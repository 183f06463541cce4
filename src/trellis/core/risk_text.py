"""Suicide-risk words in what a patient writes in their own words (English and Spanish).

CLINICAL.md §2: a suicide-risk signal from a patient raises an urgent alert for same-day
clinician contact, and the patient sees the crisis text (988, 911) at once. A questionnaire item
gives that signal as a number; free text gives it as words. This module is the one place that
reads free text for it: every patient free-text path (secure messages first) calls
:func:`risk_phrases` and raises the same urgent ``suicide_risk`` alert when it returns anything.

The choices made (a screen, not a diagnosis):
- Recall over precision. A clinician reads a false alarm in a minute; a missed message can cost a
  life. So phrases match anywhere in the text, after lower-casing, removing accents and collapsing
  spaces and punctuation ("Quiero  MORIRME!!" matches "quiero morirme").
- Negation is not parsed ("I would never kill myself" still matches): negation detection in short
  crisis texts is unreliable, and the clinician reading it decides.
- The phrase list follows the direct and indirect expressions of suicidal ideation the C-SSRS
  screener asks about (wish to be dead, thoughts of killing oneself, method, intent, plan,
  preparatory behaviour; Posner et al. 2011, Am J Psychiatry 168:1266) in plain patient language,
  in English and in Spanish (both languages are always checked: patients mix them).
"""

from __future__ import annotations

import re
import unicodedata

#: Phrases in their normalised form (lower case, no accents, single spaces, letters and digits).
RISK_PHRASES: tuple[str, ...] = (
    # English: wish to be dead, thoughts, intent, plan, preparation.
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "take my own life",
    "taking my own life",
    "want to die",
    "wanna die",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "better off without me",
    "no reason to live",
    "nothing to live for",
    "dont want to live",
    "don t want to live",
    "do not want to live",
    "dont want to be alive",
    "don t want to be alive",
    "do not want to be alive",
    "suicide",
    "suicidal",
    "end it all",
    "hurt myself",
    "harm myself",
    "overdose on",
    "goodbye letter",
    "say goodbye to everyone",
    # Spanish (usted and tú forms alike; accents removed).
    "matarme",
    "me voy a matar",
    "quitarme la vida",
    "me quiero morir",
    "quiero morir",
    "quiero morirme",
    "deseo morir",
    "desearia estar muerto",
    "desearia estar muerta",
    "ojala estuviera muerto",
    "ojala estuviera muerta",
    "mejor muerto",
    "mejor muerta",
    "estarian mejor sin mi",
    "no quiero vivir",
    "no quiero seguir viviendo",
    "no tengo razon para vivir",
    "no vale la pena vivir",
    "suicidio",
    "suicidarme",
    "suicida",
    "acabar con mi vida",
    "terminar con mi vida",
    "acabar con todo",
    "hacerme dano",
    "lastimarme",
    "sobredosis",
    "carta de despedida",
)

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents removed, every run of non-letters one space, padded with spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return f" {_NON_WORD.sub(' ', plain).strip()} "


def risk_phrases(text: str) -> list[str]:
    """The risk phrases found in ``text`` (whole words only), in list order; empty: none."""
    padded = normalise(text)
    return [phrase for phrase in RISK_PHRASES if f" {phrase} " in padded]
