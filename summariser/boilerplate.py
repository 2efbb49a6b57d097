"""Web-page furniture around a crawled report: widgets, counters, menus, captions, bylines.

Removal works line by line (a page keeps its furniture on lines of its own) and, for a few
unmistakable widgets and counters, inside lines too (text crawled without line breaks).
Removed pieces are replaced by a line break, never glued, so no two numbers can merge.
"""

from __future__ import annotations

import re
from typing import Final

from summariser.normalise import UPPER

_WORD: Final = re.compile(r"\w\w*")  # (`\w+`, led by a class: searched faster)

# Widgets and counters that can sit inside a line of crawled text.
# Every alternative starts with a plain letter (no group first), so the regex engine skips ahead to
# the few capitals that can start one instead of trying every position of the page.
_FONT_SIZE: Final = r"\s*:?(?:\s*[-+]?\s*A[-+]?)*"
_COUNTER: Final = r"\s*:\s*[\d.,]+"
# (alternative, what any match of it contains): either a character and the words before it, perhaps
# with spaces between ("Hôm nay" before the ":" of "Hôm nay\s*:\s*[\d.,]+"), or literals (a rare
# character first: an 'in' of one character is a memchr, of several a slower search).
_INLINE_PARTS: Final = (
    (r"A\s?-\s?A\s?A\s?\+(?:\s*\|)?", "+", "A"),
    ("Tăng tương phản", "", "tương phản"),
    ("Giảm tương phản", "", "tương phản"),
    (f"Cỡ chữ{_FONT_SIZE}", "", "ỡ", "Cỡ chữ"),
    (f"Kích thước chữ{_FONT_SIZE}", "", "K", "Kích thước chữ"),
    (f"Font chữ{_FONT_SIZE}", "", "F", "Font chữ"),
    (r"Ý kiến bạn đọc\s*\(\d+\)", "(", "Ý kiến bạn đọc"),
    (r"Bình luận\s*\(\d+\)", "(", "Bình luận"),
    *((f"{counter}{_COUNTER}", ":", word) for counter, word in (
        ("Đang online", "Đang online"), ("Đang truy cập", "Đang truy cập"), ("Hôm nay", "Hôm nay"),
        ("Hôm qua", "Hôm qua"), ("Trong tuần", "Trong tuần"), ("Tuần này", "Tuần này"),
        ("Trong tháng", "Trong tháng"), ("Tháng này", "Tháng này"), ("Tất cả", "Tất cả"),
        ("Tổng(?: số)? lượt truy cập", "lượt truy cập"), ("Lượt truy cập", "Lượt truy cập"), ("Lượt xem", "Lượt xem"),
        ("Số lượt xem", "Số lượt xem"), ("Tổng truy cập", "Tổng truy cập"))),
    ("Thống kê truy cập", "", "Thống kê truy cập"),
)
_INLINE: Final = re.compile("|".join(part[0] for part in _INLINE_PARTS))
# Alternatives found by literals: (bit, literals); by a character: (character, its words, (bit, word)...)
_INLINE_LITERALS: Final = tuple((bit, part[2:]) for bit, part in enumerate(_INLINE_PARTS) if not part[1])
_INLINE_MARKS: Final = tuple(
    (mark, tuple(part[2] for part in _INLINE_PARTS if part[1] == mark),
     tuple((bit, part[2]) for bit, part in enumerate(_INLINE_PARTS) if part[1] == mark))
    for mark in dict.fromkeys(part[1] for part in _INLINE_PARTS if part[1]))
_INLINE_BY_PARTS: dict[int, re.Pattern[str]] = {}


def _strip_inline(text: str) -> str:
    """`_INLINE.sub("\\n", text)`, with only the alternatives that can match somewhere in `text`.

    Scanning a page with the whole alternation costs ~50 instructions a character; a few 'in's and
    a look at the words before the rare "+", "(", ":" cost far less, and most pages have none of the
    widgets. Exact: an alternative that matches nowhere in the text changes no match of the
    alternation when left out (every position is matched by the same alternative as before, or none)."""
    present = 0
    last: tuple[str, ...] = ()
    found = False
    for bit, literals in _INLINE_LITERALS:
        if literals != last:  # (the two contrast buttons share theirs: searched once)
            found = all(literal in text for literal in literals)
            last = literals
        if found:
            present |= 1 << bit
    for mark, words, bits in _INLINE_MARKS:
        at = text.find(mark)
        while at >= 0:
            end = at  # (the words end where the spaces before the mark start)
            while end > 0 and text[end - 1].isspace():
                end -= 1
            if text.endswith(words, 0, end):
                for bit, word in bits:
                    if text.endswith(word, 0, end):
                        present |= 1 << bit
            at = text.find(mark, at + 1)
    if not present:
        return text
    pattern = _INLINE_BY_PARTS.get(present)
    if pattern is None:
        pattern = re.compile("|".join(part[0] for bit, part in enumerate(_INLINE_PARTS) if present >> bit & 1))
        if len(_INLINE_BY_PARTS) < 256:
            _INLINE_BY_PARTS[present] = pattern
    return pattern.sub("\n", text)


# Whole lines that are navigation or page furniture.
_MENU_LINES: Final = {
    "thông tin tuyên truyền", "thông tin tổng hợp", "liên kết website", "liên kết web", "trang chủ",
    "giới thiệu", "tin tức", "tin tức - sự kiện", "tin tức sự kiện", "văn bản", "văn bản pháp quy",
    "liên hệ", "sơ đồ cổng", "sơ đồ site", "hỏi đáp", "lịch công tác", "thư viện ảnh", "video",
    "chia sẻ", "in bài", "in bài viết", "bản in", "gửi email", "gửi bài", "lưu bài", "quay lại",
    "về đầu trang", "đầu trang", "xem thêm", "đọc thêm", "bình luận", "gửi ý kiến", "gửi bình luận",
    "facebook", "zalo", "twitter", "email", "print", "tweet", "like", "share", "thống kê truy cập",
    "tìm kiếm", "đăng nhập", "đăng ký", "menu", "tin mới", "tin nổi bật", "tin xem nhiều", "|",
}
_MENU_MAX = max(map(len, _MENU_LINES))


def _is_menu(line: str) -> bool:
    """The line is a menu entry (case aside, framed by " .:|"); longer lines are not lower-cased."""
    core = line.strip(" .:|")
    return len(core) <= _MENU_MAX and core.lower() in _MENU_LINES
# From one of these lines on, the page lists other articles or comments: cut the rest.
_TAIL_WORDS: Final = (
    "Tin liên quan", "Bài liên quan", "Bài viết liên quan", "Các tin khác", "Tin khác", "Các bài khác",
    "Tin cùng chuyên mục", "Tin cùng danh mục", "Xem thêm các tin", "Ý kiến bạn đọc", "Viết bình luận",
    "Gửi ý kiến của bạn", "Tags?", "Từ khóa")
_TAIL_START: Final = re.compile(r"^(?:" + "|".join(_TAIL_WORDS) + r")\b.{0,40}$", re.IGNORECASE)
# A longer line cannot match _TAIL_START: IGNORECASE matches one character for one, `.{0,40}` at most
# 40 more, and `$` may leave one final "\n".
_TAIL_MAX: Final = max(map(len, _TAIL_WORDS)) + 40 + 1
_PUBLISHED: Final = re.compile(
    r"^(?:(?:Thứ\s+\w+|Chủ nhật),?\s*)?(?:Ngày đăng|Đăng ngày|Cập nhật(?: lúc)?|Ngày cập nhật|"
    r"Ngày xuất bản|Đăng lúc)?\s*:?\s*\d{1,2}[/-]\d{1,2}[/-]\d{4}(?:\s*[|,-]?\s*\d{1,2}[:h]\d{2}(?::\d{2})?"
    r"(?:\s*(?:AM|PM|GMT[+\d]*))?)?$"
    r"|^(?:Thứ\s+\w+|Chủ nhật),?\s*(?:ngày\s*)?\d{1,2}[/-]\d{1,2}[/-]\d{4}\b.{0,20}$"
    r"|^(?:Cập nhật|Ngày đăng|Đăng ngày|Ngày cập nhật|Lượt xem|Lượt đọc|Số lượt xem)\s*:.{0,40}$"
    r"|^\d{1,2}:\d{2}(?::\d{2})?\s*(?:\||,|-)?\s*\d{1,2}/\d{1,2}/\d{4}$",
    re.IGNORECASE,
)
# The characters _PUBLISHED can match first, besides whitespace and decimal digits (`\s`, `\d`): ":" and
# those that match T, C, N, Đ, L or S case aside (checked against the pattern over all of Unicode in
# tests/test_summariser_normalise.py).
_PUBLISHED_FIRST: Final = frozenset(":CLNSTclnstĐđſ")
_BREADCRUMB: Final = re.compile(r"^[^.;]{0,80}(?:\s[>»›]\s|\s/\s)[^.;]{0,80}$")
_CREDIT: Final = re.compile(
    r"^\(?(?:Tin|Bài|Ảnh|Tin và ảnh|Tin, ảnh|Tin,ảnh|Bài và ảnh|Bài, ảnh|Tin/ảnh|Bài/ảnh|Nguồn|Theo|"
    r"Video|Clip|Thực hiện|Nhóm PV|PV|Phóng viên)\s*[:：].{0,80}$",
    re.IGNORECASE,
)
_PHOTO: Final = re.compile(r"^\(?Ảnh\s*[:：]|\((?:Ảnh|Nguồn)\s*[:：][^)]*\)\s*\.?$|\|\s*$", re.IGNORECASE)
_CAPTION_SUBJECT: Final = re.compile(
    r"^(?:Đồng chí|Các đồng chí|Đ/c|Đại biểu|Các đại biểu|Quang cảnh|Toàn cảnh|Lãnh đạo|Ông|Bà|"
    r"Bí thư|Phó Bí thư|Chủ tịch|Phó Chủ tịch|Các đơn vị|Đoàn|Thường trực|Ban Thường vụ|Ảnh)\b"
)
_CAPTION_VERB: Final = re.compile(
    r"\b(?:dự|tham dự|phát biểu|chủ trì|chủ tọa|trao|tặng|chụp ảnh|kết luận|biểu quyết|khai mạc|"
    r"bế mạc|bấm nút|điều hành|tại hội nghị|tại kỳ họp|tại buổi)\b",
    re.IGNORECASE,
)
_SCENE: Final = re.compile(r"^(?:Quang cảnh|Toàn cảnh|Một góc|Các đại biểu|Đại biểu|Ảnh minh họa|Hình ảnh)\b[^.;:]*\.?$")
_CONTENT_WORDS: Final = ("đề nghị", "yêu cầu", "nhấn mạnh", "đạt", "tăng", "giảm", "nhiệm vụ")
_CAPTION_CONTENT: Final = re.compile(r"[:;]|\b(?:" + "|".join(_CONTENT_WORDS) + r")\b")
_DATELINE: Final = re.compile(rf"^(?:\([^()\n]{{2,40}}\)|(?:[{UPPER}][{UPPER}.]+\s?){{1,4}})\s*[-–—]\s+(?=\w)")


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _is_upper_line(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _is_byline(line: str) -> bool:
    """Credit lines at the end: "THANH MAI - THANH CƯƠNG", "Tin, ảnh: X", "Đức Nguyên-Hiệp Thương, TTV"."""
    if _CREDIT.match(line):
        return True
    if line.endswith((".", "!", "?", ":", ";", "…")):
        return False  # (before counting the words of what is usually a long paragraph)
    words = _words(line)
    if not words or len(words) > 8:
        return False
    if any(ch.isdigit() for ch in line):
        return False
    if _is_upper_line(line):
        return True
    # Every word capitalised (names, an acronym of the newsroom), short: a signature.
    return all(w[0].isupper() for w in words) and (len(words) <= 4 or "-" in line or "," in line)


# The last sentence end of a line and what follows it (no further sentence end).
_LAST_SENTENCE_END: Final = re.compile(r"[.!?…][\"”’)]*\s+(?=[^.!?…]+$)")


def _without_trailing_credit(line: str) -> str:
    """Text crawled without line breaks runs the byline into the last paragraph ("... hiện nay…
    THANH MAI - THANH CƯƠNG"): a credit or an all-capitals signature after the last sentence goes."""
    if len(line) <= 120:
        return line
    # Only the last sentence end of the line can start a match (the lookahead allows no other after it,
    # and the closers and spaces it takes are none): the pattern is tried there alone, not scanned
    # through the whole paragraph with its class (same match as `.search`).
    end = line.rfind(".")
    for mark in "!?…":
        end = max(end, line.rfind(mark, end + 1))
    m = _LAST_SENTENCE_END.match(line, end) if end >= 0 else None
    if m is None:
        return line
    tail = line[m.end():]
    words = _words(tail)
    credit = _CREDIT.match(tail) or (
        0 < len(words) <= 8 and _is_upper_line(tail) and not any(ch.isdigit() for ch in tail))
    return line[: m.start() + 1].rstrip() if credit else line


def _is_caption(line: str, raw: list[str], i: int) -> bool:
    """Photo captions: a short line repeated in the two lines around it, or people attending/speaking."""
    if len(line) > 250:
        return False
    words = line.split()
    if not words or len(words) > 30:
        return False
    # (_PHOTO's alternatives after the first need a "(" or a "|"; the first is anchored at the start)
    if _PHOTO.search(line) if "(" in line or "|" in line else _PHOTO.match(line):
        return True
    body = line.rstrip(" .|")
    if len(words) >= 4 and body and body in " ".join(raw[max(0, i - 2): i] + raw[i + 1: i + 3]):
        return True
    if len(words) > 25 or body.count(". ") or ":" in line or ";" in line:
        return False
    # (the rest of _CAPTION_CONTENT: a word that is in the line)
    if any(word in line for word in _CONTENT_WORDS) and _CAPTION_CONTENT.search(line):
        return False
    if len(words) <= 12 and _SCENE.match(line):
        return True
    return bool(_CAPTION_SUBJECT.match(line) and _CAPTION_VERB.search(line))


def strip_boilerplate(text: str) -> str:
    """Remove page furniture from normalised text (one paragraph per line)."""
    text = _strip_inline(text)
    raw = [ln.strip() for ln in text.split("\n") if ln.strip()]
    kept: list[str] = []
    for i, line in enumerate(raw):
        if i > 0 and len(line) <= _TAIL_MAX and _TAIL_START.match(line):
            break
        if _is_menu(line):
            continue
        first = line[0]
        if (first in _PUBLISHED_FIRST or first.isdecimal() or first.isspace()) and _PUBLISHED.match(line):
            continue
        # (_BREADCRUMB spans the line: no "." or ";" in it, and a separator)
        if (len(line) < 160 and "." not in line and ";" not in line
                and ("/" in line or ">" in line or "»" in line or "›" in line)
                and _BREADCRUMB.match(line) and len(_words(line)) <= 12):
            continue
        if _is_caption(line, raw, i):
            continue
        kept.append(line.strip(" |"))
    # Bylines and credits at the end.
    while kept and (_is_byline(kept[-1]) or _is_menu(kept[-1])):
        kept.pop()
    if kept:
        kept[-1] = _without_trailing_credit(kept[-1])
    # A dateline before the lead ("BẮC GIANG – Ngày 18/7, ...", "(BGĐT) - ...").
    for i, line in enumerate(kept[:4]):
        m = _DATELINE.match(line)
        if m and len(line) > m.end() + 20:
            kept[i] = line[m.end():]
            break
    return "\n".join(kept)
