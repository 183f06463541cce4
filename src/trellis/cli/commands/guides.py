"""``trellis guides``: list, show and validate preparation guides (trellis.core.guides)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from trellis.cli.common import EXIT_BAD_INPUT, add_format_argument, emit, sub
from trellis.core import guides


def register(subparsers: Any) -> None:
    p = sub(subparsers, "guides", "Preparation guides: list, show, validate")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ls = sub(actions, "list", "List the packaged guides with their readability")
    add_format_argument(ls)
    ls.set_defaults(func=run_list)

    show = sub(actions, "show", "Show one packaged guide in full")
    show.add_argument("guide_id", metavar="ID", help="guide id, e.g. esketamine")
    show.add_argument("--lang", default="en", choices=guides.LANGUAGES, help="language")
    add_format_argument(show, default="json")
    show.set_defaults(func=run_show)

    val = sub(actions, "validate", "Validate a guide YAML file (e.g. a program's adapted copy)")
    val.add_argument("file", metavar="FILE", help="path to the YAML file")
    add_format_argument(val)
    val.set_defaults(func=run_validate)


def _row(guide: guides.Guide) -> dict[str, Any]:
    result = guides.guide_readability(guide)
    return {
        **guide.summary(),
        "readability": {
            "measure": result.measure,
            "score": round(result.score, 2),
            "passes": result.passes,
        },
    }


def run_list(args: argparse.Namespace) -> int:
    rows = [_row(g) for g in guides.list_guides()]
    text = "\n".join(
        f"{r['id']:<11} {r['language']}  v{r['version']:<6} {r['readability']['measure']:<21} "
        f"{r['readability']['score']:>6.1f}  {r['title']}"
        for r in rows
    )
    emit(rows, args.format, text=text)
    return 0


def run_show(args: argparse.Namespace) -> int:
    guide = guides.load_guide(args.guide_id, args.lang, field="ID")
    data = dataclasses.asdict(guide)
    data["reviewed_on"] = guide.reviewed_on.isoformat()
    emit(data, args.format)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    try:
        guide = guides.load_guide_file(args.file)
        problems = guides.readability_errors(guide, args.file.rsplit("/", 1)[-1])
        if problems:
            raise guides.GuideInvalid(problems)
    except guides.GuideInvalid as exc:
        for error in exc.errors:
            print(f"trellis: error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = guides.guide_readability(guide)
    out = {
        "file": args.file,
        "id": guide.id,
        "language": guide.language,
        "version": guide.version,
        "valid": True,
        "readability": round(result.score, 2),
    }
    emit(
        out,
        args.format,
        text=f"{args.file}: valid ({guide.id}.{guide.language} v{guide.version}; "
        f"{result.describe()})",
    )
    return 0
