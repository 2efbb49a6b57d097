"""Sectioning: which sentences and clauses are results, shortcomings, tasks, or procedure.

A small state machine walks the report in order. Cues at sentence level switch the section
("Bên cạnh những kết quả đạt được ... vẫn còn", "nhiệm vụ trọng tâm ... thời gian tới", a leader's
"đề nghị"); a list after ":" takes the section of the last cue before the colon; inside results a
clause that says something is late, low or missing is a shortcoming. Procedure (attendance,
chairing, discussion, votes, awards) yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from summariser import compress, cues
from summariser.fastre import CI, ci
from summariser.models import Section
from summariser.segment import (
    Piece,
    paragraphs,
    sentences,
    split_at,
    strip_bullet,
    sub_piece,
    top_level_marks,
)
from summariser.units import Unit, units_from_text

SHORT_CLAUSE: Final = 10  # syllables: a list element this short is a sub-point of the one before
_TERMINAL: Final = (".", "!", "?", "…", ";", ":", '"', "”", ")")


@dataclass(slots=True)
class Draft:
    """An item before it becomes a model: its section, the spans shown, and the whole clause."""

    section: Section
    spans: list[Piece]
    clause: Piece
    sentence: int
    prefix: Piece | None = None  # the shortcoming noun of a list of bare topics ("khó khăn, vướng mắc")
    merged: bool = False

    @property
    def text(self) -> str:
        body = " ".join(p.text for p in self.spans)
        return f"{self.prefix.text}: {body}" if self.prefix else body

    @property
    def sources(self) -> list[Piece]:
        return ([self.prefix] if self.prefix else []) + self.spans


@dataclass(slots=True)
class Layout:
    title: Piece | None = None
    lead: list[Piece] = field(default_factory=list)
    content: list[Piece] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    text: str = ""
    parts: bool = False  # headings named the parts, and they decided the sections


_DAY_START: Final = re.compile(r"^(?:Ngày|Sáng|Chiều|Tối|Trưa|Hôm)\b")
_NEED_MUST: Final = re.compile(r"\s(?:cần|phải)\s")
_SUB_POINT: Final = re.compile(r"^(?:Trong đó|Riêng)\b")


def looks_like_heading(p: Piece, max_words: int = 15) -> bool:
    text = p.text
    return (
        not text.endswith(_TERMINAL)
        and ";" not in text
        and compress.at_most_words(text, max_words)
        and not _DAY_START.match(text)
    )


def _short_noun_cues(text: str, at: int | None = None) -> list[re.Match[str]]:
    """Shortcoming nouns that announce shortcomings (not "tháo gỡ khó khăn", "hạn chế tối đa").

    `at`: where `text` starts in the cleaned report, if known (see `fastre.begin`)."""
    out: list[re.Match[str]] = []
    concessive: re.Match[str] | None = None
    tested = False
    for m in cues.SHORT_NOUN.finditer(text, at=at):
        if not tested:  # (only when there is a noun to check)
            concessive, tested = _CONCESSIVE.match(text), True
        if concessive and m.start() < concessive.end():
            continue
        if _guarded(text, m.start(), cues.SHORT_NOUN_GUARD, at):
            continue
        if cues.SHORT_NOUN_VERB_AFTER.match(text[m.end():]):
            continue
        out.append(m)
    return out


_CONCESSIVE: Final = re.compile(r"^(?:Mặc dù|Dù|Tuy|Trong bối cảnh|Trong điều kiện|Trước)\b[^,]*,")


def _coordinated_start(before: str) -> int | None:
    r"""Where "(?:\S+\s){0,2}\S+\s*(?:,|và)\s*$" matches `before` first (None: nowhere): up to three
    runs without spaces, one space apart, before a final "," or "và"; the first run taken whole."""
    core = before.rstrip()
    if core.endswith(","):
        core = core[:-1].rstrip()
    elif core.endswith("và"):
        core = core[:-2].rstrip()
    else:
        return None
    if not core:
        return None
    start = len(core)
    while start and not core[start - 1].isspace():
        start -= 1
    for _ in range(2):
        if start < 2 or not core[start - 1].isspace() or core[start - 2].isspace():
            break
        start -= 1
        while start and not core[start - 1].isspace():
            start -= 1
    return start
_DONE: Final = re.compile(r"\bđã\b")


def _guarded(text: str, at: int, guard: CI, base: int | None = None) -> bool:
    """True when the words just before `at` turn the cue into an action ("tháo gỡ những khó khăn, ").

    `base`: where `text` starts in the cleaned report, if known (the guard then reads the report's
    lower-cased copy instead of lower-casing the words again)."""
    first = max(0, at - 60)
    before = text[first: at]
    offset = None if base is None else base + first  # (`before` is shortened at its end only)
    for _ in range(3):
        if guard.search(before, at=offset):
            return True
        # Coordinated nouns may sit between: "tháo gỡ những khó khăn, vướng mắc".
        start = _coordinated_start(before)
        if not start:
            return False
        before = before[:start]
    return False


def negative(text: str, at: int | None = None) -> bool:
    """The clause says something is late, low, missing or difficult."""
    for m in cues.NEGATIVE.finditer(text, at=at):
        if (_guarded(text, m.start(), cues.NEGATIVE_GUARD, at)
                or _guarded(text, m.start(), cues.SHORT_NOUN_GUARD, at)):
            continue
        if cues.SHORT_NOUN_VERB_AFTER.match(text[m.end():]) and m.group(0).lower() == "hạn chế":
            continue
        return True
    return False


def _request(text: str, at: int | None = None) -> re.Match[str] | None:
    return cues.REQUEST.search(text, at=at)


def _task_cue(text: str, at: int | None = None, request: re.Match[str] | bool | None = False) -> re.Match[str] | None:
    """`request`: `_request(text, at)` when the caller has it already."""
    m = (_request(text, at) if isinstance(request, bool) else request) or cues.FORWARD.search(text, at=at)
    if m:
        return m
    m = cues.TASK_NOUN.search(text, at=at)
    if m and _DONE.search(text, 0, m.start()):
        return None  # "đã tập trung chỉ đạo thực hiện các nhiệm vụ, giải pháp": done, not to do
    return m


def last_cue_section(head: str, at: int | None = None) -> tuple[Section | None, re.Match[str] | None]:
    """The section announced by the last cue in a list head, and that cue."""
    found: list[tuple[int, Section, re.Match[str]]] = []
    for pattern in (cues.FORWARD, cues.TASK_NOUN, cues.REQUEST):
        found += [(m.end(), "tasks", m) for m in pattern.finditer(head, at=at)]
    found += [(m.end(), "shortcomings", m) for m in _short_noun_cues(head, at)]
    found += [(m.end(), "results", m) for m in cues.RESULT_CUE.finditer(head, at=at)]
    if not found:
        return None, None
    _, section, m = max(found, key=lambda f: f[0])
    return section, m


def sentence_section(text: str, state: Section, at: int | None = None,
                     request: re.Match[str] | bool | None = False) -> Section:
    """Section of a sentence without a list: explicit cues first, then the running state."""
    if _task_cue(text, at, request):
        return "tasks"
    # ("Tuy nhiên" with a negative, or a shortcoming noun with or without it)
    if cues.CONTRAST_START.match(text, at=at) and negative(text, at):
        return "shortcomings"
    if _short_noun_cues(text, at):
        return "shortcomings"
    if _result_start(text, at):
        return "results"
    if state == "shortcomings" and not negative(text, at):
        return "results"
    return state


_RESULT_START: Final = ci(
    r"^(?:trong|qua|sau|tính đến|đến nay|từ đầu năm)\b[^,]{0,12}\b(?:\d+|những|các) (?:tháng|năm|quý)(?! cuối)(?! tới)"
    r"|^(?:về kết quả|kết quả(?: đạt được)?|năm \d{4},)|kết quả (?:đạt được|tích cực|quan trọng|nổi bật|khả quan)",
)


def _result_start(text: str, at: int | None = None) -> bool:
    return bool(_RESULT_START.search(text, at=at))


def find_list(s: Piece) -> tuple[Piece, Piece] | None:
    """The head and the list of "head: A; B; C" (or "head: One sentence."), if the head announces it."""
    if ":" not in s.text:
        return None
    for c in top_level_marks(s.text, ":"):
        head, rest = s.text[:c], s.text[c + 1:]
        if compress.at_most_words(rest, 1):
            continue
        if cues.list_intro(head) or (";" in rest and not compress.at_most_words(head, 3)):
            return sub_piece(s, 0, c), sub_piece(s, c + 1, len(s.text))
    return None


_NOUN_BEFORE: Final = re.compile(r"(\w+(?: \w+)?)\s*(?:,|và)\s*$")
_AND_AFTER: Final = re.compile(r",?\s*(?:và\s+)?")


_NOUN_WINDOW: Final = 80


def _noun_before(before: str) -> tuple[int, str] | None:
    """(start, text) of group 1 of `_NOUN_BEFORE.search(before)`, searched in the last `_NOUN_WINDOW`
    characters: the regex tries every position, and its match ends at the end. A match in the window
    is the match in the whole unless it starts at the window's first two characters (a word cut by the
    window, or the word before cut off at the space): then the whole is searched."""
    cut = max(0, len(before) - _NOUN_WINDOW)
    m = _NOUN_BEFORE.search(before, cut)
    if cut and m is not None and m.start() <= cut + 1:
        m = _NOUN_BEFORE.search(before)
    return (m.start(1), m.group(1)) if m else None


def _cue_phrase(head: Piece, cue: re.Match[str]) -> Piece:
    """The shortcoming cue with its coordinated nouns: "khó khăn, vướng mắc"."""
    start, end = cue.start(), cue.end()
    while True:
        before = head.text[:start]
        back = _noun_before(before) if before.rstrip().endswith((",", "và")) else None  # (any match does)
        if not back or not cues.SHORT_NOUN.fullmatch(back[1]):
            break
        start = back[0]
    while True:
        m = _AND_AFTER.match(head.text, end)
        nxt = cues.SHORT_NOUN.match(head.text, m.end() if m else end, at=head.start)
        if not nxt:
            break
        end = nxt.end()
    return sub_piece(head, start, end)


Part = Section | None  # "other": a part that yields no items (Nguyên nhân, Đề xuất, kiến nghị)

# What a heading names, by its first cue: "Kết quả thực hiện nhiệm vụ" is results ("kết quả" comes
# first), "Hạn chế và nguyên nhân" shortcomings, "Nguyên nhân của hạn chế" nothing, "Một số giải pháp
# khắc phục hạn chế" tasks. Requests sent upward (đề xuất, kiến nghị) are not the unit's tasks.
_HEADING_CUES: Final = (
    ("results", re.compile(r"\b(?:kết quả|tình hình|ưu điểm|thành tích|những việc đã làm|đã đạt|đạt được|"
                           r"công tác (?:lãnh đạo|chỉ đạo)|đánh giá)\b")),
    ("shortcomings", re.compile(r"\b(?:hạn chế|tồn tại|yếu kém|khó khăn|vướng mắc|khuyết điểm|bất cập|"
                                r"nhược điểm)\b")),
    ("tasks", re.compile(r"\b(?:nhiệm vụ|phương hướng|giải pháp|mục tiêu|kế hoạch|chương trình công tác|"
                         r"chỉ tiêu|việc cần làm)\b")),
    ("other", re.compile(r"\b(?:nguyên nhân|bài học|kinh nghiệm|đề xuất|kiến nghị|đề nghị|"
                         r"tổ chức thực hiện|căn cứ)\b")),
)


def heading_section(text: str) -> Part:
    """The part a heading or label opens, from its earliest cue; None for a neutral heading
    ("1. Về kinh tế"), which stays in the part above it."""
    low = text.lower()
    best: tuple[int, Section] | None = None
    for section, pattern in _HEADING_CUES:
        m = pattern.search(low)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), section)  # type: ignore[assignment]
    return best[1] if best else None


def _names_part(unit: Unit, structured: bool) -> Part:
    """The part a heading unit opens. In plain text only a numbered heading ("II.", "1.") or a label
    ("Tồn tại:") opens one: a news subheading ("Nhiệm vụ thu ngân sách nặng nề") is a headline."""
    if unit.kind != "heading" or not (structured or unit.numbering or unit.label):
        return None
    return heading_section(unit.text)


def _part_of(unit: Unit, structured: bool) -> Part:
    for h in reversed(unit.headings):  # the innermost heading that names a part
        part = _names_part(h, structured)
        if part is not None:
            return part
    return None


def layout(text: str, units: list[Unit] | None = None, *, structured: bool = False) -> Layout:
    """Walk the cleaned text and collect item drafts by section.

    `units`: what the document says about each paragraph (`summariser.units`); from the text's own
    line shapes when not given. Under a heading that names a part ("II. HẠN CHẾ", "Nhiệm vụ tháng
    12:") the part decides the section, and clause cues only split out a shortcoming inside results.
    `structured`: the layout was told by a file (styles, header block): text before the first part is
    the opening ("... báo cáo như sau:") and yields nothing."""
    out = Layout(text=text)
    pars = paragraphs(text)
    if units is None or len(units) != len(pars):
        units = units_from_text(text)
    has_parts = any(_names_part(u, structured) is not None for u in units)
    out.parts = has_parts
    first = 0
    if (pars and units[0].kind == "title") or (not structured and pars and looks_like_heading(pars[0], max_words=40)
                                               and len(pars) > 1):
        out.title = pars[0]
        first = 1
    state: Section = "results"
    attended: Piece | None = None  # the last sentence read: a list of guests may follow it
    index = 0
    seen_part = False
    for par, unit in zip(pars[first:], units[first:], strict=True):
        if unit.kind == "table_row":
            out.content.append(par)
            continue
        heading = unit.kind == "heading" or (not structured and (
            looks_like_heading(par) or (par.text.endswith(":") and compress.at_most_words(par.text, 15))))
        if heading and len(pars) > 1:
            named = _names_part(unit, structured) if has_parts else None
            if named is not None:
                seen_part = True
                if named != "other":
                    state = named
            else:
                head_section, _ = last_cue_section(par.text, par.start)
                if head_section and not has_parts:
                    state = head_section
            continue
        part = _part_of(unit, structured) if has_parts else None
        if part == "other" or (structured and has_parts and not seen_part):
            out.content.append(par)
            continue
        for sent in sentences(par):
            index += 1
            if len(out.lead) < 4:
                out.lead.append(sent)
            out.content.append(sent)
            text = sent.text
            if compress.at_most_words(text, 2):
                continue
            if (attended is not None and cues.TITLE_START.match(text)
                    and cues.ATTENDANCE.search(attended.text, at=attended.start)):
                continue
            attended = sent
            state = _sentence(out, sent, index, part if part is not None else state, part)
    return out


def _sentence(out: Layout, sent: Piece, index: int, state: Section, part: Part = None) -> Section:
    """`part`: the section the headings above decided (None: the cues and the running state do)."""
    text = sent.text
    at = sent.start
    if cues.CAUSE.match(text, at=at):
        return state  # "Nguyên nhân của những hạn chế trên là do ...": explains, states no shortcoming
    listed = find_list(sent)
    request = _request(text, at)
    procedural = bool(cues.PROCEDURAL.search(text, at=at)) and not (
        request and cues.REQUEST_STRICT.search(text, at=at))
    if procedural and state == "tasks":
        bare = strip_bullet(sent)
        if cues.ACTION.match(bare.text, at=bare.start):
            procedural = False  # "- Chuẩn bị tốt các điều kiện tổ chức kỳ họp cuối năm": a task, not procedure
    procedural = procedural or bool(cues.PROCEDURAL_STRONG.search(text, at=at))
    if procedural and not listed:
        # Late in the report, "Hội nghị thống nhất các nhiệm vụ năm 2014." opens the tasks.
        if part is None and out.drafts and last_cue_section(text, at)[0] == "tasks":
            return "tasks"
        return state
    if cues.FRAMING.match(text, at=at) and not compress.has_figure(text) and not listed:
        # states no fact, but may announce the next section
        return state if part is not None else sentence_section(text, state, at, request)
    if listed:
        head, rest = listed
        head_clauses = split_at(head, top_level_marks(head.text, ";"))
        cue_section, cue = last_cue_section(head.text, head.start)
        head_section = None if procedural else sentence_section(head.text, state, head.start)
        list_section: Section = cue_section or (state if head_section is None else head_section)
        if part is not None:
            head_section = None if procedural else part
            list_section = part
        if head_section is not None:
            before_section = head_section
            for clause in head_clauses[:-1]:
                _clause(out, clause, before_section, index)
        topic_prefix = None
        if list_section == "shortcomings" and cue is not None and cue.re is cues.SHORT_NOUN.re:
            topic_prefix = _cue_phrase(head, cue)
        for clause in split_at(rest, top_level_marks(rest.text, ";")):
            _clause(out, clause, list_section, index, topic_prefix=topic_prefix)
        return list_section
    section = part if part is not None else sentence_section(text, state, at, request)
    for i, clause in enumerate(split_at(sent, top_level_marks(text, ";"))):
        _clause(out, clause, section, index, first=i == 0)
    return section


def _clause(out: Layout, clause: Piece, section: Section, index: int, *, topic_prefix: Piece | None = None,
            first: bool = False) -> None:
    clause = compress.trim_tail(strip_bullet(clause))
    text = clause.text
    if compress.at_most_words(text, 1):
        return
    prev = out.drafts[-1] if out.drafts else None
    continues = prev is not None and (
        (prev.sentence == index and cues.CONTINUATION.match(text, at=clause.start))
        or (prev.sentence == index - 1 and first and _SUB_POINT.match(text))
    )
    if prev and continues and len(prev.spans) == 1 and prev.prefix is None:
        # "...đạt 65 tỷ đồng; lũy kế 8 tháng đạt 253 tỷ đồng": one idea, one continuous slice.
        start = prev.spans[0].start
        merged = compress.trim_tail(Piece(start, clause.end, out.text[start: clause.end]))
        if compress.count_words(merged.text) <= compress.MAX_WORDS + 10:
            prev.spans = [merged]
            prev.clause = Piece(prev.clause.start, clause.end, out.text[prev.clause.start: clause.end])
            return
    if section == "tasks" and cues.TASK_INTRO.search(text, at=clause.start):
        return  # "... đề ra một số nhiệm vụ trọng tâm trong 3 tháng cuối năm": announces, does not state
    if cues.FRAMING.match(text, at=clause.start) and not compress.has_figure(text):
        return
    if section == "results" and negative(text, clause.start):
        section = "shortcomings"
    core = clause
    if section == "tasks":
        if _request(text, clause.start) or _NEED_MUST.search(text, 0, 120):
            core = compress.drop_addressee(core)
        core = compress.trim_lead(core, task=True)
    else:
        core = compress.trim_lead(core, task=False)
    core = compress.trim_tail(core)
    core_text = core.text
    # (the framing test on an unchanged clause was passed above)
    if core != clause and cues.FRAMING.match(core_text, at=core.start) and not compress.has_figure(core_text):
        return
    if (section != "tasks" and cues.PROCEDURAL.search(core_text, at=core.start)
            and not compress.has_figure(core_text)):
        return
    n_words = compress.words_upto(core_text, compress.TARGET_WORDS + 1)  # compared with 35 at most
    if n_words < 2 or (n_words < 3 and not compress.has_number(core_text)):
        return
    if (section in ("results", "shortcomings") and topic_prefix is None and compress.specificity(core_text, 2) < 2
            and not compress.has_figure(core_text)):
        return  # "Đảng bộ huyện đã tập trung lãnh đạo, chỉ đạo thực hiện các nhiệm vụ": says nothing
    prefix = None
    if (topic_prefix is not None and not negative(core_text, core.start)
            and not cues.SHORT_NOUN.search(core_text, at=core.start)):
        prefix = topic_prefix
    # A clause within the target length is kept whole (`shorten` would return it as it is).
    parts = [[core]] if n_words <= compress.TARGET_WORDS else [spans for spans in compress.shorten(core) if spans]
    if (
        len(parts) == 1 and len(parts[0]) == 1 and prefix is None and prev is not None
        and prev.sentence == index and prev.section == section and prev.prefix is None and not prev.merged
        and len(prev.spans) == 1 and n_words <= SHORT_CLAUSE
        and compress.count_words(prev.text) + n_words <= compress.TARGET_WORDS
        and not (compress.has_figure(core_text) and compress.has_figure(prev.text)
                 and not cues.ACTION.match(core_text, at=core.start))
    ):
        # A short sub-point ("...; bảo vệ bí mật nhà nước") stays with the point before it.
        start = prev.spans[0].start
        prev.spans = [Piece(start, core.end, out.text[start: core.end])]
        prev.clause = Piece(prev.clause.start, clause.end, out.text[prev.clause.start: clause.end])
        prev.merged = True
        return
    for spans in parts:
        out.drafts.append(Draft(section, spans, clause, index, prefix))
        prefix = None


