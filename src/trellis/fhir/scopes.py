"""SMART scopes for system clients: ``system/<Type|*>.<read|write|*>`` (SMART App Launch v1) and
the v2 letters ``system/<Type|*>.<cruds>``; a token grants what its client was registered for."""

from __future__ import annotations

import re

from trellis.core.errors import InvalidInput

SCOPE_RE = re.compile(r"^system/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$")


def parse(scopes: str, field: str = "scope") -> list[tuple[str, frozenset[str]]]:
    """``(resource type or *, {"read", "write"})`` per scope; InvalidInput naming a bad one."""
    out = []
    for raw in scopes.split():
        m = SCOPE_RE.match(raw)
        if not m or not m.group(2):
            raise InvalidInput(field, f"unsupported scope {raw!r} (expected system/Type.read)")
        kind = m.group(2)
        if kind == "*":
            rights = {"read", "write"}
        elif kind in ("read", "write"):
            rights = {kind}
        else:
            rights = set()
            if "r" in kind or "s" in kind:
                rights.add("read")
            if "c" in kind or "u" in kind or "d" in kind:
                rights.add("write")
        out.append((m.group(1), frozenset(rights)))
    if not out:
        raise InvalidInput(field, "at least one scope is required")
    return out


def allows(scopes: str, resource_type: str, right: str) -> bool:
    """True when ``scopes`` grant ``right`` (read/write) on ``resource_type``."""
    return any(t in ("*", resource_type) and right in rights for t, rights in parse(scopes))


def covered(requested: str, allowed: str) -> list[str]:
    """The requested scopes that the allowed ones do not cover (empty: all covered)."""
    allowed_parsed = parse(allowed)
    missing = []
    for raw in requested.split():
        ((rtype, rights),) = parse(raw)
        ok = all(
            any(t in ("*", rtype) and right in r for t, r in allowed_parsed) for right in rights
        ) and (rtype != "*" or any(t == "*" for t, _ in allowed_parsed))
        if not ok:
            missing.append(raw)
    return missing
