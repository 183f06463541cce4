"""`trellis demo`: seed the synthetic demo program (idempotent) and print the demo logins."""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.django_env import setup_django


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help="Seed the synthetic demo program (safe to run again) and print logins"
    )
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(demo=True)
    from django.core.management import call_command

    from trellis.web.demo import print_logins, seed_demo

    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    summary = seed_demo()
    print(f"Synthetic demo program ready: {summary}")
    print_logins()
    return 0
