"""The brief: what an official reads first, on one phone screen (<= 1,200 UTF-16 units).

Pure (no Telegram): `make_brief` ranks each section's items, keeps the best few, and shortens or
drops the lowest-ranked until `render_brief_text` fits; the bot wraps the same pieces in HTML.

Importance uses few, explained weights (see `Weights`), checked on the dev reports by
`bench/brief.py`: figures (a comparison with a plan, a share or a growth counts more), the
report's own order, the report's own headings, and specific wording over generic phrases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, Field

from summariser.models import SECTIONS, Figure, Item, Section, Summary

LIMIT: Final = 1200
HEADINGS: Final[dict[Section, str]] = {
    "results": "Kết quả nổi bật",
    "shortcomings": "Hạn chế, tồn tại",
    "tasks": "Nhiệm vụ thời gian tới",
}
BULLET: Final = "• "
ELLIPSIS: Final = "…"
SEPARATOR: Final = " · "
TITLE_PART_CAP: Final = 120  # a title part longer than this (a pasted headline) is shortened
MIN_CAP: Final = 90  # below this an item says too little: drop the lowest-ranked item instead
FIGURE_ROOM: Final = 30  # extra units per figure an item carries (up to 3): its figures need words around them

_COMPARISON: Final = re.compile(r"\b(?:so với|kế hoạch|dự toán|cùng kỳ|chỉ tiêu)\b", re.IGNORECASE)
# Phrases that fit any report: they carry no information of their own, so they do not count as
# specific wording ("tập trung lãnh đạo, chỉ đạo" says nothing about what was done).
_GENERIC: Final = re.compile(
    r"\b(?:tiếp tục|tập trung|lãnh đạo|chỉ đạo|thực hiện|tốt|hiệu quả|tăng cường|nâng cao|chất lượng|"
    r"đẩy mạnh|quan tâm|chú trọng|triển khai|các|những|công tác|nhiệm vụ|cơ bản|đảm bảo|"
    r"đúng|kịp thời|nghiêm túc|đề ra|của|và|với|trong|cho|được|đã|sẽ|là|có|để|theo|về|tại|từ|"
    r"trên|một số|hơn nữa|góp phần|tích cực|toàn diện|mọi mặt|các cấp|cấp ủy|chính quyền)\b",
    re.IGNORECASE,
)
_SYLLABLE: Final = re.compile(r"\w+", re.UNICODE)
_TRAILING_MARKS: Final = " \t\n\r\f\v,;:-–—("
_TRAILING_WORDS: Final = frozenset({
    "và", "của", "các", "những", "với", "trong", "để", "cho", "là", "được", "đã", "sẽ", "về", "tại", "từ",
    "theo", "như", "có", "nhằm", "đến", "bằng", "hoặc", "gồm", "đạt",
})


def _strip_trailing(head: str) -> str:
    """`head` without the commas, dashes and function words it ends on ("…, và", "… của"): a cut
    there reads as if the sentence went on."""
    while True:
        stripped = head.rstrip(_TRAILING_MARKS)
        cut = stripped.rfind(" ")
        word = stripped[cut + 1:].lower()
        if cut > 0 and word == "với" and stripped[:cut].lower().endswith(" so"):
            stripped = stripped[: cut - 3]
        elif cut > 0 and word in _TRAILING_WORDS:
            stripped = stripped[:cut]
        if stripped == head:
            return head
        head = stripped


def capitalise(text: str) -> str:
    """First letter upper-cased (items are often cut from mid-sentence: "tăng cường…", or start
    with "… " after a cut); stops at a digit ("12 xã") and leaves the rest as written."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch.isdigit():
            return text
    return text


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Weights:
    """The ranking's weights; `bench/brief.py` measures each against the dev set.

    figure: per figure the item carries (at most `figure_cap`): numbers are what officials compare.
    comparison: once, when a figure is a share/growth or the item says "so với", "% kế hoạch":
        a result against its plan says more than the bare amount.
    position: first item 0.5 falling to 0 at the last: reports state the main point first; at 1.0
        it outweighed the figures on the dev set (result figures kept 85.2% -> 85.6% at 0.5).
    heading: the item stands under the report's own heading for its section (needs `text`).
    specific: 0..1, the share of the item's syllables outside generic phrases, scaled by length
        up to 20 specific syllables: "tập trung lãnh đạo, chỉ đạo" scores ~0.
    Dev set (bench/brief.py): without `figure` only ~68% of the gold result figures stay (85.6% with);
    `comparison` and `heading` change little there (few dev reports have numbered headings).
    """

    figure: float = 1.0
    figure_cap: int = 3
    comparison: float = 1.0
    position: float = 0.5
    heading: float = 0.5
    specific: float = 1.0


DEFAULT_WEIGHTS: Final = Weights()


class BriefItem(BaseModel):
    """One item shown: where it is in the full summary, the text shown, and the figures it shows."""

    section: Section
    index: int  # position in `Summary.<section>`
    text: str  # as shown: the item's text, or a prefix of it ending in "…"
    shortened: bool = False
    score: float = 0.0
    figures: list[int] = Field(default_factory=list)  # indexes into `Summary.figures` still shown


class BriefSection(BaseModel):
    name: Section
    heading: str
    items: list[BriefItem] = Field(default_factory=list)
    total: int = 0  # items the summary has in this section
    left_out: int = 0  # total - shown: rendered as "+N mục khác"


class Brief(BaseModel):
    """The selection and text pieces of a brief; `render_brief_text` turns it into plain text."""

    unit: str | None = None
    meeting: str | None = None
    date: str | None = None  # dd/mm/yyyy
    period: str | None = None
    sections: list[BriefSection] = Field(default_factory=list)
    limit: int = LIMIT

    def title_parts(self) -> list[str]:
        return [p for p in (self.unit, self.meeting, self.date, self.period) if p]


# --- cutting at word boundaries -------------------------------------------------------------------


def _joins(ch: str) -> bool:
    """A character that belongs to the one before it (accents, emoji joiners and modifiers)."""
    return (
        unicodedata.category(ch).startswith("M")
        or ch in "\u200d\ufe0f\ufe0e"
        or 0x1F3FB <= ord(ch) <= 0x1F3FF
    )


def _cut_points(text: str, keep_whole: list[tuple[int, int]]) -> list[int]:
    """Where `text` may end before an ellipsis: at a space, or between two symbols that are not
    letters or digits (a run of emoji); never inside a word, a number or a figure of `keep_whole`."""
    inside = bytearray(len(text) + 1)
    for s, e in keep_whole:
        for i in range(max(s + 1, 0), min(e, len(text) + 1)):
            inside[i] = 1
    points: list[int] = []
    for i in range(1, len(text)):
        if inside[i]:
            continue
        a, b = text[i - 1], text[i]
        if (b.isspace() and not a.isspace()) or (not (a.isalnum() or b.isalnum() or a.isspace() or b.isspace()) and not _joins(b) and a != "\u200d"):
            points.append(i)
    return points


def _cut_prefix(text: str, limit: int, keep_whole: list[tuple[int, int]]) -> str:
    """The longest prefix ending at a word boundary, without trailing commas or function words,
    plus "…", within `limit` ("…" alone when no boundary fits)."""
    budget = limit - utf16_len(ELLIPSIS)
    units = [0]  # UTF-16 length of text[:i], computed once (the cut is tried at many points)
    for ch in text:
        units.append(units[-1] + (2 if ord(ch) > 0xFFFF else 1))
    best = ""
    for i in reversed(_cut_points(text, keep_whole)):
        if i <= len(best):  # a head is never longer than its cut point: nothing longer is left
            break
        if units[i] > budget + 40:  # (trailing words dropped below can only save so much)
            continue
        head = text[:i]
        head = _strip_trailing(head).rstrip()
        if head and utf16_len(head) <= budget and len(head) > len(best):
            best = head
    return best + ELLIPSIS


_CLAUSE_BREAKS: Final = ("; ", ", ")


def _spans(text: str, keep: Sequence[str]) -> list[tuple[int, int]]:
    """Where the strings of `keep` (figure texts) stand in `text`."""
    spans: list[tuple[int, int]] = []
    for k in keep:
        start = text.find(k) if k else -1
        while start >= 0:
            spans.append((start, start + len(k)))
            start = text.find(k, start + 1)
    return spans


def _figure_clauses(text: str, limit: int, focus: list[tuple[int, int]]) -> str:
    """`text` without its clauses that hold no figure of `focus`, each run of them shown as "…":
    first the clauses between semicolons, then between commas, until it fits (`text` itself when
    no clause can go)."""
    best = text
    for sep in _CLAUSE_BREAKS:
        pieces: list[tuple[int, int]] = []
        start = 0
        while True:
            end = best.find(sep, start)
            pieces.append((start, len(best) if end < 0 else end))
            if end < 0:
                break
            start = end + len(sep)
        spans = focus if best is text else _spans(best, [text[s:e] for s, e in focus])
        kept = [any(s < pe and ps < e for s, e in spans) for ps, pe in pieces]
        if all(kept) or not any(kept):
            continue
        out = ""
        dropped = False
        for (ps, pe), keep in zip(pieces, kept, strict=True):
            if not keep:
                dropped = True
                continue
            part = best[ps:pe]
            if not out:
                out = f"{ELLIPSIS} {part}" if dropped and not part.startswith(ELLIPSIS) else part
            else:
                out += f"{sep}{ELLIPSIS} {part}" if dropped else f"{sep}{part}"
            dropped = False
        if dropped and not out.endswith(ELLIPSIS):
            out = _strip_trailing(out) + ELLIPSIS
        best = out
        if utf16_len(best) <= limit:
            break
    return best


def shorten(text: str, limit: int, keep: Sequence[str] = ()) -> str:
    """`text` if it fits `limit` UTF-16 units. Else, when it carries figures (`keep`: their texts),
    first the clauses that hold them, with "…" for the others; then the longest prefix ending at a
    word boundary, plus "…". Never cut inside a word, a number or a figure."""
    if utf16_len(text) <= limit:
        return text
    if keep:
        text = _figure_clauses(text, limit, _spans(text, keep))
        if utf16_len(text) <= limit:
            return text
    return _cut_prefix(text, limit, _spans(text, keep))


# --- ranking --------------------------------------------------------------------------------------


def _carried(item: Item, figures: list[Figure]) -> list[int]:
    """Indexes of the figures inside the item: by source span, else by text for a figure without one."""
    out: list[int] = []
    for i, f in enumerate(figures):
        if f.source is not None and item.source:
            inside = any(s.start <= f.source.start and f.source.end <= s.end for s in item.source)
        else:
            inside = bool(f.text) and f.text in item.text
        if inside and f.text in item.text:
            out.append(i)
    return out


def specificity(text: str) -> float:
    """0..1: specific syllables (outside generic phrases), up to 20 of them, times their share."""
    total = len(_SYLLABLE.findall(text))
    if not total:
        return 0.0
    specific = len(_SYLLABLE.findall(_GENERIC.sub(" ", text)))
    return min(specific, 20) / 20 * (specific / total)


def _own_heading_starts(text: str) -> dict[Section, list[tuple[int, int]]]:
    """Spans of the cleaned text that stand under a numbered heading or label naming a section."""
    from summariser.sections import heading_section
    from summariser.units import units_from_text

    out: dict[Section, list[tuple[int, int]]] = {s: [] for s in SECTIONS}
    units = units_from_text(text)
    for u in units:
        part = None
        for h in reversed(u.headings):
            if h.numbering or h.label:
                part = heading_section(h.text)
                if part is not None:
                    break
        if part in out:
            out[part].append((u.piece.start, u.piece.end))  # type: ignore[index]
    return out


def score_item(
    item: Item,
    position: int,
    count: int,
    figures: list[Figure],
    *,
    under_heading: bool = False,
    weights: Weights = DEFAULT_WEIGHTS,
) -> float:
    """The item's importance (see `Weights`); higher is shown first."""
    carried = [figures[i] for i in _carried(item, figures)]
    score = weights.figure * min(len(carried), weights.figure_cap)
    if carried and (any(f.kind in ("share", "growth") for f in carried) or _COMPARISON.search(item.text)):
        score += weights.comparison
    score += weights.position * (1 - position / count if count > 1 else 1.0)
    score += weights.heading * under_heading
    score += weights.specific * specificity(item.text)
    return score


# --- the brief ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    section: Section
    index: int
    item: Item
    score: float
    figures: list[int]
    keep: list[str]


def _title(summary: Summary) -> dict[str, str | None]:
    meeting = summary.meeting or summary.title
    unit = summary.unit
    if unit and meeting and unit.lower() in meeting.lower():
        unit = None  # "Hội nghị … huyện Gia Lộc" already names it
    period = summary.period
    if period and meeting and period.lower() in meeting.lower():
        period = None

    def cap(part: str | None) -> str | None:
        return shorten(part, TITLE_PART_CAP) if part else None

    return {
        "unit": cap(unit),
        "meeting": cap(meeting),
        "date": summary.date.strftime("%d/%m/%Y") if summary.date else None,
        "period": cap(period),
    }


def _build(summary: Summary, title: dict[str, str | None], chosen: dict[Section, list[_Candidate]],
           cap: int, limit: int) -> Brief:
    sections: list[BriefSection] = []
    for name in SECTIONS:
        total = len(summary.section(name))
        if not total:
            continue
        items: list[BriefItem] = []
        for c in chosen[name]:
            shown = capitalise(shorten(c.item.text.strip(), cap + FIGURE_ROOM * min(len(c.keep), 3), c.keep))
            figs = [i for i in c.figures if summary.figures[i].text in shown]
            items.append(BriefItem(section=name, index=c.index, text=shown, shortened=shown != capitalise(c.item.text.strip()),
                                   score=round(c.score, 3), figures=figs))
        sections.append(BriefSection(name=name, heading=HEADINGS[name], items=items, total=total,
                                     left_out=total - len(items)))
    return Brief(sections=sections, limit=limit, **title)


def make_brief(
    summary: Summary,
    *,
    max_results: int = 5,
    max_shortcomings: int = 3,
    max_tasks: int = 5,
    limit: int = LIMIT,
    text: str | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> Brief:
    """The best-ranked items of each section that fit `limit` UTF-16 units once rendered.

    Items are cut to one common length (longest first to suffer); when even `MIN_CAP` does not fit,
    the lowest-ranked item of a section showing more than one goes, so every non-empty section
    keeps at least one. `text`: the cleaned report (`clean_text`), to see the report's headings."""
    maxima: dict[Section, int] = {"results": max_results, "shortcomings": max_shortcomings, "tasks": max_tasks}
    headed = _own_heading_starts(text) if text else {s: [] for s in SECTIONS}
    chosen: dict[Section, list[_Candidate]] = {}
    for name in SECTIONS:
        items = summary.section(name)
        cands = []
        for i, item in enumerate(items):
            under = bool(item.source) and any(s <= item.source[0].start < e for s, e in headed[name])
            cands.append(_Candidate(
                name, i, item,
                score_item(item, i, len(items), summary.figures, under_heading=under, weights=weights),
                _carried(item, summary.figures), [f.text for f in summary.figures if f.text and f.text in item.text]))
        cands.sort(key=lambda c: (-c.score, c.index))
        chosen[name] = cands[: max(maxima[name], 1 if items else 0)]
    title = _title(summary)
    longest = max((utf16_len(c.item.text) for cs in chosen.values() for c in cs), default=0)

    def fits(cap: int) -> Brief | None:
        brief = _build(summary, title, chosen, cap, limit)
        return brief if utf16_len(render_brief_text(brief)) <= limit else None

    while True:
        whole = fits(longest)
        if whole is not None:
            return whole
        if fits(MIN_CAP) is not None:
            lo, hi = MIN_CAP, longest  # fits(lo), not fits(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if fits(mid) is not None else (lo, mid)
            return fits(lo)  # type: ignore[return-value]
        droppable = [c for cs in chosen.values() if len(cs) > 1 for c in cs]
        if not droppable:
            break
        worst = min(droppable, key=lambda c: (c.score, -c.index))
        chosen[worst.section].remove(worst)
    for cap in range(MIN_CAP - 1, 0, -1):  # one item per section and still too long: cut deeper
        brief = fits(cap)
        if brief is not None:
            return brief
    return _build(summary, {"unit": None, "meeting": None, "date": None, "period": None}, chosen, 1, limit)


def render_brief_text(brief: Brief) -> str:
    """Plain text: the title line, then per section its heading, bullets and "+N mục khác"."""
    blocks: list[str] = []
    title = SEPARATOR.join(brief.title_parts())
    if title:
        blocks.append(title)
    for sec in brief.sections:
        lines = [sec.heading]
        lines += [BULLET + it.text for it in sec.items]
        if sec.left_out:
            lines.append(f"+{sec.left_out} mục khác")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
