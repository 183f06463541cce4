"""A minimal, valid text-only PDF writer (no PDF library is installed).

One font (Helvetica, WinAnsi encoding), A4/Letter-agnostic US Letter pages, lines of text
top to bottom, a new page when one is full. Enough for a printable REMS form export; the
objects, cross-reference table and trailer follow the PDF 1.4 specification (ISO 32000-1 §7.5).
"""

from __future__ import annotations

PAGE_WIDTH = 612  # US Letter, points
PAGE_HEIGHT = 792
MARGIN = 54
FONT_SIZE = 10
LEADING = 14
MAX_CHARS = 95


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        while len(line) > MAX_CHARS:
            cut = line.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 20 else MAX_CHARS
            out.append(line[:cut])
            line = "    " + line[cut:].lstrip()
        out.append(line)
    return out


#: A line starting with this marker is printed bold (a heading), without the marker.
BOLD = "## "
#: A line equal to this draws a horizontal rule (a box edge or signature line).
RULE = "----"


def text_pdf(lines: list[str], title: str = "Trellis") -> bytes:
    """A PDF document showing ``lines`` of text, paginated; ``## `` lines are bold headings
    and ``----`` lines horizontal rules."""
    per_page = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
    wrapped = _wrap(lines) or [""]
    pages = [wrapped[i : i + per_page] for i in range(0, len(wrapped), per_page)]
    objects: list[bytes] = []  # object n is objects[n - 1]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"")  # pages tree, filled in below
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for page_lines in pages:
        ops = [b"BT", f"/F1 {FONT_SIZE} Tf {LEADING} TL".encode()]
        ops.append(f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td".encode())
        rules: list[int] = []
        for n, line in enumerate(page_lines):
            if line == RULE:
                rules.append(PAGE_HEIGHT - MARGIN - n * LEADING + LEADING // 3)
                ops.append(b"T*")
            elif line.startswith(BOLD):
                ops.append(f"/F2 {FONT_SIZE + 1} Tf".encode())
                ops.append(b"(" + _escape(line[len(BOLD) :]) + b") Tj T*")
                ops.append(f"/F1 {FONT_SIZE} Tf".encode())
            else:
                ops.append(b"(" + _escape(line) + b") Tj T*")
        ops.append(b"ET")
        for y in rules:
            ops.append(f"0.5 w {MARGIN} {y} m {PAGE_WIDTH - MARGIN} {y} l S".encode())
        stream = b"\n".join(ops)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_no = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, content_no)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    objects.append(b"<< /Title (" + _escape(title) + b") /Producer (Trellis) >>")
    info_no = len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        info_no,
        xref,
    )
    return bytes(out)
