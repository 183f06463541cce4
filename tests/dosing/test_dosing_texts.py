"""The dosing rule texts read in Spanish on staff pages (issue 13 §4); English is unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import translation

from trellis.core.safety import discharge_readiness
from trellis.core.safety.predose import PredoseRecord, TrackRequirements, predose_checklist
from trellis.dosing.labels import translate

T = datetime(2026, 3, 2, 9, 0)


def _all_texts() -> list[str]:
    empty = predose_checklist(
        TrackRequirements("ketamine", "iv", asks_pregnancy=True), PredoseRecord()
    )
    late = predose_checklist(
        TrackRequirements("esketamine", "intranasal"),
        PredoseRecord(planned_start=T, last_food=T - timedelta(minutes=30), phq9_item9=2),
    )
    from tests.core.test_safety_discharge import ready_esketamine

    unmet = discharge_readiness(
        ready_esketamine(
            now=T + timedelta(minutes=44),
            moaas=3,
            last_bp=(185, 100),
            spo2=90,
            sedation_resolved=False,
            dissociation_resolved=False,
            open_adverse_events=1,
            ride_confirmed=False,
        )
    )
    return [m.detail for m in [*empty, *late]] + list(unmet.details)


def test_every_rule_text_reads_in_spanish_and_stays_english_in_english() -> None:
    texts = _all_texts()
    assert len(texts) > 20
    with translation.override("es"):
        untranslated = [t for t in texts if translate(t) == t]
    assert untranslated == []
    with translation.override("en"):
        assert [translate(t) for t in texts] == texts


def test_a_hold_lists_its_reasons_in_spanish() -> None:
    with translation.override("es"):
        shown = translate(
            "hold (systolic 150 > 140; heart rate 40 < 50): needs a prescriber "
            "override with a reason"
        )
    assert shown == (
        "retención (sistólica 150 > 140; frecuencia cardiaca 40 < 50): necesita una anulación "
        "del prescriptor con su motivo"
    )
