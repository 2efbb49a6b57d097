"""Scans and photos -> `Document` through Tesseract (Vietnamese data), run as a subprocess.

Officials often send the signed paper: a scanned PDF or a phone photo of a page. Tesseract's words
come with boxes (TSV output), so the page is laid out by the same rules as a PDF text layer
(`documents.pdf.assemble`: wrapped lines joined, page numbers dropped, the two-column header split).
Recognised text is NFC-normalised and only confusions that are certain in Vietnamese are fixed (the
Icelandic "Ð" for "Đ", ligatures); figures are never guessed, so every OCR document carries a warning
that its numbers must be checked against the paper.

Bounds, because images come from strangers: pixels are checked from the header before anything is
decoded (> 60 Mpx refused, Pillow's bomb check as errors), images are re-encoded by Pillow so
Tesseract only ever reads our own uncompressed PGM, each page has a wall-clock timeout, and at most 30 pages are
recognised. Measured on this machine (2 cores): a 300 dpi A4 page takes ~2 s of one core.
"""

from __future__ import annotations

import bisect
import io
import itertools
import logging
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from documents.errors import ReadError
from documents.models import Document
from documents.pdf import OCR_WARNING, PageLayout, Table, Word, assemble, group_lines, join_wrapped
from documents.pdf import Line as _Line

__all__ = ["MAX_IMAGE_PIXELS", "MAX_OCR_PAGES", "available", "ocr_pdf_pages", "pdf_page_layouts", "read_image"]

log = logging.getLogger(__name__)

MAX_OCR_PAGES = 30
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000  # a 48 Mpx phone photo passes; a decompression bomb does not
MAX_RECOGNISED_PIXELS = 16_000_000  # larger images are scaled down: A4 at 300 dpi is 8.7 Mpx
MIN_LONG_SIDE = 2_000  # smaller images (screenshots) are scaled up: Tesseract wants ~30 px letters
PAGE_TIMEOUT = 120.0  # seconds of wall clock per page (Tesseract or pdftoppm); ~2 s is usual
TOTAL_TIMEOUT = 600.0  # per file: 30 pages that each stop just short of PAGE_TIMEOUT would take an hour
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
    notes: list[str] = []
    pages: list[PageLayout] = []
    deadline = time.monotonic() + TOTAL_TIMEOUT
    with tempfile.TemporaryDirectory(prefix="hoinghi-ocr-") as tmp:
        count = 0
        for number, frame in enumerate(_frames(data, notes), 1):  # one decoded page in memory at a time
            count = number
            if time.monotonic() > deadline:
                notes.append(f"Hết thời gian nhận dạng: bỏ qua từ trang {number}.")
                break
            result = _recognise(frame, tmp, number, scale=1.0, size=(float(frame.width), float(frame.height)),
                                deadline=deadline)
            if isinstance(result, str):
                notes.append(f"Trang {number}: {result}")
            else:
                pages.append(result)
    blocks = assemble(pages)
    if not blocks:
        reason = "; ".join(notes) or "empty"
        raise ReadError("Không nhận dạng được chữ nào trong ảnh (ảnh mờ, nghiêng hoặc không có chữ).",
                        f"OCR found no text in {count} page(s): {reason}")
    doc = build(blocks, source="ocr")
    doc.ocr = True
    doc.warnings = [OCR_WARNING, *doc.warnings, *notes]
    return doc


def _frames(data: bytes, notes: list[str]) -> Iterator[Any]:
    """Decoded, upright, grey pages of an image file; every page's size is checked from the
    headers before the first one is decoded."""
    from PIL import Image, ImageOps

    if len(data) > MAX_IMAGE_BYTES:
        raise ReadError(f"Tệp ảnh quá lớn (tối đa {MAX_IMAGE_BYTES // (1024 * 1024)} MB).",
                        f"image of {len(data)} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in _FORMATS:
                raise ReadError("Định dạng ảnh không được hỗ trợ (nhận .jpg, .png, .tif, .webp).",
                                f"image format {image.format}")
            count = 0
            for index in range(MAX_OCR_PAGES + 1):
                try:
                    image.seek(index)
                except EOFError:
                    break
                if index == MAX_OCR_PAGES:
                    notes.append(f"Chỉ nhận dạng {MAX_OCR_PAGES} trang đầu của tệp ảnh.")
                    break
                _check_pixels(image.width, image.height)
                count += 1
            if count == 0:
                raise ReadError("Tệp ảnh không có trang nào.", "image without frames")
            for index in range(count):
                image.seek(index)
                frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
                yield _prepare(frame)
    except ReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ReadError("Ảnh quá lớn (quá nhiều điểm ảnh), không xử lý.", f"decompression bomb: {exc}") from exc
    except Exception as exc:  # Pillow on a damaged or disguised file
        raise ReadError("Tệp ảnh bị hỏng hoặc không phải ảnh, không đọc được.", f"cannot decode image: {exc!r}") from exc


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
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        reason = "chưa cài pdftoppm để đọc trang quét (quản trị viên cài: apt-get install poppler-utils)."
        return [reason for _ in pages]
    out: list[PageLayout | str] = []
    with tempfile.TemporaryDirectory(prefix="hoinghi-ocr-") as tmp:
        source = os.path.join(tmp, "in.pdf")
        with open(source, "wb") as fh:
            fh.write(data)
        deadline = time.monotonic() + TOTAL_TIMEOUT
        for number, (width, height) in zip(pages, sizes, strict=True):
            remaining = min(PAGE_TIMEOUT, deadline - time.monotonic())
            if remaining <= 1:
                out.append("hết thời gian nhận dạng của tệp, bỏ qua.")
                continue
            dpi = RENDER_DPI
            pixels = (width / 72 * dpi) * (height / 72 * dpi)
            if pixels > MAX_RENDER_PIXELS:
                dpi = max(36, int(dpi * (MAX_RENDER_PIXELS / pixels) ** 0.5))
            prefix = os.path.join(tmp, f"page-{number}")
            # PGM, not PNG: compressing a noisy 300 dpi scan took pdftoppm 17 s a page here, PGM 0.2 s
            command = ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", "-f", str(number), "-l",
                       str(number), source, prefix]
            try:
                subprocess.run(command, capture_output=True, timeout=remaining, check=True)
            except subprocess.TimeoutExpired:
                out.append("hiển thị trang quá lâu, bỏ qua.")
                continue
            except (OSError, subprocess.CalledProcessError) as exc:
                log.warning("pdftoppm page %d failed: %r", number, exc)
                out.append("không hiển thị được trang, bỏ qua.")
                continue
            try:
                with Image.open(prefix + ".pgm") as rendered:
                    page = rendered.convert("L")
            except (OSError, ValueError) as exc:  # pdftoppm wrote nothing usable
                log.warning("page %d render unreadable: %r", number, exc)
                out.append("không hiển thị được trang, bỏ qua.")
                continue
            out.append(_recognise(page, tmp, number, scale=72 / dpi, size=(width, height), deadline=deadline))
            os.unlink(prefix + ".pgm")
    return out


# ========================================================================================= Tesseract
def _recognise(image: Any, tmp: str, number: int, *, scale: float, size: tuple[float, float],
               deadline: float) -> PageLayout | str:
    """Tesseract on one grey page -> its lines and ruled tables, coordinates multiplied by `scale`.

    Ruled tables are found in the pixels first (long dark runs) and their rules painted white
    (read as "|" they would end up in the text). Their cells are then read apart, stacked one
    under the other in a second image: on the page, a two-line cell beside one-line cells mixes
    baselines and Tesseract garbles the row."""
    grids = _find_grids(image)
    if grids:
        image = _erase_rules(image, grids)
    tsv = _tesseract(image, os.path.join(tmp, f"ocr-{number}.pgm"), number, deadline)
    if tsv is None:
        return "nhận dạng quá lâu hoặc không nhận dạng được, bỏ qua."
    grouped = _tsv_words(tsv)
    tables: list[Table] = []
    for i, grid in enumerate(grids):
        table = _grid_table(grid, image, grouped, os.path.join(tmp, f"cells-{number}-{i}.pgm"), number, scale,
                            deadline)
        if table is not None:
            tables.append(table)
    lines = _lines(grouped, number, scale)
    return PageLayout(number, size[0], size[1], lines, tables=tables, ocr=True, gap_slack=0.6)


def _tesseract(image: Any, path: str, number: int, deadline: float) -> str | None:
    """Tesseract's TSV for `image`; None on a timeout or a failure (logged)."""
    timeout = min(PAGE_TIMEOUT, deadline - time.monotonic())
    if timeout <= 1:
        return None
    image.save(path, format="PPM")  # uncompressed grey: PNG compression of a noisy scan is slow
    command = ["tesseract", path, "stdout", "-l", "vie", "--psm", TESSERACT_PSM, "tsv"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # threads only slow it down on a shared 2-core box
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=True, env=env)
    except subprocess.TimeoutExpired:
        log.warning("tesseract page %d timed out", number)
        return None
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("tesseract page %d failed: %r", number, exc)
        return None
    return done.stdout.decode("utf-8", "replace")


# ------------------------------------------------------------------------------------- ruled tables
@dataclass
class _Grid:
    """A ruled table in pixels: the y of its horizontal rules, the x of its vertical ones."""

    ys: list[int]
    xs: list[int]
    rules: list[tuple[int, int, int, int]]  # x0, y0, x1, y1 of each rule, to erase
    vertical: list[tuple[int, int, int]]  # x, y0, y1: where a column boundary is really ruled

    def spans(self, row: int) -> list[tuple[int, int]]:
        """The cells of `row` as (first, last) grid columns: a boundary without its rule there
        belongs to a merged cell."""
        top, bottom = self.ys[row], self.ys[row + 1]
        out: list[tuple[int, int]] = []
        first = 0
        for col in range(1, len(self.xs) - 1):
            x = self.xs[col]
            if any(abs(vx - x) <= 6 and y0 <= top + 8 and y1 >= bottom - 8 for vx, y0, y1 in self.vertical):
                out.append((first, col - 1))
                first = col
        out.append((first, len(self.xs) - 2))
        return out


def _runs(mask: Any, length: int, axis: int) -> list[tuple[int, int, int]]:
    """Rules along `axis` (1: horizontal): (position, start, end) of runs of dark pixels at least
    `length` long (92% dark, so scanner noise does not cut them), consecutive positions merged."""
    import numpy as np

    m = mask if axis == 1 else mask.T
    cs = np.pad(np.cumsum(m, axis=1, dtype=np.int32), ((0, 0), (1, 0)))
    full = (cs[:, length:] - cs[:, :-length]) >= int(0.92 * length)
    found: list[tuple[int, int, int]] = []
    for pos in np.nonzero(full.any(axis=1))[0]:
        idx = np.nonzero(full[pos])[0]
        found.append((int(pos), int(idx[0]), int(idx[-1]) + length))
    merged: list[list[int]] = []
    for pos, a, b in found:
        if merged and pos - merged[-1][1] <= 2 and a < merged[-1][3] and b > merged[-1][2]:
            last = merged[-1]
            last[1], last[2], last[3] = pos, min(last[2], a), max(last[3], b)
        else:
            merged.append([pos, pos, a, b])
    return [((p0 + p1) // 2, a, b) for p0, p1, a, b in merged if p1 - p0 <= 12]  # thicker: a filled area


def _find_grids(image: Any) -> list[_Grid]:
    import numpy as np

    mask = np.asarray(image) < 140
    height, width = mask.shape
    if width < 200 or height < 200:
        return []
    horizontal = _runs(mask, max(40, width // 12), 1)
    if len(horizontal) < 3:
        return []
    # a vertical rule runs at least from one horizontal rule to the next; a letter's stem, inside
    # its row with space above and below, never does
    ys = _distinct(sorted(y for y, _, _ in horizontal))
    row = min((b - a for a, b in itertools.pairwise(ys) if b - a > 8), default=0)
    if row == 0:
        return []
    vertical = [v for v in _runs(mask, max(12, int(row * 0.8)), 0)
                if any(v[1] <= a + 6 and v[2] >= b - 6 for a, b in itertools.pairwise(ys))]
    if len(vertical) < 3:
        return []
    # rules that touch belong to one table: union-find over horizontal-vertical crossings
    rules = [("h", *r) for r in horizontal] + [("v", *r) for r in vertical]
    parent = list(range(len(rules)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (_, y, x0, x1) in enumerate(rules[: len(horizontal)]):
        for j in range(len(horizontal), len(rules)):
            _, x, y0, y1 = rules[j]
            if x0 - 6 <= x <= x1 + 6 and y0 - 6 <= y <= y1 + 6:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(rules)):
        groups.setdefault(find(i), []).append(i)
    grids: list[_Grid] = []
    for members in groups.values():
        hs = sorted(rules[i][1] for i in members if rules[i][0] == "h")
        vs = sorted(rules[i][1] for i in members if rules[i][0] == "v")
        ys, xs = _distinct(hs), _distinct(vs)
        if len(ys) >= 3 and len(xs) >= 3:  # two rows and two columns at least: a box is no table
            boxes = []
            for i in members:
                kind, pos, a, b = rules[i]
                boxes.append((a, pos - 4, b, pos + 4) if kind == "h" else (pos - 4, a, pos + 4, b))
            vertical = [(rules[i][1], rules[i][2], rules[i][3]) for i in members if rules[i][0] == "v"]
            grids.append(_Grid(ys, xs, boxes, vertical))
    return grids


def _distinct(values: list[int], tolerance: int = 6) -> list[int]:
    out: list[int] = []
    for v in values:
        if not out or v - out[-1] > tolerance:
            out.append(v)
    return out


def _erase_rules(image: Any, grids: list[_Grid]) -> Any:
    from PIL import ImageDraw

    image = image.copy()
    draw = ImageDraw.Draw(image)
    for grid in grids:
        for x0, y0, x1, y1 in grid.rules:
            draw.rectangle((x0 - 1, y0 - 1, x1 + 1, y1 + 1), fill=255)
    return image


_RULE_TEXT = re.compile(r"^[|\[\]!]{1,2}$")  # a rule read as text ("1", "-" may be real cells)


def _grid_table(grid: _Grid, image: Any, grouped: dict[tuple[int, int, int], list[_Box]], path: str, number: int,
                scale: float, deadline: float) -> Table | None:
    """The table of `grid`: its words leave `grouped` (the page's text); its cells are read from
    a strip of cell images (the page's words in each cell when that fails)."""
    from PIL import Image

    x0, x1, y0, y1 = grid.xs[0], grid.xs[-1], grid.ys[0], grid.ys[-1]
    page_cells: dict[tuple[int, int], list[_Box]] = {}
    for key in list(grouped):
        kept: list[_Box] = []
        for box in grouped[key]:
            left, top, w, h, text, _ = box
            cx, cy = left + w / 2, top + h / 2
            if not (x0 <= cx <= x1 and y0 <= cy <= y1):
                kept.append(box)
            elif not _RULE_TEXT.match(text):
                row = bisect.bisect_right(grid.ys, cy) - 1
                col = bisect.bisect_right(grid.xs, cx) - 1
                page_cells.setdefault((row, col), []).append(box)
        if kept:
            grouped[key] = kept
        else:
            del grouped[key]
    # every cell cut out and stacked with white between: one Tesseract run reads them all apart
    crops: list[tuple[int, int, int, int, tuple[int, int, int, int]]] = []  # row, col, strip top, bottom, box
    pad, gap = 4, 40
    y = gap
    for row in range(len(grid.ys) - 1):
        for first, last in grid.spans(row):
            box = (grid.xs[first] + pad, grid.ys[row] + pad, grid.xs[last + 1] - pad, grid.ys[row + 1] - pad)
            if box[2] - box[0] < 8 or box[3] - box[1] < 8:
                continue
            crops.append((row, first, y, y + box[3] - box[1], box))
            y += box[3] - box[1] + gap
    cells: dict[tuple[int, int], list[_Box]] = {}
    tsv = None
    if crops:
        width = max(grid.xs[-1] - grid.xs[0], 50) + 2 * gap
        strip = Image.new("L", (width, y), 255)
        for _, _, top, _, box in crops:
            strip.paste(image.crop(box), (gap, top))
        tsv = _tesseract(strip, path, number, deadline)
    if tsv is not None:
        starts = [c[2] for c in crops]
        for boxes in _tsv_words(tsv).values():
            for box in boxes:
                if _RULE_TEXT.match(box[4]):
                    continue
                cy = box[1] + box[3] / 2
                i = bisect.bisect_right(starts, cy) - 1
                if i >= 0 and cy <= crops[i][3] + gap / 2:
                    cells.setdefault((crops[i][0], crops[i][1]), []).append(box)
    for key, boxes in page_cells.items():
        # a lone figure reads better in its row's context, a wrapped cell better alone: keep the
        # reading Tesseract is surer of (a row's merged cell may hold page words of two columns)
        if key not in cells or _confidence(boxes) > _confidence(cells[key]):
            cells[key] = boxes
    rows: list[list[str]] = []
    for r in range(len(grid.ys) - 1):
        row = []
        for c in range(len(grid.xs) - 1):
            lines = group_lines([_word(b, 1.0) for b in cells.get((r, c), [])], number)
            text = lines[0].text if lines else ""
            for line in lines[1:]:
                text = join_wrapped(text, line.text)
            row.append(unicodedata.normalize("NFC", text))
        if any(row):
            rows.append(row)
    if len(rows) < 2:
        return None
    return Table(y0 * scale, y1 * scale, rows)


def _confidence(boxes: list[_Box]) -> float:
    """Tesseract's confidence in a cell's reading, per character."""
    chars = sum(len(b[4]) for b in boxes)
    return sum(b[5] * len(b[4]) for b in boxes) / chars if chars else -1.0


def _word(box: _Box, scale: float) -> Word:
    left, top, w, h, text, _ = box
    return Word(text, left * scale, (left + w) * scale, top * scale, (top + h) * scale, h * 0.8 * scale)


_SPECKS = re.compile(r"^[ˆ`´¨˜^~'\"‘’“”„]+$")  # dust and stray marks read as accents or quotes, never text


# Tesseract drops the horn of "ư" before "ơ" ("Phuớc", "PHUỚC", "đuờng"). Vietnamese writes "uơ" only
# without a final ("thuở", "huơ") or after "q" ("quơ"); before a final ("Phước", "hướng", "người") the
# vowel is always "ươ", so there the "u" is certainly "ư".
_LOST_HORN = re.compile(r"(?<![qQ])u(?=[ơớờởỡợ](?:ng|[nctmpiu])(?!\w))"
                        r"|(?<![qQ])U(?=[ƠỚỜỞỠỢ](?:NG|[NCTMPIU])(?!\w))")
# "T.Ư" (Trung ương: "Nghị quyết T.Ư 5", "Hội nghị T.Ư4") read without its horn; "T.U" is no abbreviation.
_TU_DOTTED = re.compile(r"^T\.U(?=\d|[^\w]|$)")


def _horned(m: re.Match[str]) -> str:
    """The horned letter, in the case it was read in."""
    return "Ư" if m.group(0) == "U" else "ư"


def fix_text(text: str) -> str:
    """NFC and the substitutions that are certain in Vietnamese; figures are left as recognised."""
    text = unicodedata.normalize("NFC", text).translate(_EXACT_FIXES).strip()
    if "u" in text or "U" in text:
        text = _TU_DOTTED.sub("T.Ư", _LOST_HORN.sub(_horned, text))
    return text


_Box = tuple[int, int, int, int, str, float]  # left, top, width, height (pixels), text, confidence


def _tsv_words(tsv: str) -> dict[tuple[int, int, int], list[_Box]]:
    """Tesseract's word rows grouped by its own (block, paragraph, line) numbering."""
    grouped: dict[tuple[int, int, int], list[_Box]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = fix_text(cols[11])
        if not text or _SPECKS.match(text):
            continue
        try:
            key = (int(cols[2]), int(cols[3]), int(cols[4]))
            left, top, width, height = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        grouped.setdefault(key, []).append((left, top, width, height, text, conf))
    return grouped


def _lines(grouped: dict[tuple[int, int, int], list[_Box]], number: int, scale: float) -> list[_Line]:
    if not grouped:
        return []
    heights = {key: max(b[1] + b[3] for b in ws) - min(b[1] for b in ws) for key, ws in grouped.items()}
    typical = statistics.median(heights.values())
    lines: list[_Line] = []
    for key, ws in grouped.items():
        # a line's box runs from its highest diacritic to its lowest descender (~1.25 font sizes),
        # so it varies with the letters: one size for the page, unless the type is clearly larger
        height = heights[key] if heights[key] > 1.4 * typical else typical
        size = min(height, 2.5 * typical) * 0.8 * scale
        top = min(b[1] for b in ws) * scale
        bottom = max(b[1] + b[3] for b in ws) * scale
        words = [Word(b[4], b[0] * scale, (b[0] + b[2]) * scale, top, bottom, size) for b in ws]
        lines.append(_Line(words, number))
    lines.sort(key=lambda ln: (ln.top, ln.x0))
    return _merge_same_baseline(lines, number)


def _merge_same_baseline(lines: list[_Line], number: int) -> list[_Line]:
    """Tesseract may put the two columns of a header block in separate blocks: lines that overlap
    vertically by half their height and not horizontally are one printed line again. Compared by
    the first line's own box, so that merging never snowballs down the page; Tesseract's grouping
    is kept otherwise (it follows the skew of a photo, a vertical overlap test does not)."""
    merged: list[tuple[float, float, _Line]] = []
    for line in lines:
        for i, (top, bottom, other) in enumerate(merged):
            overlap = min(bottom, line.bottom) - max(top, line.top)
            apart = all(line.x0 >= w.x1 or line.x1 <= w.x0 for w in other.words)
            if apart and overlap >= 0.5 * min(bottom - top, line.bottom - line.top):
                merged[i] = (top, bottom, _Line([*other.words, *line.words], number))
                break
        else:
            merged.append((line.top, line.bottom, line))
    out = [ln for _, _, ln in merged]
    out.sort(key=lambda ln: (ln.top, ln.x0))
    return out
