"""Property: arbitrary text never raises and never yields a number that is not in the input."""

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from summariser import check_report, clean_text, summarise

NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")  # the scorer's notion of a number
VOCAB = [
    "Hội nghị", "Huyện ủy", "huyện Gia Lộc", "Sáng", "Ngày", "tháng", "năm", "đạt", "tăng", "kế hoạch", "tỷ đồng",
    "triệu đồng", "ha", "%", "Tuy nhiên", "còn chậm", "chưa", "hạn chế", "nhiệm vụ trọng tâm", "thời gian tới",
    "đề nghị", "yêu cầu", "các cấp", "Bên cạnh những kết quả đạt được", "như:", "lũy kế", "hơn", "gần", "trên",
    "quý I", "khóa XXVI", "lần thứ", "Dự hội nghị có", "A- A A+", "Tin, ảnh:", "Đang online : 0", "uỷ", "hoà",
    ";", ":", ",", ".", "…", "\n", " - ", "/", "(", ")", "“", "”",
]
NUMBERS = st.one_of(
    st.integers(0, 10**9).map(str),
    st.integers(0, 10**7).map(lambda n: f"{n:,}".replace(",", ".")),
    st.tuples(st.integers(0, 999), st.integers(0, 99)).map(lambda t: f"{t[0]},{t[1]}"),
    st.tuples(st.integers(1, 31), st.integers(1, 12), st.integers(1990, 2030)).map(lambda t: f"{t[0]}/{t[1]}/{t[2]}"),
    st.tuples(st.integers(0, 50), st.integers(1, 50)).map(lambda t: f"{t[0]}/{t[1]}"),
)
PIECES = st.one_of(st.sampled_from(VOCAB), NUMBERS, st.text(max_size=12))
REPORTISH = st.lists(PIECES, max_size=80).map(" ".join)


def _shown_numbers(s) -> list[str]:
    shown = [i.text for sec in (s.results, s.shortcomings, s.tasks) for i in sec] + [f.text for f in s.figures]
    return NUMBER.findall(unicodedata.normalize("NFC", " ".join(shown)))


def _check(text: str) -> None:
    s = summarise(text)
    source = set(NUMBER.findall(unicodedata.normalize("NFC", text)))
    for number in _shown_numbers(s):
        assert number in source, number
    cleaned = clean_text(text)
    for item in [*s.results, *s.shortcomings, *s.tasks]:
        assert all(0 <= sp.start <= sp.end <= len(cleaned) for sp in item.source)
    check_report(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_never_raises_and_shows_only_its_numbers(text):
    _check(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REPORTISH)
def test_report_like_text_never_raises_and_shows_only_its_numbers(text):
    _check(text)
