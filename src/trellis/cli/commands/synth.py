"""``trellis synth network``: a synthetic network dataset in the ``trellis-network/1`` schema.

    trellis synth network --programs 40 --patients 1000000 --seed 7 --out DIR [--hazard-ratio 0.6]

The generative model is documented in :mod:`trellis.analytics.synth` and docs/network.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub
from trellis.core.errors import InvalidInput


def register(subparsers: Any) -> None:
    p = sub(subparsers, "synth", "Synthetic data sets")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    n = sub(kinds, "network", "A synthetic network dataset (trellis-network/1, synthetic: true)")
    n.add_argument("--programs", required=True, help="number of programs (≥ 1)")
    n.add_argument("--patients", required=True, help="number of patient episodes (≥ 1)")
    n.add_argument("--seed", required=True, help="random seed (a whole number)")
    n.add_argument("--out", required=True, help="output directory")
    n.add_argument(
        "--hazard-ratio",
        default="0.6",
        help="planted relapse hazard ratio of integration engagement (default: %(default)s)",
    )
    add_format_argument(n)
    n.set_defaults(func=run)


def _int(raw: str, flag: str, minimum: int | None = 1) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidInput(flag, f"must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise InvalidInput(flag, f"must be at least {minimum}, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    programs = _int(args.programs, "--programs")
    patients = _int(args.patients, "--patients")
    seed = _int(args.seed, "--seed", minimum=0)
    try:
        hr = float(args.hazard_ratio)
    except ValueError:
        raise InvalidInput(
            "--hazard-ratio", f"must be a number, got {args.hazard_ratio!r}"
        ) from None
    if not 0 < hr <= 10:
        raise InvalidInput("--hazard-ratio", "must be in (0, 10]")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    from tqdm import tqdm

    from trellis.analytics.synth import synthesise

    with tqdm(total=patients, unit="patients", file=sys.stderr, leave=False) as bar:
        man = synthesise(out, programs, patients, seed, hr, progress=bar.update)
    emit(man, args.format, text=f"Synthetic network written to {out}: {man['tables']}")
    return 0
