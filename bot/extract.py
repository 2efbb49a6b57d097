"""What files the bot takes, and reading one into a `Document` through the `documents` package.

This is the one place that decides what the bot accepts (by extension, else by the MIME type
Telegram reports) and words the replies about it; the readers themselves (encodings, zip bombs, PDF
layout, OCR) live in `documents`. Every path ends in a Document or in `ReadError` (`.vi` for the
user, `.en` for the log), never another exception: files come from strangers.
"""

from __future__ import annotations

import logging
import os
import unicodedata

import documents
from bot.config import Settings
from bot.render import esc
from documents import Document
from documents.errors import ReadError
from documents.isolated import TOO_COMPLEX

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_FILE_BYTES",
    "SUPPORTED_EXTENSIONS",
    "ExtractError",
    "accepted_name",
    "clean_name",
    "is_image",
    "read_error_message",
    "read_file",
    "read_timeout",
    "too_large_message",
    "unsupported_message",
]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
SUPPORTED_EXTENSIONS = (".txt", ".docx", ".pdf", ".html", ".htm", *IMAGE_EXTENSIONS)
# A file sent without an extension (or with a wrong one) still has a MIME type from the client.
_MIME_EXTENSIONS = {
    "text/plain": ".txt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/pdf": ".pdf",
    "text/html": ".html",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/webp": ".webp",
}

ExtractError = ReadError  # the name the bot used before `documents` existed


def clean_name(name: str | None) -> str:
    """A file name as it is read: "x.docx " is a .docx (phones and mail clients leave trailing
    spaces, a no-break space, a zero-width mark or Windows' trailing dot in names)."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(" " if ch.isspace() else ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.strip().rstrip(". ").strip()


def _extension(name: str) -> str:
    return os.path.splitext(os.path.basename(clean_name(name)))[1].lower()


def accepted_name(file_name: str | None, mime_type: str | None = None) -> str | None:
    """The name to read the file under (its own, cleaned, or one with the extension its MIME type
    implies), or None when the bot does not take this kind of file."""
    name = clean_name(file_name)
    if _extension(name) in SUPPORTED_EXTENSIONS:
        return name
    if _extension(name) == ".doc":
        return None  # a legacy Word file says .doc and its MIME type is msword: refused either way
    implied = _MIME_EXTENSIONS.get((mime_type or "").split(";")[0].strip().lower())
    if implied is None:
        return None
    return f"{name or 'tep'}{implied}"


def is_image(name: str) -> bool:
    """Images are read by OCR: the bot checks Tesseract is there before downloading one."""
    return _extension(name) in IMAGE_EXTENSIONS


def unsupported_message(display_name: str) -> str:
    """The reply (HTML-escaped name inside) to a file the bot does not read."""
    return (
        f"Bot chưa đọc được tệp «{esc(display_name)}». Hãy gửi tệp .docx, .pdf, .txt hoặc ảnh chụp văn bản "
        "(.jpg, .png) (tệp .doc cũ: mở bằng Word và lưu lại thành .docx)."
    )


def too_large_message(display_name: str, size: int) -> str:
    """The reply to a file over what a bot may download, sent before trying to download it."""
    mb = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return (f"Tệp «{esc(display_name)}» quá lớn ({mb} MB); bot chỉ nhận tệp tối đa "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB.")


def read_timeout(name: str, settings: Settings) -> float:
    """Wall-clock seconds a worker may spend on this file: images and PDFs may be read by OCR
    (a scan is a PDF too, and nothing cheaper than reading it says so), the rest far less."""
    return settings.ocr_timeout if is_image(name) or _extension(name) == ".pdf" else settings.extract_timeout


def read_error_message(display_name: str, exc: ReadError) -> str:
    """The reply (HTML) to a file that could not be read: "too complex or too large" when a worker
    ran out of memory, CPU or time (the file may be fine, only beyond what the bot reads), else
    the reader's own reason (damaged, encrypted, not a report...)."""
    if exc.vi == TOO_COMPLEX:
        return (f"Tệp «{esc(display_name)}» quá phức tạp hoặc quá lớn: bot đã dừng đọc khi vượt giới hạn bộ nhớ "
                "hoặc thời gian xử lý. Vui lòng gửi bản .docx hoặc .pdf đơn giản hơn, chia nhỏ tệp, hoặc dán nội "
                "dung văn bản.")
    return f"Không đọc được tệp «{esc(display_name)}»: {esc(exc.vi)}"


def read_file(name: str, content: bytes, *, max_chars: int = 500_000) -> Document:
    """`documents.read`, with anything but ReadError turned into one (a reader bug must not
    reach the user as a crash)."""
    try:
        return documents.read(content, name, max_chars=max_chars)
    except ReadError:
        raise
    except Exception as exc:
        log.exception("reading %r failed", name)
        extension = _extension(name) or "này"
        raise ReadError(f"Tệp {extension} bị hỏng, không đọc được nội dung.",
                        f"reader failed on {name!r}: {exc!r}") from exc
