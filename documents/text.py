"""Plain text in: pasted reports, Telegram messages joined back together, .txt bytes decoded.

A pasted report has lost its fonts but not its layout: numbering, bullets, labels, the header lines
and "cell | cell" table rows are still there, so `from_text` hands one paragraph per line to
`structure.build`, which reads the layout the same way for every source.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

from documents.errors import ReadError
from documents.models import Block, Document
from documents.structure import _label, _numbered, build, clean_line, guess_header_rows, is_capitals

__all__ = ["decode", "from_text", "join_parts"]



# ------------------------------------------------------------------------------------------ from_text
def from_text(text: str) -> Document:
    """A `Document` from plain text: one paragraph per non-empty line, "a | b | c" runs as tables."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line for line in text.split("\n") if clean_line(line)]
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _pipe_cells(lines[j]) is not None:
            j += 1
        while j - i >= 2 and _stray(lines[i], lines[i + 1]):
            blocks.append(Block(kind="paragraph", text=lines[i]))  # "Các đại biểu dự hội nghị. |" above a table
            i += 1
        end = j
        while end - i >= 2 and _stray(lines[end - 1], lines[end - 2]):
            end -= 1
        run = [cells for line in lines[i:end] if (cells := _pipe_cells(line))]  # a markdown rule holds no cells
        if run and (sum(sum(1 for c in row if c) >= 2 for row in run) >= 2 or max(len(r) for r in run) >= 3):
            blocks.append(Block(kind="table", rows=run, header_rows=guess_header_rows(run)))
            blocks += [Block(kind="paragraph", text=line) for line in lines[end:j]]
            i = j
            continue
        blocks.append(Block(kind="paragraph", text=lines[i]))
        i += 1
    return build(blocks, source="text")


def _stray(line: str, neighbour: str) -> bool:
    """A pipe line at the edge of a table that is no row of it: one filled cell, another cell count."""
    cells, other = _pipe_cells(line) or [], _pipe_cells(neighbour) or []
    return bool(cells) and bool(other) and sum(1 for c in cells if c) <= 1 and len(cells) != len(other)


_MARKDOWN_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def _pipe_cells(line: str) -> list[str] | None:
    """The cells of a "cell | cell" line (what `Document.text()` writes for a table row), else None."""
    stripped = line.strip()
    if "|" not in stripped:
        return None
    if _MARKDOWN_RULE.match(stripped):
        return []
    if stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1:
        stripped = stripped[1:-1]  # a markdown row "| a | b |"
    cells = [clean_line(c) for c in stripped.split("|")]
    return cells if len(cells) >= 2 and any(cells) else None


# ------------------------------------------------------------------------------------------ join_parts
_SENTENCE_ENDS = tuple('.!?…:;"”')
_VOWELS = set("aăâeêioôơuưyáắấéếíóốớúứýàằầèềìòồờùừỳảẳẩẻểỉỏổởủửỷãẵẫẽễĩõỗỡũữỹạặậẹệịọộợụựỵ")
_ONSETS = {"b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh", "p",
           "ph", "q", "qu", "r", "s", "t", "th", "tr", "v", "x"}
_FINALS = {"c", "ch", "m", "n", "ng", "nh", "p", "t"}
_GROUP_TAIL = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})*\.(?P<part>\d{1,2})$")
_HEAD_DIGITS = re.compile(r"^\d+")
_TAIL = 2048  # of the text joined so far: enough to see its last word and line


def join_parts(parts: list[str]) -> str:
    """One text from a report pasted as several Telegram messages (clients cut near 4,096 characters).

    A part that ends a sentence or a line (. ! ? … : ; or a closing quote) is followed by a new line;
    one that stops mid-sentence is continued with a space when the next part goes on in lower case
    or with a word or number. The cut may fall inside a word or a figure: the two halves are glued
    without a space only where Vietnamese spelling says so (a consonant cluster that cannot stand
    alone, "tr" + "iển"), or where a thousands group of a figure is cut short ("8.458.7" + "30").
    """
    pieces = [p for p in (unicodedata.normalize("NFC", p or "") for p in parts) if p.strip()]
    if not pieces:
        return ""
    out = [pieces[0].strip()]
    tail = out[0][-_TAIL:]
    for previous, part in itertools.pairwise(pieces):
        spaced = previous[-1:].isspace() or part[:1].isspace()  # the client kept the space it cut at
        joint = _joint(tail, part.strip(), spaced)
        out += [joint, part.strip()]
        tail = (tail + joint + part.strip())[-_TAIL:]
    return "".join(out)


def _joint(before: str, head: str, spaced: bool) -> str:
    if before.endswith(_SENTENCE_ENDS):
        return "\n"
    cut_clean = not spaced  # nothing says a space was there
    first = head[0]
    if first.islower() or first.isdigit():
        return "" if cut_clean and _glued(before, head) else " "
    if first.isalpha():  # a capital: a name going on, unless a heading or label starts or ended here
        return "\n" if _starts_block(head, before.rsplit("\n", 1)[-1].strip()) else " "
    if first in ",.;:!?)]}%»”’…":
        return "" if cut_clean else " "
    if first in "([«“‘\"'":
        return " "
    return "\n"  # a bullet or other mark opens a line


def _starts_block(head: str, last_line: str) -> bool:
    """A capital that opens a heading or label, or follows a capitals line: the cut fell at a line end."""
    first_line = head.split("\n", 1)[0]
    if _numbered(first_line) is not None or _label(first_line) is not None \
            or (_numbered(last_line) is not None and len(last_line.split()) <= 15):
        return True
    return is_capitals(last_line) or is_capitals(" ".join(first_line.split()[:3]))


def _glued(before: str, head: str) -> bool:
    tail = re.split(r"\s", before)[-1]
    start = re.split(r"\s", head, maxsplit=1)[0]
    m = _GROUP_TAIL.search(tail)
    if m:
        digits = _HEAD_DIGITS.match(start)
        return bool(digits) and len(m.group("part")) + len(digits.group(0)) == 3
    word_tail = re.search(r"[^\W\d_]+$", tail)
    word_head = re.match(r"[^\W\d_]+", start)
    if not word_tail or not word_head:
        return False
    t, h = word_tail.group(0), word_head.group(0)
    if not (t.islower() and h.islower()):
        return False
    if t in _ONSETS and h[0] in _VOWELS:  # "phát tr" + "iển": "tr" is no syllable
        return True
    return h in _FINALS and t[-1] in _VOWELS and not any(c in _VOWELS for c in h)  # "triể" + "n"


# ------------------------------------------------------------------------------------------ decode
_VIETNAMESE = set(
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
)
_VIETNAMESE_RE = re.compile(f"[{''.join(sorted(_VIETNAMESE))}]")
_PUNCTUATION_RE = re.compile("[“”‘’–—…•·«»°§©®€№±×÷²³½¼¾]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # C0/C1 controls except \t \n \v \f \r
_BINARY = ReadError("Tệp văn bản chứa dữ liệu nhị phân, không phải văn bản.", "binary data in a text file")


def decode(data: bytes) -> str:
    """Text of a .txt file, NFC: UTF-8 (with or without BOM), UTF-16 (BOM, or the NUL pattern of one),
    Windows-1258 when it reads as Vietnamese; ReadError for anything else (binary, unknown code page)."""
    text = _decode(data)
    if len(_CONTROLS.findall(text)) > max(2, len(text) // 200):
        raise ReadError(_BINARY.vi, _BINARY.en)
    return unicodedata.normalize("NFC", text)


def _decode(data: bytes) -> str:
    boms = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
            (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ReadError("Tệp văn bản bị lỗi mã hóa, không đọc được.", f"invalid {encoding} after BOM") from exc
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data:
        raise ReadError(_BINARY.vi, "NUL bytes in a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        text = ""
    if text and _looks_vietnamese(text):
        return text
    raise ReadError("Không nhận diện được bảng mã của tệp (hỗ trợ UTF-8, UTF-16, Windows-1258).",
                    "unknown text encoding")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text has NUL as the high byte of most characters (ASCII, Latin-1): on one side only."""
    sample = data[:8192]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    encoding = "utf-16-le" if odd > 0.3 and even < 0.05 else "utf-16-be" if even > 0.3 and odd < 0.05 else None
    if encoding is None:
        return None
    try:
        return data[: len(data) // 2 * 2].decode(encoding)
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
