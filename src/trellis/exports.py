"""The one CSV writer: every CSV Trellis writes goes through it (issue 14, finding 8).

A spreadsheet opens a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula, so text someone typed (a username tried at sign-in, a note on a
REMS form) could run when an admin opens the export (OWASP "CSV Injection"). Text cells starting
with one of those characters get a leading apostrophe, which spreadsheets show as text and do not
evaluate. Numbers (``int``, ``float``, ``Decimal``) are written as they are: a negative number is
not a formula. ``tests/test_csv_exports.py`` fails if a module writes CSV any other way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet should see it: text that could start a formula is quoted."""
    if value is None or isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise`."""

    def __init__(self, out: Any, **fmtparams: Any) -> None:
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Sequence[Any]) -> Any:
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose every value goes through :func:`neutralise`."""

    def __init__(self, out: Any, fieldnames: Sequence[str], **fmtparams: Any) -> None:
        self._writer = csv.DictWriter(out, fieldnames=fieldnames, **fmtparams)

    def writeheader(self) -> Any:
        return self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._writer.writerow({k: neutralise(v) for k, v in row.items()})
