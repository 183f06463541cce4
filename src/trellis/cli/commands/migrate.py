"""`trellis migrate`: apply the database migrations (SQLite file by default)."""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.django_env import setup_django


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("migrate", help="Apply database migrations")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0
