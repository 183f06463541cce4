"""The ``trellis`` console script.

Each module in :mod:`trellis.cli.commands` defines ``register(subparsers)``, which adds one
sub-command and sets ``func`` on it; they are discovered at start-up, so a new command is a new
file. Data commands take ``--format json``; bad input exits 2 with one line on stderr naming the
field (see :mod:`trellis.cli.common`).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from trellis import __version__
from trellis.cli import commands
from trellis.cli.common import EXIT_BAD_INPUT, OneLineArgumentParser, fail
from trellis.core.errors import InvalidInput


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(
        prog="trellis",
        description="Trellis: integration-centred care for ketamine and esketamine programs.",
    )
    parser.add_argument("--version", action="version", version=f"trellis {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `trellis manage …` passes everything after it to Django untouched (argparse would eat flags).
    if args_list[:1] == ["manage"]:
        from trellis.cli.commands.manage import run_manage

        return run_manage(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        result = args.func(args)
    except InvalidInput as exc:
        return fail(exc.message)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
