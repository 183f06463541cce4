"""`trellis serve [--host] [--port] [--demo]`: serve Trellis with waitress (a WSGI server).

With ``--demo`` it first applies migrations, seeds the synthetic demo program and prints the demo
logins, so that one command brings up a working clinic full of made-up patients.
"""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.django_env import setup_django
from trellis.core.errors import InvalidInput
from trellis.core.numbers import parse_whole


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="Serve Trellis over HTTP")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument("--port", default="8000", help="port (default: %(default)s)")
    p.add_argument(
        "--demo", action="store_true", help="migrate, seed the synthetic demo program, print logins"
    )
    p.add_argument("--threads", default="8", help="worker threads (default: %(default)s)")
    p.set_defaults(func=run)


def _port(raw: str) -> int:
    return parse_whole(raw, "--port", 1, 65535)


def run(args: argparse.Namespace) -> int:
    port = _port(args.port)
    threads = parse_whole(args.threads, "--threads", 1, 64)
    setup_django(demo=args.demo)
    from django.core.management import call_command

    if args.demo:
        call_command("migrate", interactive=False, verbosity=0)
    # Refuse to start on an invalid packaged or program protocol (issue 18): the error names
    # the file, the field and the value (exit 2, one line), instead of failing in every
    # reminder run later.
    from django.db import DatabaseError

    from trellis.care.services import check_all_protocols
    from trellis.dosing.services import check_all_thresholds

    try:
        check_all_protocols()
        # The same for stored safety thresholds (a legal floor lowered, CLINICAL.md §5).
        check_all_thresholds()
    except DatabaseError as exc:  # e.g. no tables yet: say what to do, not a traceback
        raise InvalidInput(
            "database", f"cannot be read ({exc}); run `trellis migrate` first"
        ) from None
    if args.demo:
        from trellis.web.demo import print_logins, seed_demo

        summary = seed_demo()
        print(f"Synthetic demo program ready: {summary}")
        print_logins()
        from trellis.fhir.demo import print_demo_client

        print_demo_client(f"http://{args.host}:{port}")
        from trellis.notify.worker import start_in_thread

        # Reminders, alert escalation and message delivery (console transport in the demo).
        start_in_thread(interval=30.0)
    import waitress  # type: ignore[import-untyped]

    from trellis.wsgi import application

    print(f"Trellis is serving at http://{args.host}:{port}/  (Ctrl+C to stop)", flush=True)
    waitress.serve(application, host=args.host, port=port, threads=threads, ident="trellis")
    return 0
