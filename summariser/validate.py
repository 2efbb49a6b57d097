"""Is this text a Vietnamese meeting report? Polite, bilingual reasons when it is not.

The bot answers a greeting or a photo caption with one of these lines instead of an empty summary;
the CLI exits with code 2. Checks are cheap: character classes and a short vocabulary.
"""

from __future__ import annotations

import re

from summariser.models import Rejection

MIN_CHARS = 150
MIN_WORDS = 25
_VI_MARKED = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_VI_WORDS = re.compile(
    r"\b(?:và|của|các|những|được|đã|đang|sẽ|trong|với|cho|là|có|theo|năm|này|không|một|người|rồi|về|đi|để|khi|"
    r"thì|mà|như|cũng|đến|từ|tại|huyện|tỉnh|xã)\b",
    re.IGNORECASE,
)
# Words of a report on a meeting or a period's work; a greeting or a recipe has almost none.
_REPORT_WORDS = re.compile(
    r"hội nghị|kỳ họp|phiên họp|cuộc họp|báo cáo|kết quả|nhiệm vụ|chỉ tiêu|kế hoạch|triển khai|"
    r"thực hiện|lãnh đạo|chỉ đạo|đảng bộ|đảng ủy|huyện ủy|tỉnh ủy|thành ủy|ban chấp hành|ban thường vụ|"
    r"ubnd|ủy ban nhân dân|hđnd|hội đồng nhân dân|mttq|sơ kết|tổng kết|hạn chế|tồn tại|phấn đấu|"
    r"giải pháp|kinh tế - xã hội|kinh tế – xã hội|ngân sách|tỷ đồng|triệu đồng|\d+(?:,\d+)?%|"
    r"tháng đầu năm|cùng kỳ|dự toán|quốc phòng|an ninh|nông thôn mới|cải cách hành chính",
    re.IGNORECASE,
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
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\n\r\t") or ch == "\ufffd" or 0x7F <= ord(ch) < 0xA0)
    return bad / max(1, len(text))


def check(text: str, cleaned: str) -> Rejection | None:
    if not text or not text.strip():
        return EMPTY
    if "\x00" in text or _garbage_share(text) > 0.01:
        return BINARY
    if not cleaned.strip():
        return EMPTY
    letters = _LETTER.findall(cleaned)
    if len(cleaned) < MIN_CHARS or len(cleaned.split()) < MIN_WORDS:
        return TOO_SHORT
    marked = len(_VI_MARKED.findall(cleaned))
    if marked < 0.08 * max(1, len(letters)) or len(_VI_WORDS.findall(cleaned)) < 5:
        return NOT_VIETNAMESE
    distinct = {m.group(0).lower() for m in _REPORT_WORDS.finditer(cleaned)}
    if len(distinct) < 4:
        return NOT_A_REPORT
    return None
