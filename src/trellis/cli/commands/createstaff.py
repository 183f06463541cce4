"""`trellis createstaff`: add a staff member with roles in a program."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from trellis.cli.common import add_format_argument, emit
from trellis.cli.django_env import setup_django
from trellis.core.errors import InvalidInput


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("createstaff", help="Create a staff member with roles in a program")
    p.add_argument("--username", required=True)
    p.add_argument("--program", required=True, help="program slug")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        help="admin, prescriber, nurse, therapist, coordinator, peer_facilitator or analyst "
        "(repeat for several)",
    )
    p.add_argument("--email", default="")
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    p.add_argument(
        "--password-env",
        default="",
        help="read the password from this environment variable (else prompt)",
    )
    p.add_argument("--program-name", default="", help="create the program with this name if new")
    p.add_argument(
        "--reset-password",
        action="store_true",
        help="the user exists: set this new password (and add the roles); without it an "
        "existing username is refused",
    )
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise InvalidInput(
                "--password-env", f"environment variable {args.password_env} is empty"
            )
    else:
        password = getpass.getpass("Password: ")
    setup_django()
    from django.db import transaction

    from trellis.accounts.models import Program
    from trellis.accounts.services import create_staff

    # One transaction: a refused password leaves no new program behind.
    with transaction.atomic():
        program = Program.objects.filter(slug=args.program).first()
        if program is None:
            if not args.program_name:
                raise InvalidInput(
                    "--program", f"no program {args.program!r} (give --program-name to create it)"
                )
            program = Program.objects.create(slug=args.program, name=args.program_name)
        user = create_staff(
            username=args.username,
            password=password,
            program=program,
            roles=args.role,
            email=args.email,
            first_name=args.first_name,
            last_name=args.last_name,
            if_exists="reset_password" if args.reset_password else "fail",
        )
    emit(
        {"username": user.username, "program": program.slug, "roles": sorted(args.role)},
        args.format,
        text=f"{user.username}: {', '.join(sorted(args.role))} in {program.name}",
    )
    return 0
