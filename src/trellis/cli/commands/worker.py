"""`trellis worker [--once] [--interval S]`: periodic jobs (reminders, alert escalation, message
retries) and the queued background tasks (message delivery)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from trellis.cli.django_env import setup_django
from trellis.core.errors import InvalidInput
from trellis.core.numbers import strict_decimal


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("worker", help="Run periodic jobs and background tasks")
    p.add_argument("--once", action="store_true", help="one tick, then exit")
    p.add_argument("--interval", default="60", help="seconds between ticks (default: 60)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    parsed = strict_decimal(args.interval)  # ASCII digits only (trellis.core.numbers)
    if parsed is None:
        raise InvalidInput("--interval", f"must be a number of seconds, got {args.interval!r}")
    interval = float(parsed)
    if not 1 <= interval <= 3600:
        raise InvalidInput("--interval", "must be from 1 to 3600 seconds")
    setup_django()
    from trellis.notify import worker

    if args.once:
        print(json.dumps(worker.tick()))
        return 0
    print(f"Trellis worker: a tick every {interval:g} s (Ctrl+C to stop)", flush=True)
    worker.run_forever(interval)
    return 0
