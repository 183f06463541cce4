"""`trellis manage …`: pass everything through to Django's management commands."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "manage", help="Run a Django management command (everything after it is passed through)"
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args: run_manage(args.rest))


def run_manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["trellis manage", *argv])
    return 0
