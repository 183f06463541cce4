"""`trellis audit verify`: check the audit log's hash chain (issue 14, finding 4)."""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.common import add_format_argument, emit
from trellis.cli.django_env import setup_django


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("audit", help="Check the audit log")
    sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = sub.add_parser(
        "verify",
        help="Walk the hash chain: 'ok' (exit 0) or the first broken link (exit 1)",
    )
    add_format_argument(v)
    v.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    setup_django()
    from trellis.audit.services import verify_chain

    count, broken = verify_chain()
    if broken is None:
        emit({"ok": True, "rows": count}, args.format, text="ok")
        return 0
    emit(
        {"ok": False, "rows": count, "broken_at": broken.id, "reason": broken.reason},
        args.format,
        text=f"broken at audit event {broken.id}: {broken.reason}",
    )
    return 1
