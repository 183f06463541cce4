"""De-identification rules of the network dataset (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)).

- **Pseudonyms**: keyed HMAC-SHA-256 of a record's kind and internal id with the network key
  (``TRELLIS_NETWORK_KEY``), hex; without the key they cannot be linked back or recomputed.
- **Age**: ages over 89 are aggregated into one category, written 90 (§164.514(b)(2)(i)(C)).
- **ZIP code**: the first three digits only, and ``000`` where the three-digit area holds
  20,000 people or fewer (§164.514(b)(2)(i)(B)). The restricted prefixes are HHS's list for
  the 2010 Census (HHS OCR, "Guidance Regarding Methods for De-identification", 2012, §2.4).
- **Dates**: none; days are integer offsets from the episode's first dose, plus its year.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from trellis.core.errors import InvalidInput

__all__ = ["AGE_TOP", "RESTRICTED_ZIP3", "pseudonym", "top_coded_age", "zip3"]

AGE_TOP = 90
#: 2010 Census three-digit ZIP areas with 20,000 people or fewer (HHS OCR 2012 guidance).
RESTRICTED_ZIP3 = frozenset(
    "036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893".split()
)
_ZIP = re.compile(r"(\d{3})\d{2}(-\d{4})?")


def pseudonym(key: bytes, kind: str, ident: str) -> str:
    """HMAC-SHA-256(key, "kind:ident") as 64 hex characters (RFC 2104)."""
    if len(key) < 16:
        raise InvalidInput("TRELLIS_NETWORK_KEY", "must be at least 16 bytes")
    return hmac.new(key, f"{kind}:{ident}".encode(), hashlib.sha256).hexdigest()


def top_coded_age(age: int) -> int:
    """Age in years, 90 for everyone 90 or older (Safe Harbor: ages over 89 aggregated)."""
    if age < 0:
        raise InvalidInput("age", "must not be negative")
    return min(age, AGE_TOP)


def zip3(zip_code: str | None) -> str:
    """The first three digits of a 5-digit ZIP (or ZIP+4), ``000`` for restricted areas, and
    ``000`` when unknown or malformed (nothing finer than Safe Harbor allows ever leaves)."""
    if not zip_code:
        return "000"
    match = _ZIP.fullmatch(zip_code.strip())
    if not match:
        return "000"
    prefix = match.group(1)
    return "000" if prefix in RESTRICTED_ZIP3 else prefix
