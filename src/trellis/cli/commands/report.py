"""``trellis report``: the network report, program bundles, and health-centre reporting.

    trellis report network (--data DIR | --bundles F1 F2 …) [--trust FILE] [--out DIR]
                           [--engine duckdb|spark] [--format json]
    trellis report bundle --data DIR --out FILE --key PEM [--program KEY]
    trellis report cms159 --program SLUG --year YYYY [--format json]
    trellis report brief --program SLUG [--network DIR | --bundles F1 F2 …] [--trust FILE]
                         [--census FILE] --lang en|es --out brief.pdf [--format json]

``network`` computes the report (CLINICAL.md §9) from a ``trellis-network/1`` dataset, or from
programs' aggregate-only bundles (issue 16): the same counts, the same statistics, no records;
with ``--out`` it writes report.html (inline SVG charts), report.pdf, report.json and a CSV per
table; with ``--format json`` it prints the report. A progress bar runs on stderr.
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

    n = sub(kinds, "network", "The network report from a de-identified dataset or from bundles")
    source = n.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="dataset directory (manifest.json + Parquet)")
    source.add_argument("--bundles", nargs="+", metavar="FILE", help="programs' bundles")
    n.add_argument("--trust", metavar="FILE", help="JSON {program_key: public key} to trust")
    n.add_argument("--out", help="output directory (report.html, report.pdf, CSVs)")
    n.add_argument(
        "--engine", default="duckdb", help="duckdb (default) or spark (needs trellis[spark])"
    )
    add_format_argument(n)
    n.set_defaults(func=run)

    b = sub(kinds, "bundle", "A program's aggregate-only bundle, signed with its key")
    b.add_argument("--data", required=True, help="dataset directory (manifest.json + Parquet)")
    b.add_argument("--out", required=True, help="the bundle file to write (JSON)")
    b.add_argument("--key", required=True, metavar="PEM", help="the program's Ed25519 private key")
    b.add_argument("--program", metavar="KEY", help="program_key (needed when the data has more)")
    add_format_argument(b)
    b.set_defaults(func=run_bundle)

    c = sub(kinds, "cms159", "CMS159 depression remission at twelve months for a program")
    c.add_argument("--program", required=True, metavar="SLUG", help="the program's slug")
    c.add_argument("--year", required=True, type=str, metavar="YYYY", help="measurement year")
    add_format_argument(c)
    c.set_defaults(func=run_cms159)

    r = sub(kinds, "brief", "The advocacy brief: two pages for a community board, one of method")
    r.add_argument("--program", required=True, metavar="SLUG", help="the program's slug")
    net = r.add_mutually_exclusive_group()
    net.add_argument("--network", metavar="DIR", help="network dataset (manifest.json + Parquet)")
    net.add_argument("--bundles", nargs="+", metavar="FILE", help="programs' bundles")
    r.add_argument("--trust", metavar="FILE", help="JSON {program_key: public key} to trust")
    r.add_argument("--census", metavar="FILE", help="service-area census CSV dimension,group,share")
    r.add_argument("--lang", required=True, help="en or es")
    r.add_argument("--out", required=True, help="the PDF to write (brief.pdf)")
    add_format_argument(r)
    r.set_defaults(func=run_brief)


def _out_dir(value: str | None) -> Path | None:
    if value is None:
        return None
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    return out


def run(args: argparse.Namespace) -> int:
    from trellis.analytics.engine import ENGINES

    if args.engine not in ENGINES:
        raise InvalidInput("--engine", f"must be one of {', '.join(ENGINES)}, got {args.engine!r}")
    out = _out_dir(args.out)
    from tqdm import tqdm

    from trellis.analytics.render import write_outputs

    if args.bundles:
        from trellis.analytics.run import run_bundles_report

        for f in args.bundles:
            if not Path(f).is_file():
                raise InvalidInput("--bundles", f"no such file: {f}")
        report = run_bundles_report(
            [Path(f) for f in args.bundles], Path(args.trust) if args.trust else None
        )
    else:
        if args.trust:
            raise InvalidInput("--trust", "goes with --bundles")
        from trellis.analytics.run import run_report
        from trellis.analytics.schema import read_manifest

        data = Path(args.data)
        if not data.is_dir():
            raise InvalidInput("--data", f"no such directory: {data}")
        man = read_manifest(data)
        with tqdm(total=5, unit="step", file=sys.stderr, leave=False, desc="network report") as bar:
            report = run_report(data, args.engine, bool(man.get("synthetic")), progress=bar.update)
    if out is not None:
        write_outputs(report, out)
    where = f"written to {out} (report.html, report.pdf, CSVs)" if out else "computed"
    emit(report, args.format, text=f"Network report {where}: {report['episodes']} episodes")
    return 0


def run_bundle(args: argparse.Namespace) -> int:
    from trellis.analytics.bundle import load_private_key
    from trellis.analytics.run import write_bundle
    from trellis.analytics.schema import read_manifest

    data = Path(args.data)
    if not data.is_dir():
        raise InvalidInput("--data", f"no such directory: {data}")
    man = read_manifest(data)
    key = load_private_key(args.key)
    out = Path(args.out)
    if out.is_dir():
        raise InvalidInput("--out", f"{out} is a directory; give a file name")
    bundle = write_bundle(data, out, key, args.program, bool(man.get("synthetic")))
    summary = {
        "file": str(out),
        "schema": bundle["schema"],
        "program_key": bundle["program_key"],
        "synthetic": bundle["synthetic"],
        "tables": sorted(bundle["tables"]),
        "public_key": bundle["signature"]["public_key"],
    }
    emit(summary, args.format, text=f"Bundle for {bundle['program_key']} written to {out}")
    return 0


def run_cms159(args: argparse.Namespace) -> int:
    from trellis.cli.django_env import setup_django

    setup_django()
    from trellis.accounts.models import Program
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


def run_brief(args: argparse.Namespace) -> int:
    from trellis.analytics import brief as briefs

    if args.lang not in briefs.LANGS:
        raise InvalidInput("--lang", f"must be one of {', '.join(briefs.LANGS)}, got {args.lang!r}")
    out = Path(args.out)
    if out.is_dir() or out.suffix.lower() != ".pdf":
        raise InvalidInput("--out", f"{out} must be a PDF file name (brief.pdf)")
    if not out.parent.is_dir():
        raise InvalidInput("--out", f"no such directory: {out.parent}")
    census = None
    if args.census is not None:
        census = Path(args.census)
        if not census.is_file():
            raise InvalidInput("--census", f"no such file: {census}")
        briefs.read_census(census)  # refused here, before anything is read or written
    cost = briefs.hospitalization_cost()
    if args.trust and not args.bundles:
        raise InvalidInput("--trust", "goes with --bundles")
    for f in args.bundles or []:
        if not Path(f).is_file():
            raise InvalidInput("--bundles", f"no such file: {f}")
    dataset = None
    if args.network is not None:
        from trellis.analytics.schema import read_manifest

        dataset = Path(args.network)
        if not dataset.is_dir():
            raise InvalidInput("--network", f"no such directory: {dataset}")
        try:
            read_manifest(dataset)
        except InvalidInput as exc:
            raise InvalidInput("--network", exc.detail) from exc

    from trellis.cli.django_env import setup_django

    setup_django()
    from trellis.accounts.models import Program
    from trellis.network.services import build_program_brief

    program = Program.objects.filter(slug=args.program).first()
    if program is None:
        raise InvalidInput("--program", f"no program {args.program!r}")
    network = None
    if args.bundles:
        from trellis.analytics.run import run_bundles_report

        network = run_bundles_report(
            [Path(f) for f in args.bundles], Path(args.trust) if args.trust else None
        )
        network["brief_source"] = "bundles"
    elif dataset is not None:
        from trellis.analytics.run import run_report
        from trellis.analytics.schema import read_manifest

        network = run_report(dataset, "duckdb", bool(read_manifest(dataset).get("synthetic")))
    brief = build_program_brief(program, network=network, census=census, cost=cost, dataset=dataset)
    briefs.write_pdf(brief, args.lang, out)
    emit(brief, args.format, text=f"Brief for {program.slug} ({args.lang}) written to {out}")
    return 0
