"""Benchmark: the network report on DuckDB at 1 M patients, against a plain DuckDB SQL floor.

    python bench/network.py [--patients 1000000] [--programs 40] [--seed 1] [--dir DIR]

1. Synthesise the network (skipped when ``DIR/data`` already holds one of that size).
2. Time ``trellis report network --engine duckdb --format json`` in a child process and read
   its peak resident memory (``getrusage`` of the children).
3. Time the *floor*: one plain DuckDB SQL query over the same Parquet files that reads every
   table once and aggregates it per episode and then per program (what any report must at
   least do), also in a child process.
4. Print a Markdown table (the README's). Targets: report ≤ 20 s, ≤ 4 GB, ≤ 3 × the floor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

FLOOR_SQL = """
WITH a AS (
  SELECT episode_key,
         max(total) FILTER (WHERE day BETWEEN -14 AND 0) AS base,
         min(day) FILTER (WHERE day >= 1 AND total <= 4) AS remission_day,
         count(*) FILTER (WHERE day BETWEEN 14 AND 31) AS n_window,
         max(day) AS last_phq
  FROM read_parquet('{d}/assessments.parquet') WHERE instrument = 'phq9' GROUP BY 1),
 o AS (
  SELECT episode_key,
         max(day) FILTER (WHERE phase = 'induction') AS l,
         count(*) FILTER (WHERE phase <> 'induction') AS boosters
  FROM read_parquet('{d}/doses.parquet') GROUP BY 1),
 i AS (
  SELECT episode_key, count(*) FILTER (WHERE status = 'done') AS done, count(*) AS n
  FROM read_parquet('{d}/activities.parquet') WHERE kind = 'integration' GROUP BY 1),
 v AS (SELECT episode_key, count(*) AS events FROM read_parquet('{d}/events.parquet') GROUP BY 1),
 c AS (SELECT episode_key, sum(gross_usd) AS gross
       FROM read_parquet('{d}/charges.parquet') GROUP BY 1)
SELECT e.program_key, count(*) AS episodes,
       count(*) FILTER (WHERE a.base IS NOT NULL AND a.n_window > 0) AS evaluable,
       count(a.remission_day) AS remissions, sum(o.boosters) AS boosters,
       sum(i.done) AS done, sum(v.events) AS events, sum(c.gross) AS gross
FROM read_parquet('{d}/episodes.parquet') e
LEFT JOIN a USING (episode_key) LEFT JOIN o USING (episode_key) LEFT JOIN i USING (episode_key)
LEFT JOIN v USING (episode_key) LEFT JOIN c USING (episode_key)
GROUP BY 1 ORDER BY 1
"""


PEAK = (
    "; import resource, sys; "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
)


def _child(code: str) -> tuple[float, float, str]:
    """Run Python ``code`` in a child; (seconds, its peak resident MB, stdout)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + PEAK], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    return seconds, peak_mb, done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--programs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default="var/bench-network")
    args = ap.parse_args()
    root = Path(args.dir).resolve()
    data, out = root / "data", root / "report"
    man_path = data / "manifest.json"
    synth_s = None
    if not (man_path.is_file() and json.loads(man_path.read_text())["tables"]["episodes"]
            == args.patients):  # fmt: skip
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "trellis"), "synth", "network", "--programs",
             str(args.programs), "--patients", str(args.patients), "--seed", str(args.seed),
             "--out", str(data), "--format", "json"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        synth_s = time.perf_counter() - start
    man = json.loads(man_path.read_text())
    rows = sum(man["tables"].values())
    floor_s, floor_mb, _ = _child(
        f"import duckdb; duckdb.sql({FLOOR_SQL.format(d=data)!r}).fetchall()"
    )
    report_s, peak_mb, _ = _child(
        "from trellis.cli import main; "
        f"main(['report', 'network', '--data', {str(data)!r}, '--out', {str(out)!r}, "
        "'--format', 'json'])"
    )
    ratio = report_s / floor_s
    print(f"\nNetwork report benchmark ({args.patients:,} patients, {args.programs} programs, "
          f"{rows:,} rows)\n")  # fmt: skip
    print("| step | seconds | peak memory |")
    print("|---|---:|---:|")
    if synth_s is not None:
        print(f"| synthesise (`trellis synth network`) | {synth_s:.1f} | |")
    print(f"| floor: one plain DuckDB SQL aggregate | {floor_s:.1f} | {floor_mb / 1024:.2f} GB |")
    print(f"| `trellis report network` (DuckDB, JSON + HTML + PDF + CSV) | {report_s:.1f} | "
          f"{peak_mb / 1024:.2f} GB |")  # fmt: skip
    print(f"| report ÷ floor | {ratio:.2f}× | |")
    ok = report_s <= 20 and peak_mb <= 4096 and ratio <= 3
    print(f"\nTargets (≤ 20 s, ≤ 4 GB, ≤ 3× the floor): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
