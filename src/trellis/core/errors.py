"""Domain errors shared by the pure core, the services, the web layer and the CLI.

Each carries a message a person can act on. The web layer renders them as a form error, an htmx
fragment, a JSON problem or a FHIR OperationOutcome; the CLI prints them as one line and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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


@dataclass(frozen=True)
class FileProblem:
    """One problem in one data file (a protocol track, a guide): file, field and problem."""

    file: str
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.problem}"


class FileInvalid(InvalidInput):
    """A data file failed validation; ``errors`` lists every problem found.

    Raised as an :class:`InvalidInput` whose field is the file name, so that the CLI prints the
    first problem as one line (``iv-trd.yaml: doses.count: …``).
    """

    def __init__(self, errors: Sequence[FileProblem]) -> None:
        if not errors:
            raise ValueError(f"{type(self).__name__} needs at least one error")
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.file, f"{first.field}: {first.problem}{more}")
        self.errors: tuple[FileProblem, ...] = tuple(errors)


class NotAllowed(TrellisError):
    """The acting person may not do this."""


class Conflict(TrellisError):
    """The request is valid but clashes with the current state (e.g. a signed record)."""
