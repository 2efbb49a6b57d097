"""Text out of the files users send: .txt, .docx, .pdf.

Files come from strangers, so every path ends either in text or in ExtractError carrying a one-line
Vietnamese message for the user (.vi) and an English one for the log (.en); never another exception.
The checks that protect the process (size, zip bomb, page count) run before the parsers see the bytes.
"""

from __future__ import annotations

import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator

__all__ = ["MAX_FILE_BYTES", "ExtractError", "extract_document"]

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
MAX_PDF_PAGES = 300
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024  # all members of a .docx together, as declared in the zip
MAX_ZIP_RATIO = 200  # a large member compressed more than this is a bomb, not a document
_RATIO_MIN_SIZE = 5 * 1024 * 1024

_VIETNAMESE = set(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
)
_VIETNAMESE_RE = re.compile(f"[{''.join(sorted(_VIETNAMESE))}]")
_PUNCTUATION_RE = re.compile("[“”‘’–—…•·«»°§©®€№±×÷²³½¼¾]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls except \t \n \v \f \r


class ExtractError(Exception):
    """A file we cannot turn into text; .vi is shown to the user, .en goes to the log."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en


def extract_document(file_name: str, content: bytes, *, max_chars: int = 500_000) -> str:
    """Return the text of a .txt, .docx or .pdf file (NFC, \\n line ends); ExtractError otherwise."""
    if len(content) > MAX_FILE_BYTES:
        raise ExtractError(f"Tệp quá lớn (tối đa {MAX_FILE_BYTES // (1024 * 1024)} MB).",
                           f"file too large: {len(content)} bytes")
    if not content.strip():
        raise ExtractError("Tệp rỗng, không có nội dung.", "empty file")
    extension = os.path.splitext(os.path.basename(file_name or ""))[1].lower()
    readers: dict[str, Callable[[bytes, int], str]] = {".txt": _read_txt, ".docx": _read_docx,
                                                       ".pdf": _read_pdf}
    reader = readers.get(extension)
    if reader is None:
        if extension == ".doc":
            raise ExtractError("Tệp .doc (Word cũ) chưa được hỗ trợ; vui lòng lưu lại thành .docx hoặc .pdf.",
                               "legacy .doc not supported")
        raise ExtractError("Chỉ nhận tệp .txt, .docx hoặc .pdf.", f"unsupported file type {extension!r}")
    try:
        text = reader(content, max_chars)
    except ExtractError:
        raise
    except Exception as exc:  # a parser choking on hostile input must not crash the bot
        log.warning("extract %s failed: %r", extension, exc)
        raise ExtractError(f"Tệp {extension} bị hỏng, không đọc được nội dung.",
                           f"cannot parse {extension}: {exc!r}") from exc
    text = _normalise(text)
    if not text.strip():
        raise ExtractError("Tệp không có nội dung văn bản.", "no text in file")
    _check_length(text, max_chars)
    return text


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_length(text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise _too_long(max_chars)


def _too_long(max_chars: int) -> ExtractError:
    limit = f"{max_chars:,}".replace(",", ".")  # Vietnamese groups thousands with dots
    return ExtractError(f"Văn bản quá dài (hơn {limit} ký tự), không thể xử lý.",
                        f"text longer than {max_chars} characters")


# ---------------------------------------------------------------------------------------------- .txt
def _read_txt(content: bytes, max_chars: int) -> str:
    text = _decode(content)
    if len(text) > 2 * max_chars:  # NFC at most halves a text (base + combining mark): fail before it
        raise _too_long(max_chars)
    if len(_CONTROLS.findall(text)) > max(2, len(text) // 200):
        raise ExtractError("Tệp .txt chứa dữ liệu nhị phân, không phải văn bản.", "binary data in .txt")
    return text


def _decode(content: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM or NUL pattern), else Windows-1258 if it reads as Vietnamese."""
    boms = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
            (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
    for bom, encoding in boms:
        if content.startswith(bom):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ExtractError("Tệp văn bản bị lỗi mã hóa, không đọc được.",
                                   f"invalid {encoding} after BOM") from exc
    utf16 = _utf16_without_bom(content)
    if utf16 is not None:
        return utf16
    if b"\x00" in content:
        raise ExtractError("Tệp .txt chứa dữ liệu nhị phân, không phải văn bản.", "NUL bytes in .txt")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", content.decode("cp1258"))
    except UnicodeDecodeError:
        text = ""
    if text and _looks_vietnamese(text):
        return text
    raise ExtractError("Không nhận diện được bảng mã của tệp (hỗ trợ UTF-8, UTF-16, Windows-1258).",
                       "unknown text encoding")


def _utf16_without_bom(content: bytes) -> str | None:
    """UTF-16 text has NUL as the high byte of most characters (ASCII, Latin-1): on one side only."""
    sample = content[:8192]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    encoding = "utf-16-le" if odd > 0.3 and even < 0.05 else "utf-16-be" if even > 0.3 and odd < 0.05 else None
    if encoding is None:
        return None
    try:
        return content[: len(content) // 2 * 2].decode(encoding)
    except UnicodeDecodeError:
        return None


def _looks_vietnamese(text: str) -> bool:
    """After cp1258 decoding, real Vietnamese gives Vietnamese letters; binary gives symbol soup."""
    non_ascii = len(_NON_ASCII.findall(text))
    if not non_ascii:
        return False
    vietnamese = len(_VIETNAMESE_RE.findall(text))
    expected = vietnamese + len(_PUNCTUATION_RE.findall(text))
    return vietnamese > 0 and expected / non_ascii >= 0.9


# ---------------------------------------------------------------------------------------------- .docx
def _read_docx(content: bytes, max_chars: int) -> str:
    if not content.startswith(b"PK\x03\x04"):
        raise ExtractError("Tệp không phải là tài liệu Word (.docx) hợp lệ.", "not a zip file (.docx)")
    _check_zip(content)
    import docx  # python-docx; imported here so the bot starts without paying for it

    document = docx.Document(io.BytesIO(content))
    parts: list[str] = []
    size = 0
    for block in _docx_blocks(document):
        parts.append(block)
        size += len(block) + 1
        if size > max_chars:
            raise _too_long(max_chars)
    return "\n".join(parts)


def _check_zip(content: bytes) -> None:
    """Refuse zip bombs from the central directory, before python-docx inflates anything.

    CPython's zipfile never inflates a member past its declared size (it fails the CRC instead), so
    the declared sizes checked here bound the memory python-docx can use.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ExtractError("Tệp Word bị hỏng, không đọc được.", f"bad zip: {exc}") from exc
    total = sum(member.file_size for member in members)
    bomb = len(members) > MAX_ZIP_MEMBERS or total > MAX_ZIP_UNCOMPRESSED or any(
        member.file_size > _RATIO_MIN_SIZE and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if bomb:
        raise ExtractError("Tệp .docx có cấu trúc bất thường (dung lượng giải nén quá lớn), không xử lý.",
                           f"zip bomb suspected: {len(members)} members, {total} bytes uncompressed")
    names = {member.filename for member in members}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise ExtractError("Tệp không phải là tài liệu Word (.docx) hợp lệ.", "zip without word/document.xml")


def _docx_blocks(document: object) -> Iterator[str]:
    """Paragraphs and table rows in document order; a row becomes "cell | cell | cell"."""
    from docx.table import Table

    for block in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(block, Table):
            yield from _table_rows(block)
        elif block.text.strip():
            yield block.text


def _table_rows(table: object) -> Iterator[str]:
    from docx.table import Table

    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                continue
            seen.add(id(cell._tc))
            texts: list[str] = []
            for inner in cell.iter_inner_content():
                if isinstance(inner, Table):
                    texts.extend(_table_rows(inner))
                elif inner.text.strip():
                    texts.append(inner.text.strip())
            cells.append(" ".join(texts))
        if any(cells):
            yield " | ".join(cells)


# ---------------------------------------------------------------------------------------------- .pdf
def _read_pdf(content: bytes, max_chars: int) -> str:
    if b"%PDF-" not in content[:1024]:
        raise ExtractError("Tệp không phải là PDF hợp lệ.", "no %PDF- header")
    if b"%%EOF" not in content[-2048:]:
        # pypdf would rebuild a truncated file and hand back part of the text; better to say so
        raise ExtractError("Tệp PDF bị hỏng hoặc không đầy đủ, không đọc được.", "truncated PDF (no %%EOF)")
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise ExtractError("Tệp PDF bị hỏng, không đọc được.", f"cannot open PDF: {exc!r}") from exc
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # an empty user password is common and harmless
        except Exception:
            opened = False
        if not opened:
            raise ExtractError("Tệp PDF được đặt mật khẩu, không đọc được.", "encrypted PDF")
    try:
        pages = reader.pages
        count = len(pages)
    except Exception as exc:
        raise ExtractError("Tệp PDF bị hỏng, không đọc được.", f"cannot read PDF pages: {exc!r}") from exc
    if count == 0:
        raise ExtractError("Tệp PDF không có trang nào.", "PDF without pages")
    if count > MAX_PDF_PAGES:
        raise ExtractError(f"Tệp PDF quá dài (tối đa {MAX_PDF_PAGES} trang).", f"PDF with {count} pages")
    texts: list[str] = []
    size = 0
    for page in pages:
        text = page.extract_text() or ""
        texts.append(text)
        size += len(text)
        if size > max_chars:
            raise _too_long(max_chars)
    text = "\n\n".join(t.strip("\n") for t in texts)
    if not text.strip():
        raise ExtractError("Tệp PDF không có lớp văn bản (có thể là bản quét); hệ thống không hỗ trợ OCR.",
                           "PDF without a text layer (OCR not supported)")
    return text
