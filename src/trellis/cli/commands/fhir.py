"""`trellis fhir client add|list` and `trellis fhir import`: the FHIR API's backend clients
(SMART Backend Services) and importing a FHIR Bundle of patients and their scores."""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.common import add_format_argument, emit, read_json_file
from trellis.cli.django_env import setup_django
from trellis.core.errors import InvalidInput


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("fhir", help="FHIR API clients and Bundle import")
    sub = p.add_subparsers(dest="fhir_command", metavar="SUBCOMMAND")
    client = sub.add_parser("client", help="backend clients of the FHIR API")
    client_sub = client.add_subparsers(dest="client_command", metavar="ACTION")
    add = client_sub.add_parser("add", help="register a client; prints its client_id")
    add.add_argument("--program", required=True, help="program slug")
    add.add_argument("--name", required=True, help="the client's name (e.g. the EHR)")
    add.add_argument("--jwks", required=True, help="public keys: a JWKS file, or an https URL")
    add.add_argument(
        "--scopes",
        required=True,
        help='e.g. "system/*.read system/QuestionnaireResponse.write"',
    )
    add_format_argument(add)
    add.set_defaults(func=run_add)
    lst = client_sub.add_parser("list", help="the program's clients")
    lst.add_argument("--program", required=True, help="program slug")
    add_format_argument(lst)
    lst.set_defaults(func=run_list)
    imp = sub.add_parser("import", help="import a FHIR Bundle of patients with their scores")
    imp.add_argument("bundle", metavar="BUNDLE.json")
    imp.add_argument("--program", required=True, help="program slug")
    add_format_argument(imp)
    imp.set_defaults(func=run_import)


def _program(slug: str) -> Any:
    from trellis.accounts.models import Program

    program = Program.objects.filter(slug=slug).first()
    if program is None:
        raise InvalidInput("--program", f"no program {slug!r}")
    return program


def run_add(args: argparse.Namespace) -> int:
    jwks: Any = None
    jwks_url = ""
    if args.jwks.startswith(("https://", "http://")):
        jwks_url = args.jwks
    else:
        jwks = read_json_file(args.jwks, "--jwks")
    setup_django()
    from trellis.fhir.services import register_client

    program = _program(args.program)
    client = register_client(
        None,
        program,
        name=args.name,
        scopes=args.scopes,
        jwks=jwks,
        jwks_url=jwks_url,
        system=True,
    )
    emit(
        {
            "client_id": client.client_id,
            "program": program.slug,
            "name": client.name,
            "scopes": client.scopes.split(),
        },
        args.format,
        text=client.client_id,
    )
    return 0


def run_list(args: argparse.Namespace) -> int:
    setup_django()
    from trellis.fhir.services import program_clients

    program = _program(args.program)
    rows: list[dict[str, Any]] = [
        {"client_id": c.client_id, "name": c.name, "scopes": c.scopes.split(), "active": c.active}
        for c in program_clients(program)
    ]
    emit(
        rows,
        args.format,
        text="\n".join(f"{r['client_id']}  {r['name']}  {' '.join(r['scopes'])}" for r in rows)
        or "no clients",
    )
    return 0


def run_import(args: argparse.Namespace) -> int:
    data = read_json_file(args.bundle, "BUNDLE.json")
    setup_django()
    from trellis.fhir.importer import import_bundle

    program = _program(args.program)
    report = import_bundle(program, data)
    text_lines = [
        f"imported {report['patients']} patients ({report['existing_patients']} already "
        f"registered), {report['observations']} scores into {report['program']}"
    ]
    # Synthea bundles hold hundreds of claims and encounters: the text report counts the skips
    # by type and reason (--format json lists each one).
    counts: dict[tuple[str, str], int] = {}
    for s in report["skipped"]:
        key = (s["resource"].split("/")[0], s["reason"])
        counts[key] = counts.get(key, 0) + 1
    text_lines += [f"skipped {n} {rtype}: {reason}" for (rtype, reason), n in counts.items()]
    text_lines += report["notes"]
    emit(report, args.format, text="\n".join(text_lines))
    return 0
