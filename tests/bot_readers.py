"""Readers for the bot's Extractor in tests (issue 13): they run in its worker processes, named by
dotted path, so what a test patches in its own process (OCR being absent) is patched there too."""

from __future__ import annotations

from typing import Any

from documents.models import Document

NO_OCR = "Cài Tesseract: apt-get install tesseract-ocr tesseract-ocr-vie"


def without_ocr(data: bytes, filename: str, **kwargs: Any) -> Document:
    """`documents.read` in a worker where Tesseract is reported missing (as `available()` says)."""
    import documents.ocr
    from documents import read

    documents.ocr.available = lambda: NO_OCR  # type: ignore[assignment]
    return read(data, filename, **kwargs)


def slow_by_name(data: bytes, filename: str, **kwargs: Any) -> Document:
    """`documents.read`, after a pause of as many tenths of a second as the name says ("slow15_x.txt":
    1.5 s): an album piece that takes longer to read than the merge window."""
    import re
    import time

    from documents import read

    found = re.match(r"slow(\d+)_", filename)
    if found:
        time.sleep(int(found.group(1)) / 10)
    return read(data, filename, **kwargs)
