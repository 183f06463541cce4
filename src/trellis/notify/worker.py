"""The background worker: periodic jobs every tick, then every queued task (django-tasks)."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from django.db import close_old_connections

from trellis.notify.jobs import run_periodic_jobs

log = logging.getLogger(__name__)


def drain_tasks() -> None:
    """Run every ready task of the database backend, then return."""
    from django.conf import settings

    backend = settings.TASKS["default"]["BACKEND"]
    if not backend.startswith("django_tasks_db"):
        return  # the immediate backend (tests) has already run them
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"trellis-{uuid.uuid4().hex[:8]}",
        excluded_queue_names=[],
    ).run()


def tick() -> dict[str, str]:
    close_old_connections()
    results = run_periodic_jobs()
    drain_tasks()
    close_old_connections()
    return results


def run_forever(interval: float = 60.0, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            tick()
        except Exception:  # keep the worker alive; the next tick retries
            log.exception("worker tick failed")
        stop.wait(max(1.0, interval - (time.monotonic() - started)))


def start_in_thread(interval: float = 30.0) -> threading.Event:
    """For the demo server: run the worker beside the web server in one process."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(interval, stop), name="trellis-worker", daemon=True
    )
    thread.start()
    return stop
