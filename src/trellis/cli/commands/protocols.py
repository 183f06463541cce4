"""``trellis protocols``: list, show and validate protocol tracks (trellis.core.protocols)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from trellis.cli.common import EXIT_BAD_INPUT, add_format_argument, emit, sub
from trellis.core.protocol_check import check_track
from trellis.core.protocols import (
    ProtocolInvalid,
    list_protocols,
    load_protocol,
    load_protocol_file,
)


def register(subparsers: Any) -> None:
    p = sub(subparsers, "protocols", "Protocol tracks: list, show, validate")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = sub(actions, "list", "List the packaged protocol tracks")
    add_format_argument(ls)
    ls.set_defaults(func=run_list)

    show = sub(actions, "show", "Show one packaged track in full")
    show.add_argument("protocol_id", metavar="ID", help="track id, e.g. iv-trd")
    add_format_argument(show, default="json")
    show.set_defaults(func=run_show)

    val = sub(actions, "validate", "Validate a protocol YAML file (e.g. a program's adapted copy)")
    val.add_argument("file", metavar="FILE", help="path to the YAML file")
    add_format_argument(val)
    val.set_defaults(func=run_validate)


def run_list(args: argparse.Namespace) -> int:
    rows = [p.summary() for p in list_protocols()]
    width = max(len(r["id"]) for r in rows)
    text = "\n".join(
        f"{r['id']:<{width}}  v{r['version']:<6} {r['drug']:<10} {r['route']:<10} {r['title']}"
        for r in rows
    )
    emit(rows, args.format, text=text)
    return 0


def run_show(args: argparse.Namespace) -> int:
    proto = load_protocol(args.protocol_id, field="ID")
    emit(dataclasses.asdict(proto), args.format)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    try:
        proto = load_protocol_file(args.file)
        # Then every registry the track feeds (instruments, requirements, kinds, adaptations).
        check_track(proto, Path(args.file).name)
    except ProtocolInvalid as exc:
        # One line per problem; the first names the file and the field (ARCHITECTURE.md CLI).
        for error in exc.errors:
            print(f"trellis: error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = {"file": args.file, "id": proto.id, "version": proto.version, "valid": True}
    emit(result, args.format, text=f"{args.file}: valid ({proto.id} v{proto.version})")
    return 0
