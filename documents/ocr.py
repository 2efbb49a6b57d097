"""Scans and photos -> `Document` through Tesseract (Vietnamese data), run as a subprocess.

Officials often send the signed paper: a scanned PDF or a phone photo of a page. Tesseract's words
come with boxes (TSV output), so the page is laid out by the same rules as a PDF text layer
(`documents.pdf.assemble`: wrapped lines joined, page numbers dropped, the two-column header split).
Recognised text is NFC-normalised and only confusions that are certain in Vietnamese are fixed (the
Icelandic "Ð" for "Đ", ligatures); figures are never guessed, so every OCR document carries a warning
that its numbers must be checked against the paper.

Bounds, because images come from strangers: pixels are checked from the header before anything is
decoded (> 60 Mpx refused, Pillow's bomb check as errors), images are re-encoded by Pillow so
Tesseract only ever reads our own PNG, each page has a wall-clock timeout, and at most 30 pages are
recognised. Measured on this machine (2 cores): a 300 dpi A4 page takes ~2 s of one core.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any

from documents.errors import ReadError
from documents.models import Document
from documents.pdf import OCR_WARNING, PageLayout, Word, assemble
from documents.pdf import Line as _Line

__all__ = ["MAX_IMAGE_PIXELS", "MAX_OCR_PAGES", "available", "ocr_pdf_pages", "pdf_page_layouts", "read_image"]

log = logging.getLogger(__name__)

MAX_OCR_PAGES = 30
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000  # a 48 Mpx phone photo passes; a decompression bomb does not
MAX_RECOGNISED_PIXELS = 16_000_000  # larger images are scaled down: A4 at 300 dpi is 8.7 Mpx
MIN_LONG_SIDE = 2_000  # smaller images (screenshots) are scaled up: Tesseract wants ~30 px letters
PAGE_TIMEOUT = 120.0  # seconds of wall clock per page (Tesseract or pdftoppm); ~2 s is usual
RENDER_DPI = 300
MAX_RENDER_PIXELS = 40_000_000  # a page with a huge MediaBox is rendered at a lower resolution
TESSERACT_PSM = "4"  # "one column of text of variable sizes": measured best on rendered reports
_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF", "MPO"}
_EXACT_FIXES = str.maketrans({"Ð": "Đ", "ð": "đ", "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "\u00a0": " "})
_INSTALL = ("Máy chủ bot chưa cài chức năng nhận dạng chữ trong ảnh (OCR). Quản trị viên cài Tesseract: "
            "apt-get install tesseract-ocr tesseract-ocr-vie")
_INSTALL_VIE = ("Tesseract trên máy chủ bot chưa có dữ liệu tiếng Việt. Quản trị viên cài: "
                "apt-get install tesseract-ocr-vie")


def available() -> str | None:
    """None when Tesseract and its Vietnamese data are installed; else how to install them.
    Looked up at every call, so installing Tesseract needs no restart."""
    exe = shutil.which("tesseract")
    if exe is None:
        return _INSTALL
    try:
        listed = subprocess.run([exe, "--list-langs"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return _INSTALL
    langs = (listed.stdout + listed.stderr).decode("utf-8", "replace").split()
    return None if "vie" in langs else _INSTALL_VIE


# ============================================================================================ images
def read_image(data: bytes) -> Document:
    """A photo or scan (.jpg/.png/.tif/.webp bytes) as a Document; every page of a TIFF, up to 30."""
    from documents.structure import build

    missing = available()
    if missing is not None:
        raise ReadError(missing, "OCR unavailable (tesseract or vie data missing)")
    frames, notes = _open_frames(data)
    pages: list[PageLayout] = []
    with tempfile.TemporaryDirectory(prefix="hoinghi-ocr-") as tmp:
        for number, frame in enumerate(frames, 1):
            path = os.path.join(tmp, f"page-{number}.png")
            frame.save(path, format="PNG")
            result = _recognise(path, number, scale=1.0, size=(float(frame.width), float(frame.height)))
            if isinstance(result, str):
                notes.append(f"Trang {number}: {result}" if len(frames) > 1 else result)
            else:
                pages.append(result)
    blocks = assemble(pages)
    if not blocks:
        raise ReadError("Không nhận dạng được chữ nào trong ảnh (ảnh mờ, nghiêng hoặc không có chữ).",
                        f"OCR found no text ({'; '.join(notes) or 'empty'})")
    doc = build(blocks, source="ocr")
    doc.ocr = True
    doc.warnings = [OCR_WARNING, *doc.warnings, *notes]
    return doc


def _open_frames(data: bytes) -> tuple[list[Any], list[str]]:
    """Decoded, upright, grey pages of an image file, refused before decoding when too large."""
    from PIL import Image, ImageOps

    if len(data) > MAX_IMAGE_BYTES:
        raise ReadError(f"Tệp ảnh quá lớn (tối đa {MAX_IMAGE_BYTES // (1024 * 1024)} MB).",
                        f"image of {len(data)} bytes")
    notes: list[str] = []
    frames: list[Any] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in _FORMATS:
                raise ReadError("Định dạng ảnh không được hỗ trợ (nhận .jpg, .png, .tif, .webp).",
                                f"image format {image.format}")
            for index in range(MAX_OCR_PAGES + 1):
                try:
                    image.seek(index)
                except EOFError:
                    break
                if index == MAX_OCR_PAGES:
                    notes.append(f"Chỉ nhận dạng {MAX_OCR_PAGES} trang đầu của tệp ảnh.")
                    break
                _check_pixels(image.width, image.height)
                frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
                frames.append(_prepare(frame))
    except ReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError("Ảnh quá lớn (quá nhiều điểm ảnh), không xử lý.", f"decompression bomb: {exc}") from exc
    except Exception as exc:  # Pillow on a damaged or disguised file
        raise ReadError("Tệp ảnh bị hỏng hoặc không phải ảnh, không đọc được.", f"cannot decode image: {exc!r}") from exc
    if not frames:
        raise ReadError("Tệp ảnh không có trang nào.", "image without frames")
    return frames, notes


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS:
        raise ReadError(f"Ảnh quá lớn ({width}×{height} điểm ảnh; tối đa {MAX_IMAGE_PIXELS // 1_000_000} triệu), "
                        "không xử lý.", f"image of {width}x{height} pixels")


def _prepare(image: Any) -> Any:
    """Grey, and scaled so letters are as large as Tesseract reads best (not larger: slower)."""
    from PIL import Image

    grey = image.convert("L")
    pixels = grey.width * grey.height
    factor = 1.0
    if pixels > MAX_RECOGNISED_PIXELS:
        factor = (MAX_RECOGNISED_PIXELS / pixels) ** 0.5
    elif max(grey.size) < MIN_LONG_SIDE:
        factor = min(3.0, MIN_LONG_SIDE / max(grey.size))
    if factor != 1.0:
        grey = grey.resize((max(1, round(grey.width * factor)), max(1, round(grey.height * factor))),
                           Image.Resampling.LANCZOS)
    return grey


# =============================================================================================== PDF
def ocr_pdf_pages(data: bytes, pages: list[int]) -> list[str]:
    """The recognised text of the given 1-based pages (at most 30), one paragraph per line; a page
    that could not be recognised gives ""."""
    from documents import pdf

    missing = available()
    if missing is not None:
        raise ReadError(missing, "OCR unavailable (tesseract or vie data missing)")
    pdf._check_bytes(data)
    reader = pdf._open_pypdf(data)
    count = pdf._page_count(reader)
    todo = [n for n in pages if 1 <= n <= count][:MAX_OCR_PAGES]
    sizes = []
    for n in todo:
        box = reader.pages[n - 1].mediabox
        w, h = float(box.width), float(box.height)
        sizes.append((h, w) if int(reader.pages[n - 1].get("/Rotate", 0) or 0) % 180 else (w, h))
    layouts = pdf_page_layouts(data, todo, sizes)
    texts = {n: "" if isinstance(lay, str) else "\n".join(b.text for b in assemble([lay]) if b.text)
             for n, lay in zip(todo, layouts, strict=True)}
    return [texts.get(n, "") for n in pages]


def pdf_page_layouts(data: bytes, pages: Sequence[int], sizes: Sequence[tuple[float, float]]
                     ) -> list[PageLayout | str]:
    """Render each page with pdftoppm and recognise it; words in PDF points (top-left origin), so
    they sit where pdfplumber's would. A page that fails gives a Vietnamese reason instead."""
    if shutil.which("pdftoppm") is None:
        reason = "chưa cài pdftoppm để đọc trang quét (quản trị viên cài: apt-get install poppler-utils)."
        return [reason for _ in pages]
    out: list[PageLayout | str] = []
    with tempfile.TemporaryDirectory(prefix="hoinghi-ocr-") as tmp:
        source = os.path.join(tmp, "in.pdf")
        with open(source, "wb") as fh:
            fh.write(data)
        for number, (width, height) in zip(pages, sizes, strict=True):
            dpi = RENDER_DPI
            pixels = (width / 72 * dpi) * (height / 72 * dpi)
            if pixels > MAX_RENDER_PIXELS:
                dpi = max(36, int(dpi * (MAX_RENDER_PIXELS / pixels) ** 0.5))
            prefix = os.path.join(tmp, f"page-{number}")
            command = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", str(number), "-l",
                       str(number), source, prefix]
            try:
                subprocess.run(command, capture_output=True, timeout=PAGE_TIMEOUT, check=True)
            except subprocess.TimeoutExpired:
                out.append("hiển thị trang quá lâu, bỏ qua.")
                continue
            except (OSError, subprocess.CalledProcessError) as exc:
                log.warning("pdftoppm page %d failed: %r", number, exc)
                out.append("không hiển thị được trang, bỏ qua.")
                continue
            out.append(_recognise(prefix + ".png", number, scale=72 / dpi, size=(width, height)))
    return out


# ========================================================================================= Tesseract
def _recognise(path: str, number: int, *, scale: float, size: tuple[float, float]) -> PageLayout | str:
    """Tesseract on one PNG -> the page's lines, coordinates multiplied by `scale`."""
    command = ["tesseract", path, "stdout", "-l", "vie", "--psm", TESSERACT_PSM, "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # threads only slow it down on a shared 2-core box
    try:
        done = subprocess.run(command, capture_output=True, timeout=PAGE_TIMEOUT, check=True, env=env)
    except subprocess.TimeoutExpired:
        return "nhận dạng quá lâu, bỏ qua."
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("tesseract page %d failed: %r", number, exc)
        return "không nhận dạng được."
    lines = _tsv_lines(done.stdout.decode("utf-8", "replace"), number, scale)
    return PageLayout(number, size[0], size[1], lines, ocr=True, gap_slack=0.6)


def fix_text(text: str) -> str:
    """NFC and the substitutions that are certain in Vietnamese; figures are left as recognised."""
    return unicodedata.normalize("NFC", text).translate(_EXACT_FIXES).strip()


def _tsv_lines(tsv: str, number: int, scale: float) -> list[_Line]:
    """Tesseract's word rows grouped by its own (block, paragraph, line) numbering."""
    grouped: dict[tuple[int, int, int], list[tuple[int, int, int, int, str]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = fix_text(cols[11])
        if not text:
            continue
        try:
            key = (int(cols[2]), int(cols[3]), int(cols[4]))
            left, top, width, height = (int(c) for c in cols[6:10])
        except ValueError:
            continue
        grouped.setdefault(key, []).append((left, top, width, height, text))
    if not grouped:
        return []
    heights = {key: max(t + h for _, t, _, h, _ in ws) - min(t for _, t, _, _, _ in ws) for key, ws in grouped.items()}
    typical = statistics.median(heights.values())
    lines: list[_Line] = []
    for key, ws in grouped.items():
        # a line's box runs from its highest diacritic to its lowest descender (~1.25 font sizes),
        # so it varies with the letters: one size for the page, unless the type is clearly larger
        height = heights[key] if heights[key] > 1.4 * typical else typical
        size = min(height, 2.5 * typical) * 0.8 * scale
        top = min(t for _, t, _, _, _ in ws) * scale
        bottom = max(t + h for _, t, _, h, _ in ws) * scale
        words = [Word(text, left * scale, (left + width) * scale, top, bottom, size)
                 for left, _, width, _, text in ws]
        lines.append(_Line(words, number))
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    return _merge_same_baseline(lines, number)


def _merge_same_baseline(lines: list[_Line], number: int) -> list[_Line]:
    """Tesseract may put the two columns of a header block in separate blocks: lines that overlap
    vertically by half their height and not horizontally are one printed line again. Its own
    grouping is kept otherwise (it follows the skew of a photo, a vertical overlap test does not)."""
    merged: list[_Line] = []
    for line in lines:
        for i, other in enumerate(merged):
            overlap = min(other.bottom, line.bottom) - max(other.top, line.top)
            apart = line.x0 >= other.x1 or line.x1 <= other.x0
            if apart and overlap >= 0.5 * min(other.bottom - other.top, line.bottom - line.top):
                merged[i] = _Line([*other.words, *line.words], number)
                break
        else:
            merged.append(line)
    merged.sort(key=lambda ln: (ln.top, ln.x0))
    return merged
