"""Alert texts in Spanish on staff pages (issue 13 §4): stored English, shown translated."""

from __future__ import annotations

import pytest
from django.utils import translation

from trellis.alerts.labels import translate

EXAMPLES = {
    "Integration gap: no integration session within the window after dose 3 (iv-trd)": (
        "Brecha de integración: ninguna sesión de integración dentro del plazo tras la dosis 3 "
        "(iv-trd)"
    ),
    "Suicide risk: PHQ-9 item 9 = 2": "Riesgo de suicidio: PHQ-9 ítem 9 = 2",
    "Suicide risk: C-SSRS screener high": "Riesgo de suicidio: cribado C-SSRS, riesgo alto",
    "Relapse warning on PHQ-9 (2026-03-01)": "Aviso de recaída en PHQ-9 (2026-03-01)",
    "systolic 185 ≥ 180 (Chair 2)": "sistólica 185 ≥ 180 (Chair 2)",
    "heart rate 121 > 110 (no chair)": "frecuencia cardiaca 121 > 110 (sin sillón)",
    "A SMS message could not be delivered": "No se pudo entregar un mensaje (SMS)",
}


@pytest.mark.parametrize(("stored", "spanish"), EXAMPLES.items())
def test_stored_alert_texts_read_in_spanish(stored: str, spanish: str) -> None:
    with translation.override("es"):
        assert translate(stored) == spanish
    with translation.override("en"):
        assert translate(stored) == stored.replace("A SMS message", "A message (SMS)").replace(
            "screener high", "screener, high risk"
        )


def test_the_vital_sign_texts_of_the_monitoring_rule_are_recognised() -> None:
    from trellis.core.safety.monitoring import Observation, monitoring_alerts

    obs = Observation(systolic=190, diastolic=115, heart_rate=130, spo2=85, moaas=2)
    messages = [a.message for a in monitoring_alerts(obs)]
    assert len(messages) == 5
    with translation.override("es"):
        shown = [translate(f"{m} (Chair 1)") for m in messages]
    assert shown[:3] == [
        "sistólica 190 ≥ 180 (Chair 1)",
        "diastólica 115 ≥ 110 (Chair 1)",
        "frecuencia cardiaca 130 > 110 (Chair 1)",
    ]
    assert shown[3:] == [f"{m} (Chair 1)" for m in messages[3:]]  # SpO2, MOAA/S: the same


def test_an_unknown_text_is_shown_as_stored() -> None:
    with translation.override("es"):
        assert translate("Something new") == "Something new"
