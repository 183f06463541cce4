"""Periodic jobs run by ``trellis worker`` (and by ``trellis serve --demo`` in a thread).

An app registers a job with :func:`periodic_job`; each job is called with ``now`` once per tick
(every minute by default), must be idempotent (a job may run twice for the same minute after a
restart) and must not raise for one bad row (log it and carry on with the others).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

log = logging.getLogger(__name__)

Job = Callable[[datetime], object]
PERIODIC_JOBS: list[tuple[str, Job]] = []


def periodic_job(name: str) -> Callable[[Job], Job]:
    def register(fn: Job) -> Job:
        if all(existing != name for existing, _ in PERIODIC_JOBS):
            PERIODIC_JOBS.append((name, fn))
        return fn

    return register


def run_periodic_jobs(now: datetime | None = None) -> dict[str, str]:
    """Run every registered job once; one failing job does not stop the others."""
    now = now or timezone.now()
    results: dict[str, str] = {}
    for name, job in PERIODIC_JOBS:
        try:
            job(now)
            results[name] = "ok"
        except Exception as exc:  # a job's own bug must not stop alert escalation
            log.exception("periodic job %s failed", name)
            results[name] = f"error: {exc}"
    return results
