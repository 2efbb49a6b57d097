"""Readers that misbehave on purpose, and the two measured bombs, for documents.isolated.

The readers run inside the Extractor's worker processes (they are named by dotted path, resolved
there), so they must live in an importable module, not in a test function. The bombs are built by
streaming: the test process itself must never hold the 95 MB they expand to.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
import zlib
from typing import Any

from documents.models import Document

__all__ = [
    "BOMB_PARAGRAPHS",
    "BT_ET_REPEAT",
    "allocate_3gb",
    "by_name",
    "die",
    "docx_bomb",
    "grow_until_refused",
    "pdf_bomb",
    "raise_value_error",
    "raw_docx",
    "raw_pdf_text",
    "sleep_forever",
    "sleep_in_a_child",
    "spin_forever",
    "unguarded",
]

BOMB_PARAGRAPHS = 95 * 1024 * 1024 // len(b"<w:p/>")  # the measured 889 KB .docx: 95 MB of <w:p/>
BT_ET_REPEAT = 990_000  # the measured 55 KB PDF: one shared stream of `BT ET` x 990,000, 300 pages


# ------------------------------------------------------------------------------------------ readers
def allocate_3gb(data: bytes, filename: str, **_: Any) -> Document:
    """One 3 GB allocation: fails at once under a 1 GB address-space limit."""
    block = bytearray(3 * 1024 ** 3)
    return Document(warnings=[str(len(block))])


def grow_until_refused(data: bytes, filename: str, **_: Any) -> Document:
    """Memory taken 64 MB at a time and touched (as a parser building a tree would), up to 3 GB."""
    chunks = [b"x" * (64 << 20) for _ in range(48)]
    return Document(warnings=[str(len(chunks))])


def spin_forever(data: bytes, filename: str, **_: Any) -> Document:
    """Pure CPU, no allocation: only the CPU limit (or the timeout) stops it."""
    n = 0
    while True:
        n += 1


def sleep_forever(data: bytes, filename: str, **_: Any) -> Document:
    """Writes its pid to the path given as data, then waits without using CPU: only the wall-clock
    timeout stops it."""
    with open(data.decode(), "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        time.sleep(3600)


def sleep_in_a_child(data: bytes, filename: str, **_: Any) -> Document:
    """Starts a program (as OCR starts Tesseract), writes its pid to the path given as data, and
    waits for it."""
    import subprocess

    child = subprocess.Popen(["sleep", "300"])
    with open(data.decode(), "w") as handle:
        handle.write(str(child.pid))
    child.wait()
    return Document()


def die(data: bytes, filename: str, **_: Any) -> Document:
    """The worker ends abruptly (as a segfault in a C parser would)."""
    os._exit(1)


def raise_value_error(data: bytes, filename: str, **_: Any) -> Document:
    """A reader bug that is not a ReadError."""
    raise ValueError("reader bug")


def raw_docx(data: bytes, filename: str, **_: Any) -> Document:
    """python-docx with no structural guard: the 889 KB bomb becomes a 95 MB tree (2 GB measured)."""
    import docx

    paragraphs = docx.Document(io.BytesIO(data)).paragraphs
    return Document(warnings=[str(len(paragraphs))])


def raw_pdf_text(data: bytes, filename: str, **_: Any) -> Document:
    """pdfminer with no structural guard: every page interprets the shared stream again."""
    from pdfminer.high_level import extract_text

    return Document(warnings=[extract_text(io.BytesIO(data))[:100]])


def by_name(data: bytes, filename: str, **kwargs: Any) -> Document:
    """The behaviour the file's name asks for ('spin.x', 'sleep.x', 'alloc.x', 'die.x'), else
    `documents.read`: one Extractor serves a bomb and a bystander at once."""
    special = {"spin": spin_forever, "sleep": sleep_forever, "alloc": allocate_3gb, "die": die,
               "child": sleep_in_a_child}
    from documents import read

    return special.get(filename.split(".")[0], read)(data, filename, **kwargs)


def unguarded(data: bytes, filename: str, **kwargs: Any) -> Document:
    """.docx through bare python-docx, .pdf through bare pdfminer, anything else `documents.read`:
    what the bombs cost when only the worker's limits stand in their way."""
    from documents import read

    if filename.endswith(".docx"):
        return raw_docx(data, filename)
    if filename.endswith(".pdf"):
        return raw_pdf_text(data, filename)
    return read(data, filename, **kwargs)


# ------------------------------------------------------------------------------------------ bombs
def docx_bomb(paragraphs: int = BOMB_PARAGRAPHS) -> bytes:
    """A valid .docx whose document.xml is `paragraphs` empty paragraphs, written in chunks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
                       b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            chunk = b"<w:p/>" * 100_000
            for _ in range(paragraphs // 100_000):
                part.write(chunk)
            part.write(b"<w:p/>" * (paragraphs % 100_000))
            part.write(b"</w:body></w:document>")
    return out.getvalue()


def pdf_bomb(pages: int = 300, repeat: int = BT_ET_REPEAT) -> bytes:
    """`pages` pages that all draw one FlateDecode content stream of `BT ET` x `repeat`."""
    packer = zlib.compressobj(9)
    packed = b"".join(packer.compress(b"BT ET\n" * 10_000) for _ in range(repeat // 10_000))
    packed += packer.compress(b"BT ET\n" * (repeat % 10_000)) + packer.flush()
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 3 0 R >>"] * pages
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
