"""check_report: polite, bilingual refusals for what is not a Vietnamese meeting report."""

from pathlib import Path

import pytest

from summariser import check_report, clean_text

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_seed_reports_are_accepted(path):
    assert check_report(path.read_text(encoding="utf-8")) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\x00\x01\x02PK\x03\x04" * 20, "binary"),
        ("Chào anh, em gửi báo cáo sau nhé.", "too_short"),
        ("A- A A+ | Tăng tương phản\nĐang online : 3", "empty"),
        ("The district party committee held its meeting on Monday and reviewed the results of the first nine "
         "months, agreeing on the main tasks for the rest of the year, including budget revenue and land "
         "management, and asked all agencies to speed up public investment disbursement.", "not_vietnamese"),
        ("Hôm nay trời đẹp quá, cả nhà mình đi chơi công viên rồi ăn kem, các con rất vui. Buổi chiều chúng tôi về "
         "thăm ông bà ngoại ở quê, ông bà khỏe và hỏi thăm mọi người. Tối về cả nhà cùng xem phim, rồi đi ngủ sớm "
         "để mai dậy sớm đi học và đi làm. Cuối tuần sau cả nhà lại về quê thăm ông bà.", "not_a_report"),
    ],
)
def test_non_reports_are_refused_with_a_reason(text, code):
    rejection = check_report(text)
    assert rejection is not None and rejection.code == code
    assert "\n" not in rejection.vi and "\n" not in rejection.en
    assert rejection.vi != rejection.en


def test_a_short_real_report_is_accepted():
    text = ("Ngày 31/3, Đảng ủy xã Phú Lộc tổ chức phiên họp thường kỳ tháng 3. Trong tháng, xã hoàn thành công tác "
            "tuyển quân năm 2021 với 12 thanh niên lên đường nhập ngũ, đạt 100% chỉ tiêu; kết nạp 3 đảng viên mới.")
    assert check_report(text) is None


def test_check_with_the_cleaning_given_answers_as_without_it() -> None:
    """The bot cleans once and passes the cleaning: same answers, and the raw text still decides binary."""
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    texts += ["Xin chào anh chị, cho em hỏi thủ tục ạ.", "\x01\x02" * 200 + texts[0], "Hello " * 100]
    for text in texts:
        assert check_report(text, cleaned=clean_text(text)) == check_report(text)
    assert check_report("\x01\x02" * 200 + texts[0], cleaned=clean_text(texts[0])).code == "binary"
