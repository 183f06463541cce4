"""Preparation 2 is refused before preparation 1 (issue 13 §4); nothing is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.care.test_episodes import no_answers, open_episode
from tests.support import Cast

from trellis.care import services
from trellis.care.models import CareActivity, EpisodeEvent
from trellis.core.errors import InvalidInput


@pytest.mark.django_db
def test_preparation_two_waits_for_preparation_one(cast: Cast) -> None:
    episode = open_episode(cast)
    now = timezone.now()
    services.record_screening(
        cast.coordinator_a, episode, no_answers("iv-trd"), at=now - timedelta(days=5)
    )
    events = EpisodeEvent.objects.filter(episode=episode).count()
    with pytest.raises(InvalidInput, match="preparation 1 must be recorded before preparation 2"):
        services.record_event(cast.therapist_a, episode, "preparation_done", at=now, index=2)
    assert EpisodeEvent.objects.filter(episode=episode).count() == events
    assert not CareActivity.objects.filter(
        episode=episode, name="preparation", status=CareActivity.Status.DONE
    ).exists()
    services.record_event(
        cast.therapist_a, episode, "preparation_done", at=now - timedelta(days=1), index=1
    )
    with pytest.raises(InvalidInput, match="cannot be dated before preparation 1"):
        services.record_event(
            cast.therapist_a, episode, "preparation_done", at=now - timedelta(days=2), index=2
        )
    services.record_event(cast.therapist_a, episode, "preparation_done", at=now, index=2)
    done = CareActivity.objects.filter(
        episode=episode, name="preparation", status=CareActivity.Status.DONE
    )
    assert sorted(done.values_list("index", flat=True)) == [1, 2]
