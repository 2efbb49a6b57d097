"""Item compression: a clause cut down to its idea, still a slice of the report.

Only the ends of a clause are trimmed (connectors, a speaker and the addressees of a request,
"tiếp tục tập trung lãnh đạo, chỉ đạo" filler) and an over-long clause is cut at a comma, so the
item text stays a verbatim slice and every number in it is the report's.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from summariser import cues
from summariser.fastre import ci
from summariser.figures import NUMBER, find_figures, has_figures
from summariser.segment import Piece, sub_piece

MAX_WORDS: Final = 40  # hard limit; inner references go from TARGET_WORDS on
TARGET_WORDS: Final = 35
_STOP: Final = set(
    ["của", "và", "các", "những", "được", "đã", "đang", "sẽ", "trong", "cho", "với", "là", "có", "theo", "về", "tại", "từ", "đến", "này", "đó", "một", "như", "để", "thì", "mà", "nên", "cũng", "còn", "vẫn", "nhất", "hơn", "rất", "bị", "do", "vào", "ra", "trên", "dưới", "khi"]
)
# Words that say nothing specific in a report: a clause made only of them is not a result.
_GENERIC: Final = set(
    ["lãnh", "đạo", "chỉ", "đạo", "thực", "hiện", "triển", "khai", "tổ", "chức", "nhiệm", "vụ", "mục", "tiêu", "chỉ", "tiêu", "kế", "hoạch", "đề", "ra", "giải", "pháp", "chương", "trình", "nghị", "quyết", "chỉ", "thị", "kết", "luận", "văn", "bản", "trung", "ương", "tw", "tỉnh", "huyện", "xã", "thị", "trấn", "phường", "thành", "phố", "cấp", "ủy", "chính", "quyền", "đảng", "bộ", "ban", "chấp", "hành", "thường", "vụ", "các", "cấp", "ngành", "đơn", "vị", "địa", "phương", "tập", "thể", "bám", "sát", "đạt", "kết", "quả", "tích", "cực", "năm", "tháng", "đầu", "cuối", "quý", "công", "tác", "phát", "triển", "kinh", "tế", "xã", "hội", "quốc", "phòng", "an", "ninh", "hệ", "thống", "chính", "trị", "xây", "dựng", "tình", "hình", "địa", "bàn", "toàn", "tiếp", "tục", "tập", "trung", "hoàn", "thành", "tốt", "hiệu", "quả", "trọng", "tâm", "quan", "trọng", "nội", "dung", "ngay", "hiện", "nay", "đồng", "bộ", "quyết", "liệt", "sát", "sao", "chặt", "chẽ", "kịp", "thời", "nghiêm", "túc", "cơ", "bản", "nhiều", "cao", "nữa", "vượt", "mức", "cả", "nhiệm", "kỳ", "đồng", "thời", "các", "lĩnh", "vực", "kt", "xh", "kt-xh", "cơ", "sở", "đảng", "ủy", "huyện", "ủy", "tỉnh", "ủy", "ubnd", "hđnd", "mttq", "đoàn", "thể", "chính", "sách", "tổ", "cơ", "quan", "nhà", "nước", "đảm", "bảo", "bảo", "đảm", "yêu", "cầu", "tiến", "độ", "công", "việc", "hoạt", "động", "nhân", "dân", "đề", "đã", "giao", "quy", "định", "lần", "này", "hội", "nghị", "báo", "cáo", "nêu", "rõ", "cho", "biết"]
) - {"an"}  # "an sinh" is specific; "an ninh" stays generic through "ninh"
_NOT_SPECIFIC: Final = _STOP | _GENERIC
_WORD: Final = re.compile(r"\w\w*(?:-\w+)*")  # (`\w+…` led by a class: searched faster)
_PURPOSE_CUT: Final = re.compile(r"\s(?:nhằm|để)\s")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def count_words(text: str) -> int:
    """Number of words (syllables, as separated by spaces)."""
    return text.count(" ") + 1 if _single_spaced(text) else len(text.split())


def at_most_words(text: str, n: int) -> bool:
    """`count_words(text) <= n`, without splitting a long paragraph into all its words."""
    return len(text.split(None, n)) <= n


def reset() -> None:
    """Forget memoised counts: called once per report so timings are per report."""
    figures_in.cache_clear()
    _has_figures.cache_clear()


def specificity(text: str, enough: int = 0) -> int:
    """Number of words that say something specific (not generic, not a function word, not a name).

    With `enough`, counting stops there (callers asking "at least 2?" need no more)."""
    count = 0
    for i, m in enumerate(_WORD.finditer(text)):  # (lazily: most clauses reach `enough` in a few words)
        w = m.group()
        if w[0].isupper() and (i or (len(w) > 1 and w.isupper())):
            continue  # names of places and people, acronyms
        if w.lower() not in _NOT_SPECIFIC and w.isalpha():
            count += 1
            if count == enough:
                break
    return count


def words_upto(text: str, n: int) -> int:
    """`min(count_words(text), n + 1)`: enough to compare with `n` without splitting a long clause."""
    if _single_spaced(text):
        return min(text.count(" ") + 1, n + 1)
    return len(text.split(None, n))


def _single_spaced(text: str) -> bool:
    """The words of `text` are one " " apart, with none before or after: it has `text.count(" ") + 1`
    words (every white space character but " " is unprintable, so a printable text has no other)."""
    return bool(text) and text[0] != " " and text[-1] != " " and "  " not in text and text.isprintable()


def _within(pieces: list[Piece], limit: int) -> bool:
    """The pieces hold at most `limit` words together."""
    total = 0
    for k in pieces:
        total += len(k.text.split(None, limit - total))
        if total > limit:
            return False
    return True


def has_number(text: str) -> bool:
    return bool(NUMBER.search(text))


_HAS_DIGIT: Final = re.compile(r"\d")


@lru_cache(maxsize=2048)
def figures_in(text: str) -> tuple:
    """`find_figures(text)`, memoised within one summary (see `reset`)."""
    return tuple(find_figures(text))


@lru_cache(maxsize=2048)
def _has_figures(text: str) -> bool:
    return has_figures(text)


def has_figure(text: str) -> bool:
    """A measured figure (not a year or a date): "8,44 tiêu chí/xã", "77,9%", "13/18"."""
    return _HAS_DIGIT.search(text) is not None and _has_figures(text)


def trim_lead(p: Piece, *, task: bool) -> Piece:
    """Drop connectors and filler at the start ("Theo đó, sẽ tiếp tục tập trung lãnh đạo, chỉ đạo")."""
    for _ in range(6):
        m = cues.LEAD_CONNECTOR.match(p.text, at=p.start)
        if m and m.end() < len(p.text) - 10:
            p = sub_piece(p, m.end(), len(p.text))
            continue
        if not task:
            break
        m = cues.TASK_SUBJECT.match(p.text, at=p.start)
        if m and m.end() < len(p.text) - 10:
            p = sub_piece(p, m.end(), len(p.text))
            continue
        m = cues.LEAD_FILLER.match(p.text, at=p.start)
        # Only drop "tập trung", "chỉ đạo"... when another verb follows: keep "tập trung nguồn lực".
        if m and (cues.ACTION.match(p.text[m.end():], at=p.start + m.end())
                  or m.group(0).strip(" ,").lower() in ("sẽ", "và", "cần", "phải", "cần phải")):
            p = sub_piece(p, m.end(), len(p.text))
            continue
        break
    return p


def drop_addressee(p: Piece) -> Piece:
    """ "đồng chí X đề nghị các cấp, các ngành cần phát huy ..." -> "phát huy ..."."""
    text = p.text
    m = cues.DIRECTIVE.search(text, at=p.start)  # (`at=`: slices of the report, read lower-cased once)
    start = 0
    head = text[: m.start()] if m else ""
    connector = cues.LEAD_CONNECTOR.match(head, at=p.start)
    skip = connector.end() if connector else 0
    if m and cues.ACTION.match(head[skip:], at=p.start + skip):
        return p  # "Tăng cường ..., phấn đấu hoàn thành ...": the clause is the task itself
    if m and m.start() < len(text) * 0.7:
        start = m.end()
    else:
        # "Cấp ủy, chính quyền các cấp cần xác định ...": an addressee then "cần".
        need = re.search(r"\s(?:cần phải|cần|phải)\s", text[:120])
        if not need or cues.ACTION.search(text[: need.start()], at=p.start):
            return p
        return sub_piece(p, need.end(), len(text))
    rest = text[start:]
    need = re.search(r"\s(?:cần phải|cần|phải)\s", rest[:160])
    if need and not cues.ACTION.search(rest[: need.start()], at=p.start + start):
        return sub_piece(p, start + need.end(), len(text))
    for a in cues.ACTION.finditer(rest):
        before = rest[: a.start()]
        if re.search(r"(?:các|những|của)\s*$", before):
            continue  # "các tổ chức chính trị - xã hội" is an addressee
        if a.group(0) == "tổ chức" and _ORGANISATION_AFTER.match(rest[a.end():]):
            continue  # "các cấp ủy, tổ chức đảng xây dựng ...": an organisation, not the verb
        if _ADDRESSEE_AFTER.match(rest[a.end():]) and a.group(0).lower() in ("chỉ đạo", "tập trung", "giao", "yêu cầu"):
            continue  # "tập trung chỉ đạo các cấp, ngành ... rà soát": the task comes after the addressees
        if count_words(before) > 25:
            break
        return sub_piece(p, start + a.start(), len(text))
    return sub_piece(p, start, len(text)) if len(rest.split()) >= 3 else p


_ORGANISATION_AFTER: Final = re.compile(r"\s+(?:đảng|cơ sở|chính trị|đoàn thể|hội|thành viên)\b")
_ADDRESSEE_AFTER: Final = ci(
    r"\s+(?:cho\s+)?(?:các cấp|các ngành|các cơ quan|các đơn vị|các địa phương|các xã|các phòng|cấp ủy|chính quyền|"
    r"UBND|Ủy ban|HĐND|MTTQ|Ban|Thường trực|Đảng ủy|Văn phòng|Phòng|các|toàn)\b")


def trim_tail(p: Piece) -> Piece:
    text = p.text
    end = len(text.rstrip(" ;,:.…-–"))
    if end == len(text) and p.end == p.start + end and (not text or not (text[0].isspace() or text[-1].isspace())):
        return p  # nothing to trim (the usual case)
    while end and text[:end].endswith(("...", "…")):
        end = len(text[:end].rstrip(" .…;,"))
    return sub_piece(p, 0, end)


# Inner parts that can go when a clause is too long: document references, attributions, places.
_DROPPABLE = [
    re.compile(r",?\s*ngày \d{1,2}/\d{1,2}/\d{4} của [^,;]{1,60}?(?= về |,|;|$)"),
    re.compile(r",?\s(?:theo (?:chỉ đạo|quy định|kế hoạch|hướng dẫn|tinh thần) của|của Ban Thường vụ|của Ban Chấp hành)"
               r" [^,;]{1,50}$"),
    re.compile(
        r",?\s*của (?:Ban Thường vụ|Ban Chấp hành|Thường trực|BTV|BCH) (?:Tỉnh ủy|Huyện ủy|Thành ủy|Thị ủy|Quận ủy|"
        r"Đảng ủy|T\.Ư|Trung ương|Đảng bộ (?:tỉnh|huyện|xã|thành phố|thị xã))(?=[\s,;]|$)"
    ),
    re.compile(
        r",?(?:\s*,?\s*của (?:Trung ương|TW|T\.Ư|tỉnh|huyện|thành phố|xã|thị xã|Tỉnh ủy|Huyện ủy|Thành ủy|"
        r"HĐND|UBND|Chính phủ|Quốc hội|pháp luật|cấp trên))+(?=[\s,;]|$)"
    ),
    re.compile(
        r"(?:^|\s)(?:về|để) (?:việc )?(?:thực hiện|triển khai) (?:Nghị quyết|Kết luận|Chỉ thị|Quyết định|Kế hoạch|"
        r"Chương trình|Đề án|Thông báo|Hướng dẫn|Quy định)(?: số)? \d+[-/][\w/.-]+(?=[\s,;]|$)"
    ),
    re.compile(r"\s(?:trên|tại) địa bàn(?: (?:toàn )?(?:huyện|tỉnh|xã|thành phố|thị xã|phường|thị trấn))?(?=[\s,;]|$)"),
    re.compile(r"\s\([^()]{1,80}\)"),
]
# A text each match of the pattern above holds (patterns start with optional marks: no regex prefix),
# and how far before it a match may start: "marks" = over spaces and commas only (what the pattern has
# before that text), else at most that many characters ("về việc " before "thực hiện").
_DROPPABLE_NEEDS: Final = (("ngày ",), ("theo ", "của Ban"), ("của ",), ("của ",), ("thực hiện ", "triển khai "),
                    (" địa bàn",), ("(",))
_DROPPABLE_BACK: Final[tuple[str | int, ...]] = ("marks", "marks", "marks", "marks", 9, 5, 1)


def _first_start(text: str, needs: tuple[str, ...], back: str | int) -> int:
    """The earliest a droppable match can start in `text` (-1: none can): no match holds its text
    before the first occurrence of it, and only `back` may come before that in a match."""
    first = -1
    for need in needs:
        i = text.find(need)
        if i >= 0 and (first < 0 or i < first):
            first = i
    if first <= 0:
        return first
    if isinstance(back, int):
        return max(0, first - back)
    while first and (text[first - 1].isspace() or text[first - 1] == ","):
        first -= 1
    return first


def drop_inner(p: Piece) -> list[Piece]:
    """Drop document references, attributions and places inside a long clause (kept parts in order)."""
    kept = [p]
    for pattern, needs, back in zip(_DROPPABLE, _DROPPABLE_NEEDS, _DROPPABLE_BACK, strict=True):
        if _within(kept, TARGET_WORDS):
            break
        out: list[Piece] = []
        for k in kept:
            prev = 0
            begin = _first_start(k.text, needs, back)
            for m in pattern.finditer(k.text, begin) if begin >= 0 else ():
                if m.start() > prev:
                    out.append(sub_piece(k, prev, m.start()))
                prev = m.end()
            out.append(sub_piece(k, prev, len(k.text)))
        kept = [_strip_marks(k) for k in out if k.text.strip(" ,;")]
    return kept


def _cap_pieces(kept: list[Piece]) -> list[Piece]:
    total = 0
    for i, k in enumerate(kept):
        n = count_words(k.text)
        if total + n > MAX_WORDS:
            room = MAX_WORDS - total
            if room < 4:
                return kept[:i] if i else [cap_length(k)]
            return [*kept[:i], cap_length(k, room, min_keep=min(12, max(3, room // 2)))]
        total += n
    return kept


_SPLIT_AT: Final = ci(r"(\svà)\s+(?=" + cues.ACTION.pattern[2:] + ")")
_PURPOSE: Final = re.compile(r"\s(?:nhằm|để)\s")


def shorten(p: Piece) -> list[list[Piece]]:
    """One or more items of at most ~35-40 words, each a list of slices of `p`.

    Inner references go first; a clause still too long that joins two tasks with "và" or a comma
    ("..., nhất là ... và xây dựng Trụ sở ...") becomes two items; else it is cut at a comma.
    """
    kept = drop_inner(p)
    n = sum(count_words(k.text) for k in kept)
    if n <= MAX_WORDS:
        return [kept]
    # "... không có khả năng tự phục hồi để phát triển ...": the purpose goes before the idea is split.
    seen = 0
    for i, k in enumerate(kept):
        for m in _PURPOSE.finditer(k.text):
            before = seen + count_words(k.text[: m.start()])
            if 15 <= before <= MAX_WORDS:
                return [[*kept[:i], trim_tail(sub_piece(k, 0, m.start()))]]
        seen += count_words(k.text)
    total = count_words(p.text)
    best: tuple[float, re.Match[str]] | None = None
    for m in _SPLIT_AT.finditer(p.text):
        left = count_words(p.text[: m.start()])
        if left < 8 or total - left < 8:
            continue
        cost = abs(left - total / 2)
        if best is None or cost < best[0]:
            best = (cost, m)
    if best is None:
        return [_cap_pieces(kept)]
    m = best[1]
    left_part = trim_tail(sub_piece(p, 0, m.start()))
    right_part = sub_piece(p, m.end(), len(p.text))
    return [*shorten(left_part), *shorten(right_part)]


def _strip_marks(p: Piece) -> Piece:
    text = p.text
    start = len(text) - len(text.lstrip(" ,;"))
    return sub_piece(p, start, len(text.rstrip(" ,;")))


def cap_length(p: Piece, limit_words: int = MAX_WORDS, min_keep: int = 12) -> Piece:
    """At most `limit_words` words: cut at a purpose clause or the last comma that keeps the idea.

    Cuts fall only on spaces, so a number ("0/0", "12,5") is never cut in two.
    """
    ws = list(_WORD.finditer(p.text))
    if len(ws) <= limit_words:
        return p
    limit = ws[limit_words - 1].end()
    space = re.search(r"\s", p.text[limit:])
    limit = limit + space.start() if space else len(p.text)
    for m in _PURPOSE_CUT.finditer(p.text, 0, limit):
        if count_words(p.text[: m.start()]) >= min_keep:
            return trim_tail(sub_piece(p, 0, m.start()))
    cut = p.text.rfind(", ", 0, limit)
    if cut > 0 and count_words(p.text[:cut]) >= min_keep:
        return trim_tail(sub_piece(p, 0, cut))
    return trim_tail(sub_piece(p, 0, limit))
