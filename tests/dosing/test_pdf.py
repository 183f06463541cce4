"""The minimal PDF writer produces a structurally valid file whose text reads back."""

from __future__ import annotations

import re

from trellis.dosing.pdf import text_pdf


def pdf_text(data: bytes) -> str:
    """Check the header, cross-reference offsets and trailer; return the shown text."""
    assert data.startswith(b"%PDF-1.4\n")
    assert data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\n(\d+)\n", data).group(1))  # type: ignore[union-attr]
    assert data[start:].startswith(b"xref\n")
    count = int(re.search(rb"xref\n0 (\d+)\n", data).group(1))  # type: ignore[union-attr]
    entries = re.findall(rb"(\d{10}) 00000 n \n", data[start:])
    assert len(entries) == count - 1
    for number, offset in enumerate(entries, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj\n" % number)
    lines = re.findall(rb"\(((?:[^\\)]|\\.)*)\) Tj", data)
    return "\n".join(re.sub(rb"\\(.)", rb"\1", line).decode("cp1252") for line in lines)


def test_text_reads_back_with_escapes() -> None:
    text = pdf_text(text_pdf(["Hello (world)", "back\\slash", "BP 120/80 — ok"]))
    assert text.splitlines() == ["Hello (world)", "back\\slash", "BP 120/80 — ok"]


def test_long_documents_paginate_and_long_lines_wrap() -> None:
    data = text_pdf([f"line {n} " + "x" * 150 for n in range(80)])
    assert b"/Count 4" in data or b"/Count 3" in data
    text = pdf_text(data)
    assert "line 79" in text
    assert all(len(line) <= 100 for line in text.splitlines())
