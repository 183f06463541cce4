"""``trellis export deidentified``: the de-identified network dataset (``trellis-network/1``).

    trellis export deidentified --out DIR [--program SLUG] [--format json]

One Parquet file per table and ``manifest.json``; HIPAA Safe Harbor by construction (see
:mod:`trellis.network.services`). Needs ``TRELLIS_NETWORK_KEY`` (the pseudonyms' HMAC key)
outside demo mode. Each export is an audit row per program.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub
from trellis.cli.django_env import setup_django
from trellis.core.errors import InvalidInput


def register(subparsers: Any) -> None:
    p = sub(subparsers, "export", "Exports")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    d = sub(kinds, "deidentified", "The de-identified network dataset (trellis-network/1)")
    d.add_argument("--out", required=True, help="output directory")
    d.add_argument("--program", help="one program's slug (default: every program)")
    add_format_argument(d)
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    setup_django()
    from trellis.network.services import export_deidentified

    man = export_deidentified(out, args.program)
    emit(man, args.format, text=f"De-identified dataset written to {out}: {man['tables']}")
    return 0
