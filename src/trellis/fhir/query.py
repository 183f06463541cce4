"""Read and search for an authenticated client, scoped to its program and audited.

Every read and every search writes audit rows naming the client (``fhir-client:<id>``): one per
patient whose data the answer holds (the audit service folds repeats within a request), or one
for the search itself when it holds no patient data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.errors import InvalidInput
from trellis.fhir import catalog
from trellis.fhir import resources as R
from trellis.fhir.services import Caller


class NotFound(Exception):
    pass


def _audit(
    caller: Caller,
    request: HttpRequest | None,
    rtype: str,
    patient_ids: set[Any],
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    info = {
        "fhir_client": caller.client.client_id,
        "client_name": caller.client.name,
        **(detail or {}),
    }
    if not patient_ids:
        record(
            action=Action.VIEW,
            request=request,
            actor_username=caller.audit_name,
            program=caller.program,
            object_type=f"fhir.{rtype}",
            object_id=object_id,
            detail=info,
        )
    for pid in sorted(patient_ids, key=str):
        record(
            action=Action.VIEW,
            request=request,
            actor_username=caller.audit_name,
            program=caller.program,
            patient_id=pid,
            object_type=f"fhir.{rtype}",
            object_id=object_id,
            detail=info,
        )


def spec_for(rtype: str) -> catalog.TypeSpec:
    spec = catalog.TYPES.get(rtype)
    if spec is None:
        raise NotFound(f"resource type {rtype} is not served")
    return spec


def read(
    caller: Caller, rtype: str, rid: str, ctx: R.Ctx, request: HttpRequest | None
) -> dict[str, Any]:
    """One resource of the caller's program; another program's (or no) resource: NotFound."""
    spec = spec_for(rtype)
    row = spec.find(caller.program, rid)
    if row is None:
        raise NotFound(f"{rtype}/{rid} not found")
    for res in spec.build(row, ctx):
        if res["id"] == rid:
            pid = spec.patient_of(row)
            _audit(caller, request, rtype, {pid} if pid else set(), rid)
            return res
    raise NotFound(f"{rtype}/{rid} not found")


def matching(
    caller: Caller, spec: catalog.TypeSpec, params: dict[str, list[str]], ctx: R.Ctx
) -> Iterator[tuple[Any, str, Any]]:
    """(row, resource id, patient id) of every match, in a stable order (drafts: unvalidated)."""
    asked, pid = catalog.patient_filter(spec, params)
    if asked and pid is None:
        return
    if asked and not spec.patient_compartment:
        raise InvalidInput("patient", f"{spec.name} has no patient search parameter")
    filters = [(k, v) for k, vs in params.items() for v in vs if k not in catalog.PAGING]
    rows = (
        catalog.observation_rows(caller.program, pid, catalog.observation_sources(params))
        if spec.name == "Observation"
        else spec.rows(caller.program, pid)
    )
    with R.drafts():
        for row in rows:
            for res in spec.build(row, ctx):
                if all(catalog.matches(res, k, v) for k, v in filters):
                    yield row, res["id"], spec.patient_of(row)


def final(spec: catalog.TypeSpec, row: Any, rid: str, ctx: R.Ctx) -> dict[str, Any]:
    """The validated resource ``rid`` built from ``row``."""
    return next(res for res in spec.build(row, ctx) if res["id"] == rid)


def check_params(spec: catalog.TypeSpec, params: dict[str, list[str]]) -> None:
    allowed = catalog.supported_params(spec)
    for key in params:
        base = key.split(":")[0]
        if base not in allowed or ":" in key:
            raise InvalidInput(key, f"unsupported search parameter for {spec.name}")


def page_size(params: dict[str, list[str]]) -> tuple[int, int]:
    raw = params.get("_count", [str(catalog.DEFAULT_COUNT)])[-1]
    off = params.get("_offset", ["0"])[-1]
    if not raw.isdigit():
        raise InvalidInput("_count", f"must be a whole number, got {raw!r}")
    if not off.isdigit():
        raise InvalidInput("_offset", f"must be a whole number, got {off!r}")
    return max(0, min(int(raw), catalog.MAX_COUNT)), int(off)


def search(
    caller: Caller,
    rtype: str,
    params: dict[str, list[str]],
    ctx: R.Ctx,
    request: HttpRequest | None,
) -> dict[str, Any]:
    """A searchset Bundle: ``total``, the page's entries and next/previous links."""
    spec = spec_for(rtype)
    check_params(spec, params)
    count, offset = page_size(params)
    found = list(matching(caller, spec, params, ctx))
    page = [(final(spec, row, rid, ctx), pid) for row, rid, pid in found[offset : offset + count]]

    def link(relation: str, off: int) -> dict[str, str]:
        query = [(k, v) for k, vs in params.items() if k != "_offset" for v in vs]
        query += [("_offset", str(off))] if off else []
        if "_count" not in params:
            query.append(("_count", str(count)))
        return {"relation": relation, "url": f"{ctx.base}/{rtype}?{urlencode(query)}"}

    links = [link("self", offset)]
    if count and offset + count < len(found):
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    _audit(
        caller,
        request,
        rtype,
        {pid for _, pid in page if pid},
        detail={"search": dict(params), "returned": len(page)},
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{ctx.base}/{rtype}/{res['id']}",
                "resource": res,
                "search": {"mode": "match"},
            }
            for res, _ in page
        ],
    }
    if not bundle["entry"]:
        del bundle["entry"]
    return R.validated(bundle)


def everything(caller: Caller, patient_id: Any, ctx: R.Ctx) -> list[dict[str, Any]]:
    """Every served resource about one patient of the caller's program (bulk export, chart)."""
    out: list[dict[str, Any]] = []
    for spec in catalog.TYPES.values():
        if not spec.patient_compartment:
            continue
        for row in spec.rows(caller.program, patient_id):
            out.extend(spec.build(row, ctx))
    return out
