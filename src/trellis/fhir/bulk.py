"""FHIR Bulk Data export: one NDJSON file per resource type, built by the worker.

``$export`` (system level: every type), ``Patient/$export`` and ``Group/{program}/$export``
(the patient compartment: Patient and every type about patients) honour ``_type`` and
``_since`` (resources whose meta.lastUpdated is at or after it). The job runs as a django-tasks
task (the database queue drained by ``trellis worker``); ``DELETE`` on the status URL cancels.
Every resource written is validated (``resources.validated``); the export is audited when it
starts, and each file download is audited naming the client and the patients in it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest
from django_tasks import task

from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.errors import InvalidInput
from trellis.fhir import catalog, services
from trellis.fhir import resources as R
from trellis.fhir.models import BulkFile, BulkJob


def level_types(level: str) -> list[str]:
    if level == "system":
        return list(catalog.TYPES)
    return [name for name, spec in catalog.TYPES.items() if spec.patient_compartment]


def parse_types(raw: str, level: str) -> list[str]:
    allowed = level_types(level)
    if not raw.strip():
        return allowed
    types = [t.strip() for t in raw.split(",") if t.strip()]
    for t in types:
        if t not in allowed:
            raise InvalidInput("_type", f"{t} cannot be exported at this level")
    return list(dict.fromkeys(types))


def enqueue(job: BulkJob) -> None:
    run_export_task.enqueue(str(job.pk))


@task()
def run_export_task(job_id: str) -> None:
    run_export(job_id)


def _base_of(job: BulkJob) -> str:
    url = job.request_url
    return url[: url.index("/fhir") + len("/fhir")] if "/fhir" in url else url


def _since_ok(res: dict[str, Any], since: dt.datetime | None) -> bool:
    if since is None:
        return True
    updated = res.get("meta", {}).get("lastUpdated")
    if not updated:
        return True  # reference data (Questionnaire, Practitioner) has no update time
    return dt.datetime.fromisoformat(updated) >= since


def run_export(job_id: str) -> None:
    """Build the job's files (the worker). A cancelled job stops between types."""
    job = services.job_by_id(job_id)
    if job is None or job.status != BulkJob.Status.QUEUED:
        return
    services.set_job_status(job, BulkJob.Status.RUNNING, progress="starting")
    ctx = R.Ctx(base=_base_of(job))
    try:
        for i, rtype in enumerate(job.types, start=1):
            if services.job_status(job) == BulkJob.Status.CANCELLED:
                return
            spec = catalog.TYPES[rtype]
            lines = []
            for row in spec.rows(job.program, None):
                for res in spec.build(row, ctx):
                    if _since_ok(res, job.since):
                        lines.append(json.dumps(res, ensure_ascii=False, separators=(",", ":")))
            if lines:
                services.store_job_file(job, rtype, lines)
            services.set_job_status(
                job, BulkJob.Status.RUNNING, progress=f"{i}/{len(job.types)} types"
            )
        if services.job_status(job) != BulkJob.Status.CANCELLED:
            services.set_job_status(job, BulkJob.Status.DONE, progress="done")
    except Exception as exc:  # the client sees the failure in the status answer
        services.set_job_status(job, BulkJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise


def audit_download(
    caller: services.Caller, job: BulkJob, f: BulkFile, request: HttpRequest
) -> None:
    """One audit row per download, naming the client, the type and the count of resources."""
    record(
        action=Action.EXPORT,
        request=request,
        actor_username=caller.audit_name,
        program=caller.program,
        object_type=f"fhir.bulk.{f.resource_type}",
        object_id=str(job.pk),
        detail={"fhir_client": caller.client.client_id, "resources": f.count},
    )
