"""FHIR services: client registration, SMART Backend Services tokens and Bulk Data jobs.

Token endpoint rules (SMART App Launch 2.x, Backend Services; RFC 7523):
- ``grant_type=client_credentials``, ``client_assertion_type`` the JWT-bearer URN, a
  ``client_assertion`` JWT signed RS384 or ES384 with a key of the client's JWKS, ``iss`` =
  ``sub`` = the client id, ``aud`` = the token endpoint URL, ``exp`` at most 5 minutes ahead, a
  ``jti`` never seen before for that client (kept until the assertion expires).
- The requested scopes must all be covered by the client's registered scopes.
- The access token lives 5 minutes and is for the client's program only; only its SHA-256 hash
  is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from trellis.accounts.models import Program, Role
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.errors import InvalidInput
from trellis.fhir import scopes as scope_rules
from trellis.fhir.models import AccessToken, BulkFile, BulkJob, FhirClient, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS384", "ES384")
TOKEN_LIFETIME = dt.timedelta(minutes=5)
# An assertion may not be valid for longer than 5 minutes (SMART Backend Services).
MAX_ASSERTION_LIFETIME = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(seconds=30)


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` code, description and HTTP status (400 or 401)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


# --- clients ---------------------------------------------------------------------------------


def parse_jwks(data: Any, field: str = "--jwks") -> dict[str, Any]:
    """A JWKS with at least one public RSA or EC key usable for RS384/ES384."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise InvalidInput(field, 'must be a JWKS: {"keys": [...]} with at least one key')
    for i, key in enumerate(data["keys"]):
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise InvalidInput(field, f"key {i}: kty must be RSA or EC")
        if "d" in key:
            raise InvalidInput(field, f"key {i} is a private key: register the public key only")
        try:
            jwt.PyJWK(key, algorithm="RS384" if key["kty"] == "RSA" else "ES384")
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as exc:
            raise InvalidInput(field, f"key {i} is not a valid public key: {exc}") from None
    return {"keys": data["keys"]}


def register_client(
    user: Any,
    program: Program,
    *,
    name: str,
    scopes: str,
    jwks: dict[str, Any] | None = None,
    jwks_url: str = "",
    system: bool = False,
) -> FhirClient:
    """Register a backend client for ``program`` (admins; ``system`` for the CLI and the demo)."""
    if not system:
        require_roles(user, program, [Role.ADMIN])
    name = name.strip()
    if not name:
        raise InvalidInput("--name", "a client needs a name")
    scope_rules.parse(scopes, field="--scopes")
    if jwks is None and not jwks_url:
        raise InvalidInput("--jwks", "give the client's public keys (JWKS file or URL)")
    if jwks is not None:
        jwks = parse_jwks(jwks)
    if jwks_url and not jwks_url.startswith("https://"):
        raise InvalidInput("--jwks", "a JWKS URL must use https")
    with transaction.atomic():
        client = FhirClient.objects.create(
            client_id=secrets.token_urlsafe(18),
            program=program,
            name=name,
            jwks=jwks or {},
            jwks_url=jwks_url,
            scopes=" ".join(scopes.split()),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            action=Action.CREATE,
            actor=user if getattr(user, "is_authenticated", False) else None,
            actor_username="" if getattr(user, "is_authenticated", False) else "cli",
            program=program,
            obj=client,
            detail={"client_id": client.client_id, "scopes": client.scopes},
        )
    return client


def clients_of(user: Any, program: Program | None) -> QuerySet[FhirClient]:
    require_roles(user, program, [Role.ADMIN])
    return FhirClient.objects.filter(program=program)


def _client_keys(client: FhirClient) -> list[dict[str, Any]]:
    if client.jwks_url:
        try:
            with urllib.request.urlopen(client.jwks_url, timeout=5) as resp:  # noqa: S310 (https only)
                data = json.loads(resp.read(1_000_000))
            return list(parse_jwks(data, "jwks_url")["keys"])
        except (OSError, ValueError, InvalidInput) as exc:
            raise OAuthError(
                "invalid_client", f"the client's JWKS URL failed: {exc}", 401
            ) from None
    return list(client.jwks.get("keys", []))


# --- tokens ----------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    form: dict[str, str], token_urls: list[str], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Check a client-credentials request (module docstring) and issue an access token."""
    now = now or timezone.now()
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise OAuthError("invalid_request", "client_assertion is required")
    requested = " ".join(form.get("scope", "").split())
    if not requested:
        raise OAuthError("invalid_scope", "scope is required")
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise OAuthError("invalid_client", f"client_assertion is not a JWT: {exc}", 401) from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OAuthError("invalid_client", "client_assertion must be signed RS384 or ES384", 401)
    client_id = unverified.get("iss")
    client = FhirClient.objects.filter(client_id=str(client_id or ""), active=True).first()
    if client is None:
        raise OAuthError("invalid_client", "unknown client (iss)", 401)
    keys = [
        k
        for k in _client_keys(client)
        if (not header.get("kid") or k.get("kid") == header["kid"])
        and k.get("kty") == ("RSA" if alg == "RS384" else "EC")
    ]
    if not keys:
        raise OAuthError("invalid_client", "no key of the client matches the assertion's kid", 401)
    claims = None
    for key in keys:
        try:
            claims = jwt.decode(
                assertion,
                jwt.PyJWK(key, algorithm=alg).key,
                algorithms=[alg],
                audience=token_urls,
                issuer=client.client_id,
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iss", "sub", "aud", "jti"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_client", "client_assertion has expired", 401) from None
        except jwt.InvalidAudienceError:
            raise OAuthError(
                "invalid_client", f"client_assertion aud must be {token_urls[0]}", 401
            ) from None
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_client", f"client_assertion: {exc}", 401) from None
    if claims is None:
        raise OAuthError("invalid_client", "client_assertion signature does not verify", 401)
    if claims.get("sub") != client.client_id:
        raise OAuthError("invalid_client", "client_assertion sub must equal iss", 401)
    expires = dt.datetime.fromtimestamp(int(claims["exp"]), tz=dt.UTC)
    if expires - now > MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise OAuthError("invalid_client", "client_assertion exp is more than 5 minutes ahead", 401)
    try:
        scope_missing = scope_rules.covered(requested, client.scopes)
    except InvalidInput as exc:
        raise OAuthError("invalid_scope", exc.message) from None
    if scope_missing:
        raise OAuthError("invalid_scope", f"not allowed for this client: {' '.join(scope_missing)}")
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            UsedAssertion.objects.filter(expires_at__lt=now - CLOCK_SKEW).delete()
            UsedAssertion.objects.create(client=client, jti=str(claims["jti"]), expires_at=expires)
            AccessToken.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
            AccessToken.objects.create(
                token_hash=_hash(token),
                client=client,
                program=client.program,
                scopes=requested,
                issued_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
    except IntegrityError:
        raise OAuthError("invalid_client", "client_assertion jti was already used", 401) from None
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": int(TOKEN_LIFETIME.total_seconds()),
        "scope": requested,
    }


@dataclass(frozen=True)
class Caller:
    """The authenticated client of one API request."""

    client: FhirClient
    program: Program
    scopes: str

    @property
    def audit_name(self) -> str:
        return self.client.audit_name

    def can(self, resource_type: str, right: str) -> bool:
        return scope_rules.allows(self.scopes, resource_type, right)


def caller_for(token: str, *, now: dt.datetime | None = None) -> Caller | None:
    """The client of a bearer token, or None when the token is unknown or expired."""
    now = now or timezone.now()
    row = (
        AccessToken.objects.filter(token_hash=_hash(token), expires_at__gt=now)
        .select_related("client", "program")
        .first()
    )
    if row is None or not row.client.active:
        return None
    return Caller(client=row.client, program=row.program, scopes=row.scopes)


# --- bulk jobs -------------------------------------------------------------------------------


def create_job(
    caller: Caller, *, level: str, types: list[str], since: dt.datetime | None, request_url: str
) -> BulkJob:
    with transaction.atomic():
        job = BulkJob.objects.create(
            client=caller.client,
            program=caller.program,
            level=level,
            types=types,
            since=since,
            request_url=request_url,
            transaction_time=timezone.now(),
        )
        record(
            action=Action.EXPORT,
            actor_username=caller.audit_name,
            program=caller.program,
            obj=job,
            detail={"fhir_client": caller.client.client_id, "types": types, "level": level},
        )
    return job


def job_for(caller: Caller, job_id: str) -> BulkJob | None:
    """The caller's own job (another client's or program's job: None, answered 404)."""
    try:
        pk = uuid.UUID(job_id)
    except ValueError:  # a malformed id names no job
        return None
    return BulkJob.objects.filter(pk=pk, program=caller.program, client=caller.client).first()


def job_by_id(job_id: str) -> BulkJob | None:
    """The worker's lookup of a queued job."""
    return BulkJob.objects.filter(pk=job_id).select_related("client", "program").first()


def set_job_status(job: BulkJob, status: str, *, progress: str = "", error: str = "") -> None:
    BulkJob.objects.filter(pk=job.pk).update(
        status=status,
        progress=progress,
        error=error,
        finished_at=timezone.now() if status in ("done", "failed") else None,
    )


def store_job_file(job: BulkJob, resource_type: str, lines: list[str]) -> None:
    BulkFile.objects.create(
        job=job,
        program=job.program,
        resource_type=resource_type,
        count=len(lines),
        content="".join(line + "\n" for line in lines),
    )


def job_files(job: BulkJob) -> QuerySet[BulkFile]:
    return BulkFile.objects.filter(job=job, program=job.program)


def job_file(job: BulkJob, file_id: str) -> BulkFile | None:
    if not file_id.isdigit():
        return None
    return BulkFile.objects.filter(job=job, program=job.program, pk=int(file_id)).first()


def cancel_job(caller: Caller, job: BulkJob) -> None:
    """DELETE on the status URL: the job stops (the worker checks) and its files are removed."""
    with transaction.atomic():
        BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.CANCELLED)
        BulkFile.objects.filter(job=job, program=job.program).delete()
        record(
            action=Action.DELETE,
            actor_username=caller.audit_name,
            program=caller.program,
            obj=job,
            detail={"fhir_client": caller.client.client_id, "cancelled": True},
        )


def job_status(job: BulkJob) -> str:
    fresh = BulkJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
    return str(fresh or "")


def demo_client(program: Program, name: str) -> FhirClient | None:
    return FhirClient.objects.filter(program=program, name=name).first()


def replace_keys(client: FhirClient, jwks: dict[str, Any]) -> None:
    """New public keys for a client (key rotation); audited."""
    jwks = parse_jwks(jwks)
    with transaction.atomic():
        FhirClient.objects.filter(pk=client.pk).update(jwks=jwks, jwks_url="")
        record(
            action=Action.UPDATE,
            actor_username="system",
            program=client.program,
            obj=client,
            detail={"client_id": client.client_id, "keys": "replaced"},
        )


def program_clients(program: Program) -> QuerySet[FhirClient]:
    """The program's clients (the CLI, run by the server's operator)."""
    return FhirClient.objects.filter(program=program)
