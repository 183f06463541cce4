"""Domain errors shared by the pure core, the services, the web layer and the CLI.

Each carries a message a person can act on. The web layer renders them as a form error, an htmx
fragment, a JSON problem or a FHIR OperationOutcome; the CLI prints them as one line and exits 2.
"""

from __future__ import annotations


class TrellisError(Exception):
    """Base class of every error Trellis raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(TrellisError):
    """Input from a person or a file is wrong; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class NotAllowed(TrellisError):
    """The acting person may not do this."""


class Conflict(TrellisError):
    """The request is valid but clashes with the current state (e.g. a signed record)."""
