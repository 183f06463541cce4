"""The de-identified network dataset (``trellis-network/1``) and the network report in the app.

- :func:`export_deidentified` writes the program's (or every program's) records as the
  network's Parquet tables, HIPAA Safe Harbor by construction (:mod:`trellis.core.deid`):
  keyed pseudonyms, no names, contacts, street, free text or dates (day offsets from the
  episode's first dose, plus its year), age top-coded at 90, ZIP to three digits with
  restricted areas as ``000``. Only patients with an active research-sharing consent, or all
  patients of a program that opted in to quality-improvement sharing. Admins only; each export
  is an audit row per program.
- :func:`network_view` reads the network report (computed from the network dataset by
  :mod:`trellis.analytics`, cached beside it) for analysts and directors, with the program's
  own figures and its place among programs; audited as a view.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest

from trellis.accounts.models import Program, Role
from trellis.accounts.services import has_any_role, require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.deid import pseudonym, top_coded_age, zip3
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.network.models import NetworkSettings, ReceivedBundle

EXPORT_ROLES = frozenset({Role.ADMIN})
# Analysts and the program's directors (admins; the medical director is a prescriber).
NETWORK_ROLES = frozenset({Role.ANALYST, Role.ADMIN, Role.PRESCRIBER})
#: Used only in demo mode when TRELLIS_NETWORK_KEY is unset (synthetic data only).
DEMO_KEY = b"trellis-demo-network-key-synthetic-only"
SEX = {"female": "female", "male": "male", "intersex": "intersex"}
RESEARCH = "research_sharing"


def network_key(*, synthetic_demo: bool = False) -> bytes:
    """The HMAC key of the pseudonyms: ``TRELLIS_NETWORK_KEY``; refused when unset outside
    demo mode (pseudonyms made with a known key could be recomputed from ids).
    ``synthetic_demo``: the demo seeder, which handles only synthetic patients."""
    key = getattr(settings, "NETWORK_KEY", "") or os.environ.get("TRELLIS_NETWORK_KEY", "")
    if key:
        if len(key.encode()) < 16:
            raise InvalidInput("TRELLIS_NETWORK_KEY", "must be at least 16 characters")
        return key.encode()
    if settings.DEMO_MODE or synthetic_demo:
        return DEMO_KEY
    raise InvalidInput(
        "TRELLIS_NETWORK_KEY", "is not set: the network pseudonyms need a secret key (demo aside)"
    )


def program_key(program: Program, key: bytes | None = None) -> str:
    # The slug: stable across databases (a program re-created keeps its place in the network).
    return pseudonym(key or network_key(), "program", program.slug)


def qi_sharing(program: Program) -> bool:
    row = NetworkSettings.objects.filter(program=program).first()
    return bool(row and row.qi_sharing)


def set_qi_sharing(
    user: Any, program: Program, value: bool, request: HttpRequest | None = None
) -> None:
    """Opt the program in or out of quality-improvement sharing (admins; audited)."""
    require_roles(user, program, EXPORT_ROLES)
    row, _ = NetworkSettings.objects.get_or_create(program=program)
    row.qi_sharing = value
    row.save()
    record(action=Action.UPDATE, request=request, actor=user, program=program, obj=row,
           detail={"qi_sharing": value})  # fmt: skip


def _race(codes: Iterable[str]) -> str:
    known = sorted({c for c in codes if c and c != "prefer_not"})
    if not known:
        return "unknown"
    return known[0] if len(known) == 1 else "multiple"


@dataclass
class _Rows:
    tables: dict[str, dict[str, list[Any]]]

    def add(self, table: str, **values: Any) -> None:
        cols = self.tables[table]
        for k, v in values.items():
            cols[k].append(v)


def _collect(programs: list[Program], key: bytes) -> tuple[_Rows, int]:
    """Every exported row, as columns (no identifying field is ever read into them)."""
    from trellis.access import services as access
    from trellis.analytics.schema import TABLES
    from trellis.care import services as care
    from trellis.patients.services import has_active_consent

    rows = _Rows({name: {f: [] for f in schema.names} for name, schema in TABLES.items()})
    exported_programs = 0
    for program in programs:
        tz = ZoneInfo(program.time_zone or settings.TIME_ZONE)
        share_all = qi_sharing(program)
        pkey = program_key(program, key)
        any_rows = False

        def day_of(moment: dt.datetime | dt.date, first: dt.date, tz: ZoneInfo = tz) -> int:
            d = moment.astimezone(tz).date() if isinstance(moment, dt.datetime) else moment
            return (d - first).days

        for patient in program.patients.all().order_by("pk"):
            if not (share_all or has_active_consent(patient, RESEARCH)):
                continue
            fields = access.network_fields(patient)
            patient_key = pseudonym(key, "patient", str(patient.pk))
            # The reverse relation of care.Episode.patient (care owns the model).
            related: Any = patient.episodes
            for episode in related.order_by("referred_on", "created_at"):
                events = list(care.events_of(episode).order_by("at", "pk"))
                dose_events = [e for e in events if e.kind in ("dose_given", "maintenance_dose")]
                given = [e for e in dose_events if e.kind == "dose_given"]
                if not given:
                    continue  # no first dose: no day 0, nothing to count
                first = given[0].at.astimezone(tz).date()
                protocol = care.protocol_of(episode)
                ekey = pseudonym(key, "episode", str(episode.pk))
                days: list[int] = [0]
                for e in dose_events:
                    if e.kind == "maintenance_dose":
                        phase = "maintenance"
                    elif (e.index or 0) <= protocol.doses.count:
                        phase = "induction"
                    else:
                        phase = "booster"
                    d = day_of(e.at, first)
                    days.append(d)
                    rows.add("doses", episode_key=ekey, day=d, phase=phase)
                latest: dict[tuple[str, int], int] = {}
                related_a: Any = patient.assessments
                for a in related_a.filter(episode=episode, total__isnull=False).order_by(
                    "taken_at", "pk"
                ):
                    latest[(a.instrument, day_of(a.taken_at, first))] = a.total
                for (instrument, d), total in sorted(latest.items()):
                    days.append(d)
                    rows.add("assessments", episode_key=ekey, day=d, instrument=instrument,
                             total=total)  # fmt: skip
                done: list[tuple[dt.date, str, str]] = []
                for act in care.activities_of(episode).order_by("target", "pk"):
                    if act.kind == "dose" and act.status == "done":
                        done.append((act.target, act.kind, act.name))
                    if act.kind not in ("preparation", "integration", "peer_circle", "follow_up"):
                        continue
                    if act.status not in ("done", "missed", "cancelled"):
                        continue
                    when = act.done_at if act.status == "done" and act.done_at else act.target
                    d = day_of(when, first)
                    days.append(d)
                    rows.add("activities", episode_key=ekey, day=d, kind=act.kind,
                             status=act.status)  # fmt: skip
                    if act.status == "done":
                        on = when.astimezone(tz).date() if isinstance(when, dt.datetime) else when
                        done.append((on, act.kind, act.name))
                done.sort(key=lambda x: x[0])
                for charge in access.network_charges(episode, done):
                    d = day_of(charge.on, first)
                    days.append(d)
                    rows.add("charges", episode_key=ekey, day=d, item=charge.item,
                             gross_usd=charge.gross, patient_usd=charge.patient,
                             payer_usd=charge.payer)  # fmt: skip
                status = episode.phase if episode.phase in ("completed", "withdrawn") else "active"
                rows.add(
                    "episodes",
                    episode_key=ekey,
                    patient_key=patient_key,
                    program_key=pkey,
                    track=episode.protocol_id,
                    drug=protocol.drug,
                    first_dose_year=first.year,
                    age=top_coded_age(patient.age_on(first)),
                    sex=SEX.get(patient.sex, "unknown"),
                    race_ethnicity=_race(patient.race_ethnicity or []),
                    language=patient.preferred_language or "unknown",
                    poverty_class=fields["poverty_class"],
                    payer=fields["payer"],
                    rurality=fields["rurality"],
                    zip3=zip3(patient.zip_code),
                    induction_doses=protocol.doses.count,
                    status=status,
                    last_day=max(days),
                )
                any_rows = True
        exported_programs += any_rows
    return rows, exported_programs


def write_dataset(rows: dict[str, dict[str, list[Any]]], out: Path, synthetic: bool,
                  programs: int) -> dict[str, Any]:  # fmt: skip
    """Write the tables as Parquet and the manifest; returns the manifest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from trellis.analytics.schema import TABLES, manifest

    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, schema in TABLES.items():
        table = pa.table({f: pa.array(rows[name][f], schema.field(f).type) for f in schema.names},
                         schema=schema)  # fmt: skip
        pq.write_table(table, out / f"{name}.parquet")
        counts[name] = table.num_rows
    man = manifest(synthetic, programs, counts)
    (out / "manifest.json").write_text(json.dumps(man, indent=2) + "\n", encoding="utf-8")
    return man


def export_deidentified(
    out: Path,
    program_slug: str | None = None,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    key: bytes | None = None,
) -> dict[str, Any]:
    """Write the de-identified dataset of one program (``program_slug``) or of every program.

    ``user``: the admin asking (the app); None for the server's own shell (the CLI, where the
    operator already holds the database). Either way one audit row per program exported.
    """
    key = key or network_key()
    if program_slug is not None:
        program = Program.objects.filter(slug=program_slug).first()
        if program is None:
            raise InvalidInput("--program", f"no program {program_slug!r}")
        programs = [program]
    else:
        programs = list(Program.objects.order_by("pk"))
    if user is not None:
        for program in programs:
            require_roles(user, program, EXPORT_ROLES)
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} exists and is not a directory")
    rows, n_programs = _collect(programs, key)
    synthetic = all(p.is_synthetic for p in programs)
    man = write_dataset(rows.tables, out, synthetic, n_programs)
    for program in programs:
        record(
            action=Action.EXPORT,
            request=request,
            actor=user,
            actor_username="" if user is not None else "cli",
            program=program,
            object_type="network.deidentified_export",
            detail={
                "schema": man["schema"],
                "tables": man["tables"],
                "all_programs": program_slug is None,
            },  # fmt: skip
        )
    return man


def export_zip(user: Any, program: Program, request: HttpRequest | None = None) -> bytes:
    """The program's de-identified dataset as a zip (the admin's export button)."""
    import io
    import zipfile

    require_roles(user, program, EXPORT_ROLES)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dataset"
        export_deidentified(out, program.slug, user=user, request=request)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(out.iterdir()):
                zf.write(path, path.name)
    return buf.getvalue()


# --- the network report in the app ----------------------------------------------------------


def dataset_dir() -> Path:
    return Path(getattr(settings, "NETWORK_DATA_DIR", settings.DATA_DIR / "network" / "dataset"))


def load_report(data: Path | None = None) -> dict[str, Any] | None:
    """The network report of the dataset at ``data`` (cached as report.json beside it and
    recomputed when the manifest is newer); None when there is no dataset."""
    from trellis.analytics.run import run_report
    from trellis.analytics.schema import read_manifest

    data = data or dataset_dir()
    if not (data / "manifest.json").is_file():
        return None
    cache = data / "report.json"
    if cache.is_file() and cache.stat().st_mtime >= (data / "manifest.json").stat().st_mtime:
        cached: dict[str, Any] = json.loads(cache.read_text(encoding="utf-8"))
        return cached
    man = read_manifest(data)
    report = run_report(data, "duckdb", bool(man.get("synthetic")))
    try:
        cache.write_text(json.dumps(report), encoding="utf-8")
    except OSError:  # a read-only dataset: recomputed next time, still correct
        pass
    return report


def network_view(user: Any, program: Program, request: HttpRequest | None = None) -> dict[str, Any]:
    """The network report and the program's place in it (analysts, admins, prescribers;
    audited as a view of aggregate data)."""
    if not has_any_role(user, program, NETWORK_ROLES):
        raise NotAllowed("The network report is for analysts and the program's directors.")
    report = load_report()
    mine = None
    rank = None
    key: str | None = None
    if report is not None:
        # A synthetic program's place may be found with the demo key (its patients are made up);
        # a real program's only with TRELLIS_NETWORK_KEY.
        key = program_key(program, network_key(synthetic_demo=program.is_synthetic))
        programs = report["programs"]
        mine = next((p for p in programs if p["program_key"] == key), None)
        rates = sorted(
            (p["response_rate"] for p in programs if p["response_rate"] is not None), reverse=True
        )
        if mine is not None and mine["response_rate"] is not None:
            rank = {"position": rates.index(mine["response_rate"]) + 1, "of": len(rates)}
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="network.report",
        detail={"dataset": report is not None},
    )
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in (report or {}).get("equity", []):
        by_group[row["dimension"]].append(row)
    return {
        "report": report,
        "mine": mine,
        "rank": rank,
        "key": key,
        "equity": dict(by_group),
    }


# --- federated bundles (issue 16) ----------------------------------------------------------------

MAX_BUNDLE_BYTES = 5 * 1024 * 1024


def upload_bundle(
    user: Any, program: Program, content: bytes, *, request: HttpRequest | None = None
) -> ReceivedBundle:
    """Store another program's bundle (admins): a valid ``trellis-network-bundle/1`` whose
    signature matches; never the program's own; a newer one replaces the older. Audited."""
    from trellis.analytics import bundle as bundles

    require_roles(user, program, EXPORT_ROLES)
    if len(content) > MAX_BUNDLE_BYTES:
        raise InvalidInput("bundle", "is larger than 5 MB: a bundle holds counts only")
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("bundle", "is not JSON") from exc
    if not isinstance(data, dict) or data.get("schema") != bundles.BUNDLE_SCHEMA:
        raise InvalidInput("bundle", f"is not a {bundles.BUNDLE_SCHEMA} bundle")
    bundles.verify(data, None, "bundle")
    bundles.merge([data])  # every table must parse and add up
    source = str(data["program_key"])
    if source == program_key(program, network_key(synthetic_demo=program.is_synthetic)):
        raise InvalidInput("bundle", "is this program's own bundle")
    row, _created = ReceivedBundle.objects.update_or_create(
        program=program,
        source_program_key=source,
        defaults={
            "public_key": data["signature"]["public_key"],
            "synthetic": bool(data.get("synthetic")),
            "text": json.dumps(data),
            "uploaded_by": user,
        },
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"source_program_key": source, "public_key": row.public_key},
    )
    return row


def own_bundle(program: Program, key: bytes | None = None) -> dict[str, Any] | None:
    """This program's own aggregates as an (unsigned) bundle, from its de-identified export;
    None when it has no episode to share."""
    from trellis.analytics import bundle as bundles
    from trellis.analytics import engine

    key = key or network_key(synthetic_demo=program.is_synthetic)
    with tempfile.TemporaryDirectory() as tmp:
        export_deidentified(Path(tmp), program.slug, key=key)
        tables = engine.load(engine.connect("duckdb"), Path(tmp))
        pk = program_key(program, key)
        agg = engine.aggregates(bundles.program_tables(tables, pk))
        if not agg.funnel["program_key"].num_rows:
            return None
        return bundles.make_bundle(agg, program_key=pk, synthetic=program.is_synthetic)


def bundles_view(user: Any, program: Program, request: HttpRequest | None = None) -> dict[str, Any]:
    """The report from this program's own aggregates and the bundles it holds: its place among
    its peers, computed from counts alone (suppression applied as in every report)."""
    from trellis.analytics import bundle as bundles
    from trellis.analytics.report import build_report

    if not has_any_role(user, program, NETWORK_ROLES):
        raise NotAllowed("The network report is for analysts and the program's directors.")
    received = list(ReceivedBundle.objects.filter(program=program))
    report = None
    if received:
        parts = [json.loads(r.text) for r in received]
        own = own_bundle(program)
        if own is not None:
            parts.append(own)
        agg, synthetic = bundles.merge(parts)
        report = build_report(agg, synthetic or program.is_synthetic)
        report["cox_hr_engaged"] = {"hr": None, "ci95": None, "note": bundles.COX_NOT_COMPUTABLE}
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="network.bundles",
        detail={"bundles": len(received)},
    )
    key = program_key(program, network_key(synthetic_demo=program.is_synthetic))
    return {"received": received, "report": report, "key": key}


# --- the advocacy brief (issue 16, part 3) -------------------------------------------------------

BRIEF_ROLES = frozenset({Role.ANALYST, Role.ADMIN, Role.PRESCRIBER})


def census_path(program: Program) -> Path | None:
    """The program's census table: DATA_DIR/network/census/<slug>.csv, else the shipped
    synthetic one for a synthetic program; None otherwise."""
    from trellis.analytics.brief import SYNTHETIC_CENSUS

    own = dataset_dir().parent / "census" / f"{program.slug}.csv"
    if own.is_file():
        return own
    return SYNTHETIC_CENSUS if program.is_synthetic else None


def build_program_brief(
    program: Program,
    *,
    network: dict[str, Any] | None,
    census: Path | None,
    cost: dict[str, Any] | None,
    dataset: Path | None = None,
) -> dict[str, Any]:
    """The brief's figures for a program: from its rows of ``dataset`` when that dataset holds
    them (the network's copy of its de-identified export), else from a fresh de-identified
    export of its records. The export is audited (one row) as every export is."""
    from trellis.analytics import brief as briefs

    key = network_key(synthetic_demo=program.is_synthetic)
    pk = program_key(program, key)
    census_rows = None if census is None else briefs.read_census(census)
    synthetic_census = census is not None and census.resolve() == briefs.SYNTHETIC_CENSUS.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        source = "the program's de-identified records"
        data = Path(tmp)
        if dataset is not None and _holds(dataset, pk):
            data, source = dataset, "the program's rows of the network's de-identified dataset"
        else:
            export_deidentified(data, program.slug, key=key)
        report, episodes = briefs.program_figures(data, pk, program.is_synthetic)
    return briefs.build_brief(
        program=program.name,
        report=report,
        episodes=episodes,
        census=census_rows,
        network=network,
        cost=cost,
        synthetic=program.is_synthetic,
        source=source,
        census_synthetic=synthetic_census,
    )


def _holds(dataset: Path, pk: str) -> bool:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = dataset / "episodes.parquet"
    if not path.is_file():
        return False
    col = pq.read_table(path, columns=["program_key"]).column("program_key")
    return bool(pc.any(pc.equal(col, pk)).as_py())


def brief_view(user: Any, program: Program, lang: str,
               request: HttpRequest | None = None) -> dict[str, Any]:  # fmt: skip
    """The advocacy brief for the app's /network/brief/ (analysts and directors; audited as a
    view of aggregate data). The cost setting comes from the environment; a synthetic program
    without one uses the demo's illustrative value, labelled as such."""
    from trellis.analytics import brief as briefs

    if not has_any_role(user, program, BRIEF_ROLES):
        raise NotAllowed("The brief is for analysts and the program's directors.")
    if lang not in briefs.LANGS:
        raise InvalidInput("lang", f"must be one of {', '.join(briefs.LANGS)}")
    try:
        cost = briefs.hospitalization_cost()
    except InvalidInput:
        cost = None
    if cost is None and program.is_synthetic:
        cost = dict(briefs.DEMO_COST)
    report = load_report()
    brief = build_program_brief(
        program, network=report, census=census_path(program), cost=cost, dataset=dataset_dir()
    )
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="network.brief",
        detail={"lang": lang, "network": report is not None},
    )
    return brief
