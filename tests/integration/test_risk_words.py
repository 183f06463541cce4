"""A patient's free text the care team reads goes through the one risk-words path
(alerts.alert_on_risk_words): shared journal entries, when shared; never a private entry."""

from __future__ import annotations

import pytest
from tests.support import Cast

from trellis.alerts.models import Alert
from trellis.checkin.services import issue_link
from trellis.integration import services


@pytest.mark.django_db
def test_private_entry_is_never_scanned_and_sharing_it_raises_the_alert(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    entry = services.add_journal_entry(link, "Algunos días quiero morirme.", language="es")
    assert not Alert.objects.exists()
    services.share_journal_entry(link, entry.pk)
    alert = Alert.objects.get(patient=cast.patient_a)
    assert alert.kind == "suicide_risk"
    assert alert.severity == "urgent"
    assert alert.source_id == str(entry.pk)


@pytest.mark.django_db
def test_entry_shared_at_once_is_scanned_and_ordinary_words_raise_nothing(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    services.add_journal_entry(link, "Walked by the river today.", share=True)
    assert not Alert.objects.exists()
    services.add_journal_entry(link, "I keep thinking I want to die.", share=True)
    assert Alert.objects.filter(kind="suicide_risk", patient=cast.patient_a).count() == 1
