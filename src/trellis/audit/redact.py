"""Check-in tokens never reach a log (issue 14, finding 6).

A check-in link's token is a password: whoever holds it reads the patient's check-in pages. It
appears in request paths (``/c/<token>/…``, ``/measures/c/<token>/…``), so every place that
writes a path — the audit log's ``path`` column and Python logging (Django's "Not Found: …",
waitress's errors) — goes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_PATH = re.compile(r"(?<=/c/)[^/?#\s\"']+")
REDACTED = "[token]"


def redact(text: str) -> str:
    """``text`` with every check-in token in a path replaced by ``[token]``."""
    return _TOKEN_IN_PATH.sub(REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """A logging filter (on every handler) that redacts tokens from the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        # Django attaches the request; a formatter could print it.
        if hasattr(record, "request"):
            record.request = None
        return True
