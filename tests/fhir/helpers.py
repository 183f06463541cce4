"""FHIR test helpers: key pairs, client registration and signed client assertions."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B import get_fhir_model_class

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class KeyPair:
    def __init__(self, kind: str = "EC", kid: str = "k1") -> None:
        self.kid = kid
        if kind == "EC":
            self.alg = "ES384"
            self.private = ec.generate_private_key(ec.SECP384R1())
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.alg = "RS384"
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": kid, "alg": self.alg})
        self.jwks = {"keys": [jwk]}

    @property
    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def assertion(self, client_id: str, aud: str, **over: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "exp": now + 240,
            "jti": str(uuid.uuid4()),
            **over,
        }
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.kid})


def token_form(assertion: str, scope: str = "system/*.read") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


def assert_valid(resource: dict[str, Any]) -> None:
    """Every resource the API returns validates with fhir.resources (R4B models)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def phq9_response(patient_id: str, answers: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "Questionnaire/phq9",
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": "2026-03-02T10:00:00-05:00",
        "item": [
            {"linkId": str(i + 1), "answer": [{"valueInteger": v}]} for i, v in enumerate(answers)
        ],
        **extra,
    }
