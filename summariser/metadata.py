"""Who met, where, when, about which period: read from the title and the lead, never guessed.

The unit is taken only where the text names it next to an organ ("Huyện ủy Bình Gia", "Đảng bộ
huyện Gia Lộc", "UBND xã Mỹ Thạnh") or in the lead; a guest's province in the attendance list or a
town named in passing is not the unit. The year of a date written without one ("Sáng 9/10") comes
from the periods the report itself names ("3 tháng cuối năm 2019").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from summariser.fastre import ci, fold
from summariser.normalise import LOWER, UPPER, normalise

_LEVEL: Final = r"(?:huyện|tỉnh|thành phố|TP\.?|Tp\.?|thị xã|quận|xã|phường|thị trấn)"
# A syllable of a place name: capitalised ("Gia", "Rịa-Vũng", "R’Lấp", "R’lấp"), an acronym ("HCM"), or a
# district number ("quận 1").
_NAME_WORD: Final = (rf"(?:[{UPPER}][{LOWER}]*(?:-[{UPPER}][{LOWER}]*|[’'][{UPPER}{LOWER}][{LOWER}]*)?(?![{UPPER}])"
                     rf"|[{UPPER}]{{2,4}}(?![{UPPER}{LOWER}])|\d{{1,2}}(?!\d|/|,\d))")
_NOT_NAME: Final = {
    "Ban", "Đảng", "Huyện", "Tỉnh", "UBND", "HĐND", "Ủy", "Khóa", "Lần", "Kỳ", "Nhiệm", "Sáng", "Chiều",
    "Tối", "Ngày", "Tại", "Trong", "Về", "Đồng", "Chủ", "Bí", "Phó", "Thường", "Các", "MTTQ", "Mặt", "Công",
    "Năm", "Tháng", "Quý", "Đại", "Nghị", "Kế", "Báo", "Chương", "Trung", "TW", "T.Ư", "Trưởng", "Tổ",
    "Đoàn", "Phòng", "Văn", "Quyết", "Thông", "Theo", "Sau", "Qua", "Để", "Với", "Và",
}
_NOT_NAME_PAIRS: Final = {"Hội nghị", "Hội đồng", "Chi bộ", "Thành ủy", "Chi hội"}
# Words of _NOT_NAME that also end place names ("Hải Phòng", "Bình Trung"): kept as the name's last word.
_NAME_ENDS: Final = {"Phòng", "Trung"}
_PLACE: Final = re.compile(rf"\b({_LEVEL})\s+((?:{_NAME_WORD})(?:\s(?:{_NAME_WORD})){{0,3}})")
_ORGAN_PLACE: Final = re.compile(
    rf"\b(Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy|Quận ủy)\s+((?:{_NAME_WORD})(?:\s(?:{_NAME_WORD})){{0,3}})"
    rf"|\b(?:Đảng bộ|Đảng ủy|UBND|Ủy ban nhân dân|HĐND|Hội đồng nhân dân|MTTQ|Ủy ban MTTQ(?: Việt Nam)?)\s+"
    rf"({_LEVEL})\s+((?:{_NAME_WORD})(?:\s(?:{_NAME_WORD})){{0,3}})"
)
# Where a match of _ORGAN_PLACE / _PLACE may start ("X(?<!\w.)" is "\bX": X is a word character).
_ORGAN_PLACE_START: Final = re.compile(
    r"H(?<!\w.)uyện ủy|T(?<!\w.)ỉnh ủy|T(?<!\w.)hành ủy|T(?<!\w.)hị ủy|Q(?<!\w.)uận ủy|Đ(?<!\w.)ảng bộ|Đ(?<!\w.)ảng ủy|"
    r"U(?<!\w.)BND|Ủ(?<!\w.)y ban|H(?<!\w.)ĐND|H(?<!\w.)ội đồng nhân dân|M(?<!\w.)TTQ")
_PLACE_START: Final = re.compile(
    r"h(?<!\w.)uyện|t(?<!\w.)ỉnh|t(?<!\w.)hành phố|T(?<!\w.)P|T(?<!\w.)p|t(?<!\w.)hị xã|q(?<!\w.)uận|x(?<!\w.)ã|"
    r"p(?<!\w.)hường|t(?<!\w.)hị trấn")
_ORGANS: Final = ("Huyện ủy", "Tỉnh ủy", "Thành ủy", "Thị ủy", "Quận ủy", "Đảng bộ", "Đảng ủy", "UBND", "Ủy ban nhân dân", "HĐND",
           "Hội đồng nhân dân", "MTTQ")
_ORGAN_LEVEL: Final = {"Huyện ủy": "huyện", "Tỉnh ủy": "tỉnh", "Thành ủy": "TP", "Thị ủy": "thị xã", "Quận ủy": "quận"}
_GUEST: Final = re.compile(r"(?:Chủ tịch|Bí thư|Phó|Ủy viên|Giám đốc|Trưởng|Chánh|Tỉnh ủy viên|Đại diện|lãnh đạo)\b[^,;.]*$")

_BODY: Final = re.compile(
    rf"\b(Ban Chấp hành Đảng bộ\s+{_LEVEL}|Ban Chấp hành Đảng bộ|"
    r"(?:Ban Thường vụ|BTV)\s+(?:Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy|Quận ủy|Đảng ủy(?:\s(?:xã|phường|thị trấn))?)|"
    r"Thường trực\s+(?:Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy|Quận ủy|HĐND(?:\s(?:huyện|tỉnh|xã|thành phố|thị xã|quận|phường|thị trấn))?)|"
    rf"(?:UBND|Ủy ban nhân dân)\s+{_LEVEL}|(?:HĐND|Hội đồng nhân dân)\s+{_LEVEL}|"
    r"Đảng ủy\s+(?:xã|phường|thị trấn|khối)|Huyện ủy|Tỉnh ủy|Thành ủy|Thị ủy|Quận ủy)"
)

# What find_meeting looks for (tests/test_summariser_metadata.py holds the plain patterns):
# "\b(lần thứ|kỳ họp thứ|Kỳ họp thứ|phiên họp thứ)\s+(\d+|_ORDINAL_WORDS)", "\bkhóa\s+([IVXLC]{1,7}|\d{1,2})\b",
# "\b(sơ kết|tổng kết)\b" and "\bhội nghị\b", all re.IGNORECASE, and
# "\b((?:[Hh]ội nghị|[Pp]hiên họp|[Cc]uộc họp))\s+(…)".
# The same, each led by a plain character (the regex engine skips to it; "X(?<!\w.)" is "\bX"), and
# case-insensitive the fast way: lower-case patterns searched in `fold(lead)` (same length, so the
# offsets are those of `lead`; groups are read from `lead`). Exact: `fold` keeps what is a word
# character, digit or space, and a character matches a letter of these words under re.IGNORECASE
# exactly when its fold is that letter, save "i" (also "ı", "İ": fold keeps both) and "s" (also "ſ").
# "Kỳ họp thứ" is "kỳ họp thứ" once case is aside.
_ORDINAL_FOLDED: Final = (r"(?:một|ha[iıİ]|ba|bốn|tư|năm|lăm|[sſ]áu|bảy|bẩy|tám|chín|mườ[iıİ]|mươ[iıİ]|mốt|nhất)\b")
_MEETING_NO_FOLDED: Final = re.compile(
    r"(l(?<!\w.)ần thứ|k(?<!\w.)ỳ họp thứ|p(?<!\w.)h[iıİ]ên họp thứ)\s+"
    rf"(\d+|{_ORDINAL_FOLDED}(?:\s{_ORDINAL_FOLDED}){{0,3}})")
_TERM_FOLDED: Final = re.compile(r"k(?<!\w.)hóa\s+([ivxlcıİ]{1,7}|\d{1,2})\b")
_MEETING_KIND_LED: Final = re.compile(
    r"(H(?<!\w.)ội nghị|h(?<!\w.)ội nghị|P(?<!\w.)hiên họp|p(?<!\w.)hiên họp|C(?<!\w.)uộc họp|c(?<!\w.)uộc họp)\s+"
    r"((?:định kỳ|thường kỳ|thường lệ|giao ban|chuyên đề|trực tuyến|mở rộng)"
    r"(?:\s\((?:mở rộng)\))?(?:\s(?:mở rộng|định kỳ))?)"
)
_REVIEW_KIND_FOLDED: Final = re.compile(r"(s(?<!\w.)ơ kết|ſ(?<!\w.)ơ kết|t(?<!\w.)ổng kết)\b")
_HOI_NGHI_FOLDED: Final = re.compile(r"h(?<!\w.)ộ[iıİ] nghị\b")

_TIME_WORD: Final = r"(?:[Ss]áng|[Cc]hiều|[Tt]ối|[Tt]rưa|[Đđ]êm)"
_DATE: Final = re.compile(  # (the look-ahead: every match starts with one of these; searched via _DATE_START)
    rf"(?=[SsCcTtĐđNn\d])(?:(?:(?P<tod>{_TIME_WORD})(?:\s+nay)?(?:,?\s*(?:thứ|Thứ)\s+\w+)?,?\s*)?(?P<ngay>[Nn]gày\s*)?"
    r"(?P<d>\d{1,2})\s?[/.-]\s?(?P<m>\d{1,2})(?:\s?[/.-]\s?(?P<y>\d{4}))?(?![\d/])"
    r"|(?:(?P<tod2>" + _TIME_WORD + r")\s+)?[Nn]gày\s+(?P<d2>\d{1,2})\s+tháng\s+(?P<m2>\d{1,2})(?:\s+năm\s+(?P<y2>\d{4}))?)"
)
# Where a match of _DATE may start: a time word, "ngày", or the day's digits before "/", "." or "-"
# (led by a look-ahead, _DATE itself is tried at every position, see `_next_match`).
_DATE_START: Final = re.compile(
    r"[SsCcTtĐđNn\d](?:á(?<=[Ss].)ng|h(?<=[Cc].)iều|ố(?<=[Tt].)i|r(?<=[Tt].)ưa|ê(?<=[Đđ].)m|g(?<=[Nn].)ày|"
    r"(?<=\d)\d?\s?[/.-])")
_NOT_MEETING_DATE: Final = ci(r"(?:đến|tới|từ|tính đến|trước|sau|số|của|hết|kể từ|ban hành|\d-[A-ZĐ/]+)\s*$")
# A sentence about the meeting: `ci(r"hội nghị|kỳ họp|phiên họp|cuộc họp|\bhọp\b|tổ chức|diễn ra|khai mạc|
# sơ kết|tổng kết|giao ban|làm việc").search(sentence)` is not None, i.e. one of the words is in the fold
# of the sentence, or "họp" is there as a word (`_about_meeting`; compiled, a loop of `in`). `ci` checks a
# leading "\b" as "not after a letter or digit" ("_" aside): so does _HOP_WORD.
_MEETING_WORDS: Final = ("hội nghị", "kỳ họp", "phiên họp", "cuộc họp", "tổ chức", "diễn ra", "khai mạc", "sơ kết",
                         "tổng kết", "giao ban", "làm việc")
_HOP_WORD: Final = re.compile(r"\bhọp\b")

# These run over the whole report. A pattern that starts with a character class lets the regex engine
# skip to the candidates; "X(?<!\w.)" is "\bX" written so (the word start checked after X).
_PERIOD_MONTHS: Final = re.compile(  # \b(\d{1,2})\s+tháng...
    r"(\d(?<!\w\d)\d?)\s+tháng(?!\s+(?:cuối|còn lại|tới))(\s+đầu\s+năm|\s+năm)?(?:\s+(\d{4}))?(?!\s*(?:tuổi|/))"
)
_PERIOD_QUARTER: Final = re.compile(r"[Qq](?<!\w.)uý\s+(I{1,3}|IV|[1-4])(?!\w)(?:\s*(?:/|-|năm)\s*(\d{4}))?")  # \b[Qq]uý...
_PERIOD_MONTH: Final = re.compile(  # (?<![\d/])\btháng...
    r"t(?<![\w/].)háng\s+(\d{1,2})(?![\d])(?:\s*/\s*(\d{4})|\s+năm\s+(\d{4}))?(?!\s*/\s*\d{1,2}\b)")
_PERIOD_YEAR: Final = re.compile(  # \b(?:[Nn]ăm|cả năm|Cả năm)\s+(\d{4})...
    r"[NnCc](?<!\w.)(?:(?<=[Nn])ăm|(?<=[Cc])ả năm)\s+(\d{4})(?!\s*[-–]\s*\d{4})")
# The same, one pattern per leading word (a plain word first is the quickest for the regex engine to
# find), for the whole report: see `_merged`.
_PERIOD_YEAR_WORDS: Final = tuple(
    re.compile(rf"{word}(?<!\w.{{{len(word)}}})\s+(\d{{4}})(?!\s*[-–]\s*\d{{4}})")
    for word in ("năm", "Năm", "cả năm", "Cả năm"))
_FORWARD_BEFORE: Final = ci(
    r"(?:triển khai(?: các)? nhiệm vụ|nhiệm vụ(?: công tác)?(?:, giải pháp)? trọng tâm|phương hướng(?:, nhiệm vụ)?|"
    r"dự kiến|kế hoạch|chương trình công tác|cuối|tới|đến|giai đoạn|nhiệm kỳ|trước|sau|từ)\s*(?:các\s*|trong\s*)?$")
_YEAR_RANGE_WORDS: Final = ("giai đoạn", "nhiệm kỳ", "đến", "từ", "trước", "sau", "đến hết", "tới")


def _next_match(pattern: re.Pattern[str], starts: re.Pattern[str], text: str, pos: int) -> re.Match[str] | None:
    """`pattern.search(text, pos)`, for a pattern that cannot match empty and whose every match starts
    where `starts` matches: tried only there. (`search` tries `match` at each position from `pos` in
    turn and both see the whole string, look-behinds included; `starts` is led by a plain character or
    a class, so the regex engine skips to the candidates, where `pattern` itself, led by `\b`, a
    group or a look-ahead, is tried at every position.) `finditer` is this from each match's end."""
    while True:
        c = starts.search(text, pos)
        if c is None:
            return None
        at = c.start()
        m = pattern.match(text, at)
        if m is not None:
            return m
        pos = at + 1


def _year_range_before(window: str) -> bool:
    r"""A year range or limit just before: "(?:giai đoạn|...|tới)\s*(?:năm\s*)?$", case aside."""
    low = fold(window).rstrip()
    if low.endswith(_YEAR_RANGE_WORDS):
        return True
    return low.endswith("năm") and low[:-3].rstrip().endswith(_YEAR_RANGE_WORDS)


def _merged(patterns: tuple[re.Pattern[str], ...], text: str) -> list[re.Match[str]]:
    """The matches `re.finditer` of the alternation of `patterns` gives (leftmost first, the earlier
    pattern first at one start, no overlaps), for patterns whose own matches cannot overlap."""
    return _merge_found([(m.start(), order, m) for order, pattern in enumerate(patterns) for m in pattern.finditer(text)])


_ROMAN: Final = re.compile(r"\b(?=[ivxlc]+\b)(?:x{0,3})(?:ix|iv|v?i{0,3})\b")
# (an organ followed by a place level is not matched: the level's own match names the place in full,
# "Đảng ủy thị trấn Hữu Lũng", and the organ is cased by _PHRASES_CASED)
_CAPITALISED_AFTER: Final = re.compile(
    r"\b((?:huyện ủy|tỉnh ủy|thành ủy|thị ủy|quận ủy|đảng ủy)"
    r"(?!\s+(?:huyện|tỉnh|thành phố|tp|thị xã|quận|xã|phường|thị trấn)\b)"
    r"|huyện|tỉnh|thành phố|tp\.?|thị xã|quận|xã|phường|thị trấn)"
    r"((?:\s+(?!huyện\b|tỉnh\b|quận\b|phường\b|đảng\b|thành phố\b|thị xã\b|thị trấn\b|"  # (another level: its own match)
    r"của\b|năm\b|quý\b|tháng\b|về\b|và\b|lần\b|khóa\b|nhiệm\b|giai\b|sơ\b|tổng\b|họp\b|tổ\b|triển\b)"
    r"[^\W\d_]+){1,3})"
)
_ORGANS_CASED: Final = {"huyện ủy": "Huyện ủy", "tỉnh ủy": "Tỉnh ủy", "thành ủy": "Thành ủy", "thị ủy": "Thị ủy",
                 "quận ủy": "Quận ủy", "đảng ủy": "Đảng ủy", "tp": "TP", "tp.": "TP"}
_PHRASES_CASED: Final = (
    ("ban chấp hành", "Ban Chấp hành"), ("ban thường vụ", "Ban Thường vụ"), ("đảng bộ", "Đảng bộ"),
    ("hội nghị", "Hội nghị"), ("kỳ họp", "Kỳ họp"), ("ủy ban nhân dân", "Ủy ban nhân dân"),
    ("hội đồng nhân dân", "Hội đồng nhân dân"), ("thường trực", "Thường trực"), ("đảng ủy", "Đảng ủy"),
    ("huyện ủy", "Huyện ủy"), ("tỉnh ủy", "Tỉnh ủy"), ("thành ủy", "Thành ủy"), ("thị ủy", "Thị ủy"),
    ("quận ủy", "Quận ủy"),
)
_ACRONYMS: Final = {"ubnd": "UBND", "hđnd": "HĐND", "mttq": "MTTQ", "bch": "BCH", "btv": "BTV"}


def readable_title(title: str) -> str:
    """An all-capitals title in the case the rules read: "… CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ" ->
    "… của Đảng ủy phường Trần Phú" (place names capitalised, Roman numerals kept)."""
    letters = [c for c in title if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return title
    low = title.lower()
    low = _ROMAN.sub(lambda m: m.group(0).upper(), low)
    low = re.sub(r"\b(ubnd|hđnd|mttq|bch|btv)\b", lambda m: _ACRONYMS[m.group(1)], low)

    def cap(m: re.Match[str]) -> str:
        level = _ORGANS_CASED.get(m.group(1), m.group(1))
        return level + re.sub(r"[^\W\d_]+", lambda w: w.group(0).capitalize(), m.group(2))

    low = _CAPITALISED_AFTER.sub(cap, low)
    for phrase, cased in _PHRASES_CASED:
        low = low.replace(phrase, cased)
    return low[:1].upper() + low[1:]


@dataclass(slots=True)
class Meta:
    unit: str | None = None
    body: str | None = None
    meeting: str | None = None
    date: date | None = None
    period: str | None = None


def _place(level: str, name: str) -> str | None:
    words = name.split()
    for i in range(len(words) - 1):
        if f"{words[i]} {words[i + 1]}" in _NOT_NAME_PAIRS:
            words = words[:i]
            break
    for i, w in enumerate(words):
        if w in _NOT_NAME and not (i and i == len(words) - 1 and w in _NAME_ENDS):
            words = words[:i]
            break
    if not words:
        return None
    level = level.rstrip(".")
    level = "TP" if level in ("TP", "Tp", "thành phố") else level
    return f"{level} {' '.join(words)}"


def _names_organ(text: str) -> bool:
    """`any(organ in text for organ in _ORGANS)` (a loop: compiled, `any` of a generator is slower)."""
    for organ in _ORGANS:  # noqa: SIM110
        if organ in text:
            return True
    return False


def find_unit(lead: str, content: list[str], opening: str | None = None) -> str | None:
    """The unit named with an organ in the lead, else named in the title or first sentence, else with
    an organ in the body. A place named in passing ("đường phố thị trấn X") is not the unit."""
    for texts, plain in (([lead], False), ([opening if opening is not None else lead], True), (content, False)):
        for text in texts:
            if not plain and not _names_organ(text):
                continue  # every match names one
            pattern, starts = (_PLACE, _PLACE_START) if plain else (_ORGAN_PLACE, _ORGAN_PLACE_START)
            m = _next_match(pattern, starts, text, 0)  # (`pattern.finditer(text)`, see `_next_match`)
            while m is not None:
                if not _GUEST.search(text[max(0, m.start() - 80): m.start()]):
                    if plain:
                        place = _place(m.group(1), m.group(2))
                    elif m.group(1):
                        place = _place(_ORGAN_LEVEL[m.group(1)], m.group(2))
                    else:
                        place = _place(m.group(3), m.group(4))
                    if place:
                        return place
                m = _next_match(pattern, starts, text, m.end())
    return None


_MEETING_OF: Final = re.compile(r"(?:Hội nghị|hội nghị|Kỳ họp|kỳ họp)(?:\s+(?:lần thứ \S+|thường kỳ|định kỳ))?\s+(?:của\s+)?")
_HELD: Final = re.compile(r"[^.;]{0,40}?\b(?:đã |long trọng )?(?:tổ chức|họp|khai mạc|tiến hành)\b")
_BODY_NAMES: Final = ((re.compile(r"^BTV\b"), "Ban Thường vụ"), (re.compile(r"^Ủy ban nhân dân\b"), "UBND"),
               (re.compile(r"^Hội đồng nhân dân\b"), "HĐND"), (re.compile(r"\s+"), " "))
# Every body named starts with one of these: the search for them starts at the first.
_BODY_WORDS: Final = ("Ban Chấp hành Đảng bộ", "Ban Thường vụ", "BTV", "Thường trực", "UBND", "Ủy ban nhân dân", "HĐND",
               "Hội đồng nhân dân", "Đảng ủy", "Huyện ủy", "Tỉnh ủy", "Thành ủy", "Thị ủy", "Quận ủy")
# Where a match of _BODY may start: "\b" and one of these ("X(?<!\w.)" is "\bX": X is a word character).
_BODY_START: Final = re.compile("|".join(rf"{w[0]}(?<!\w.){re.escape(w[1:])}" for w in _BODY_WORDS))
# Every match of _HELD holds one of these, and ends within 60 characters (40 + "long trọng " + "tiến hành");
# its last "\b" looks at the character after: a 64-character window gives the same answer as the rest.
_HELD_VERBS: Final = ("tổ chức", "họp", "khai mạc", "tiến hành")
_HELD_WINDOW: Final = 64


def _held_verb(rest: str) -> bool:
    """`any(verb in rest for verb in _HELD_VERBS)` (a loop, as `_names_organ`)."""
    for verb in _HELD_VERBS:  # noqa: SIM110
        if verb in rest:
            return True
    return False


def find_body(lead: str) -> str | None:
    """The organ that met: the one named after "Hội nghị", else the first in the lead."""
    # (`_BODY.finditer(lead)`, see `_next_match`; every match starts with one of _BODY_WORDS)
    m = _next_match(_BODY, _BODY_START, lead, 0)
    if m is None:
        return None
    after = _MEETING_OF.search(lead)
    candidates = []
    while m is not None:
        if after and m.start() == after.end():
            rank = 0
        else:
            rest = lead[m.end(): m.end() + _HELD_WINDOW]
            rank = 1 if _held_verb(rest) and _HELD.match(rest) else 2  # 1: the subject of "tổ chức hội nghị"
        candidates.append((rank, m.start(), m.group(1)))
        m = _next_match(_BODY, _BODY_START, lead, m.end())
    if not candidates:
        return None
    body = min(candidates)[2]
    for pattern, name in _BODY_NAMES:
        body = pattern.sub(name, body)
    return body


def find_meeting(lead: str, body: str | None, period: str | None = None) -> str | None:
    """ "Hội nghị lần thứ 24, khóa XXVI", "Kỳ họp thứ 7, khóa XVI", "Hội nghị định kỳ (mở rộng)"."""
    low = fold(lead)
    m = _MEETING_NO_FOLDED.search(low)  # (_MEETING_NO in `lead`, see _MEETING_NO_FOLDED)
    if m:
        term = _TERM_FOLDED.search(low)
        number = lead[m.start(2): m.end(2)].strip()
        kind = lead[m.start(1): m.end(1)].lower()
        if kind.startswith("kỳ họp"):
            out = f"Kỳ họp thứ {number}"
        elif kind.startswith("phiên"):
            out = f"Phiên họp thứ {number}"
        else:
            out = f"Hội nghị {body + ' ' if body else ''}lần thứ {number}"
        return out + (f", khóa {lead[term.start(1): term.end(1)]}" if term else "")
    k = _MEETING_KIND_LED.search(lead)
    if k:
        return f"{k.group(1).capitalize()} {k.group(2)}" + (f" {body}" if body else "")
    review = _REVIEW_KIND_FOLDED.search(low) if period else None
    if review:
        return f"Hội nghị {lead[review.start(1): review.end(1)].lower()} {period}"
    if body and _HOI_NGHI_FOLDED.search(low):
        return f"Hội nghị {body}"
    return None


_MONTH_YEAR: Final = tuple(  # (?:tháng|Quý|quý)\s+(?:\d{1,2}|[IV]{1,3}|[1-4])\s*/\s*(\d{4})
    re.compile(rf"{word}\s+(?:\d{{1,2}}|[IV]{{1,3}}|[1-4])\s*/\s*(\d{{4}})") for word in ("tháng", "Quý", "quý"))


def _year_words(part: str) -> list[re.Match[str]]:
    """`_merged(_PERIOD_YEAR_WORDS, part)`, each pattern tried only where its word is.

    Every match of those patterns starts with its word, which holds "ăm": "năm"/"Năm" one character
    before an "ăm", "cả năm"/"Cả năm" four before. No match holds the start of another of the same
    pattern (the word is followed by spaces and digits), so a pattern's `finditer` is its `match` at
    each such place; sorted and merged as `_merged` does."""
    found: list[tuple[int, int, re.Match[str]]] = []
    i = part.find("ăm")
    while i >= 0:
        if i >= 4 and part[i - 1] == "n" and part[i - 2] == " " and part[i - 3] == "ả":
            c = part[i - 4]
            _match_at(found, _PERIOD_YEAR_WORDS, 2 if c == "c" else 3 if c == "C" else -1, part, i - 4)
        if i >= 1:
            c = part[i - 1]
            _match_at(found, _PERIOD_YEAR_WORDS, 0 if c == "n" else 1 if c == "N" else -1, part, i - 1)
        i = part.find("ăm", i + 2)
    return _merge_found(found)


def _month_years(part: str) -> list[re.Match[str]]:
    """`_merged(_MONTH_YEAR, part)`, each pattern tried only where its word is (as `_year_words`:
    no match holds the start of another of the same pattern, whose word starts it)."""
    found: list[tuple[int, int, re.Match[str]]] = []
    i = part.find("tháng")
    while i >= 0:
        _match_at(found, _MONTH_YEAR, 0, part, i)
        i = part.find("tháng", i + 1)
    i = part.find("uý", 1)
    while i >= 0:
        c = part[i - 1]
        _match_at(found, _MONTH_YEAR, 1 if c == "Q" else 2 if c == "q" else -1, part, i - 1)
        i = part.find("uý", i + 1)
    return _merge_found(found)


def _match_at(found: list[tuple[int, int, re.Match[str]]], patterns: tuple[re.Pattern[str], ...], order: int,
              part: str, at: int) -> None:
    """Add `patterns[order]`'s match at `at` to `found`, if it matches there (`order` -1: none can)."""
    if order >= 0:
        m = patterns[order].match(part, at)
        if m is not None:
            found.append((at, order, m))


def _merge_found(found: list[tuple[int, int, re.Match[str]]]) -> list[re.Match[str]]:
    """Matches found as (start, pattern order, match): leftmost first, the earlier pattern first at one
    start, no overlaps (as one alternation's `finditer` would give them)."""
    if len(found) > 1:
        found.sort(key=lambda f: (f[0], f[1]))
    out: list[re.Match[str]] = []
    end = -1
    for start, _, m in found:
        if start >= end:
            out.append(m)
            end = max(m.end(), start + 1)
    return out


def _year_votes(lead: str, text: str) -> dict[int, int]:
    """Votes per year (a plain dict: compiled, a `Counter` calls its Python `__missing__`)."""
    votes: dict[int, int] = {}
    for weight, part in ((3, lead), (1, text)):
        for m in _year_words(part):
            start = m.start()
            if not _year_range_before(part[max(0, start - 15): start]):
                year = int(m.group(1))
                votes[year] = votes.get(year, 0) + weight
        if "/" in part:  # every match has one
            for m in _month_years(part):
                year = int(m.group(1))
                votes[year] = votes.get(year, 0) + weight
    return votes


def infer_year(lead: str, text: str) -> int | None:
    """The year the report is about: the most named one in its periods (lead counts triple)."""
    votes = _year_votes(lead, text)
    if not votes:
        return None
    best = max(votes.values())
    return max(y for y, v in votes.items() if v == best)


def _about_meeting(sentence: str) -> bool:
    low = fold(sentence)
    for word in _MEETING_WORDS:
        if word in low:
            return True
    return "họp" in low and _HOP_WORD.search(low) is not None


def find_date(lead_sentences: list[str], year: int | None, period: str | None, text: str,
              published: date | None = None) -> date | None:
    """The meeting date: a date with "Sáng/Chiều/Ngày" in a sentence about the meeting; a date
    written without its year takes it from `meeting_year`."""
    for sentence in lead_sentences:
        if not _about_meeting(sentence):
            continue
        pos = 0
        while True:  # (`_DATE.finditer(sentence)`: its matches are never empty)
            m = _next_match(_DATE, _DATE_START, sentence, pos)
            if m is None:
                break
            pos = m.end()
            tod = m.group("tod") or m.group("tod2")
            has_day_word = bool(m.group("ngay")) or m.group("d2") is not None
            if not (tod or has_day_word):
                continue
            if _NOT_MEETING_DATE.search(sentence[max(0, m.start() - 25): m.start()]) or _DOC_REF.search(
                    sentence[max(0, m.start() - 70): m.start()].lower()):  # "Quy định số 01 ngày 3/3/2016"
                continue
            d = int(m.group("d") or m.group("d2"))
            mo = int(m.group("m") or m.group("m2"))
            y_text = m.group("y") or m.group("y2")
            y = int(y_text) if y_text else meeting_year(mo, d, [s for s in lead_sentences if s][:4], text,
                                                        published)
            if y is None:
                continue
            try:
                return date(y, mo, d)
            except ValueError:
                continue
    return None


def _year_for(month: int, year: int | None, period: str | None, text: str) -> int | None:
    """A year-end review held in January/February is dated the year after the one it reviews."""
    if year is None:
        return None
    if month <= 2 and period in (f"năm {year}", f"12 tháng năm {year}") and f"năm {year + 1}" in text:
        return year + 1
    return year


# "8 năm qua", "15 năm thực hiện Nghị quyết T.Ư 5 (khóa VIII)", "từ năm 2000 đến nay", and in a subject
# line a bare "4 năm," after a review word: the period as written.
_DURATION: Final = re.compile(
    r"(?<!\w)(?:\d{1,2}|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười) năm (?:qua\b|(?:thực hiện|triển khai|thi hành)\b"
    r"(?:[^,;:.()]|\.(?=\S)|\([^()]*\))*)")
_BARE_YEARS: Final = re.compile(
    r"(?:kết quả|sơ kết|tổng kết|thực hiện|nhiệm vụ chính trị)\b[^,;:.]{0,40}?\s(\d{1,2} năm)(?=\s*[,;.]|\s*$)")
_SINCE: Final = re.compile(r"(?<!\w)từ năm (?:19|20)\d\d đến nay")


_MONTH_REVIEWED: Final = re.compile(r"(?:kết quả|công tác|tình hình|định kỳ|thường kỳ|giao ban|sơ kết|báo cáo|"
                                    r"hội nghị|phiên họp|kỳ họp|trong|nhiệm vụ)\s*(?:\S+\s*){0,3}$")


def _sub_year(part: str, year: int | None, *, months_too: bool | None) -> list[tuple[int, int, str]]:
    """Months and quarters reviewed in `part`: (kind, position, period). `months_too`: "tháng 8/2022"
    counts (True), counts only after a review word ("kết quả công tác tháng 8/2022"; None), or not (in the
    body a month named is an event's, not the period's)."""
    found: list[tuple[int, int, str]] = []
    has_thang = "tháng" in part  # (every match of _PERIOD_MONTHS and _PERIOD_MONTH holds it)
    for m in (_PERIOD_MONTHS.finditer(part) if has_thang else ()):
        n = int(m.group(1))
        if not 1 <= n <= 11 or _forward(part, m.start()):
            continue
        y = m.group(3) or (str(year) if year else None)
        found.append((0, m.start(), f"{n} tháng đầu năm {y}" if y else f"{n} tháng đầu năm"))
    for m in (_PERIOD_QUARTER.finditer(part) if "uý" in part else ()):  # (every match holds "uý")
        if _forward(part, m.start()):
            continue
        y = m.group(2) or (str(year) if year else None)
        found.append((1, m.start(), f"quý {m.group(1)}/{y}" if y else f"quý {m.group(1)}"))
    for m in (_PERIOD_MONTH.finditer(part) if has_thang and months_too is not False else ()):
        mo = int(m.group(1))
        if not 1 <= mo <= 12 or _forward(part, m.start()):
            continue
        if months_too is None and not _MONTH_REVIEWED.search(part[max(0, m.start() - 40): m.start()].lower()):
            continue
        y = m.group(2) or m.group(3) or (str(year) if year else None)
        found.append((2, m.start(), f"tháng {mo}/{y}" if y else f"tháng {mo}"))
    return found


def find_period(lead: list[str], text: str, year: int | None) -> str | None:
    """The period reviewed, as the lead (title and first sentences) states it: months and quarters
    before a whole year ("năm 2023", never a comparison base or a span) and a duration ("8 năm qua",
    "4 năm thực hiện"); from the body only a count of months ("9 tháng đầu năm"). A year the report
    merely mentions is no period: none is better than a wrong one."""
    lead = _without_chronology(lead)
    joined = ". ".join(s for s in lead if s)
    opening = ". ".join(s for s in lead[:2] if s)  # the title and the first sentence speak first
    found = (_sub_year(opening, year, months_too=True) or _sub_year(joined, year, months_too=None)
             or _most_named([f for f in _sub_year(text, year, months_too=False) if f[0] == 0
                             and not f[2].startswith("1 ")]))  # ("1 THÁNG TIẾP 17 ĐOÀN": no period)
    whole = [(y, r) for y, r in year_roles(" ".join(s for s in lead if s)) if r == "year"]
    if not found:
        span = _REVIEWED_SPAN.search(joined.lower())
        if span:  # "tổng kết, đánh giá công tác … từ năm 2000 đến nay": not the year in the meeting's name
            return joined[span.start(1): span.end(1)]
    if found:
        kind, _, period = min(found)
        # "năm 2018 và 3 tháng đầu năm 2019": both are the period
        if whole and kind == 0 and all(str(y) not in period for y, _ in whole[:1]):
            y0 = whole[0][0]
            if f"năm {y0} và " + period in joined or f"năm {y0} và " + period.replace(" đầu năm", " đầu năm") in joined:
                return f"năm {y0} và {period}"
        return period
    if whole:
        return f"năm {max(y for y, _ in whole)}"
    for part in (joined, text):
        # in the body only a review of a text ("4 năm thực hiện Luật …"); "trong suốt 2 năm qua" there
        # is how long something lasted, not the period reviewed
        low = part.lower()
        m = (next((d for d in _DURATION.finditer(low) if part is joined or not d.group(0).endswith("qua")), None)
             or (_SINCE.search(low) if part is joined else None))
        if m:
            return part[m.start(): m.end()].strip()
        m = _BARE_YEARS.search(part.lower()) if part is joined else None
        if m:
            return part[m.start(1): m.end(1)]
    return None


# A lead sentence opened by a time ("Năm 2012, có 429 DN …", "Quý I/2013, có thêm …") dates its figures.
_OPENING_TIME: Final = re.compile(
    r"^\s*((?:[Nn]ăm\s+|[Qq]uý\s+(?:I{1,3}|IV|[1-4])(?:\s*/\s*|\s+năm\s+)|[Tt]háng\s+\d{1,2}(?:\s*/\s*|\s+năm\s+)|"
    r"\d{1,2}\s+tháng(?:\s+đầu)?\s+năm\s+)(?:19|20)\d\d)\s*,?\s+(?=\w)")
# A review over a span the lead names: "tổng kết, đánh giá công tác … từ năm 2000 đến nay".
_REVIEWED_SPAN: Final = re.compile(
    r"(?:tổng kết|sơ kết|đánh giá|nhìn lại|kiểm điểm)\b[^.;]{0,60}?\b(từ năm (?:19|20)\d\d đến nay)")


def _without_chronology(lead: list[str]) -> list[str]:
    """The lead without the times that open its sentences when they name different times: a lead
    that recounts figures year by year ("Năm 2012, …. Quý I/2013, …") names no period of its own.
    The title and the first sentence are kept as they are (they name the report's period)."""
    times: dict[int, tuple[str, int]] = {}  # sentence -> (the time, where the rest starts)
    for i, sentence in enumerate(lead):
        m = _OPENING_TIME.match(sentence) if i >= 2 and sentence else None
        if m:
            times[i] = (" ".join(m.group(1).lower().split()), m.end())
    if len({t for t, _ in times.values()}) < 2:
        return lead
    return [s[times[i][1]:] if i in times else s for i, s in enumerate(lead)]


def _most_named(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The count of months the body names most often (the first of equals): "3 tháng đầu năm" of one
    province quoted once does not outweigh the "5 tháng đầu năm" the report keeps returning to."""
    if not found:
        return []
    counts: dict[str, int] = {}
    for f in found:
        counts[f[2]] = counts.get(f[2], 0) + 1
    best = max(counts.values())
    return [next(f for f in found if counts[f[2]] == best)]


def _forward(text: str, at: int) -> bool:
    return bool(_FORWARD_BEFORE.search(text[max(0, at - 40): at]))


# Sector, national and military bodies: the unit is the body itself ("Cục Thuế Hưng Yên", "Công an
# tỉnh Sóc Trăng", "Bộ Nông nghiệp và Phát triển nông thôn", "Sư đoàn 330"), not a place named near it.
_SECTOR_HEAD: Final = re.compile(
    r"(?<!\w)(Bộ Tư lệnh|Bộ Chỉ huy|Bộ|Tổng cục|Cục|Sở|Ban Chỉ đạo|Ban chỉ đạo|Ủy ban|Uỷ ban|Công an|Sư đoàn|"
    r"Quân khu|Quân đoàn|Lữ đoàn|Trung đoàn|Viện [Kk]iểm sát nhân dân|Tòa án nhân dân|Kho bạc Nhà nước|"
    r"Ngân hàng Nhà nước|Bảo hiểm xã hội|Liên đoàn Lao động|Hội (?:Nông dân|Liên hiệp Phụ nữ|Cựu chiến binh)|"
    r"Chính phủ|ngành|Tập đoàn|Tổng công ty)(?!\w)")
_LOCAL_ORGAN_AFTER: Final = ("nhân dân", "MTTQ", "Mặt trận", "Kiểm tra")  # "Ủy ban nhân dân": a local government
_SECTOR_STOP: Final = {
    "đã", "vừa", "đang", "sẽ", "tổ", "họp", "tiến", "khai", "tổng", "sơ", "làm", "đến", "tại", "về", "với",
    "do", "cùng", "phối", "cho", "trong", "năm", "tháng", "quý", "ngày", "sáng", "chiều", "là", "có", "được",
    "vào", "theo", "nhằm", "để", "thì", "này", "đó", "khi", "trên", "dưới", "đánh", "yêu", "đề", "chỉ", "kiểm",
    "thăm", "dẫn", "chủ", "nhấn", "phát", "báo", "nêu", "cho biết", "các", "những",
}
# Lower-case words that end a body's name ("… và Phát triển nông thôn", "… Đổi mới và Phát triển doanh nghiệp").
_SECTOR_TAILS: Final = {"nông thôn", "xã hội", "doanh nghiệp", "môi trường", "quốc gia", "đô thị", "nhân dân",
                        "biên phòng", "du lịch", "đào tạo", "truyền thông", "thương binh", "giao thông", "thể thao",
                        "chính trị", "tài chính", "đầu tư", "khoa học", "công nghệ", "xây dựng", "nông nghiệp"}
_SECTOR_CONTEXT: Final = (  # (rank, the words before the body, the words after it)
    (0, None, re.compile(r"^\s*(?:đã\s+|vừa\s+|đã long trọng\s+)?(?:phối hợp\b[^.;]{0,160}?\s)?"
                         r"(?:tổ chức|họp|khai mạc|tiến hành|tổng kết|sơ kết)\b")),
    (0, re.compile(r"^\s*$"), re.compile(r"^\s*:")),
    (1, re.compile(r"(?:[Hh]ội nghị|[Cc]uộc họp|[Kk]ỳ họp|[Pp]hiên họp)\b[^.;]{0,120}\bcủa\s+$"), None),
    (2, re.compile(r"(?:làm việc với|làm việc tại|kiểm tra|thăm và làm việc với|công tác tại)\s+"
                   r"(?:(?:Ban Thường vụ |Thường vụ )?Đảng ủy\s+)?$"), None),
    (3, re.compile(r"(?:Chủ tịch|Giám đốc|Cục trưởng|Tổng cục trưởng|Bộ trưởng|Trưởng ban|Tư lệnh)\s+$"),
     re.compile(r"^[^.;]{0,60}\bchủ trì\b")),
)


def _sector_name(text: str, start: int, head: str) -> tuple[int, str] | None:
    """(end, name) of a body's name led by `head` at `start`: capitalised words, acronyms, numbers and
    the lower-case words between them ("Công an tỉnh Sóc Trăng"), up to a verb or a mark."""
    pos = start + len(head)
    words: list[tuple[int, str, bool]] = []  # (end, word, capitalised or acronym or number)
    for m in re.finditer(r"\S+", text[pos:]):
        raw = m.group(0)
        word = raw.rstrip(",.;:!?)”\"")
        if not word or word[0] in "(“\"–-":
            break
        if word.lower() in _SECTOR_STOP and not word[0].isupper():
            break
        named = word[0].isupper() or word[0].isdigit()
        words.append((pos + m.start() + len(word), word, named))
        if word != raw or len(words) >= 10:
            break
    while words and not words[-1][2]:
        # A lower-case word ends the name when it completes the capitalised word before it ("Thanh
        # tra", "Du lịch") or a known name's tail ("… Phát triển nông thôn").
        if len(words) >= 2 and words[-2][2]:
            break
        tail2 = " ".join(w for _, w, _ in words[-2:]) if len(words) >= 2 else ""
        if tail2 in _SECTOR_TAILS and any(n for _, _, n in words[:-2]):
            break
        words.pop()
    if head != "Chính phủ" and not any(n for _, _, n in words):
        return None
    if head in ("Ủy ban", "Uỷ ban") and any(" ".join(w for _, w, _ in words).startswith(x) for x in _LOCAL_ORGAN_AFTER):
        return None
    end = words[-1][0] if words else start + len(head)
    return end, " ".join(text[start:end].split())


def sector_led(name: str) -> bool:
    """A body's name that starts as a sector, national or military body's ("Công an tỉnh Sóc Trăng",
    "Cục Thuế tỉnh Hưng Yên"), not a local government's ("Ủy ban nhân dân tỉnh …")."""
    m = _SECTOR_HEAD.match(name)
    return m is not None and not name[m.end():].lstrip().startswith(_LOCAL_ORGAN_AFTER)


def find_organ(lead: list[str]) -> str | None:
    """The sector, national or military body whose meeting it is: the subject of "tổ chức hội nghị",
    the title's "Cục Thuế X: …", the body after "hội nghị … của", the body visited ("làm việc với"),
    or the body whose chair chaired; the best-ranked, earliest first."""
    best: tuple[int, int, int, str] | None = None
    for i, sentence in enumerate(lead):
        for m in _SECTOR_HEAD.finditer(sentence):
            named = _sector_name(sentence, m.start(), m.group(1))
            if named is None:
                continue
            end, name = named
            before, after = sentence[: m.start()], sentence[end:]
            for rank, want_before, want_after in _SECTOR_CONTEXT:
                if want_before is not None and not want_before.search(before):
                    continue
                if want_after is not None and not want_after.search(after):
                    continue
                if rank == 0 and want_before is not None and i != 0:
                    continue  # "Body: …" only as the title
                key = (rank, i, m.start(), name)
                if best is None or key < best:
                    best = key
                break
    return best[3] if best else None


def as_written(name: str, raw: str) -> str:
    """`name` (read from the normalised text) in the source's own spelling: a report that writes
    "Thanh Hoá" is about "tỉnh Thanh Hoá", not a respelling of it."""
    from summariser.normalise import _TONE_MOVES

    back = {new: old for old, new in _TONE_MOVES.items()}
    out = []
    for word in name.split(" "):
        if word not in raw:
            for new, old in back.items():
                if new in word and word.replace(new, old) in raw:
                    word = word.replace(new, old)
                    break
        out.append(word)
    return " ".join(out)


# ------------------------------------------------------------------ the year of a date written without one
# A date like "Sáng 29-5" takes its year from the meeting's own context, never from a year merely
# mentioned: the publication line of a crawled article, else the periods the lead reviews ("3 tháng đầu
# năm 2019") or plans ("kế hoạch năm 2019" at a December session), else the one year the text names. When
# the candidates disagree and nothing decides, there is no year (and so no date).
_CLOCK: Final = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
_DMY: Final = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?![\d/])")
_YEAR: Final = re.compile(r"(?<![\d/.,-])((?:19|20)\d\d)(?![\d/])")
_DOC_REF: Final = re.compile(
    r"(?:luật|nghị định|nghị quyết|quyết định|chỉ thị|quy định|quy chế|thông tư|kết luận|hiến pháp|công văn|"
    r"hướng dẫn|kế hoạch số|chương trình số)\b[^,.;:]{0,50}$|\bsố\s*\S*\s*(?:ngày\s*)?[\d/.-]*$|"
    r"\bngày\s*[\d/.-]*$")
_BASE: Final = re.compile(r"(?:so với|so|với|hơn|bằng)(?: cùng kỳ| kỳ)?(?: năm)?\s*$")
_SPAN: Final = re.compile(r"(?:giai đoạn|nhiệm kỳ|từ|đến|tới|trước|sau|khóa)(?: hết| cuối)?(?: năm)?\s*$|\d{4}\s*[-–]\s*$")
_SUB_YEAR: Final = re.compile(r"(?:\d+|mấy|các|những)\s*tháng(?: đầu| cuối)?(?: năm)?\s*$|quý\s*\w+\s*(?:[/-]|năm)?\s*$|"
                              r"tháng\s*\d{1,2}\s*(?:[/-]|năm)\s*$")
_FORWARD_YEAR: Final = re.compile(r"phương hướng|nhiệm vụ|kế hoạch|mục tiêu|chỉ tiêu|phấn đấu|dự toán|thời gian tới|"
                                  r"cuối năm|tháng cuối|định hướng|dự kiến|\bsẽ\b|\bsang\b")


def _last_forward_cue(before: str) -> re.Match[str] | None:
    """The plan word nearest before a year, in the same clause and within 60 characters."""
    last = None
    for m in _FORWARD_YEAR.finditer(before):
        last = m
    if last is None or len(before) - last.end() > 60 or any(c in before[last.end():] for c in ".;"):
        return None
    return last
# A plan word after these is the plan of the period reviewed ("đạt 104% chỉ tiêu năm 2024", "đánh giá
# nhiệm vụ năm 2013").
_ACHIEVED_BEFORE: Final = re.compile(
    r"(?:đạt|bằng|vượt|so với|hoàn thành|đánh giá|kết quả|thực hiện|tổng kết|sơ kết)\b[^.;]{0,16}$")


def dropped_top_lines(source: str, cleaned: str, top: int = 8) -> list[str]:
    """The first lines of a report that its cleaned text no longer holds (taken for furniture)."""
    lines = [line.strip() for line in normalise(source).split("\n") if line.strip()][:top]
    return [line for line in lines if line not in cleaned]


def publication_date(text: str) -> date | None:
    """The date of a crawled article's time stamp ("29/05/13 16:19 GMT+7", "09:12, 21/12/2017"): a
    short line near the top or the bottom holding a clock time and a day/month/year."""
    lines = [line for line in text.split("\n") if line.strip()]
    for line in lines[:8] + lines[-4:]:
        if len(line) > 80 or not _CLOCK.search(line):
            continue
        m = _DMY.search(line)
        if m:
            d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            try:
                return date(y + 2000 if y < 100 else y, mo, d)
            except ValueError:
                continue
    return None


def year_roles(sentence: str) -> list[tuple[int, str]]:
    """Each year of a sentence with what it is there: "reviewed" (a month or quarter of it), "year" (a
    whole year reviewed), "plan" (a coming year), "plan_part" (a later part of the year: "6 tháng cuối
    năm 2019"); years of documents, comparison bases and spans are left out."""
    out: list[tuple[int, str]] = []
    low = sentence.lower()
    for m in _YEAR.finditer(low):
        before = low[max(0, m.start() - 70): m.start()]
        if _DOC_REF.search(before) or _BASE.search(before) or _SPAN.search(before):
            continue
        cue = _last_forward_cue(before)
        if cue and not _ACHIEVED_BEFORE.search(before[max(0, cue.start() - 24): cue.start()]):
            near = before[-30:]
            role = "plan_part" if "cuối" in near or _SUB_YEAR.search(before) else "plan"
        elif _SUB_YEAR.search(before):
            role = "reviewed"
        elif before.rstrip().endswith("năm"):
            role = "year"
        else:
            continue
        out.append((int(m.group(1)), role))
    return out


def _year_from_roles(month: int, roles: list[tuple[int, str]], *, single: bool) -> int | None:
    """`single`: the roles come from the whole text, where reviewed years that differ decide only when
    one meeting year fits them all (`_one_meeting_year`)."""
    reviewed = [(y, r) for y, r in roles if r in ("reviewed", "year")]
    planned = [(y, r) for y, r in roles if r in ("plan", "plan_part")]
    if reviewed:
        years = {y for y, _ in reviewed}
        if single and len(years) > 1:
            y = _one_meeting_year(month, reviewed)
            if y is None:
                return None  # years apart are events, not one period under review
        elif max(years) - min(years) > 1:
            return None  # years apart are events, not one period under review
        else:
            y = max(years)
            if all(r == "year" for yy, r in reviewed if yy == y) and month <= 3:
                y += 1  # a year-end review is held early the next year
        if planned and not all(p in (y, y + 1) for p, _ in planned):
            return None
        return y
    if planned:
        if single and len({y for y, _ in planned}) > 1:
            return None
        y = min(p for p, _ in planned)
        whole = all(r == "plan" for p, r in planned if p == y)
        return y - 1 if whole and month >= 9 else y
    return None


def _one_meeting_year(month: int, reviewed: list[tuple[int, str]]) -> int | None:
    """The one year of a meeting that every reviewed year of the text allows, else None: a whole year
    reviewed ("năm 2016, tình hình … ổn định") allows that year and, in January to March, the next
    (its year-end review); a month or quarter reviewed allows its own year only. A text in February
    that reviews 2016 and names 2017's year is of 2017."""
    allowed: set[int] | None = None
    for y, role in reviewed:
        years = {y, y + 1} if role == "year" and month <= 3 else {y}
        allowed = years if allowed is None else allowed & years
    return next(iter(allowed)) if allowed and len(allowed) == 1 else None


# "sơ kết 1 năm triển khai thực hiện Quy định số 01 ngày 3/3/2016", "10 năm thực hiện Nghị quyết 26-NQ/TW
# năm 2008": a review N years after the text it reviews was issued is held in that year plus N.
_ANNIVERSARY: Final = re.compile(
    r"(?:sơ kết|tổng kết|đánh giá|kỷ niệm)\s+(\d{1,2}|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười) năm\s+"
    r"(?:triển khai\s+|tổ chức\s+)?(?:thực hiện|thi hành|triển khai)\b[^.;]{0,100}?"
    r"(?:ngày\s*\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+|\bnăm\s+)"
    r"((?:19|20)\d\d)(?![\d/])")
_COUNT: Final = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
                  "mười": 10}


def anniversary_year(lead: str) -> int | None:
    """The year of a review held N years into a dated text the lead names (`_ANNIVERSARY`)."""
    m = _ANNIVERSARY.search(lead.lower())
    if m is None:
        return None
    n = int(m.group(1)) if m.group(1).isdigit() else _COUNT[m.group(1)]
    return int(m.group(2)) + n


def meeting_year(month: int, day: int, lead: list[str], text: str, published: date | None) -> int | None:
    if published is not None:
        try:
            held = date(published.year, month, day)
        except ValueError:
            return None
        return published.year if (held - published).days <= 3 else published.year - 1
    # (the lead as one text: a crawled line break may fall between "chỉ tiêu" and its year)
    lead_roles = year_roles(" ".join(lead))
    if lead_roles:
        return _year_from_roles(month, lead_roles, single=False)
    return anniversary_year(" ".join(lead)) or _year_from_roles(month, year_roles(text), single=True)
