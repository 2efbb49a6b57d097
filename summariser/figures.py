"""Figures: a number with its unit exactly as written, what it measures, and its parsed value.

Vietnamese number format: "." groups thousands, "," is the decimal mark ("8.458.730", "77,9").
Dates, periods, years, ordinals and document numbers ("Nghị quyết số 95-NQ/TU") are not figures.
The figure text is always a slice of the cleaned text, so its digits are those of the report.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

from summariser.fastre import ci, fold
from summariser.normalise import LOWER, UPPER

# One number token, the way the scorer and a reader see it: "8.458.730", "12,6", "13/18", "10/11/2023".
NUMBER: Final = re.compile(r"\d\d*(?:[.,/]\d+)*")  # (`\d+` as `\d\d*`: led by a class, searched twice as fast)
# Words before a number, longest first: "(?:gần như|...|đến)\s+$" (the leftmost match is the longest word).
_APPROX_WORDS: Final = tuple(sorted(
    ("gần như", "trên dưới", "chưa đến", "chưa tới", "xấp xỉ", "khoảng", "gần", "hơn", "trên", "dưới", "ngót", "tới",
     "đến"), key=len, reverse=True))
_APPROX_SHOWN: Final = {"gần", "hơn", "trên", "khoảng", "xấp xỉ", "dưới", "chưa đến", "chưa tới", "ngót", "gần như",
                 "trên dưới"}
_MULTIPLIER: Final = r"(?:nghìn|ngàn|triệu|tỷ|tỉ|vạn)"


def _listed(words: str, sep: str) -> tuple[str, ...]:
    """A long list of words written as one string (easier to read and to edit than a tuple literal)."""
    return tuple(words.split(sep))


# Counted nouns and measures. A unit is a whole word: sorted longest first below, so one that starts with
# another ("hộ gia đình" and "hộ", "lượt khách" and "lượt", "trường hợp" and "trường") wins over its first
# syllable, which alone would end the figure inside a compound ("3 trường" read from "3 trường hợp").
_MEASURE_WORDS: Final = _listed(
    "đồng|USD|usd|đô la|ha|héc-ta|hécta|hecta|km2|km²|km|m2|m²|m3|m³|mét|m|kg|tấn|tạ|lít|MW|kW|kWh|GWh|"
    "con|lượt người|lượt|người|người lao động|hộ|lao động|doanh nghiệp|dự án|công trình|thôn|bản|tổ dân phố|xã|"
    "phường|thị trấn|tổ chức đảng|tổ chức cơ sở đảng|chi bộ|đảng viên|quần chúng|học sinh|sinh viên|trường|"
    "trường học|trường hợp|lớp|phòng học|tiêu chí|nhiệm vụ|chỉ tiêu|sản phẩm|cơ sở|hợp tác xã|HTX|căn|nhà|"
    "ngôi nhà|hồ sơ|đơn|đơn thư|vụ|ca|cây|tuyến|cuộc|lớp học|giường bệnh|bác sĩ|thẻ|suất|phần quà|xuất|"
    "tổ hợp tác|trang trại|gia trại|mô hình|câu lạc bộ|đoàn|văn bản|thủ tục|điểm|giờ|đơn vị|cơ quan|cán bộ|"
    "hội viên|đoàn viên|thành viên|nghị quyết|tờ trình|báo cáo|chương trình|ý kiến|kiến nghị|cử tri|"
    "thanh niên|tân binh|gia đình|hộ gia đình|hộ nghèo|hộ cận nghèo|trẻ em|bệnh nhân|lượt khách|khách|"
    "phương tiện|sự kiện|đồng chí|tỉnh|tỉnh thành|địa phương|huyện|DNNN|DN", "|")
_MEASURE: Final = "(?:" + "|".join(sorted(_MEASURE_WORDS, key=len, reverse=True)) + ")"



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
    "lên tới", "thực hiện", "chỉ", "cũng", "đã", "sẽ", "đang", "cho", "lần lượt", "tương đương", "mức", "ở mức",
    "từ", "vượt")
_TRAILING_LONGEST = max(map(len, _LABEL_TRAILING_WORDS))
_TRAILING_BY_LAST: dict[str, list[str]] = {}
for _word in _LABEL_TRAILING_WORDS:
    _TRAILING_BY_LAST.setdefault(_word[-1], []).append(_word)
_LEAD_FILLER: Final = ci(r"^(?:và|,|;|\(|đồng thời|trong đó|riêng|cụ thể|qua đó|kết quả|nâng tổng số|nâng tổng|nâng số|mặc dù|tuy nhiên|nhưng|song)\s*,?\s*")
# The first characters of its words: the fold of the text starts with one of them, or it cannot match
# (the fold of the first character is the first character of the fold).
_LEAD_FILLER_FIRST: Final = frozenset("v,;(đtrcqknms")
# _LABEL_TRAILING_WORDS by their last character (`str.endswith` of those only).
_TRAILING_ENDS: Final[dict[str, tuple[str, ...]]] = {last: tuple(words) for last, words in _TRAILING_BY_LAST.items()}


_RANGE_HEAD: Final = re.compile(r"(?<![\d.,/])\d+(?:,\d+)?-$")  # "8,3-" of "8,3-8,5 %"
_RANGE_BEFORE: Final = re.compile(r"(?<![\d.,/])\d+(?:,\d+)?\s?(?:[-–]|đến)\s?$")
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
    r"""Start of the leftmost match of "(?:\s*[,(]?\s*(?:_LABEL_TRAILING_WORDS))+\s*$" in fold(text), or None; each word a whole word.

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
            if start < 0 or not low.startswith(word, start) or (start and low[start - 1].isalnum()):
                continue  # (a whole word: "ước" is not the end of "nhà nước")
            while start and low[start - 1].isspace():
                start -= 1
            if start and low[start - 1] in ",(":
                start -= 1
                while start and low[start - 1].isspace():
                    start -= 1
            best = start if best is None else min(best, start)
            todo.append(start)  # an earlier word can only end where the spaces and mark begin
    return best


Kind = Literal["actual", "plan", "target", "growth", "share"]


class Found(NamedTuple):
    """A figure located in a clause: offsets relative to the clause text.

    `kind` tells a result from a plan or a target, a change ("tăng 12,6% so với cùng kỳ") and a share
    ("đạt 77,9% kế hoạch"), so that a chart never plots a target as a result; `period` is the period the
    clause gives for it ("9 tháng đầu năm 2023", "quý II"), else None."""

    start: int
    end: int
    text: str
    value: float | None
    unit: str | None
    label: str | None
    kind: Kind | None = None
    period: str | None = None


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


def find_figures(text: str, before: str = "") -> list[Found]:
    """All figures in a clause, in order, each with its label, kind and period.

    `before` is the report's text just before the clause (any length; only its last sentence is read):
    a target set there ("Các chỉ tiêu chủ yếu gồm:", "Phấn đấu đến năm 2025:") holds for the clause's
    figures too, when the clause was cut from its sentence."""
    out = _locate(text)
    low = fold(text) if out else text  # (same length and offsets)
    context = _last_sentence(before) if out and before else ""
    cue_low = fold(context) + low if context else low
    periods = _periods(low) if out else []
    labelled: list[Found] = []
    labels: list[str | None] = []
    bases: list[str | None] = []  # what each figure measures, without the relation and words after it
    kinds: list[Kind] = []
    prev_end = -1
    prev_label: str | None = None
    for i, (start, end, token, value, unit) in enumerate(out):
        if prev_end >= 0 and prev_label and text[prev_end: start].strip(" ,") in ("và", ""):
            label: str | None = prev_label
            base = bases[-1]
        else:
            label, base = _label(text, i, out, bases)
        labels.append(label)
        bases.append(base)
        kind = _kind(text, i, out, low, cue_low, label, kinds)
        kinds.append(kind)
        period = _period(text, i, out, periods)
        # (what `Found(...)` does, without the Python-level `__new__` of a NamedTuple)
        labelled.append(tuple.__new__(Found, (start, end, token, value, unit, label, kind, period)))
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
        if start and (text[start - 1].isalpha() or text[start - 1] in "-/") and not (
                text[start - 1] == "-" and _RANGE_HEAD.search(text, 0, start)
                and not _is_year(text[start:end])):
            continue  # "T.Ư 4"? no: "KT-XH2", "NQ/TU"; but "8,3-8,5 %" is a range (not "2021-2025")
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
        near = text[max(0, start - 5): start]
        if unit is not None and ("-" in near or "–" in near or "đến" in near):
            rng = _RANGE_BEFORE.search(text[:start])  # the dash or "đến" is within the last 5 characters of any match
            if rng:
                start = rng.start()  # "từ 7 - 7,5%", "8,5 đến 9%": the range is the figure
                value = None
                while out and out[-1][0] >= start:
                    out.pop()  # its first number, taken alone before ("là 8,5 đến 9%")
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


# A verb match that is part of a noun: "tăng trưởng", "tổng thu", "thu ngân sách", "mặt bằng", "có thể".
_NOT_A_VERB_AFTER: Final = re.compile(r"\s(?:trưởng|ngân|nội|nhập|hút|ns|thuế|phí|thể)(?!\w)")
_NOT_A_VERB_BEFORE: Final = ("tổng", "số", "nguồn", "khoản", "mặt", "công", "cân")
# Words that alone tell a reader nothing ("Có thêm", "tổng", "xuống", "triệu đồng"): function words, bare
# relations, multipliers and the one-syllable unit words themselves.
_FRAGMENT_WORDS: Final = frozenset(fold(w) for w in _listed(
    "có thêm được đã đang sẽ và với cho của là thì mà chỉ còn hiện nay đến tới từ trên dưới hơn gần khoảng ước "
    "đạt tăng giảm bằng lên xuống tổng số cả các những nhiều trong đó này nâng lần lượt tương đương chiếm mức ở "
    "khi nếu cũng vẫn về ra vào bị như mỗi toàn riêng cụ thể qua kết quả đồng thời so nghìn ngàn triệu tỷ tỉ vạn "
    "- – ( ) , ; : ... …", " ")) | frozenset(fold(w) for w in _MEASURE_WORDS if " " not in w)
_AND: Final = re.compile(r"\svà\s")
# A sentence end inside a clause, "... sáng nay (29/5).80% vi phạm" too.
_SENTENCE_SEP: Final = re.compile(rf"(?<=[{LOWER})][.!?…])(?:\s+|(?=[\d{UPPER}]))")
_LEAD_UNIT: Final = re.compile(r"^(?:%|(?:nghìn|ngàn|triệu|tỷ|tỉ)(?:\s+(?:đồng|USD)(?!\w)|\s*(?=[,;]|$)))[\s,;]*")
# A label longer than this is cut, after a word that ends a phrase when there is one ("... huyện mở ba lớp").
_LABEL_WORDS: Final = 16
_TAIL_WORDS: Final = 8
_PHRASE_END: Final = frozenset(("của", "cho", "và", "đã", "được", "là", "các", "những", "với", "tại", "trong", "theo",
                                "về", "để", "thì", "mà", "có", "đang", "sẽ", "dù", "khi", "nhưng", "song", "nên",
                                "là", "từ", "đến", "vào", "do", "bởi", "nếu", "vì"))
_TAIL_STOP_WORDS: Final = frozenset(("và", "của", "cho", "các", "những", "là", "với", "được", "có", "đã", "tại",
                                     "theo", "trong", "từ", "đến", "trên"))
_PLAN_WORDS: Final = ("kế hoạch", "dự toán", "chỉ tiêu", "mục tiêu", "kh ")


def _readable(label: str) -> bool:
    """The label holds a word that says what is measured, not only fillers, relations and units."""
    return any(w[0].isalpha() and fold(w) not in _FRAGMENT_WORDS for w in label.split())


def _segment_start(text: str, fig_start: int) -> int:
    """Start of the figure's part of the clause: after the last ";" or ":" (not a time's "10:30")."""
    cut = text.rfind(";", 0, fig_start)
    colon = text.rfind(":", 0, fig_start)
    while colon > 0 and colon + 1 < len(text) and text[colon - 1].isdigit() and text[colon + 1].isdigit():
        colon = text.rfind(":", 0, colon)
    return max(cut, colon) + 1


def _own_cut(before: str) -> tuple[int, str]:
    """Where the figure's own words start in `before`, after the last separator ("," outside a number,
    " và ", an open bracket, a sentence end), and that separator ("" when none or a sentence end).
    (The last match of `_PIECE_SEP` that is not a closed bracket, found from the end.)"""
    cut, sep = 0, ""
    i = before.rfind(",")
    while 0 < i < len(before) - 1 and before[i - 1].isdigit() and before[i + 1].isdigit():
        i = before.rfind(",", 0, i)  # "40,2": a decimal comma
    if i >= 0:
        cut, sep = i + 1, ","
    i = before.rfind("(")
    if i >= cut and ")" not in before[i + 1:]:  # a closed bracket belongs to the words: "(ước)"
        cut, sep = i + 1, "("
    if "và" in before:
        for m in _AND.finditer(before, cut):
            cut, sep = m.end(), "và"
    if "." in before or "!" in before or "?" in before or "…" in before:
        for m in _SENTENCE_SEP.finditer(before, cut):
            if m.end() > cut:
                cut, sep = m.end(), ""
    return cut, sep


def _subject(head: str) -> str:
    """The clause's subject: its words before the first verb ("Thu ngân sách nhà nước" of "... đạt ...")."""
    low = fold(" " + head)
    cut = None
    for m in _VERB_FOLDED.finditer(low):
        if _NOT_A_VERB_AFTER.match(low, m.end()) or low[: m.start()].endswith(_NOT_A_VERB_BEFORE):
            continue
        cut = m.start()
        break
    subject = _clean_label(head[:cut] if cut is not None else head.split(",")[0])
    return "" if len(subject.split()) > 10 or not _readable(subject) else subject


def _tail(text: str, fig_end: int, stop: int) -> str:
    """The words after the figure, before a mark or the next figure: up to eight, ending before a word
    that starts a phrase when more follow ("là người đứng đầu ký cam kết", not "... ký cam"), and not on
    a filler."""
    cut = _TAIL_END.search(text, fig_end, stop)
    words = text[fig_end: cut.start() if cut else stop].split()
    if len(words) > _TAIL_WORDS:
        ends = [i for i in range(2, _TAIL_WORDS + 1) if fold(words[i]) in _PHRASE_END]
        words = words[: ends[-1]] if ends else words[:_TAIL_WORDS]
    while words and fold(words[-1]) in _TAIL_STOP_WORDS:
        words.pop()
    return " ".join(words)


def _label(text: str, index: int, figs: list[_Located], bases: list[str | None]) -> tuple[str | None, str | None]:
    """What the figure measures: its own words before it; else what the clause or the previous figure
    of the same part measures, with the relation and the words after the figure ("– đạt kế hoạch năm");
    else the words after it; else None. Always whole words of the clause. With the label, its subject
    (`bases`: the earlier figures' ones), which a later figure of the part may take."""
    fig_start, fig_end = figs[index][0], figs[index][1]
    seg_start = _segment_start(text, fig_start)
    prev = index - 1 if index and figs[index - 1][1] > seg_start else None
    prev_end = figs[prev][1] if prev is not None else seg_start
    before = text[prev_end: fig_start]
    cut, sep = _own_cut(before)
    own = _clean_label(before[cut:])
    plan_ref = len(own.split()) <= 4 and fold(own + " ").startswith(_PLAN_WORDS)
    if len(own.split()) >= 2 and _readable(own) and not plan_ref:
        return own, own
    named = ""
    if sep == "(" and not plan_ref:  # "Phú Thọ (40,7%)", "Bà Rịa – Vũng Tàu (tăng 40,2%)": what the bracket explains
        inner = before[: cut - 1]
        named = _clean_label(inner[_own_cut(inner)[0]:])
        named = named if _readable(named) else ""
    if named:
        subject = named
    elif prev is not None and bases[prev]:
        subject = bases[prev] or ""  # "đạt 77,9% kế hoạch" after "Tổng giá trị sản xuất đạt ..."
    else:
        subject = _subject(text[seg_start: figs[prev][0] if prev is not None else fig_start])
    if plan_ref:  # "(kế hoạch năm tăng 12,5%)": the plan of what the clause measures
        detail = before[cut:].strip(" ,;:(")
        detail = detail[:-3].rstrip() if fold(detail).endswith(" là") else detail
    else:
        relation = _RELATION.search(before)
        stop = figs[index + 1][0] if index + 1 < len(figs) else len(text)
        detail = " ".join(p for p in ((relation.group(1) if relation else ""), _tail(text, fig_end, stop)) if p)
    if subject and detail:
        return f"{subject} – {detail}", subject
    if subject:
        return subject, subject
    if detail and _readable(detail):
        return detail, detail
    return (own, own) if len(own.split()) >= 2 and _readable(own) else (None, None)


def _clean_label(text: str) -> str:
    text = text.strip(" ,;:(-–")
    tail = fold(text.rstrip()[-_TRAILING_LONGEST:])
    ends = bool(tail) and tail.endswith(_TRAILING_ENDS.get(tail[-1], ()))  # every match ends so
    trailing = _trailing_start(text) if ends else None
    text = text[:trailing].strip(" ,;:(-–") if trailing is not None else text
    lead: re.Match[str] | None
    if not text or fold(text[0]) not in _LEAD_FILLER_FIRST:
        lead = None
    else:
        lead = _LEAD_FILLER.match(text[:24]) if len(text) > 24 else _LEAD_FILLER.match(text)
    if lead and lead.end() == 24:
        lead = _LEAD_FILLER.match(text)  # the spaces after the filler may go on
    text = text[lead.end():].strip(" ,;:(") if lead else text
    unit = _LEAD_UNIT.match(text)  # "triệu đồng, đạt": the end of a figure the clause was cut after
    text = text[unit.end():].strip(" ,;:(") if unit else text
    words = text.split()
    if len(words) <= _LABEL_WORDS:
        return " ".join(words)
    window = range(len(words) - _LABEL_WORDS, len(words) - 2)
    for i in window:
        if fold(words[i - 1]) in _PHRASE_END:
            return " ".join(words[i:])
    for i in window:
        if words[i][0].isupper():  # a name starts: "Trung tâm giáo dục thường xuyên ..."
            return " ".join(words[i:])
    return " ".join(words[-_LABEL_WORDS:])


# --- Kind and period -------------------------------------------------------------------------------

# Searched in the `fold` of the clause (same offsets).
_TARGET_CUE: Final = re.compile(r"phấn đấu|mục tiêu|chỉ tiêu|phải đạt")
_PLAN_CUE: Final = re.compile(r"kế hoạch|dự toán|dự kiến|(?<!\w)kh(?!\w)")
# Before a cue: it is the reference of a figure ("đạt 104,6% chỉ tiêu", "so với kế hoạch") or a count of
# indicators ("38/43 chỉ tiêu"), not what the figure is.
_CUE_REFERENCE_BEFORE: Final = re.compile(
    r"(?:[\d%]|(?<!\w)(?:so với|so|vượt|đạt|bằng|hoàn thành|số|của|chương trình))\s*$")  # ("chương trình mục tiêu quốc gia")
_PLAN_CUE_BEFORE: Final = re.compile(r"(?<!\w)(?:thực hiện|triển khai|xây dựng|ban hành|theo dõi)\s*$")
# After a cue: the indicators were met ("các chỉ tiêu chủ yếu cơ bản đạt"), a result follows.
_CUE_MET_AFTER: Final = re.compile(r"^[^\d,;:.]{0,30}?(?<!\w)(?:đạt|vượt|hoàn thành|đều)(?!\w)")
_GROWTH_BEFORE: Final = re.compile(
    r"(?<!\w)(?:tăng|giảm)(?:\s+(?:thêm|được|bình quân|trung bình|mạnh|nhẹ|khoảng|hơn|gần|trên|xấp xỉ))?\s*$")
_GROWTH_WORDS: Final = re.compile(r"tăng trưởng|tốc độ tăng|mức tăng|tăng bình quân|mức giảm")
_SHARE_AFTER: Final = re.compile(
    r"^\s*(?:so\s+(?:với\s+)?)?(?:kế hoạch|kh(?!\w)|dự toán|chỉ tiêu|nghị quyết|mục tiêu|cùng kỳ|nhiệm vụ"
    r"|năm trước|kỳ trước)")
# "bằng 65,7% số thu của cả quý I": a comparison, whatever follows ("chiếm 51,4% tổng số" is a proportion: actual).
_SHARE_BEFORE: Final = re.compile(r"(?<!\w)bằng\s+(?:\S+\s+)?$")
_SHARE_SO_AFTER: Final = re.compile(r"^\s*so\s+(?:với\s+)?(?:kế hoạch|kh(?!\w)|dự toán|chỉ tiêu|nghị quyết|mục tiêu)")
_SHARE_VERB_BEFORE: Final = re.compile(r"(?<!\w)(?:đạt|vượt|hoàn thành)\s+(?:\S+\s+)?$")
# Only a name (each word capitalised): an item of a list of places or units.
_NAME: Final = re.compile(rf"[{UPPER}]\w*(?:\s+(?:[–-]\s+)?[{UPPER}]\w*)*")
_SENTENCE_END: Final = re.compile(r"[.!?…](?=\s|$)|\n")
_NUM_WORD: Final = r"(?:\d{1,2}|một|hai|ba|bốn|sáu|bảy|tám|chín|mười(?: một| hai)?)"
_YEAR: Final = r"(?:19|20)\d\d"
_PERIOD: Final = re.compile(
    rf"(?:giai đoạn|từ năm|năm)\s+{_YEAR}\s*[-–]\s*{_YEAR}(?!\d)"
    rf"|(?<!\w){_NUM_WORD}\s+tháng(?:\s+(?:đầu|cuối))?(?:\s+năm(?:\s+{_YEAR})?)?(?!\w)"
    rf"|(?<!\w)quý\s+(?:iv|i{{1,3}}|[1-4])(?:\s*/\s*{_YEAR}|\s+năm\s+{_YEAR})?(?!\w)"
    rf"|(?<!\w)tháng\s+(?:1[0-2]|0?[1-9])(?:\s*/\s*{_YEAR}|\s+năm\s+{_YEAR})?(?![\w/])"
    rf"|(?<!\w)(?:cả\s+)?năm\s+{_YEAR}(?!\w)|(?<!\w)cả\s+năm(?!\w)")
# Before a period: it is the base of a comparison ("so với cùng kỳ năm 2012"), not the figure's period.
_PERIOD_BASE_BEFORE: Final = re.compile(r"(?<!\w)(?:so với|so|cùng kỳ|với|hơn)\s*$")
# A bare "N tháng" after these, or of more than 12 months, is a duration ("chỉ trong 1 tháng", "vay 24 tháng").
_DURATION_BEFORE: Final = re.compile(r"(?<!\w)(?:trong|sau|vòng|kéo dài|thời hạn|hạn|chỉ|mỗi|khoảng|gần|hơn|vay)\s*$")
_BARE_MONTHS: Final = re.compile(rf"{_NUM_WORD}\s+tháng")


def _is_period(low: str, m: re.Match[str], floor: int) -> bool:
    """A period of the figure, not the base of a comparison nor a duration."""
    if _PERIOD_BASE_BEFORE.search(low, max(floor, m.start() - 12), m.start()):
        return False
    if _BARE_MONTHS.fullmatch(m.group()):
        n = m.group().split()[0]
        if (n.isdigit() and int(n) > 12) or _DURATION_BEFORE.search(low, max(floor, m.start() - 12), m.start()):
            return False
    return True


def _own_start(text: str, index: int, figs: list[_Located]) -> int:
    """Where the figure's own words start in the clause (after the previous figure or separator)."""
    fig_start = figs[index][0]
    seg_start = _segment_start(text, fig_start)
    prev_end = figs[index - 1][1] if index and figs[index - 1][1] > seg_start else seg_start
    return prev_end + _own_cut(text[prev_end: fig_start])[0]


def _target_cue(low: str, fig_start: int) -> bool:
    """A word of the clause before the figure sets a target: "phấn đấu", "phải đạt", or "mục tiêu" /
    "chỉ tiêu" that is neither a figure's reference nor indicators already met."""
    for m in _TARGET_CUE.finditer(low, 0, fig_start):
        if m.group() in ("phấn đấu", "phải đạt"):
            return True
        if _CUE_REFERENCE_BEFORE.search(low, max(0, m.start() - 16), m.start()):
            continue
        if _CUE_MET_AFTER.match(low[m.end(): fig_start]):
            continue
        return True
    return False


def _plan_cue(low: str, own_start: int, fig_start: int) -> bool:
    """The figure's own words name a plan ("kế hoạch năm tăng 12,5%", "dự kiến", "theo kế hoạch ... là")."""
    for m in _PLAN_CUE.finditer(low, own_start, fig_start):
        before = low[max(0, m.start() - 16): m.start()]
        if _CUE_REFERENCE_BEFORE.search(before) or _PLAN_CUE_BEFORE.search(before):
            continue
        if re.match(r"\s*(?:số|\d)", low[m.end(): m.end() + 6]):
            continue  # a document: "Kế hoạch số 120-KH/HU"
        return True
    return False


def _last_sentence(text: str) -> str:
    """The last sentence of `text` (of its last 400 characters): the words that lead into a clause."""
    tail = text[-400:]
    ends = [m.end() for m in _SENTENCE_END.finditer(tail)]
    return tail[ends[-1]:] if ends else tail


def _kind(text: str, index: int, figs: list[_Located], low: str, cue_low: str, label: str | None,
          kinds: list[Kind]) -> Kind:
    """target / plan from the words before the figure (`cue_low`: the fold of the sentence's words before
    the clause, then of the clause); else growth ("tăng 12,6%", "tốc độ tăng trưởng ... 8,3%"), share
    ("đạt 77,9% kế hoạch", "bằng 65,7% số thu") or actual; a name in brackets of a list ("Phú Thọ (40,7%)")
    is of the kind of the figure before it."""
    fig_start, fig_end, _, _, unit = figs[index]
    if _target_cue(cue_low, len(cue_low) - len(low) + fig_start):
        return "target"
    own_start = _own_start(text, index, figs)
    if _plan_cue(low, own_start, fig_start):
        return "plan"
    before = low[own_start: fig_start]
    after = low[fig_end: fig_end + 30]
    percent = bool(unit) and unit.startswith("%")
    if _GROWTH_BEFORE.search(before):
        return "growth"
    if percent and (_SHARE_BEFORE.search(before) or _SHARE_SO_AFTER.match(after)
                    or (_SHARE_VERB_BEFORE.search(before) and _SHARE_AFTER.match(after))):
        return "share"
    if kinds and figs[index - 1][1] > _segment_start(text, fig_start) and (
            (not before.strip() and low[:fig_start].rstrip().endswith("("))
            or before.strip(" ,(") == "tương đương"
            or (unit == figs[index - 1][4] and _NAME.fullmatch(text[own_start: fig_start].strip(" ,(")))):
        return kinds[-1]  # "Bà Rịa – Vũng Tàu (tăng 40,2%), Phú Thọ (40,7%)", "Lào Cai tăng 91,3%, Khánh Hòa 77,8%"
    if percent and (_GROWTH_WORDS.search(before) or (label and _GROWTH_WORDS.search(fold(label)))):
        return "growth"
    return "actual"


def _periods(low: str) -> list[tuple[int, int]]:
    """The periods written in a clause (its fold), found once for all its figures."""
    if "tháng" not in low and "quý" not in low and "năm" not in low and "giai đoạn" not in low:
        return []
    return [m.span() for m in _PERIOD.finditer(low) if _is_period(low, m, 0)]


def _period(text: str, index: int, figs: list[_Located], periods: list[tuple[int, int]]) -> str | None:
    """The period the clause gives for the figure: the nearest before it since the last ";", else the
    first in the words right after it; not the base of a comparison nor a duration."""
    if not periods:
        return None
    fig_start, fig_end = figs[index][0], figs[index][1]
    scope = text.rfind(";", 0, fig_start) + 1
    found = None
    for span in periods:
        if span[1] > fig_start:
            break
        if span[0] >= scope:
            found = span
    if found is None:
        stop = figs[index + 1][0] if index + 1 < len(figs) else len(text)
        cut = _TAIL_END.search(text, fig_end, stop)
        stop = cut.start() if cut else stop
        found = next((span for span in periods if span[0] >= fig_end and span[1] <= stop), None)
    return " ".join(text[found[0]: found[1]].split()) if found else None
