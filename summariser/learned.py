"""A learned section model: candidate clauses, their features, and a linear-chain CRF over a report.

The rules in `sections` were written against five seed reports; this model learns the same decision
(results / shortcomings / tasks / none for every clause) from hand-annotated reports, with the
rules' own answer as one feature among many. Candidates are spans of the cleaned text, so an item
is always a slice of the report and every number it shows is written there.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pycrfsuite

from summariser import compress, cues, fastre
from summariser.fastre import ci
from summariser.models import SECTIONS
from summariser.normalise import LOWER, UPPER
from summariser.sections import Layout, find_list, last_cue_section, layout, looks_like_heading, negative
from summariser.segment import (
    Piece,
    paragraphs,
    sentences,
    split_at,
    strip_bullet,
    sub_piece,
    top_level_marks,
)
from summariser.units import Unit

MIN_WORDS: Final = 3  # a shorter clause holds no gold item (they have 6 syllables or more)
_BULLET_START: Final = re.compile(r"^(?:[-–—+•*·●▪►✓]\s*|\(?\d{1,2}[.)]\s+|\(?[a-zđ][.)]\s+|[IVXLC]{1,5}[.)]\s+)")


@dataclass(slots=True)
class Block:
    """A paragraph of the cleaned text and what the layout says it is."""

    piece: Piece
    kind: str  # title / heading / paragraph / list_item / table_row
    level: int = 0
    headings: tuple[str, ...] = ()


@dataclass(slots=True)
class Candidate:
    """A clause a summary item can be made of, with the facts about where it stands."""

    spans: list[Piece]
    block: int  # index of its paragraph
    sentence: int  # index of its sentence in the report
    clause: int  # index within its sentence
    kind: str  # the paragraph's kind
    heading_above: str  # the nearest heading-like paragraph above ("" none)
    in_list: bool  # an element of a list ("head: a; b" or a bulleted paragraph)
    list_head: bool  # the words before a list's ":"
    sentence_text: str
    sentence_start: int  # where the sentence starts in the cleaned text
    head_text: str = ""  # the list head this element belongs to
    features: dict[str, float | str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.spans)

    @property
    def start(self) -> int:
        return self.spans[0].start

    @property
    def end(self) -> int:
        return self.spans[-1].end


def blocks_from_text(cleaned: str) -> list[Block]:
    """Paragraphs with a kind guessed from the text alone (no document structure known)."""
    pars = paragraphs(cleaned)
    out: list[Block] = []
    for i, par in enumerate(pars):
        if i == 0 and len(pars) > 1 and looks_like_heading(par, max_words=40):
            kind = "title"
        elif (looks_like_heading(par) or (par.text.endswith(":") and compress.at_most_words(par.text, 15))) \
                and not _CAPTION.search(par.text.lower()):
            kind = "heading"  # (a photo caption has no final stop either, and heads nothing)
        elif _BULLET_START.match(par.text):
            kind = "list_item"
        else:
            kind = "paragraph"
        out.append(Block(par, kind))
    return out


def blocks_from_units(cleaned: str, units: Sequence[Unit]) -> list[Block]:
    """Blocks from `summariser.units.Unit`s (the structure a Word or PDF file tells). Table rows are
    left out: they are cells, not clauses (the pipeline reads their figures itself)."""
    out: list[Block] = []
    for u in units:
        if u.kind == "table_row":
            continue
        p = u.piece
        if not p.text.strip() or cleaned[p.start: p.end] != p.text:
            continue  # (a unit must be a slice of `cleaned`: items are)
        kind = "heading" if u.label and u.kind == "paragraph" else u.kind
        out.append(Block(sub_piece(p, 0, len(p.text)), kind, u.level, tuple(h.text for h in u.headings)))
    return out


# Sentences run together by a crawler: "...T.Ư 5.Tham gia", "...các DN.Tại", "...tăngThực hiện",
# "Ảnh: Như ÝTai nạn" (a capital and a small letter right after a stop or inside a word).
_GLUED: Final = re.compile(rf"(?:(?<=[\d”\")]\.)|(?<=[{UPPER}]{{2}}\.)|(?<=\w))(?=[{UPPER}][{LOWER}]{{2}})")
_NOT_GLUED_BEFORE: Final = frozenset({"tp", "tt", "t.ư", "pgs", "ts", "ths", "gs", "bs", "st"})


def split_sentences(par: Piece) -> list[Piece]:
    """`segment.sentences`, and sentences run together without a space split too."""
    out: list[Piece] = []
    for sent in sentences(par):
        text = sent.text
        prev = 0
        for m in _GLUED.finditer(text):
            at = m.start()
            word_start = at
            while word_start and not text[word_start - 1].isspace():
                word_start -= 1
            word = text[word_start:at].rstrip(".").lower()
            if word in _NOT_GLUED_BEFORE or at == word_start:
                continue
            if text[at - 1].isalpha() and text[word_start].islower() and at - word_start < 3:
                continue  # "iPhone", "eGov": a capital inside a short word that starts small
            if at > prev:
                out.append(sub_piece(sent, prev, at))
            prev = at
        out.append(sub_piece(sent, prev, len(text)))
    return [p for p in out if p.text]


def _trimmed(p: Piece) -> Piece:
    p = compress.trim_tail(strip_bullet(p))
    return compress.trim_tail(compress.trim_lead(p, task=False))


def candidates(cleaned: str, units: Sequence[Unit] | None = None) -> list[Candidate]:
    """Every clause of the report a summary item can be made of, in report order."""
    fastre.begin(cleaned)  # (the cue patterns below read slices of the report's lower-cased copy)
    blocks = blocks_from_units(cleaned, units) if units else blocks_from_text(cleaned)
    out: list[Candidate] = []
    heading = ""
    list_open = False  # a heading ending in ":" opens a list of the paragraphs after it
    n_sent = 0
    for b_index, block in enumerate(blocks):
        par = block.piece
        if block.headings:  # the document says which heading a paragraph stands under
            heading = block.headings[-1]
        if block.kind in ("title", "heading"):
            _add(out, par, b_index, n_sent, 0, block.kind, heading, False, False, par)
            n_sent += 1
            if block.kind == "heading":
                heading = par.text
                list_open = par.text.endswith(":")
            continue
        bullet = block.kind == "list_item" or bool(_BULLET_START.match(par.text))
        in_list = bullet or list_open
        for sent in split_sentences(par):
            listed = find_list(sent)
            clause = 0
            if listed:
                head, rest = listed
                for part in split_at(head, top_level_marks(head.text, ";")):
                    _add(out, part, b_index, n_sent, clause, block.kind, heading, in_list, True, sent)
                    clause += 1
                for part in split_at(rest, top_level_marks(rest.text, ";")):
                    _add(out, part, b_index, n_sent, clause, block.kind, heading, True, False, sent, head.text)
                    clause += 1
            else:
                for part in split_at(sent, top_level_marks(sent.text, ";")):
                    _add(out, part, b_index, n_sent, clause, block.kind, heading, in_list, False, sent)
                    clause += 1
            n_sent += 1
        if not bullet:
            list_open = list_open and par.text.endswith(":")
    return out


def _add(out: list[Candidate], part: Piece, block: int, sentence: int, clause: int, kind: str, heading: str,
         in_list: bool, list_head: bool, sent: Piece, head_text: str = "") -> None:
    for piece in split_long(_trimmed(part)):
        p = _trimmed(piece)
        if compress.at_most_words(p.text, MIN_WORDS - 1):
            continue
        out.append(Candidate([p], block, sentence, clause, kind, heading, in_list, list_head, sent.text,
                             sent.start, head_text))


LONG_WORDS: Final = 35
VERY_LONG_WORDS: Final = 40
MIN_PART: Final = 7  # neither side of a split is shorter
# After ", " a new phrase: a verb that starts a clause, a contrast or a connector.
_NEW_PHRASE: Final = ci(
    r"(?:nhưng|song|tuy nhiên|đồng thời|trong đó|riêng|nhất là|đặc biệt là|góp phần|qua đó|từ đó|"
    r"chưa|còn|vẫn còn|đạt|tăng|giảm|vượt|hoàn thành)\b")


def _split_points(p: Piece) -> list[int]:
    """Offsets in `p.text` where a long clause may be cut (the cut drops the mark before)."""
    text = p.text
    out: list[int] = []
    for c in _top_level_commas(text):
        if c + 1 < len(text) and text[c + 1] == " ":
            rest = text[c + 2:]
            if cues.ACTION.match(rest) or _NEW_PHRASE.match(rest):
                out.append(c)
    for m in _AND_ACTION.finditer(text):
        out.append(m.start())
    return sorted(set(out))


def _top_level_commas(text: str) -> list[int]:
    """Commas outside brackets and quotes (a comma between digits is part of a number)."""
    out: list[int] = []
    depth = 0
    quoted = False
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        elif ch in "“”\"":
            quoted = ch == "“" or (ch == '"' and not quoted)
        elif ch == "," and not depth and not quoted:
            out.append(i)
    return out


_AND_ACTION: Final = ci(r"\svà\s+(?=" + cues.ACTION.pattern[2:] + ")")


def split_long(p: Piece) -> list[Piece]:
    """A clause of more than `LONG_WORDS` words cut at the new phrase nearest its middle, recursively."""
    n = compress.count_words(p.text)
    if n <= LONG_WORDS:
        return [p]
    best: tuple[float, int] | None = None
    points = _split_points(p)
    if n > VERY_LONG_WORDS:  # no new phrase found: any comma or colon will do
        points = points + [c for c in [*_top_level_commas(p.text), *top_level_marks(p.text, ":")]
                           if p.text[c + 1: c + 2] == " "]
    for c in points:
        left = compress.count_words(p.text[:c])
        if left < MIN_PART or n - left < MIN_PART:
            continue
        # (a new phrase is preferred: other cuts cost as if they were 10 words further from the middle)
        cost = abs(left - n / 2) + (0 if c in points[:len(points)] and c in _split_points(p) else 10)
        if best is None or cost < best[0]:
            best = (cost, c)
    if best is None:
        return [p]
    c = best[1]
    skip = 1 if p.text[c] in ",:" else 0
    return [*split_long(sub_piece(p, 0, c)), *split_long(sub_piece(p, c + skip, len(p.text)))]


# ---------------------------------------------------------------------------------------------------
# Features: what a clause says and where it stands, in words any report of the genre uses.

def _w(pattern: str) -> re.Pattern[str]:
    """A lower-case pattern, searched in lower-cased text (IGNORECASE is several times slower)."""
    return re.compile(pattern)


# Single cue words and phrases, each a feature of its own (name -> pattern).
# Single cue words and phrases, each a feature of its own (name -> the phrases, whole syllables).
_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    name: tuple(phrases.split("|")) for name, phrases in {
        "đạt": "đạt", "tăng": "tăng", "giảm": "giảm", "chưa": "chưa", "còn": "còn", "cần": "cần",
        "phải": "phải", "đề_nghị": "đề nghị", "yêu_cầu": "yêu cầu", "kiến_nghị": "kiến nghị",
        "đề_xuất": "đề xuất", "phấn_đấu": "phấn đấu", "tiếp_tục": "tiếp tục", "đẩy_mạnh": "đẩy mạnh",
        "đã": "đã", "sẽ": "sẽ", "được": "được", "không": "không", "vẫn": "vẫn", "nhưng": "nhưng",
        "chỉ_đạo": "chỉ đạo", "nhấn_mạnh": "nhấn mạnh", "lưu_ý": "lưu ý", "giao": "giao",
        "tăng_cường": "tăng cường", "nâng_cao": "nâng cao", "triển_khai": "triển khai",
        "hoàn_thành": "hoàn thành", "so_cùng_kỳ": "so với cùng kỳ", "cùng_kỳ": "cùng kỳ",
        "kế_hoạch": "kế hoạch|chỉ tiêu|dự toán", "mục_tiêu": "mục tiêu",
        "tới": "thời gian tới|năm tới|tháng tới|quý tới",
        "hội_nghị": "hội nghị|kỳ họp|phiên họp|cuộc họp|buổi làm việc", "đại_biểu": "đại biểu",
        "báo_cáo": "báo cáo", "cho_biết": "cho biết|nêu rõ|khẳng định|thông tin", "thảo_luận": "thảo luận",
        "ảnh": "ảnh|nguồn|theo ttxvn|ttxvn|vgp|vov|vnexpress",
        "khó_khăn": "khó khăn|hạn chế|tồn tại|yếu kém|bất cập|vướng mắc", "nguyên_nhân": "nguyên nhân",
        "trung_ương": "trung ương|chính phủ|thủ tướng|quốc hội|bộ ngành|các bộ", "tỷ_lệ": "tỷ lệ|tỉ lệ",
        "thu_ngân_sách": "ngân sách|thu nội địa", "tổng": "tổng", "lũy_kế": "lũy kế", "ước": "ước",
        "quyết_liệt": "quyết liệt", "khẩn_trương": "khẩn trương", "tập_trung": "tập trung",
        "trao": "trao|tặng|khen thưởng|bằng khen|huân chương", "dự": "tham dự|dự",
        "chủ_trì": "chủ trì|chủ tọa", "khai_mạc": "khai mạc|bế mạc", "xem_xét": "xem xét|cho ý kiến",
        "tình_trạng": "tình trạng", "chậm": "chậm", "thấp": "thấp", "thiếu": "thiếu",
        "phức_tạp": "phức tạp", "vi_phạm": "vi phạm|sai phạm", "xảy_ra": "xảy ra", "ô_nhiễm": "ô nhiễm",
        "cao": "cao", "tốt": "tốt", "hiệu_quả": "hiệu quả", "giữ_vững": "giữ vững|ổn định|bảo đảm|đảm bảo",
        "nâng_lên": "nâng lên|cải thiện|chuyển biến", "duy_trì": "duy trì",
    }.items()
}


# The phrases by their first syllable: (the phrase's syllables, the names it sets).
_BY_FIRST: Final[dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]] = {}
for _name, _phrases in _KEYWORDS.items():
    for _phrase in _phrases:
        _words = tuple(_phrase.split())
        _BY_FIRST.setdefault(_words[0], []).append((_words, (_name,)))


def _keywords(words: list[str]) -> list[str]:
    """The names of `_KEYWORDS` whose phrases occur in the (lower-cased) syllables, first seen first."""
    out: dict[str, None] = {}
    for i, w in enumerate(words):
        for phrase, names in _BY_FIRST.get(w, ()):
            if len(phrase) == 1 or tuple(words[i: i + len(phrase)]) == phrase:
                out.update(dict.fromkeys(names))
    return list(out)


_UNITS: Final = _w(r"\d\s*(?:%|tỷ đồng|triệu đồng|nghìn đồng|ngàn đồng|đồng|usd|ha|héc-ta|tấn|km|m2|m3|người|"
                   r"hộ|xã|vụ|lượt|trường hợp|doanh nghiệp|dự án|học sinh|tỷ|triệu|ca|con|cơ sở|đảng viên)(?!\w)")
_NUMBER: Final = re.compile(r"\d+(?:[.,/]\d+)*")
_PERCENT: Final = re.compile(r"\d\s*%")
_SPEAKER: Final = _w(
    r"(?:chủ tịch|bí thư|thủ tướng|phó thủ tướng|bộ trưởng|thứ trưởng|giám đốc|trưởng ban|đồng chí|ông|bà|"
    r"tổng bí thư|chủ nhiệm|cục trưởng|tư lệnh)[^.;:]{0,90}?"
    r"(?:yêu cầu|đề nghị|nhấn mạnh|chỉ đạo|lưu ý|giao|đề ra|khẳng định|cho rằng|phát biểu|kết luận)")
_UPWARD: Final = _w(r"(?:kiến nghị|đề xuất|đề nghị|xin|mong)\s+(?:với\s+)?(?:ban chấp hành\s+)?(?:trung ương|"
                    r"chính phủ|thủ tướng|quốc hội|bộ|các bộ|cấp trên|nhà nước|tỉnh|thành phố|tổng cục)(?!\w)")
_CAPTION: Final = _w(r"(?:^|\s|\()(?:ảnh|nguồn)\s*:|/ttxvn|ttxvn\)|\(ảnh|ảnh\s+(?:vgp|minh họa|tư liệu)")
_DAY: Final = _w(r"^(?:ngày|sáng|chiều|tối|trưa|hôm)\s+(?:nay|qua|\d)")
_QUOTE: Final = re.compile(r"[“”\"]")
_CONTENT: Final = re.compile(r"\w+", re.UNICODE)
# Cues found once in the whole report, then looked up by position (a clause holds a match or not).
_SCANNED: Final = {
    "forward": cues.FORWARD, "request": cues.REQUEST, "task_noun": cues.TASK_NOUN, "short_noun": cues.SHORT_NOUN,
    "procedural_strong": cues.PROCEDURAL_STRONG, "task_intro": cues.TASK_INTRO, "negative_cue": cues.NEGATIVE,
}
_SCANNED_PLAIN: Final = {"speaker": _SPEAKER, "upward": _UPWARD, "caption": _CAPTION, "unit_figure": _UNITS}
# Cues with alternatives anchored at the clause's start: found in the whole report too, and matched at the
# start of each clause (where the anchored ones can match).
_CUE_PATTERNS: Final = {"result_cue": cues.RESULT_CUE, "procedural": cues.PROCEDURAL, "attendance": cues.ATTENDANCE}
_CUE_STARTS: Final = {
    "framing": cues.FRAMING, "cause": cues.CAUSE, "action": cues.ACTION,
    "connector": cues.LEAD_CONNECTOR, "subject": cues.TASK_SUBJECT, "continuation": cues.CONTINUATION,
}
_SENTENCE_KEYS: Final = ("forward", "request", "task_noun", "short_noun", "procedural", "negative", "speaker",
                         "upward", "kiến_nghị", "đề_nghị", "yêu_cầu", "contrast")
_NEIGHBOUR_KEYS: Final = ("rule", "w1", "negative", "request", "forward", "short_noun", "procedural", "figure",
                          "kind", "caption", "action")
_STOPWORDS: Final = frozenset(("của", "và", "các", "những", "được", "đã", "đang", "sẽ", "trong", "cho", "với", "là",
                               "có", "theo", "về", "tại", "từ", "đến", "này", "đó", "một", "như", "để", "thì", "mà",
                               "nên", "cũng", "còn", "vẫn", "nhất", "hơn", "rất", "bị", "do", "vào", "ra", "trên",
                               "dưới", "khi"))


class _Scan:
    """Where the cues of `_SCANNED` match in one report, to tell which clause holds one."""

    def __init__(self, cleaned: str) -> None:
        fastre.begin(cleaned)
        low = fastre.folded(cleaned, 0)
        self.matches: dict[str, tuple[list[int], list[int]]] = {}
        for name, pattern in (*_SCANNED.items(), *_CUE_PATTERNS.items()):
            found = [(m.start(), m.end()) for m in pattern.finditer(cleaned, at=0)]
            self.matches[name] = ([a for a, _ in found], [b for _, b in found])
        for name, plain in _SCANNED_PLAIN.items():
            found = [(m.start(), m.end()) for m in plain.finditer(low)]
            self.matches[name] = ([a for a, _ in found], [b for _, b in found])

    def has(self, name: str, start: int, end: int) -> bool:
        """A match of cue `name` lies within [start, end)."""
        starts, ends = self.matches[name]
        i = bisect.bisect_left(starts, start)
        return i < len(starts) and ends[i] <= end


def _syllables(text: str) -> list[str]:
    return [w for w in _CONTENT.findall(text.lower()) if not w.isdigit()]


def _bin(x: float, edges: tuple[float, ...]) -> int:
    for i, e in enumerate(edges):
        if x < e:
            return i
    return len(edges)


BAG_WEIGHT: Final = 4.0


def _own(text: str, at: int, scan: _Scan, *, full: bool = True) -> dict[str, float | str]:
    """Features of one clause read from its own words (`at`: where it starts in the report).

    `full=False`: the cue flags only (what a clause is told about the sentence it is in)."""
    f: dict[str, float | str] = {}
    end = at + len(text)
    low = fastre.folded(text, at)
    words = _CONTENT.findall(low)
    for name in _keywords(words):
        f["k:" + name] = 1.0
    for name in (*_SCANNED, *_SCANNED_PLAIN):
        if scan.has(name, at, end):
            f[name] = 1.0
    for name, ci_pattern in _CUE_PATTERNS.items():  # (`.re` on `low`: the text is folded once)
        if scan.has(name, at, end) or ci_pattern.re.match(low):
            f[name] = 1.0
    if cues.CONTRAST_START.re.match(low):
        f["start:contrast"] = 1.0
    if "negative_cue" in f and negative(text, at):
        f["negative"] = 1.0
    if not full:
        return f
    syl = [w for w in words if not w.isdigit()]
    if syl:
        f["w1"] = syl[0]
    if len(syl) > 1:
        f["w12"] = " ".join(syl[:2])
    if len(syl) > 2:
        f["w123"] = " ".join(syl[:3])
    for name, ci_pattern in _CUE_STARTS.items():
        if ci_pattern.re.match(low):
            f["start:" + name] = 1.0
    if cues.TITLE_START.match(text):
        f["start:title_start"] = 1.0
    if _DAY.match(low):
        f["day_start"] = 1.0
    if _QUOTE.search(text):
        f["quote"] = 1.0
    numbers = _NUMBER.findall(text)
    if numbers:
        f["number"] = 1.0
        f["numbers"] = str(min(len(numbers), 4))
        if _PERCENT.search(text):
            f["percent"] = 1.0
        if compress.has_figure(text):
            f["figure"] = 1.0
    done, todo = "đã" in syl, any(w in syl for w in ("sẽ", "cần", "phải"))
    f["tense"] = "done" if done and not todo else "todo" if todo and not done else "both" if done else "neither"
    f["words"] = str(_bin(compress.count_words(text), (6, 10, 16, 25, 35)))
    f["specific"] = str(min(compress.specificity(text, 4), 4))
    spaced = text.split()
    caps = sum(1 for w in spaced if w[:1].isupper())
    f["caps"] = str(_bin(caps / max(1, len(spaced)), (0.2, 0.4, 0.6)))
    # (words written with a capital are names of people and places: topical, they do not generalise)
    content = [w.lower() for w in _CONTENT.findall(text) if not w[0].isupper() and not w.isdigit()
               and w not in _STOPWORDS]
    # (a dict, not a set: the order, hence the model file, must not depend on hashing; each bag weighs
    # the same whatever the clause's length)
    # (pairs of syllables only: single ones, tried too, carried the reports' topics and lost on the
    # held-out batches)
    weight = BAG_WEIGHT / max(1.0, len(content)) ** 0.5
    for x, y in itertools.pairwise(content):
        f["b:" + x + "_" + y] = weight
    return f


_CONJUNCTIONS: Final = (
    ("procedural", "request"), ("procedural", "speaker"), ("procedural", "figure"), ("negative", "tense"),
    ("figure", "tense"), ("request", "upward"), ("speaker", "request"), ("negative", "figure"),
    ("negative", "request"), ("start:action", "tense"), ("forward", "tense"), ("short_noun", "request"),
)


def _conjunctions(f: dict[str, float | str]) -> None:
    """Pairs of cues that mean more together than apart ("procedural" and "request": a chair's directive)."""
    for a, b in _CONJUNCTIONS:
        if a in f and b in f:
            f[f"{a}&{b}"] = f[b] if isinstance(f[b], str) else 1.0


def _rule_sections(cleaned: str, cands: list[Candidate], lay: Layout | None = None,
                   units: Sequence[Unit] | None = None) -> list[str]:
    """The section the rules (`sections.layout`) give each candidate: the draft overlapping it most.

    `lay`: `sections.layout(cleaned)` when the caller has it (the pipeline computes it anyway)."""
    drafts = (lay if lay is not None else layout(cleaned, list(units) if units else None)).drafts
    spans = sorted((p.start, p.end, d.section) for d in drafts for p in d.spans)
    out: list[str] = []
    for c in cands:
        best, best_overlap = "none", 0
        for start, end, section in spans:
            if start >= c.end:
                break
            overlap = min(end, c.end) - max(start, c.start)
            if overlap > best_overlap:
                best, best_overlap = section, overlap
        out.append(best)
    return out


def featurise(cleaned: str, cands: list[Candidate], lay: Layout | None = None,
              units: Sequence[Unit] | None = None) -> list[dict[str, float | str]]:
    """The feature dictionaries of a report's candidates (one CRF item each, in order).

    `lay`: `sections.layout(cleaned)` if the caller has it already."""
    scan = _Scan(cleaned)  # (starts the report in `fastre`: `at=` offsets below index into `cleaned`)
    rules = _rule_sections(cleaned, cands, lay, units)
    n = len(cands)
    own: list[dict[str, float | str]] = []
    sentence_cache: dict[str, dict[str, float | str]] = {}
    heading_cache: dict[str, tuple[str, str]] = {}
    for i, c in enumerate(cands):
        f = _own(c.text, c.start, scan)
        f["bias"] = 1.0
        f["rule"] = rules[i]
        f["kind"] = c.kind
        f["pos"] = str(_bin(i / max(1, n), (0.1, 0.25, 0.5, 0.75, 0.9)))
        if i == 0:
            f["first"] = 1.0
        if i == n - 1:
            f["last"] = 1.0
        f["clause"] = str(min(c.clause, 2))
        if c.in_list:
            f["in_list"] = 1.0
        if c.list_head:
            f["list_head"] = 1.0
        if c.head_text:
            head_section, _ = last_cue_section(c.head_text)
            f["head_section"] = head_section or "none"
        if c.heading_above:
            if c.heading_above not in heading_cache:
                section, _ = last_cue_section(c.heading_above)
                syl = _syllables(c.heading_above)
                heading_cache[c.heading_above] = (section or "none", " ".join(syl[:2]))
            section, first = heading_cache[c.heading_above]
            f["heading_section"] = section
            f["heading_w12"] = first
        core = item_spans(c, "tasks")[0]
        if core.start != c.start:
            f["core_trimmed"] = 1.0
            lead = cleaned[c.start: core.start]
            if cues.DIRECTIVE.search(lead, at=c.start):
                f["core_after_directive"] = 1.0
            if scan.has("speaker", c.start, core.start):
                f["core_after_speaker"] = 1.0
        core_syl = _syllables(core.text)
        if core_syl:
            f["core_w1"] = core_syl[0]
        if cues.ACTION.match(core.text):
            f["core_action"] = 1.0
        _conjunctions(f)
        if c.sentence_text != c.text:
            s = sentence_cache.get(c.sentence_text)
            if s is None:
                s = _own(c.sentence_text, c.sentence_start, scan, full=False)
                sentence_cache[c.sentence_text] = s
            for key in _SENTENCE_KEYS:
                name = key if key in s else "k:" + key if "k:" + key in s else "start:" + key
                if name in s:
                    f["sent:" + key] = 1.0
        own.append(f)
    out: list[dict[str, float | str]] = []
    for i, f in enumerate(own):
        g = dict(f)
        for d, tag in ((-1, "prev"), (1, "next")):
            j = i + d
            if 0 <= j < n:
                for key in _NEIGHBOUR_KEYS:
                    if key in own[j]:
                        g[f"{tag}:{key}"] = own[j][key]
                if cands[j].sentence == cands[i].sentence:
                    g[f"{tag}:same_sentence"] = 1.0
            else:
                g[f"{tag}:none"] = 1.0
        out.append(g)
    return out


# ---------------------------------------------------------------------------------------------------
# The model: loading, labelling, items.

MODEL_PATH: Final = Path(__file__).with_name("section_model.crfsuite")
_TAGGERS: dict[str, pycrfsuite.Tagger] = {}


def load_model(path: Path | str | None = None) -> pycrfsuite.Tagger:
    """The CRF tagger of `path` (default: the committed model), opened once per process."""
    key = str(path or MODEL_PATH)
    tagger = _TAGGERS.get(key)
    if tagger is None:
        if not Path(key).is_file():
            raise FileNotFoundError(f"no section model at {key} (python -m summariser.train writes it)")
        tagger = pycrfsuite.Tagger()
        tagger.open(key)
        _TAGGERS[key] = tagger
    return tagger


def item_spans(cand: Candidate, section: str) -> list[Piece]:
    """The slices shown for a candidate: a task loses its speaker, addressees and filler."""
    p = cand.spans[0]
    if section == "tasks" and len(cand.spans) == 1:
        core = compress.trim_tail(compress.trim_lead(compress.drop_addressee(p), task=True))
        if not compress.at_most_words(core.text, MIN_WORDS - 1):
            p = core
    return [p, *cand.spans[1:]]


MERGE_WORDS: Final = 45  # neighbours of one sentence with one section are shown as one item up to this length


def items(cleaned: str, cands: list[Candidate], labels: list[str]) -> list[tuple[str, list[tuple[int, int]], str]]:
    """(section, spans, text) of every candidate labelled with a section, in report order.

    Neighbouring candidates of one sentence with the same section become one item (one continuous
    slice of `cleaned`) while it stays short: "bảo vệ chính trị nội bộ, bảo vệ bí mật nhà nước"."""
    out: list[tuple[str, list[tuple[int, int]], str]] = []
    open_sentence = -1  # the sentence of the last item, while the next candidate may join it
    for cand, section in zip(cands, labels, strict=True):
        if section not in SECTIONS:
            open_sentence = -1
            continue
        spans = item_spans(cand, section)
        if open_sentence == cand.sentence and out[-1][0] == section and len(spans) == 1:
            start = out[-1][1][0][0]
            whole = cleaned[start: spans[0].end]
            if compress.count_words(whole) <= MERGE_WORDS:
                out[-1] = (section, [(start, spans[0].end)], whole)
                continue
        out.append((section, [(p.start, p.end) for p in spans], " ".join(p.text for p in spans)))
        open_sentence = cand.sentence if len(spans) == 1 and MERGE_WORDS else -1
    return out


KEEP: Final = 0.5  # a clause is shown when the model gives its sections together at least this probability


def decide(tagger: pycrfsuite.Tagger, feats: list[dict[str, float | str]], keep: float = KEEP) -> list[str]:
    """Labels from the CRF's marginals: the likeliest section when the sections together are likely
    enough, else "none". Below 0.5 on purpose: a missed item costs the summary as much as a wrong one,
    and the F1 the evaluation uses rewards keeping a clause at well under even odds."""
    if not feats:
        return []
    tagger.set(feats)
    known = set(tagger.labels())
    out: list[str] = []
    for t in range(len(feats)):
        probs = {s: tagger.marginal(s, t) if s in known else 0.0 for s in SECTIONS}
        best = max(SECTIONS, key=lambda s: probs[s])
        out.append(best if sum(probs.values()) >= keep else "none")
    return out


def tag(cleaned: str, cands: list[Candidate], tagger: pycrfsuite.Tagger, keep: float = KEEP,
        lay: Layout | None = None, units: Sequence[Unit] | None = None) -> list[str]:
    """The model's label for every candidate."""
    if not cands:
        return []
    return decide(tagger, featurise(cleaned, cands, lay, units), keep)


def label(cleaned: str, units: Sequence[Unit] | None = None, *, lay: Layout | None = None,
          model: Path | str | None = None) -> list[tuple[str, list[tuple[int, int]], str]]:
    """(section, source spans in `cleaned`, item text) for every clause the model keeps, in report order.

    `cleaned` is `summariser.clean_text(raw)`; `units`, when the document's structure is known
    (`summariser.units.units_from_text`); `lay`, `sections.layout(cleaned)` when the caller has it
    (the rules' section is one of the features). Item texts are slices of `cleaned` (joined by " ").
    Starts the report in `fastre` (`fastre.begin(cleaned)`)."""
    cands = candidates(cleaned, units)
    return items(cleaned, cands, tag(cleaned, cands, load_model(model), lay=lay, units=units))


def summarise_learned(raw: str, *, model: Path | str | None = None) -> dict[str, Any]:
    """`summariser.summarise(raw)` as JSON data with its three sections from the model."""
    from summariser.pipeline import (  # (here: the pipeline may come to import this module)
        clean_text,
        summarise,
    )

    summary = summarise(raw)
    cleaned = clean_text(raw)
    data = summary.model_dump(mode="json")
    for section in SECTIONS:
        data[section] = []
    for section, spans, text in label(cleaned, model=model):
        data[section].append({"text": text, "source": [{"start": s, "end": e} for s, e in spans],
                              "engine": "crf"})
    return data


def main(argv: list[str] | None = None) -> int:
    """`python -m summariser.learned --json FILE...`: one JSON summary per line, sections from the model."""
    parser = argparse.ArgumentParser(prog="python -m summariser.learned",
                                     description="Tóm tắt bằng mô hình học từ dữ liệu / Summarise with the learned model.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="one JSON object per file (the only output format)")
    parser.add_argument("--model", default=None, help="model file (default: the packaged one)")
    args = parser.parse_args(argv)
    from summariser.cli import Refused, read_report

    status = 0
    for name in args.files:
        try:
            raw = read_report(Path(name))
        except Refused as refused:
            print(f"{name}: {refused.rejection.vi} / {refused.rejection.en}", file=sys.stderr)
            status = 2
            continue
        print(json.dumps(summarise_learned(raw, model=args.model), ensure_ascii=False))
    return status


if __name__ == "__main__":
    sys.exit(main())
