"""Load benchmark: check-in submissions and the pathway board against `trellis serve`.

Plain script, not a test (it measures wall-clock time). It needs a PostgreSQL server; it creates
(and drops) its own database next to the one named:

    python bench/load.py --database-url postgres://postgres@127.0.0.1:5432/trellis \\
        --clients 50 --seconds 20

Phases, each with ``--clients`` concurrent clients (aiohttp) for ``--seconds``:
1. ``/healthz`` (the bare endpoint: the same server's ceiling);
2. check-in submissions: each client opens a fresh check-in link's PHQ-9 and submits it (the
   submission's POST is timed; each link is submitted once);
3. the coordinator's pathway board (``/care/board/``).
Prints a markdown table: requests/s, ratio to /healthz, p50/p99 latency, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
TRELLIS = str(Path(sys.executable).with_name("trellis"))
PHQ9 = {f"item_{i}": "1" for i in range(1, 9)} | {"item_9": "0"}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

SETUP = r"""
import json
from trellis.cli.django_env import setup_django
setup_django()
from django.db import transaction
from tests.support import make_cast
from trellis.checkin import services as checkin
from trellis.web.demo import seed_demo

seed_demo(patient_count=40)
cast = make_cast()
with transaction.atomic():
    tokens = [
        checkin.issue_link(
            cast.patient_a, purpose="assessments",
            payload={"due": [{"instrument": "phq9", "timepoint": "week_3"}]},
        )[1]
        for _ in range(%d)
    ]
print(json.dumps(tokens))
"""


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _phase(
    clients: int, seconds: float, work: object, prepare: object = None
) -> tuple[int, list[float], int, float]:
    """Run ``work`` from ``clients`` clients for ``seconds`` (after ``prepare``, untimed, e.g. a
    sign-in); returns completed, latencies, errors and the timed span."""
    latencies: list[float] = []
    errors = 0
    ready = asyncio.Event()
    waiting = clients
    stop = 0.0

    async def client(n: int) -> None:
        nonlocal errors, waiting, stop
        jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1 (an IP address)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            if prepare is not None:
                await prepare(session)  # type: ignore[operator]
            waiting -= 1
            if waiting == 0:
                stop = time.monotonic() + seconds
                ready.set()
            await ready.wait()
            while time.monotonic() < stop:
                try:
                    ok, took = await work(session, n)  # type: ignore[operator]
                except (TimeoutError, aiohttp.ClientError):
                    ok, took = False, 0.0
                if ok is None:
                    return
                if ok:
                    latencies.append(took)
                else:
                    errors += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return len(latencies), latencies, errors, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL (any database)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", default="8", help="trellis serve --threads")
    args = parser.parse_args()

    base_url = args.database_url
    name = f"trellis_bench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = _with_db(base_url, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env.update(
        TRELLIS_DATABASE_URL=db_url,
        TRELLIS_DEMO="1",
        TRELLIS_CHECKIN_FAILURE_LIMIT="1000000",
        TRELLIS_LOG_LEVEL="ERROR",
    )
    port = 18000 + os.getpid() % 1000
    server = None
    try:
        subprocess.run([TRELLIS, "migrate"], env=env, check=True, capture_output=True)
        links = max(500, int(args.clients * args.seconds * 2))
        out = subprocess.run(
            [sys.executable, "-c", SETUP % links],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        tokens = json.loads(out.stdout.strip().splitlines()[-1])
        server = subprocess.Popen(
            [TRELLIS, "serve", "--port", str(port), "--threads", args.threads],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        rows = []

        async def healthz(session: aiohttp.ClientSession, n: int) -> tuple[bool, float]:
            t0 = time.perf_counter()
            async with session.get(base + "/healthz") as r:
                await r.read()
                return r.status == 200, time.perf_counter() - t0

        pool = list(tokens)

        async def checkin(session: aiohttp.ClientSession, n: int) -> tuple[bool | None, float]:
            if not pool:
                return None, 0.0
            token = pool.pop()
            url = f"{base}/measures/c/{token}/phq9/week_3/"
            async with session.get(url) as r:
                page = await r.text()
            match = CSRF.search(page)
            if match is None:
                return False, 0.0
            t0 = time.perf_counter()
            async with session.post(
                url,
                data={**PHQ9, "csrfmiddlewaretoken": match.group(1)},
                headers={"Referer": url},
                allow_redirects=False,
            ) as r:
                await r.read()
                ok = r.status == 302
            return ok, time.perf_counter() - t0

        async def login(session: aiohttp.ClientSession) -> None:
            async with session.get(base + "/accounts/login/") as r:
                match = CSRF.search(await r.text())
            assert match is not None
            async with session.post(
                base + "/accounts/login/",
                data={
                    "username": "cora.coordinator",
                    "password": "demo-trellis-2026",
                    "csrfmiddlewaretoken": match.group(1),
                },
                headers={"Referer": base + "/accounts/login/"},
                allow_redirects=False,
            ) as r:
                assert r.status == 302, r.status

        async def board(session: aiohttp.ClientSession, n: int) -> tuple[bool, float]:
            t0 = time.perf_counter()
            async with session.get(base + "/care/board/") as r:
                await r.read()
                return r.status == 200, time.perf_counter() - t0

        results = {}
        for label, work, prepare in (
            ("/healthz", healthz, None),
            ("check-in submission", checkin, None),
            ("pathway board", board, login),  # signed in (Argon2) before the clock starts
        ):
            done, lat, errors, took = asyncio.run(_phase(args.clients, args.seconds, work, prepare))
            results[label] = (done / took, lat, errors)
            print(f"{label}: {done / took:.1f}/s, {errors} errors", file=sys.stderr, flush=True)
        ceiling = results["/healthz"][0]
        rows.append("| endpoint | req/s | × /healthz | p50 ms | p99 ms | errors |")
        rows.append("|---|---:|---:|---:|---:|---:|")
        for label, (rate, lat, errors) in results.items():
            rows.append(
                f"| {label} | {rate:.1f} | {rate / ceiling:.2f} | "
                f"{statistics.median(lat) * 1000 if lat else float('nan'):.0f} | "
                f"{_percentile(lat, 0.99) * 1000:.0f} | {errors} |"
            )
        print(
            f"\n{args.clients} clients, {args.seconds:.0f} s per phase, waitress "
            f"--threads {args.threads}, PostgreSQL\n"
        )
        print("\n".join(rows))
    finally:
        if server is not None:
            server.kill()
            server.wait()
        with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
