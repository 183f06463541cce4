"""``trellis report``: reports for the program and for health-centre reporting.

trellis report cms159 --program SLUG --year YYYY [--format json]
"""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub


def register(subparsers: Any) -> None:
    p = sub(subparsers, "report", "Reports")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    c = sub(kinds, "cms159", "CMS159 depression remission at twelve months for a program")
    c.add_argument("--program", required=True, metavar="SLUG", help="the program's slug")
    c.add_argument("--year", required=True, type=str, metavar="YYYY", help="measurement year")
    add_format_argument(c)
    c.set_defaults(func=run_cms159)


def run_cms159(args: argparse.Namespace) -> int:
    from trellis.cli.django_env import setup_django

    setup_django()
    from trellis.accounts.models import Program
    from trellis.core.errors import InvalidInput
    from trellis.reporting.services import cms159_for_cli

    if not (args.year.isascii() and args.year.isdigit() and len(args.year) == 4):
        raise InvalidInput("--year", f"{args.year!r} is not a year (YYYY)")
    program = Program.objects.filter(slug=args.program).first()
    if program is None:
        raise InvalidInput("--program", f"no program {args.program!r}")
    result = cms159_for_cli(program, int(args.year))
    data = result.as_dict()
    rate = "n/a" if result.rate is None else f"{result.rate:.1%}"
    text = (
        f"CMS159 {result.year} for {program.slug}: {result.numerator}/{result.denominator} "
        f"in remission ({rate}); excluded: "
        + ", ".join(f"{k} {v}" for k, v in result.exclusions.items() if v)
    )
    emit(data, args.format, text=text)
    return 0
