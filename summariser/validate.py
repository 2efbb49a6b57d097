"""Is this text a Vietnamese meeting report? Polite, bilingual reasons when it is not.

The bot answers a greeting or a photo caption with one of these lines instead of an empty summary;
the CLI exits with code 2. Checks are cheap: character classes and a short vocabulary.
"""

from __future__ import annotations

import re
from typing import Final

from summariser.fastre import fold
from summariser.models import Rejection

MIN_CHARS: Final = 150
MIN_WORDS: Final = 25
# The patterns are lower case and run on the lower-cased text (`fold`): Python's IGNORECASE is several
# times slower on Vietnamese. Counts only go as far as the thresholds need.
_MARKED_CLASS: Final = "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]"
_VI_MARKED: Final = re.compile(f"{_MARKED_CLASS}{_MARKED_CLASS}*")  # (`x+` as `xx*`: led by the class, found faster)
_NOT_LETTER: Final = re.compile(r"[\W\d_][\W\d_]*")
_GARBAGE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_VI_WORDS: Final = re.compile(
    r"\b(?:và|của|các|những|được|đã|đang|sẽ|trong|với|cho|là|có|theo|năm|này|không|một|người|rồi|về|đi|để|khi|"
    r"thì|mà|như|cũng|đến|từ|tại|huyện|tỉnh|xã)\b"
)
# Words of a report on a meeting or a period's work; a greeting or a recipe has almost none.
_REPORT_WORDS: Final = re.compile(
    r"hội nghị|kỳ họp|phiên họp|cuộc họp|báo cáo|kết quả|nhiệm vụ|chỉ tiêu|kế hoạch|triển khai|"
    r"thực hiện|lãnh đạo|chỉ đạo|đảng bộ|đảng ủy|huyện ủy|tỉnh ủy|thành ủy|ban chấp hành|ban thường vụ|"
    r"ubnd|ủy ban nhân dân|hđnd|hội đồng nhân dân|mttq|sơ kết|tổng kết|hạn chế|tồn tại|phấn đấu|"
    r"giải pháp|kinh tế - xã hội|kinh tế – xã hội|ngân sách|tỷ đồng|triệu đồng|\d+(?:,\d+)?%|"
    r"tháng đầu năm|cùng kỳ|dự toán|quốc phòng|an ninh|nông thôn mới|cải cách hành chính"
)

EMPTY = Rejection(code="empty", vi="Văn bản trống, không có nội dung để tóm tắt.",
                  en="The text is empty: nothing to summarise.")
BINARY = Rejection(code="binary", vi="Tệp không phải văn bản (dữ liệu nhị phân hoặc ký tự điều khiển).",
                   en="The file is not text (binary data or control characters).")
TOO_SHORT = Rejection(code="too_short", vi="Văn bản quá ngắn để là một báo cáo hội nghị.",
                      en="The text is too short to be a meeting report.")
NOT_VIETNAMESE = Rejection(code="not_vietnamese", vi="Văn bản không phải tiếng Việt.",
                           en="The text is not in Vietnamese.")
NOT_A_REPORT = Rejection(code="not_a_report", vi="Văn bản không giống một báo cáo hội nghị hay báo cáo công tác.",
                         en="The text does not look like a meeting or work report.")
NOT_UTF8 = Rejection(code="binary", vi="Tệp không phải văn bản UTF-8.", en="The file is not UTF-8 text.")


def _garbage_share(text: str) -> float:
    """Share of control characters (but line breaks and tabs) and replacement characters."""
    return len(_GARBAGE.findall(text)) / max(1, len(text))


def _at_least(pattern: re.Pattern[str], text: str, n: int) -> bool:
    """`pattern` matches `text` at least `n` times (the count stops there)."""
    return any(count >= n for count, _ in enumerate(pattern.finditer(text), 1))


def _distinct_at_least(pattern: re.Pattern[str], text: str, n: int) -> bool:
    """`pattern` matches at least `n` different strings in `text`."""
    seen: set[str] = set()
    for m in pattern.finditer(text):
        seen.add(m.group(0))
        if len(seen) >= n:
            return True
    return False


def check(text: str, cleaned: str) -> Rejection | None:
    if not text or not text.strip():
        return EMPTY
    if "\x00" in text or _garbage_share(text) > 0.01:
        return BINARY
    if not cleaned.strip():
        return EMPTY
    if len(cleaned) < MIN_CHARS or len(cleaned.split(None, MIN_WORDS)) < MIN_WORDS:  # (no need to split it all)
        return TOO_SHORT
    low = fold(cleaned)
    marked = len(low) - len(_VI_MARKED.sub("", low))
    # (a text has no more letters than characters: count them only when the share could fall short)
    few_marks = marked < 0.08 * len(low) and marked < 0.08 * max(1, len(_NOT_LETTER.sub("", low)))
    if few_marks or not _at_least(_VI_WORDS, low, 5):
        return NOT_VIETNAMESE
    if not _distinct_at_least(_REPORT_WORDS, low, 4):
        return NOT_A_REPORT
    return None
