"""Demo: one example FHIR client for the demo program, so a newcomer can call the API at once.

Its private key is generated here and printed once by ``trellis serve --demo`` (``make demo``);
nothing is printed outside demo mode.
"""

from __future__ import annotations

import json
from typing import Any

from trellis.web.demo import demo_seeder

DEMO_CLIENT_NAME = "Example EHR (synthetic demo)"
DEMO_SCOPES = "system/*.read system/QuestionnaireResponse.write"
# Filled by the seeder; read by the demo command to print once.
CREATED: dict[str, str] = {}


def new_key_pair() -> tuple[str, dict[str, Any]]:
    """A fresh ES384 key: (private key PEM, public JWKS)."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "demo-key-1", "alg": "ES384", "use": "sig"})
    return pem, {"keys": [jwk]}


@demo_seeder(40)
def seed_fhir_client(ctx: Any) -> None:
    """Register the example client once; on every demo start give it a fresh key, whose private
    half is printed once (``print_demo_client``) and never stored."""
    from trellis.fhir import services

    pem, jwks = new_key_pair()
    client = services.demo_client(ctx.program, DEMO_CLIENT_NAME)
    if client is None:
        client = services.register_client(
            None, ctx.program, name=DEMO_CLIENT_NAME, scopes=DEMO_SCOPES, jwks=jwks, system=True
        )
        ctx.created["fhir_clients"] = ctx.created.get("fhir_clients", 0) + 1
    else:
        services.replace_keys(client, jwks)
    CREATED.clear()
    CREATED.update({"client_id": client.client_id, "private_key": pem, "scopes": client.scopes})


def print_demo_client(base_url: str) -> None:
    """Print the demo client's id and private key (demo mode only; the key is not kept)."""
    if "private_key" not in CREATED:
        return
    print("\nFHIR API (synthetic demo): an example SMART Backend Services client")
    print(f"  FHIR base:      {base_url}/fhir")
    print(f"  token endpoint: {base_url}/fhir/token")
    print(f"  client_id:      {CREATED['client_id']}")
    print(f"  scopes:         {CREATED['scopes']}")
    print("  private key (ES384, kid demo-key-1; printed once, save it as demo-fhir-key.pem):")
    print(CREATED["private_key"])
    CREATED.pop("private_key", None)
