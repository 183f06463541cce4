"""Shared plumbing for CLI commands: one-line errors, JSON output, file input.

Contract (ARCHITECTURE.md, "Interfaces"): exit 0 on success; exit 2 on bad input with exactly one
line on stderr naming the offending field, and nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from trellis.core.errors import InvalidInput

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def fail(message: str) -> int:
    """Print one line to stderr and return the bad-input exit code."""
    one_line = " ".join(str(message).split())
    print(f"trellis: error: {one_line}", file=sys.stderr)
    return EXIT_BAD_INPUT


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (not the usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{self.prog}: {message}")
        sys.exit(EXIT_BAD_INPUT)


def add_format_argument(parser: argparse.ArgumentParser, default: str = "text") -> None:
    parser.add_argument(
        "--format",
        choices=["json", "text"],
        default=default,
        help="output format (default: %(default)s)",
    )


def emit(data: Any, fmt: str, text: str | None = None) -> None:
    """Print ``data`` as JSON, or ``text`` (falling back to indented JSON) for humans."""
    if fmt == "json":
        print(json.dumps(data, ensure_ascii=False, sort_keys=False))
    else:
        print(text if text is not None else json.dumps(data, ensure_ascii=False, indent=2))


def read_json_file(path: str, field: str = "--input") -> Any:
    """Read a JSON file given on the command line, or raise InvalidInput naming ``field``."""
    if path == "-":
        raw = sys.stdin.read()
    else:
        p = Path(path)
        if not p.is_file():
            raise InvalidInput(field, f"no such file: {path}")
        try:
            raw = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(field, f"cannot read {path}: {exc}") from exc
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            field, f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc


def sub(subparsers: Any, name: str, help_text: str) -> OneLineArgumentParser:
    """Add a sub-command whose own usage errors are also one line."""
    parser: OneLineArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text
    )
    return parser
