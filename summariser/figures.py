"""Figures: a number with its unit exactly as written, what it measures, and its parsed value.

Vietnamese number format: "." groups thousands, "," is the decimal mark ("8.458.730", "77,9").
Dates, periods, years, ordinals and document numbers ("Nghị quyết số 95-NQ/TU") are not figures.
The figure text is always a slice of the cleaned text, so its digits are those of the report.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from summariser.fastre import ci, fold
from summariser.normalise import LOWER

# One number token, the way the scorer and a reader see it: "8.458.730", "12,6", "13/18", "10/11/2023".
NUMBER: Final = re.compile(r"\d\d*(?:[.,/]\d+)*")  # (`\d+` as `\d\d*`: led by a class, searched twice as fast)
# Words before a number, longest first: "(?:gần như|...|đến)\s+$" (the leftmost match is the longest word).
_APPROX_WORDS: Final = tuple(sorted(
    ("gần như", "trên dưới", "chưa đến", "chưa tới", "xấp xỉ", "khoảng", "gần", "hơn", "trên", "dưới", "ngót", "tới",
     "đến"), key=len, reverse=True))
_APPROX_SHOWN: Final = {"gần", "hơn", "trên", "khoảng", "xấp xỉ", "dưới", "chưa đến", "chưa tới", "ngót", "gần như",
                 "trên dưới"}
_MULTIPLIER: Final = r"(?:nghìn|ngàn|triệu|tỷ|tỉ|vạn)"
_MEASURE: Final = (
    r"(?:đồng|USD|usd|đô la|ha|héc-ta|hécta|hecta|km2|km²|km|m2|m²|m3|m³|mét|m|kg|tấn|tạ|lít|MW|kW|kWh|GWh|"
    r"con|lượt người|lượt|người|hộ|lao động|doanh nghiệp|dự án|công trình|thôn|bản|tổ dân phố|xã|phường|"
    r"thị trấn|tổ chức đảng|tổ chức cơ sở đảng|chi bộ|đảng viên|quần chúng|học sinh|sinh viên|trường|lớp|"
    r"phòng học|tiêu chí|nhiệm vụ|chỉ tiêu|sản phẩm|cơ sở|hợp tác xã|HTX|căn|nhà|ngôi nhà|hồ sơ|đơn|vụ|"
    r"ca|cây|tuyến|cuộc|lớp học|giường bệnh|bác sĩ|thẻ|suất|phần quà|xuất|tổ hợp tác|trang trại|gia trại|"
    r"mô hình|câu lạc bộ|đoàn|văn bản|thủ tục|điểm|giờ|đơn vị|cơ quan|cán bộ|hội viên|đoàn viên|"
    r"thành viên|nghị quyết|tờ trình|báo cáo|chương trình|ý kiến|kiến nghị|cử tri|thanh niên|tân binh|"
    r"gia đình|hộ gia đình|hộ nghèo|hộ cận nghèo|trẻ em|bệnh nhân|lượt khách|khách|phương tiện|sự kiện)"
)


def _by_first_character(alternation: str) -> str:
    """ "(?:w1|w2|...)" of plain words as "(?:a(?:...)|b(?:...)|...)": the same matches in the same order
    (words with different first characters cannot both match at one place, and those with the same
    keep their order), but the regex engine compares one character per group instead of per word."""
    groups: dict[str, list[str]] = {}
    for word in alternation[3:-1].split("|"):
        groups.setdefault(word[0], []).append(word[1:])
    return "(?:" + "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items()) + ")"


_MEASURE_GROUPED: Final = _by_first_character(_MEASURE)
_UNIT: Final = re.compile(
    rf"(?:\s?%|\s?{_MULTIPLIER}(?:\s{_MEASURE_GROUPED})?|\s?{_MEASURE_GROUPED})"
    r"(?:\s?/\s?(?:xã|người|hộ|năm|tháng|ha|km|lao động))?(?!\w)"
)
# A number right after one of these (case aside, spaces between) is not a figure: "(?:tháng|...)\s*$".
_BEFORE_SKIP: Final = tuple(fold(w) for w in (
    "tháng", "năm", "ngày", "quý", "lần thứ", "thứ", "khóa", "kỳ", "số", "giai đoạn", "nhiệm kỳ", "điều", "khoản",
    "mục", "phần", "T.Ư", "TW", "nghị quyết", "chỉ thị", "kết luận", "quyết định", "kế hoạch", "thông báo",
    "công văn", "tờ trình", "đề án", "phương châm", "lúc", "vào lúc", "đường", "quốc lộ", "tỉnh lộ", "QL", "ĐT",
    "tổ", "khu", "khối", "xóm", "ấp", "đội", "phường", "quận", "lô", "phòng", "sáng", "chiều", "tối", "trưa",
    "đêm", "hôm", "Sáng", "Chiều", "Tối", "Ngày"))
_BEFORE_SKIP_LONGEST: Final = max(map(len, _BEFORE_SKIP))
_BEFORE_SKIP_BY_LAST: Final[dict[str, tuple[str, ...]]] = {
    last: tuple(w for w in _BEFORE_SKIP if w[-1] == last) for last in {w[-1] for w in _BEFORE_SKIP}}
_AFTER_SKIP: Final = re.compile(
    r"^(?:\s?(?:tháng|năm|ngày|giờ|tuần|quý|lần|kỳ|phút|h\b|h\d|tại chỗ|cùng)|-[A-ZĐ]|\s?[-–]\s?\d{4}|:\d)"
)
# A count after a verb, maybe one word between: "(?:đạt|...|còn)\s+(?:\S+\s+)?$".
_COUNT_VERB: Final = tuple(fold(w) for w in (
    "đạt", "có", "được", "kết nạp", "thêm", "lên", "tổng số", "gồm", "với", "cho", "tăng", "giảm", "là", "bằng",
    "kiểm tra", "giám sát", "đối với", "tiếp nhận", "giải quyết", "xử lý", "phát hiện", "hỗ trợ", "thu hút",
    "thành lập mới", "thành lập", "công nhận", "xây dựng", "tổ chức", "cấp", "trồng", "mở", "đào tạo", "khám",
    "tiêm", "tặng", "trao", "vận động", "huy động", "chiếm", "còn"))
_LABEL_TRAILING_WORDS: Final = (
    "ước đạt", "ước", "đạt", "được", "là", "có", "bằng", "tăng", "giảm", "lên", "đối với", "với", "gồm", "tổng cộng",
    "chiếm", "khoảng", "thu", "đến nay", "tới", "đến", "còn", "so với", "trong đó", "nâng tổng số", "nâng tổng",
    "lên tới")
_TRAILING_LONGEST = max(map(len, _LABEL_TRAILING_WORDS))
_TRAILING_BY_LAST: dict[str, list[str]] = {}
for _word in _LABEL_TRAILING_WORDS:
    _TRAILING_BY_LAST.setdefault(_word[-1], []).append(_word)
_LEAD_FILLER: Final = ci(r"^(?:và|,|;|\(|đồng thời|trong đó|riêng|cụ thể|qua đó|kết quả)\s*,?\s*")
# The first characters of its words: the fold of the text starts with one of them, or it cannot match
# (the fold of the first character is the first character of the fold).
_LEAD_FILLER_FIRST: Final = frozenset("v,;(đtrcqk")
# _LABEL_TRAILING_WORDS by their last character (`str.endswith` of those only).
_TRAILING_ENDS: Final[dict[str, tuple[str, ...]]] = {last: tuple(words) for last, words in _TRAILING_BY_LAST.items()}


_RANGE_BEFORE: Final = re.compile(r"(?<![\d.,/])\d+(?:,\d+)?\s?[-–]\s?$")
_SPACE_LOWER: Final = re.compile(rf"\s[{LOWER}]")
_LOWER_WORD: Final = re.compile(rf"\s?[{LOWER}]{{2,}}")
_GROUPED: Final = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_DECIMAL: Final = re.compile(r"\d+(?:,\d+)?")
_ENGLISH_DECIMAL: Final = re.compile(r"\d+\.\d{1,2}")
_RELATION: Final = re.compile(r"(tăng|giảm|đạt|bằng|chiếm)\s+\S*\s*$")
_TAIL_END: Final = re.compile(r"[,;:()]")


def _ends_with(text: str, words: tuple[str, ...]) -> bool:
    r""" "(?:words)\s*$" case-insensitively."""
    return fold(text.rstrip()).endswith(words)


def _skip_before(text: str) -> bool:
    """`_ends_with(text, _BEFORE_SKIP)`: only the words ending in the last character are compared, on
    the fold of the last characters (`fold` lower-cases character by character, save a final sigma,
    which no word holds, so the end of the fold is the fold of the end)."""
    stripped = text.rstrip()
    if not stripped:
        return False
    tail = fold(stripped[-_BEFORE_SKIP_LONGEST:])
    words = _BEFORE_SKIP_BY_LAST.get(tail[-1])
    return words is not None and tail.endswith(words)


def _count_verb_before(before: str) -> bool:
    r""" "(?:_COUNT_VERB)\s+(?:\S+\s+)?$" case-insensitively: a verb, maybe one word, then spaces to the end."""
    stripped = before.rstrip()
    if len(stripped) == len(before):
        return False
    low = fold(stripped)
    if low.endswith(_COUNT_VERB):
        return True
    cut = len(low)
    while cut and not low[cut - 1].isspace():
        cut -= 1
    if not cut or cut == len(low):
        return False
    head = low[:cut]
    verb_end = head.rstrip()
    return len(verb_end) < len(head) and verb_end.endswith(_COUNT_VERB)


def _approx_before(text: str, end: int) -> tuple[int, str] | None:
    r""" "(?:_APPROX_WORDS)\s+$" in text[:end] case-insensitively: where the leftmost match starts, and the word."""
    stop = end
    while stop and text[stop - 1].isspace():
        stop -= 1
    if stop == end:
        return None
    low = fold(text[max(0, stop - len(_APPROX_WORDS[0])): stop])
    if not low.endswith(_APPROX_WORDS):
        return None
    for word in _APPROX_WORDS:
        if low.endswith(word):
            return stop - len(word), word
    return None


def _trailing_start(text: str) -> int | None:
    r"""Start of the leftmost match of "(?:\s*[,(]?\s*(?:_LABEL_TRAILING_WORDS))+\s*$" in fold(text), or None.

    Worked backwards from the end: each word may be preceded by spaces, one "," or "(", spaces, and
    then by another word."""
    low = fold(text)
    best = None
    todo = [len(low.rstrip())]
    seen: set[int] = set()
    while todo:
        end = todo.pop()
        if not end or end in seen:
            continue
        seen.add(end)
        for word in _TRAILING_BY_LAST.get(low[end - 1], ()):
            start = end - len(word)
            if start < 0 or not low.startswith(word, start):
                continue
            while start and low[start - 1].isspace():
                start -= 1
            if start and low[start - 1] in ",(":
                start -= 1
                while start and low[start - 1].isspace():
                    start -= 1
            best = start if best is None else min(best, start)
            todo.append(start)  # an earlier word can only end where the spaces and mark begin
    return best


class Found(NamedTuple):
    """A figure located in a clause: offsets relative to the clause text."""

    start: int
    end: int
    text: str
    value: float | None
    unit: str | None
    label: str | None


def parse_number(token: str) -> float | None:
    """ "8.458.730" -> 8458730.0, "77,9" -> 77.9, "1.234,5" -> 1234.5; None if not a plain number."""
    if "/" in token:
        return None
    # (_GROUPED, _DECIMAL, _ENGLISH_DECIMAL in turn, with `str.isdecimal`: what `\d` matches)
    comma = token.find(",")
    head = token if comma < 0 else token[:comma]
    if comma >= 0:
        tail = token[comma + 1:]
        if not tail.isdecimal():  # (also when empty or holding another ",")
            return None  # none of the three
    if "." in head:
        groups = head.split(".")
        if (1 <= len(groups[0]) <= 3 and groups[0].isdecimal()
                and all(len(g) == 3 and g.isdecimal() for g in groups[1:])):
            return float(token.replace(".", "").replace(",", "."))  # _GROUPED
        if (comma < 0 and len(groups) == 2 and groups[0].isdecimal() and 1 <= len(groups[1]) <= 2
                and groups[1].isdecimal()):
            return float(token)  # _ENGLISH_DECIMAL, an English-style decimal ("3.5%")
        return None
    if head.isdecimal():
        return float(token.replace(",", "."))  # _DECIMAL
    return None


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1900 <= int(token) <= 2100


_DATE_BEFORE: Final = ("ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "tháng", "số", "đến", "từ")


def _ratio(token: str, before: str, after: str) -> bool:
    """ "13/18" is a ratio; "9/10" after "Chiều" or "10/2023" are dates."""
    parts = token.split("/")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    a, b = int(parts[0]), int(parts[1])
    if len(parts[1]) == 4 or a > b or b == 0:
        return False
    if before.rstrip().endswith(_DATE_BEFORE):
        return False
    return b > 12 or a > 31 or bool(_LOWER_WORD.match(after))


# A figure before its label: start, end, text, value, unit.
_Located = tuple[int, int, str, float | None, str | None]


def find_figures(text: str) -> list[Found]:
    """All figures in a clause, in order."""
    out = _locate(text)
    labelled: list[Found] = []
    prev_end = -1
    prev_label: str | None = None
    for start, end, token, value, unit in out:
        if prev_end >= 0 and prev_label and text[prev_end: start].strip(" ,") in ("và", ""):
            label: str | None = prev_label
        else:
            label = _label(text, start, end, out)
        # (what `Found(...)` does, without the Python-level `__new__` of a NamedTuple)
        labelled.append(tuple.__new__(Found, (start, end, token, value, unit, label)))
        prev_end, prev_label = end, label
    return labelled


def has_figures(text: str) -> bool:
    """`find_figures(text)` is not empty (found without labelling them)."""
    return bool(_locate(text, first=True))


def _locate(text: str, first: bool = False) -> list[_Located]:
    """The figures of a clause without labels; with `first`, only the first one."""
    out: list[_Located] = []
    for m in NUMBER.finditer(text):
        start, end = m.span()
        if start and (text[start - 1].isalpha() or text[start - 1] in "-/"):
            continue  # "T.Ư 4"? no: "KT-XH2", "NQ/TU"
        after = text[end: end + 40]
        um = _UNIT.match(after)
        if not um and after[:1].isalpha():
            continue  # part of a code ("3G", "4B")
        token = text[start:end]  # (m.group())
        before = text[max(0, start - 30): start]
        unit: str | None = None
        value: float | None
        if "/" in token:
            if not _ratio(token, before, after):
                continue
            value = float(token.split("/")[0])
        else:
            value = parse_number(token)
            if token.count(",") > 1 or (value is None and "." in token):
                continue
            if _AFTER_SKIP.match(after) or _skip_before(before):
                continue
            if um:
                unit = after[:um.end()].strip().lstrip("/").strip() or None  # (um.group(0): it starts at 0)
                end += um.end()
            elif _is_year(token) or not (_count_verb_before(before) and _SPACE_LOWER.match(after)):
                continue
        if unit is not None and ("-" in text[max(0, start - 3): start] or "–" in text[max(0, start - 3): start]):
            rng = _RANGE_BEFORE.search(text[:start])  # the dash is within the last 3 characters of any match
            if rng:
                start = rng.start()  # "từ 7 - 7,5%": the range is the figure
                value = None
        am = _approx_before(text, start)
        if am and am[1] in _APPROX_SHOWN:
            start = am[0]
        out.append((start, end, text[start:end], value, unit))
        if first:
            break
    return out


# r"\s(?:ước đạt|ước|đạt|tăng|giảm|bằng|chiếm|được|là|có|lên|gồm|thu)(?=\s)" with re.IGNORECASE, the fast way: lower case, searched in the `fold` of the text (same length, same offsets).
# Exact: `fold` keeps what is a space, and a character matches a letter of these words under
# re.IGNORECASE exactly when its fold is that letter, save "i" (also "ı" and "İ", which fold keeps).
_VERB_FOLDED: Final = re.compile(
    r"\s(?:ước đạt|ước|đạt|tăng|g[iıİ]ảm|bằng|ch[iıİ]ếm|được|là|có|lên|gồm|thu)(?=\s)")


def _label(text: str, fig_start: int, fig_end: int, figs: list[_Located]) -> str | None:
    """What the figure measures: the words before it, else the clause's subject and what follows."""
    seg_start = max(text.rfind(";", 0, fig_start), text.rfind(":", 0, fig_start)) + 1
    prev_end = seg_start
    for f in figs:
        f_end = f[1]
        if seg_start <= f_end <= fig_start and f_end > prev_end:
            prev_end = f_end
    before = text[prev_end: fig_start]
    open_paren = before.rfind("(")
    va = before.rfind(" và ")
    own_start = max(before.rfind(","), va + 3 if va >= 0 else -1,
                    open_paren if open_paren > before.rfind(")") else -1)
    own = _clean_label(before[own_start + 1:] if own_start >= 0 else before)
    if len(own.split()) >= 2:
        return own
    head = text[seg_start: fig_start]
    verb = _VERB_FOLDED.search(fold(" " + head))
    subject = _clean_label(head[: verb.start()] if verb else head.split(",")[0])
    if len(subject.split()) > 10:
        subject = ""
    relation = _RELATION.search(before)
    cut = _TAIL_END.search(text, fig_end)  # (the first piece of `_TAIL_END.split(text[fig_end:])`)
    tail = (text[fig_end: cut.start()] if cut else text[fig_end:]).strip()
    tail = " ".join(tail.split()[:6])
    detail = " ".join(p for p in ((relation.group(1) if relation else ""), tail) if p)
    if subject and detail:
        return f"{subject} – {detail}"
    return subject or detail or own or None


def _clean_label(text: str) -> str:
    text = text.strip(" ,;:(")
    tail = fold(text.rstrip()[-_TRAILING_LONGEST:])
    ends = bool(tail) and tail.endswith(_TRAILING_ENDS.get(tail[-1], ()))  # every match ends so
    trailing = _trailing_start(text) if ends else None
    text = text[:trailing].strip(" ,;:(") if trailing is not None else text
    lead: re.Match[str] | None
    if not text or fold(text[0]) not in _LEAD_FILLER_FIRST:
        lead = None
    else:
        lead = _LEAD_FILLER.match(text[:24]) if len(text) > 24 else _LEAD_FILLER.match(text)
    if lead and lead.end() == 24:
        lead = _LEAD_FILLER.match(text)  # the spaces after the filler may go on
    text = text[lead.end():].strip(" ,;:(") if lead else text
    words = text.split()
    return " ".join(words[-12:])
