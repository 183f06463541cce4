"""``trellis report network``: the network report (CLINICAL.md §9) from a ``trellis-network/1``
dataset.

    trellis report network --data DIR --out DIR [--engine duckdb|spark] [--format json]

Writes report.html (inline SVG charts), report.pdf, report.json and a CSV per table; with
``--format json`` prints the report to stdout. A progress bar runs on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub
from trellis.core.errors import InvalidInput


def register(subparsers: Any) -> None:
    p = sub(subparsers, "report", "Reports")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    n = sub(kinds, "network", "The network report from a de-identified dataset")
    n.add_argument("--data", required=True, help="dataset directory (manifest.json + Parquet)")
    n.add_argument("--out", required=True, help="output directory")
    n.add_argument(
        "--engine", default="duckdb", help="duckdb (default) or spark (needs trellis[spark])"
    )
    add_format_argument(n)
    n.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trellis.analytics.engine import ENGINES
    from trellis.analytics.schema import read_manifest

    if args.engine not in ENGINES:
        raise InvalidInput("--engine", f"must be one of {', '.join(ENGINES)}, got {args.engine!r}")
    data = Path(args.data)
    if not data.is_dir():
        raise InvalidInput("--data", f"no such directory: {data}")
    man = read_manifest(data)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    from tqdm import tqdm

    from trellis.analytics.render import write_outputs
    from trellis.analytics.run import run_report

    with tqdm(total=5, unit="step", file=sys.stderr, leave=False, desc="network report") as bar:
        report = run_report(data, args.engine, bool(man.get("synthetic")), progress=bar.update)
        write_outputs(report, out)
        bar.update()
    text = (
        f"Network report written to {out} ({report['episodes']} episodes; "
        f"report.html, report.pdf, CSVs)"
    )
    emit(report, args.format, text=text)
    return 0
