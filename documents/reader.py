"""`read(data, filename)`: the one entry point for files, whatever their kind.

The extension says what the sender meant; the first bytes say what the file is. Phones rename
files, mail clients append spaces, a .doc is sometimes a .docx: when the magic bytes name a format
for sure (PDF, zip, OLE, an image), they win over the extension.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from collections.abc import Callable

from documents.errors import ReadError
from documents.models import Document

__all__ = ["MAX_FILE_BYTES", "read", "read_text"]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
_IMAGES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
_KINDS = {".txt": "text", ".text": "text", ".docx": "docx", ".docm": "docx", ".html": "html", ".htm": "html",
          ".xhtml": "html", ".pdf": "pdf", ".doc": "doc", **dict.fromkeys(_IMAGES, "image")}
_UNSUPPORTED = ReadError("Chỉ nhận tệp .txt, .docx, .pdf, .html hoặc ảnh chụp văn bản (.jpg, .png, .tif, .webp).",
                         "unsupported file type")


def read(data: bytes, filename: str, *, max_chars: int = 500_000) -> Document:
    """The `Document` of a file (.txt, .docx, .html, .pdf, image); ReadError with a Vietnamese line else."""
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(f"Tệp quá lớn (tối đa {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                        f"file too large: {len(data)} bytes")
    if not data.strip():
        raise ReadError("Tệp rỗng, không có nội dung.", "empty file")
    extension = _extension(filename)
    named, sniffed = _KINDS.get(extension), _sniff(data)
    kind = sniffed or named
    if sniffed == "zip" and named == "docx":
        kind = "docx"  # a damaged or foreign zip named .docx: read_docx says what is wrong with it
    if sniffed is None and named == "html" and b"<" not in data[:4096]:
        kind = "text"  # a page saved as plain text
    if kind is None:
        kind = "text" if _looks_like_text(data) else None
    if kind is None:
        raise ReadError(_UNSUPPORTED.vi, f"unsupported file type {extension!r}")
    if kind == "doc":
        raise ReadError("Tệp .doc (Word cũ) chưa được hỗ trợ; vui lòng lưu lại thành .docx hoặc .pdf.",
                        "legacy .doc not supported")
    label = {"text": ".txt", "docx": ".docx", "html": ".html", "pdf": ".pdf"}.get(kind, extension or "ảnh")
    try:
        document = _READERS[kind](data, max_chars)
    except ReadError:
        raise
    except Exception as exc:  # a parser choking on hostile input must not crash the bot
        log.warning("reading %s failed: %r", kind, exc)
        raise ReadError(f"Tệp {label} bị hỏng, không đọc được nội dung.",
                        f"cannot parse {kind}: {exc!r}") from exc
    if not document.blocks and document.header is None:
        raise ReadError("Tệp không có nội dung văn bản.", "no text in file")
    if len(document.text()) > max_chars:
        raise _too_long(max_chars)
    return document


def read_text(text: str) -> Document:
    """A pasted text (already joined from its Telegram parts) as a `Document`."""
    from documents.text import from_text

    return from_text(text)


def _extension(filename: str) -> str:
    """"x.docx " and "x.DOCX." are a .docx: phones and mail clients leave spaces and dots behind."""
    name = os.path.basename((filename or "").strip().rstrip(". ").replace("\\", "/"))
    return os.path.splitext(name)[1].lower().strip()


def _sniff(data: bytes) -> str | None:
    """The format the first bytes prove (None when they prove nothing: text and HTML look alike)."""
    head = data[:2048]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"  # OLE2 compound file: Word 97-2003
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_word_zip(data) else "zip"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")) or (
            head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith((b"GIF8", b"{\\rtf", b"\x7fELF", b"MZ")):
        return "other"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (lowered.startswith(b"<") and b"<body" in lowered):
        return "html"
    return None


def _is_word_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return True  # a damaged Word file: read_docx says so in its own words


def _looks_like_text(data: bytes) -> bool:
    from documents.text import decode

    try:
        decode(data[:65536])
    except ReadError:
        return False
    return True


def _too_long(max_chars: int) -> ReadError:
    limit = f"{max_chars:,}".replace(",", ".")  # Vietnamese groups thousands with dots
    return ReadError(f"Văn bản quá dài (hơn {limit} ký tự), không thể xử lý.",
                     f"text longer than {max_chars} characters")


# ------------------------------------------------------------------------------------------ readers
def _text(data: bytes, max_chars: int) -> Document:
    from documents.text import decode, from_text

    if len(data) > 4 * max_chars + 16:  # UTF-8 spends at most 4 bytes a character: too long for sure
        raise _too_long(max_chars)
    text = decode(data)
    if len(text) > 2 * max_chars:  # NFC at most halves a text: fail before building blocks
        raise _too_long(max_chars)
    return from_text(text)


def _docx(data: bytes, max_chars: int) -> Document:
    from documents.docx import read_docx

    return read_docx(data)


def _html(data: bytes, max_chars: int) -> Document:
    from documents.html import read_html

    return read_html(data)


def _pdf(data: bytes, max_chars: int) -> Document:
    try:
        from documents.pdf import read_pdf
    except ImportError as exc:
        raise ReadError("Máy chủ chưa hỗ trợ đọc tệp PDF; vui lòng gửi bản .docx hoặc dán nội dung văn bản.",
                        f"documents.pdf unavailable: {exc!r}") from exc
    return read_pdf(data)


def _image(data: bytes, max_chars: int) -> Document:
    try:
        from documents.ocr import read_image
    except ImportError as exc:
        raise ReadError("Máy chủ chưa hỗ trợ đọc ảnh (nhận dạng chữ); vui lòng gửi tệp .docx, .pdf hoặc "
                        "dán nội dung văn bản.", f"documents.ocr unavailable: {exc!r}") from exc
    return read_image(data)


def _refuse(data: bytes, max_chars: int) -> Document:
    raise ReadError(_UNSUPPORTED.vi, "unsupported file type (by content)")


_READERS: dict[str, Callable[[bytes, int], Document]] = {
    "text": _text, "docx": _docx, "html": _html, "pdf": _pdf, "image": _image, "zip": _refuse, "other": _refuse,
}
