"""HTTP layer of the FHIR API (plain Django views: FHIR's content types, status codes and
OperationOutcome errors are easier to keep exact here than through a JSON-API framework).

Views authenticate the bearer token, parse, call :mod:`query`/:mod:`write`/:mod:`services` and
render. Every error is an ``OperationOutcome`` with its HTTP status; a resource of another
program answers 404, never 403.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from trellis import __version__
from trellis.accounts.decorators import public_view
from trellis.core.errors import InvalidInput
from trellis.fhir import bulk, catalog, query, services, write
from trellis.fhir import resources as R
from trellis.fhir.services import Caller, OAuthError

FHIR_JSON = "application/fhir+json; charset=utf-8"
log = logging.getLogger(__name__)


def fhir_response(data: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    resp = HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=FHIR_JSON)
    resp["Cache-Control"] = "no-store"
    for key, value in headers.items():
        resp[key.replace("_", "-")] = value
    return resp


def outcome(
    status: int, code: str, message: str, expression: str = "", **headers: str
) -> HttpResponse:
    issue: dict[str, Any] = {
        "severity": "error" if status < 500 else "fatal",
        "code": code,
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    return fhir_response({"resourceType": "OperationOutcome", "issue": [issue]}, status, **headers)


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def ctx_of(request: HttpRequest) -> R.Ctx:
    return R.Ctx(base=base_url(request))


def token_url(request: HttpRequest) -> str:
    return base_url(request) + "/token"


def token_audiences(request: HttpRequest) -> list[str]:
    """The token endpoint's URL as this request reached it and as configured (behind a proxy
    the configured ``TRELLIS_BASE_URL`` is what clients know)."""
    configured = str(getattr(settings, "TRELLIS_BASE_URL", "")).rstrip("/")
    urls = [token_url(request)]
    if configured:
        urls.append(f"{configured}/fhir/token")
    return list(dict.fromkeys(urls))


def fhir_view(
    methods: tuple[str, ...], *, auth: bool = True
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Method check, bearer-token authentication and OperationOutcome errors for one view.

    Public as far as staff sign-in goes: a system authenticates with its SMART access token.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return outcome(
                    405,
                    "not-supported",
                    f"{request.method} is not supported here",
                    Allow=", ".join(methods),
                )
            if auth:
                header = request.headers.get("Authorization", "")
                scheme, _, token = header.partition(" ")
                caller = (
                    services.caller_for(token.strip())
                    if scheme.lower() == "bearer" and token
                    else None
                )
                if caller is None:
                    return outcome(
                        401,
                        "login",
                        "a valid bearer access token is required (SMART Backend Services)",
                        WWW_Authenticate='Bearer error="invalid_token"',
                    )
                kwargs["caller"] = caller
            try:
                return view(request, *args, **kwargs)
            except query.NotFound as exc:
                return outcome(404, "not-found", str(exc))
            except write.Unprocessable as exc:
                return outcome(422, "invalid", exc.message, exc.expression)
            except InvalidInput as exc:
                return outcome(400, "invalid", exc.message, exc.field)
            except Exception:
                # Logged with its traceback; the client gets an OperationOutcome, not a page.
                log.exception("FHIR request failed: %s %s", request.method, request.path)
                return outcome(500, "exception", "the server could not answer this request")

        return csrf_exempt(public_view(wrapped))

    return decorate


def _forbidden(rtype: str, right: str) -> HttpResponse:
    return outcome(403, "forbidden", f"the token's scopes do not allow {right} of {rtype}")


# --- discovery -------------------------------------------------------------------------------


@fhir_view(("GET",), auth=False)
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: generated from the catalog, so it lists what is served."""
    base = base_url(request)
    resources = []
    for spec in catalog.TYPES.values():
        interactions = [{"code": "read"}, {"code": "search-type"}]
        if spec.name == "QuestionnaireResponse":
            interactions.append({"code": "create"})
        entry: dict[str, Any] = {
            "type": spec.name,
            "interaction": interactions,
            "searchParam": [
                {
                    "name": p.name,
                    "type": p.type,
                    "documentation": p.doc,
                }
                for p in (*spec.params, *catalog.COMMON_PARAMS[:2])
                if p.type in ("token", "string", "date", "reference", "uri", "number")
            ],
        }
        if spec.name == "Patient":
            entry["operation"] = [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                }
            ]
        resources.append(entry)
    # Group/{program slug}/$export: the program's patients (no Group read or search).
    resources.append(
        {
            "type": "Group",
            "documentation": "Group/{program slug}: the client's program, for $export only",
            "operation": [
                {
                    "name": "export",
                    "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                }
            ],
        }
    )
    data = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": dt.date.today().isoformat(),
        "publisher": "Trellis",
        "kind": "instance",
        "software": {"name": "Trellis", "version": __version__},
        "implementation": {"description": "Trellis FHIR R4 API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "SMART Backend Services: client credentials with a signed JWT "
                        "(RS384 or ES384)."
                    ),
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": f"{base}/token"}],
                        }
                    ],
                },
                "resource": resources,
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    },
                ],
            }
        ],
    }
    return fhir_response(R.validated(data))


@fhir_view(("GET",), auth=False)
def smart_configuration(request: HttpRequest) -> HttpResponse:
    scopes = sorted(
        {f"system/{t}.read" for t in catalog.TYPES}
        | {"system/*.read", "system/QuestionnaireResponse.write"}
    )
    return JsonResponse(
        {
            "token_endpoint": token_url(request),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(services.ALGORITHMS),
            "scopes_supported": scopes,
            "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
        }
    )


@fhir_view(("POST",), auth=False)
def token(request: HttpRequest) -> HttpResponse:
    """The SMART Backend Services token endpoint (form-encoded; OAuth error bodies)."""
    form = {
        k: request.POST.get(k, "")
        for k in ("grant_type", "scope", "client_assertion_type", "client_assertion")
    }
    try:
        body = services.issue_token(form, token_audiences(request))
        status = 200
    except OAuthError as exc:
        body = {"error": exc.error, "error_description": exc.description}
        status = exc.status
    resp = JsonResponse(body, status=status)
    resp["Cache-Control"] = "no-store"
    resp["Pragma"] = "no-cache"
    return resp


# --- read, search, create --------------------------------------------------------------------


def _params(request: HttpRequest) -> dict[str, list[str]]:
    return {k: request.GET.getlist(k) for k in request.GET}


@fhir_view(("GET", "POST"))
def type_endpoint(request: HttpRequest, rtype: str, caller: Caller) -> HttpResponse:
    spec = query.spec_for(rtype)
    if request.method == "POST":
        if rtype != "QuestionnaireResponse":
            return outcome(405, "not-supported", f"{rtype} is read-only", Allow="GET")
        if not caller.can(rtype, "write"):
            return _forbidden(rtype, "writes")
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            return outcome(400, "structure", "the body is not JSON")
        assessment = write.create_response(caller, data, request)
        res = R.questionnaire_response(assessment, ctx_of(request))
        return fhir_response(
            res, 201, Location=f"{base_url(request)}/QuestionnaireResponse/{res['id']}"
        )
    if not caller.can(spec.name, "read"):
        return _forbidden(rtype, "reads")
    return fhir_response(query.search(caller, rtype, _params(request), ctx_of(request), request))


@fhir_view(("GET",))
def instance(request: HttpRequest, rtype: str, rid: str, caller: Caller) -> HttpResponse:
    query.spec_for(rtype)
    if not caller.can(rtype, "read"):
        return _forbidden(rtype, "reads")
    return fhir_response(query.read(caller, rtype, rid, ctx_of(request), request))


# --- Bulk Data -------------------------------------------------------------------------------


def _kickoff(request: HttpRequest, caller: Caller, level: str) -> HttpResponse:
    if request.headers.get("Prefer", "").replace(" ", "").lower().find("respond-async") < 0:
        return outcome(400, "invalid", "Bulk Data export needs the header Prefer: respond-async")
    fmt = request.GET.get("_outputFormat", "application/fhir+ndjson")
    if fmt not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        return outcome(
            400, "invalid", "_outputFormat must be application/fhir+ndjson", "_outputFormat"
        )
    types = bulk.parse_types(request.GET.get("_type", ""), level)
    for t in types:
        if not caller.can(t, "read"):
            return _forbidden(t, "reads")
    since = None
    if request.GET.get("_since"):
        _, since, _ = catalog.parse_date_range(request.GET["_since"], "_since")
    job = services.create_job(
        caller, level=level, types=types, since=since, request_url=request.build_absolute_uri()
    )
    bulk.enqueue(job)
    status_url = f"{base_url(request)}/bulk-status/{job.pk}"
    return fhir_response(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": "export started",
                }
            ],
        },
        202,
        Content_Location=status_url,
    )


@fhir_view(("GET",))
def export_system(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _kickoff(request, caller, "system")


@fhir_view(("GET",))
def export_patients(request: HttpRequest, caller: Caller) -> HttpResponse:
    return _kickoff(request, caller, "patient")


@fhir_view(("GET",))
def export_group(request: HttpRequest, group_id: str, caller: Caller) -> HttpResponse:
    if group_id not in (caller.program.slug, R.program_id(caller.program), str(caller.program.pk)):
        raise query.NotFound(f"Group/{group_id} not found")
    return _kickoff(request, caller, "group")


@fhir_view(("GET", "DELETE"))
def export_status(request: HttpRequest, job_id: str, caller: Caller) -> HttpResponse:
    job = services.job_for(caller, job_id)
    if job is None or job.status == "cancelled":
        raise query.NotFound("no such export job")
    if request.method == "DELETE":
        services.cancel_job(caller, job)
        return fhir_response(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": "export cancelled",
                    }
                ],
            },
            202,
        )
    if job.status in ("queued", "running"):
        resp = HttpResponse(status=202)
        resp["X-Progress"] = job.progress or job.status
        resp["Retry-After"] = "2"
        return resp
    if job.status == "failed":
        return outcome(500, "exception", job.error or "the export failed")
    base = base_url(request)
    manifest = {
        "transactionTime": R.instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{base}/bulk-files/{job.pk}/{f.pk}", "count": f.count}
            for f in services.job_files(job)
        ],
        "error": [],
    }
    resp = JsonResponse(manifest)
    resp["Cache-Control"] = "no-store"
    return resp


@fhir_view(("GET",))
def export_file(request: HttpRequest, job_id: str, file_id: str, caller: Caller) -> HttpResponse:
    job = services.job_for(caller, job_id)
    f = services.job_file(job, file_id) if job is not None and job.status == "done" else None
    if job is None or f is None:
        raise query.NotFound("no such export file")
    bulk.audit_download(caller, job, f, request)
    resp = HttpResponse(f.content, content_type="application/fhir+ndjson")
    resp["Cache-Control"] = "no-store"
    return resp


@fhir_view(("GET", "POST", "PUT", "PATCH", "DELETE"), auth=False)
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    """Anything else under /fhir/: an OperationOutcome, not an HTML page."""
    raise query.NotFound(f"/fhir/{rest} is not served (see /fhir/metadata)")
