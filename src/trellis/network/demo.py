"""Demo: a synthetic network around the demo program, so /network/ shows curves at once.

The dataset is a synthetic network (:mod:`trellis.analytics.synth`) in which one program is the
demo program (its keyed pseudonym, with synthetic history), plus the demo program's own
de-identified export; all of it is labelled synthetic. The report is computed once and cached.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from trellis.web.demo import DemoContext, demo_seeder

DEMO_PROGRAMS = 12
DEMO_PATIENTS = 2500


@demo_seeder(stage=60)
def seed_network(ctx: DemoContext) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trellis.analytics.schema import TABLES, manifest
    from trellis.analytics.synth import synthesise
    from trellis.network import services
    from trellis.network.models import NetworkSettings

    program = ctx.program
    row, _ = NetworkSettings.objects.get_or_create(program=program)
    if not row.qi_sharing:
        row.qi_sharing = True
        row.save()
    target = services.dataset_dir()
    key = services.network_key(synthetic_demo=True)
    mine = services.program_key(program, key)
    cached = target / "report.json"
    if cached.is_file():
        report = json.loads(cached.read_text(encoding="utf-8"))
        if any(p["program_key"] == mine for p in report.get("programs", [])):
            return  # seeded already for this demo program (the demo is idempotent)
    with tempfile.TemporaryDirectory() as tmp:
        synth, own = Path(tmp) / "synth", Path(tmp) / "own"
        synthesise(synth, programs=DEMO_PROGRAMS, patients=DEMO_PATIENTS, seed=2026,
                   program_keys=[mine])  # fmt: skip
        services.export_deidentified(own, program.slug, key=key)
        target.mkdir(parents=True, exist_ok=True)
        counts = {}
        for name in TABLES:
            parts = [
                pq.read_table(synth / f"{name}.parquet"),
                pq.read_table(own / f"{name}.parquet"),
            ]
            table = pa.concat_tables(parts)
            pq.write_table(table, target / f"{name}.parquet")
            counts[name] = table.num_rows
        man = manifest(True, DEMO_PROGRAMS, counts)
        (target / "manifest.json").write_text(json.dumps(man, indent=2) + "\n", encoding="utf-8")
    services.load_report(target)


@demo_seeder(stage=61)
def seed_bundles(ctx: DemoContext) -> None:
    """Two partner programs' bundles (synthetic), so /network/bundles/ shows a network of three
    programs computed from counts alone."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from trellis.analytics.run import write_bundle
    from trellis.analytics.synth import synthesise
    from trellis.network import services
    from trellis.network.models import ReceivedBundle

    program = ctx.program
    admin = ctx.staff.get("ada.admin")
    if admin is None or ReceivedBundle.objects.filter(program=program).exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        synth = Path(tmp) / "partners"
        synthesise(synth, programs=2, patients=900, seed=2027)
        import pyarrow.parquet as pq

        keys = sorted(
            set(pq.read_table(synth / "episodes.parquet").column("program_key").to_pylist())
        )
        for i, pk in enumerate(keys):
            out = Path(tmp) / f"partner-{i}.json"
            write_bundle(synth, out, Ed25519PrivateKey.generate(), pk, synthetic=True)
            services.upload_bundle(admin, program, out.read_bytes())
