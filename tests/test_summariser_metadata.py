"""Metadata: unit (never guessed), body, meeting, date with the year inferred, period."""

from datetime import date

import pytest

from summariser import summarise


def _meta(text: str):
    s = summarise(text)
    return s.unit, s.body, s.meeting, s.date, s.period


def test_year_inferred_from_the_period_named():
    s = summarise("Sáng 9/10, Ban Thường vụ Huyện ủy tổ chức hội nghị đánh giá kết quả 9 tháng, triển khai nhiệm vụ "
                  "3 tháng cuối năm 2019. Thu ngân sách đạt 95% dự toán.")
    assert s.date == date(2019, 10, 9)
    assert s.period == "9 tháng đầu năm 2019"


def test_date_with_year_and_time_of_day():
    s = summarise("Chiều 9/10/2023, Huyện ủy Bình Gia tổ chức Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ mười năm "
                  "khóa XXIII. Hội nghị đánh giá kết quả 9 tháng đầu năm 2023.")
    assert (s.date, s.unit, s.body) == (date(2023, 10, 9), "huyện Bình Gia", "Ban Chấp hành Đảng bộ huyện")
    assert s.meeting == "Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ mười năm, khóa XXIII"


def test_a_data_date_is_not_the_meeting_date():
    s = summarise("Hội nghị Ban Chấp hành Đảng bộ huyện Chi Lăng lần thứ 15\nTheo báo cáo, giá trị sản xuất công "
                  "nghiệp đến ngày 10/11/2023 đạt 2.351 tỷ đồng. Năm 2023 thu ngân sách đạt 121,5% dự toán.")
    assert s.date is None
    assert s.unit == "huyện Chi Lăng"
    assert s.period == "năm 2023"


def test_year_end_review_held_in_january_is_dated_the_next_year():
    s = summarise("Sáng 10/1, Ban Thường vụ Thị ủy Bỉm Sơn tổ chức hội nghị tổng kết công tác năm 2023, triển khai "
                  "nhiệm vụ năm 2024. Năm 2023, thu ngân sách đạt 812 tỷ đồng.")
    assert s.date == date(2024, 1, 10)
    assert s.period == "năm 2023"
    assert (s.unit, s.body) == ("thị xã Bỉm Sơn", "Ban Thường vụ Thị ủy")


@pytest.mark.parametrize(
    ("lead", "period"),
    [
        ("Ngày 18/7, Huyện ủy Lạng Giang tổ chức sơ kết 6 tháng đầu năm và triển khai nhiệm vụ những tháng cuối năm 2024.",
         "6 tháng đầu năm 2024"),
        ("Sáng ngày 31/8, Ban Thường vụ Huyện ủy tổ chức hội nghị đánh giá kết quả tháng 8; triển khai nhiệm vụ tháng 9/2023.",
         "tháng 8/2023"),
        ("Sáng 5/4, Ban Thường vụ Huyện ủy tổ chức hội nghị sơ kết công tác quý I/2024.", "quý I/2024"),
        ("Ngày 20/12/2013, Ban Chấp hành Đảng bộ huyện tổ chức Hội nghị đánh giá nhiệm vụ năm 2013 và phương hướng năm 2014.",
         "năm 2013"),
    ],
)
def test_period_reviewed_not_the_next_one(lead, period):
    assert summarise(lead + " Thu ngân sách đạt 95% dự toán.").period == period


def test_unit_is_null_when_the_text_does_not_name_it():
    s = summarise("Sáng ngày 31/8, Ban Thường vụ Huyện ủy đã tổ chức hội nghị định kỳ (mở rộng). Dự hội nghị có đồng chí "
                  "Nguyễn Văn A, Phó Chủ tịch UBND tỉnh Lạng Sơn. Thu ngân sách tháng 8 đạt 65 tỷ đồng. Ban Thường vụ cho ý "
                  "kiến vào Đề án đặt tên đường phố thị trấn Quán Lào.")
    assert s.unit is None
    assert s.body == "Ban Thường vụ Huyện ủy"
    assert s.meeting == "Hội nghị định kỳ (mở rộng) Ban Thường vụ Huyện ủy"


@pytest.mark.parametrize(
    ("lead", "unit", "body"),
    [
        ("Chiều 28/6, UBND xã Tân Hiệp tổ chức hội nghị sơ kết 6 tháng đầu năm 2022.", "xã Tân Hiệp", "UBND xã"),
        ("Sáng 6/12, HĐND tỉnh Quảng Trị khóa VIII khai mạc Kỳ họp thứ 17.", "tỉnh Quảng Trị", "HĐND tỉnh"),
        ("Ngày 31/3, Đảng ủy xã Phú Lộc tổ chức phiên họp thường kỳ tháng 3/2021.", "xã Phú Lộc", "Đảng ủy xã"),
        ("Ngày 5/1, Thành ủy Hội An tổ chức hội nghị tổng kết năm 2023.", "TP Hội An", "Thành ủy"),
    ],
)
def test_unit_and_body_at_each_level(lead, unit, body):
    s = summarise(lead + " Thu ngân sách đạt 95% dự toán.")
    assert (s.unit, s.body) == (unit, body)


def test_session_meeting_name():
    s = summarise("Sáng 6/12, HĐND tỉnh Quảng Trị khóa VIII, nhiệm kỳ 2021 - 2026 khai mạc Kỳ họp thứ 17. Năm 2023 "
                  "GRDP tăng 6,8%.")
    assert s.meeting == "Kỳ họp thứ 17, khóa VIII"
    assert s.date == date(2023, 12, 6)


def test_all_capitals_title_is_read_for_unit_body_and_period():
    from summariser.metadata import readable_title

    assert readable_title("HỘI NGHỊ BAN CHẤP HÀNH ĐẢNG BỘ HUYỆN GIA LỘC LẦN THỨ 24, KHÓA XXVI") == (
        "Hội nghị Ban Chấp hành Đảng bộ huyện Gia Lộc lần thứ 24, khóa XXVI")
    s = summarise("BÁO CÁO KẾT QUẢ QUÝ I NĂM 2024 CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ\nThu ngân sách quý I đạt 4,6 tỷ đồng, "
                  "bằng 28% dự toán; hoàn thành kiểm điểm tập thể, cá nhân năm 2023.")
    assert (s.unit, s.body, s.period) == ("phường Trần Phú", "Đảng ủy phường", "quý I/2024")
    assert s.title == "BÁO CÁO KẾT QUẢ QUÝ I NĂM 2024 CỦA ĐẢNG ỦY PHƯỜNG TRẦN PHÚ"


# --- The fast paths of metadata.py give the answers of the plain patterns they replace ---------------

import random  # noqa: E402
import re  # noqa: E402

from summariser import metadata  # noqa: E402
from summariser.fastre import ci, fold  # noqa: E402

_SEED = 20261123
# Letters whose case-insensitive matches are not only their upper and lower case.
_TRICKY = ["İ", "ı", "ſ", "K", "Σ", "ẞ", "٣", "x", "_", "\n", "  ", "/", "-", ".", ","]


def _strings(words: list[str], n: int = 3000) -> list[str]:
    rng = random.Random(_SEED)
    seps = ("", " ", " ", ", ", "\n", "/", ".")
    return ["".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randrange(0, 12))) for _ in range(n)]


def _cased(words: list[str]) -> list[str]:
    return [v for w in words for v in (w, w.upper(), w.capitalize(), w.replace("i", "ı").replace("s", "ſ"),
                                        w.replace("i", "İ").replace("k", "K"))]


def _all(pattern: re.Pattern[str], starts: re.Pattern[str], text: str, pos: int = 0) -> list[re.Match[str]]:
    out = []
    m = metadata._next_match(pattern, starts, text, pos)
    while m is not None:
        out.append(m)
        m = metadata._next_match(pattern, starts, text, m.end())
    return out


def _same(a: list[re.Match[str]], b: list[re.Match[str]]) -> bool:
    return [(m.span(), m.groups()) for m in a] == [(m.span(), m.groups()) for m in b]


def test_candidate_starts_find_what_finditer_finds():
    cases = [
        (metadata._DATE, metadata._DATE_START,
         ["Sáng", "sáng", "Chiều", "tối", "Trưa", "đêm", "Đêm", "ngày", "Ngày", "nay", "thứ", "Thứ", "hai", "9", "10",
          "2023", "123", "/", "-", ".", "tháng", "năm", "xSáng", "S", "T", "n", "5 /", "12.", *_TRICKY]),
        (metadata._BODY, metadata._BODY_START,
         [*metadata._BODY_WORDS, "huyện", "xã", "TP.", "Ban Chấp hành", "Đảng bộ", "xHuyện ủy", "Ban", "khối", "BTVx",
          *_TRICKY]),
        (metadata._ORGAN_PLACE, metadata._ORGAN_PLACE_START,
         ["Huyện ủy", "Tỉnh ủy", "Thành ủy", "Đảng bộ", "Đảng ủy", "UBND", "Ủy ban nhân dân", "Ủy ban MTTQ", "Việt Nam",
          "HĐND", "MTTQ", "huyện", "xã", "Gia", "Lộc", "Bình", "12", "TP", "xUBND", *_TRICKY]),
        (metadata._PLACE, metadata._PLACE_START,
         ["huyện", "tỉnh", "thành phố", "TP", "TP.", "Tp", "thị xã", "quận", "xã", "phường", "thị trấn", "Gia", "Lộc",
          "Mỹ", "Thạnh", "3", "12", "xhuyện", "Hội", *_TRICKY]),
    ]
    for pattern, starts, words in cases:
        for text in _strings(words):
            assert _same(_all(pattern, starts, text), list(pattern.finditer(text))), (pattern.pattern[:30], text)
            if len(text) > 3:
                assert _same(_all(pattern, starts, text, 3), list(pattern.finditer(text, 3))), text


_ORDINAL_WORD = r"(?:một|hai|ba|bốn|tư|năm|lăm|sáu|bảy|bẩy|tám|chín|mười|mươi|mốt|nhất)\b"
_MEETING_NO = re.compile(rf"\b(lần thứ|kỳ họp thứ|Kỳ họp thứ|phiên họp thứ)\s+(\d+|{_ORDINAL_WORD}(?:\s{_ORDINAL_WORD}){{0,3}})",
                         re.IGNORECASE)
_TERM = re.compile(r"\bkhóa\s+([IVXLC]{1,7}|\d{1,2})\b", re.IGNORECASE)
_MEETING_KIND = re.compile(
    r"\b((?:[Hh]ội nghị|[Pp]hiên họp|[Cc]uộc họp))\s+((?:định kỳ|thường kỳ|thường lệ|giao ban|chuyên đề|trực tuyến|mở rộng)"
    r"(?:\s\((?:mở rộng)\))?(?:\s(?:mở rộng|định kỳ))?)")
_REVIEW_KIND = re.compile(r"\b(sơ kết|tổng kết)\b", re.IGNORECASE)
_HOI_NGHI = re.compile(r"\bhội nghị\b", re.IGNORECASE)


def test_meeting_patterns_are_the_case_insensitive_ones():
    words = _cased(["lần thứ", "kỳ họp thứ", "phiên họp thứ", "khóa", "XXVI", "iv", "12", "một", "hai", "sáu", "mười",
                    "mươi", "nhất", "sơ kết", "tổng kết", "hội nghị", "phiên họp", "cuộc họp", "định kỳ", "mở rộng",
                    "(mở rộng)", "giao ban", "x"]) + _TRICKY
    pairs = [(_MEETING_NO, metadata._MEETING_NO_FOLDED), (_TERM, metadata._TERM_FOLDED),
             (_REVIEW_KIND, metadata._REVIEW_KIND_FOLDED), (_HOI_NGHI, metadata._HOI_NGHI_FOLDED)]
    for text in _strings(words):
        low = fold(text)
        assert len(low) == len(text)
        for plain, folded in pairs:
            a, b = plain.search(text), folded.search(low)
            assert (a and (a.span(), a.regs)) == (b and (b.span(), b.regs)), (plain.pattern[:20], text)
        a, b = _MEETING_KIND.search(text), metadata._MEETING_KIND_LED.search(text)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), text


def test_held_window_is_the_rest():
    words = ["đã", "long trọng", "tổ chức", "họp", "khai mạc", "tiến hành", "x" * 9, "hội nghị", ".", ";", "xhọp",
             "họpx", "Hội nghị", *_TRICKY]
    for text in _strings(words, 4000):
        rest = text[: metadata._HELD_WINDOW]
        fast = metadata._held_verb(rest) and metadata._HELD.match(rest) is not None
        assert fast == (metadata._HELD.match(text) is not None), text


def test_year_word_scans_are_the_merged_patterns():
    words = ["năm", "Năm", "cả năm", "Cả năm", "xnăm", "lăm", "ăm", "cả", "tháng", "quý", "Quý", "uý", "IV", "3", "/",
             "2023", "-", "–", "giai đoạn", "NĂM", "ả năm", *_TRICKY]
    for text in _strings(words, 4000):
        assert _same(metadata._year_words(text), metadata._merged(metadata._PERIOD_YEAR_WORDS, text)), text
        assert _same(metadata._month_years(text), metadata._merged(metadata._MONTH_YEAR, text)), text


def test_about_meeting_is_the_folded_pattern():
    plain = ci(r"hội nghị|kỳ họp|phiên họp|cuộc họp|\bhọp\b|tổ chức|diễn ra|khai mạc|sơ kết|tổng kết|giao ban|làm việc")
    words = _cased(["hội nghị", "kỳ họp", "họp", "xhọp", "họpx", "tổ chức", "diễn ra", "khai mạc", "sơ kết", "giao ban",
                    "làm việc", "x"]) + _TRICKY
    for text in _strings(words):
        assert metadata._about_meeting(text) == (plain.search(text) is not None), text
