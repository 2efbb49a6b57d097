"""Whether a new text message goes on with the sender's previous one (issue 13, "Merging").

Telegram clients send a paste over 4,096 characters as several messages, cut near the limit (at the
last space or line break, or mid-word); a long channel post forwarded arrives the same way. But a
burst of *different* reports forwarded together also arrives as consecutive messages of one sender,
each a few thousand characters: gluing them made one 79,005-character report of twenty. So a
message joins the previous one only on evidence at the joint:

- the previous message was cut by the client (its length is within `CLIENT_SPLIT_MARGIN` UTF-16
  units of the 4,096 limit, never over it), or it stops mid-sentence: the new one goes on in lower
  case, with a digit or with punctuation, or the previous one ends on a heading or a colon, which
  announce what follows;
- and the new message does not open a report of its own (a header block, a document title, a
  headline naming a meeting), and the previous one did not close one (Nơi nhận, a signature, a
  byline).

The caller adds what is not about the text: the same sender and forward origin, a short time
apart, and a size cap on what is joined. These rules only look at the first and last lines, so
they run on the event loop.
"""

from __future__ import annotations

import re

import documents
from documents.structure import _LABEL_CUES_RE, _label, _numbered, _signature_kind, clean_line, is_capitals

__all__ = ["CLIENT_SPLIT_MARGIN", "TELEGRAM_LIMIT", "continues", "ends_report", "starts_report", "utf16_len"]

TELEGRAM_LIMIT = 4096  # UTF-16 units in one message (after entity parsing)
CLIENT_SPLIT_MARGIN = 200  # a client cuts at the last space or line break before the limit: within this
_HEAD_LINES = 12  # lines of the new message read for a title
_HEADER_LINES = 8  # ... and for a header block, which always has a number, a date or the national line:
_HEADER_HINT = re.compile(r"(?i)cộng hòa|cộng hoà|đảng cộng sản|\bsố\b|ngày|tháng|\d\s*[-/]\s*[A-ZĐ]")
_TAIL_LINES = 6  # lines of the previous message read for a closing
_HEAD_CHARS = 3_000  # (only these ends of a message are looked at: a 500,000-character paste costs
_TAIL_CHARS = 1_500  # the event loop no more than a short one)
_SENTENCE_ENDS = tuple('.!?…;"”»')
_GOES_ON = tuple(",.;:!?)]}%»”’…")  # what a cut sentence may go on with
_DOC_TYPE_RE = re.compile(r"^(BÁO CÁO|THÔNG BÁO|NGHỊ QUYẾT|KẾT LUẬN|TỜ TRÌNH|BIÊN BẢN|KẾ HOẠCH|CHƯƠNG TRÌNH|"
                          r"QUYẾT ĐỊNH|CÔNG VĂN|TÓM TẮT|THÔNG CÁO|ĐỀ ÁN)\b")
_ISSUER_RE = re.compile(r"^(ĐẢNG BỘ|ĐẢNG ỦY|HUYỆN ỦY|TỈNH ỦY|THÀNH ỦY|THỊ ỦY|QUẬN ỦY|UBND|ỦY BAN NHÂN DÂN|HĐND|"
                        r"HỘI ĐỒNG NHÂN DÂN|BAN CHẤP HÀNH|BAN THƯỜNG VỤ|ĐẢNG CỘNG SẢN|CỘNG HÒA|MẶT TRẬN)\b")
# words a news headline or a report's first line names its meeting or document with
_HEADLINE_RE = re.compile(r"\b(hội nghị|sơ kết|tổng kết|kỳ họp|phiên họp|giao ban|báo cáo|đại hội|thông báo|"
                          r"kết luận|nghị quyết|triển khai nhiệm vụ|tọa đàm|hội thảo)\b", re.IGNORECASE)
# the first words of a news lead: "QĐND - Ngày 28-5, …", "(HNM) - Sáng 29-5, …", "Chiều 9/10/2023, …"
_LEAD_RE = re.compile(r"^(?:\(?[A-ZĐ][\w.]{1,15}\)?\s*[-–—]\s*)?(?:Ngày|Sáng|Chiều|Tối|Trưa)(?:\s+(?:ngày|nay|qua))?"
                      r"\s+\d{1,2}\s*[/-]\s*\d{1,2}\b")
# how the heading of a part of a report starts ("Về kinh tế", "Công tác xây dựng Đảng", "Lĩnh vực y tế")
_SECTION_RE = re.compile(r"^(về|đối với|trên lĩnh vực|lĩnh vực|công tác|phần|mục|chương)\b", re.IGNORECASE)
_NOI_NHAN_RE = re.compile(r"^nơi\s+nhận\b", re.IGNORECASE)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (an emoji outside the BMP is two units)."""
    return len(text.encode("utf-16-le")) // 2


def _lines(text: str) -> list[str]:
    return [line for line in (clean_line(x) for x in text.split("\n")) if line]


def _place_prefix(line: str) -> bool:
    """A headline led by a place: "Lạng Giang: Phấn đấu …" (one to four capitalised words, a colon)."""
    head, colon, rest = line.partition(":")
    words = head.split()
    return bool(colon and rest.strip()) and 1 <= len(words) <= 4 and all(w[:1].isupper() for w in words)


def _title(line: str, below: str | None) -> bool:
    """A title line of a news article or report: short, capitalised, no sentence end, and either
    naming a meeting or document ("Place: …" too) or standing over a paragraph. A section heading
    is none: it is numbered, a label, or names a part of a report ("Kết quả…", "Về kinh tế")."""
    words = len(line.split())
    body = re.sub(r"^\([^)]{1,30}\)\s*", "", line)  # "(TTV) Hội nghị …": the outlet's tag first
    if below is None or not 3 <= words <= 35 or line.endswith((".", ":", ";", ",")):
        return False
    if not (body[:1].isupper() or (body[:1].isdigit() and _LEAD_RE.match(below))):
        return False
    if _numbered(body) is not None or _label(body) is not None or _LABEL_CUES_RE.match(body) \
            or _SECTION_RE.match(body):
        return False
    if _HEADLINE_RE.search(body) or _place_prefix(body) or _LEAD_RE.match(below):
        return True
    return words <= 25 and len(below.split()) >= 20


def starts_report(text: str) -> bool:
    """The message opens a report of its own: a header block, a document title or a headline first
    (or second, under one short line such as a web page's "A- A A+")."""
    lines = _lines(text[:_HEAD_CHARS])[:_HEAD_LINES]
    if not lines:
        return False
    if _HEADER_HINT.search("\n".join(lines[:_HEADER_LINES])) and \
            documents.read_text("\n".join(lines[:_HEADER_LINES])).header is not None:
        return True
    first = lines[0]
    if first.upper() == first and (_DOC_TYPE_RE.match(first) or _ISSUER_RE.match(first)):
        return True
    short = len(first.split()) <= 10 and not first.endswith(_SENTENCE_ENDS)
    return any(_title(line, lines[i + 1] if i + 1 < len(lines) else None)
               for i, line in enumerate(lines[: 2 if short else 1]))


def ends_report(text: str) -> bool:
    """The message closes a report: "Nơi nhận", a signature block, or a name alone on the last
    line, as news articles end ("THANH MAI - THANH CƯƠNG", "Tin, ảnh: Quốc Phương")."""
    lines = _lines(text[-_TAIL_CHARS:])[-_TAIL_LINES:]
    if not lines:
        return False
    if any(_NOI_NHAN_RE.match(line) for line in lines):
        return True
    if any(_signature_kind(line) in ("role", "signed") for line in lines[-3:]):
        return True
    last = lines[-1]
    return _signature_kind(last) == "name" or _signature_kind(last.replace(" - ", " ")) == "name" \
        or bool(re.match(r"^(Tin|Ảnh|Tin, ảnh|Tin và ảnh|Bài, ảnh|Nguồn)\s*:", last))


def _ends_open(last_line: str) -> bool:
    """A last line that cannot end a report: a heading or a label, which announce what follows."""
    if last_line.endswith(":"):
        return True
    short = len(last_line.split()) <= 10 and not last_line.endswith(_SENTENCE_ENDS)
    return short and (_numbered(last_line) is not None or is_capitals(last_line))


def continues(before: str, after: str) -> bool:
    """Whether message `after` goes on with message `before` (see the module docstring). The cheap
    tests of the joint come first: most messages are told apart without reading their head."""
    tail, head = before.rstrip(), after.lstrip()
    if not tail or not head:
        return False
    split = len(before) <= TELEGRAM_LIMIT and utf16_len(before) >= TELEGRAM_LIMIT - CLIENT_SPLIT_MARGIN
    if not split and not _ends_open(_lines(tail[-_TAIL_CHARS:])[-1]):  # cut by the client, wherever the cut fell
        if tail.rstrip(")]’'").endswith(_SENTENCE_ENDS):  # "… số 12.)" ends its sentence too
            return False
        if not (head[0].islower() or head[0].isdigit() or head.startswith(_GOES_ON)):
            return False
    return not ends_report(tail) and not starts_report(head)
