"""bot.pieces: which consecutive messages are one report (issue 13, "Merging"). The end-to-end
behaviour (joined reports, edited replies, a forwarded burst kept apart) is in test_bot_ingest.py."""

from __future__ import annotations

import pytest

from bot.pieces import TELEGRAM_LIMIT, continues, ends_report, starts_report, utf16_len
from tests.bot_harness import seed_text

BODY = ("Trong 6 tháng đầu năm, tổng giá trị sản xuất trên địa bàn huyện đạt 1.250 tỷ đồng, tăng 8,5% so "
        "với cùng kỳ; thu ngân sách đạt 412,6 tỷ đồng, bằng 62% dự toán; giải ngân vốn đầu tư công đạt 95%. ")


def _long(n: int) -> str:
    """A report body of exactly `n` characters (all in the BMP: as many UTF-16 units), ending a sentence."""
    text = "I. KẾT QUẢ ĐẠT ĐƯỢC\n"
    while utf16_len(text) < n:
        text += BODY + "\n"
    cut = text[:n].rstrip()
    return cut[: cut.rfind(".") + 1] + "." * (n - cut.rfind(".") - 1)


def _cut(text: str, limit: int = TELEGRAM_LIMIT) -> tuple[str, str]:
    """What a desktop client sends: up to the last space before the limit, then the rest."""
    at = text.rfind(" ", 0, limit)
    return text[:at], text[at + 1 :]


def test_a_paste_cut_by_the_client_continues_wherever_the_cut_fell() -> None:
    text = _long(9000)
    first, rest = _cut(text)
    assert continues(first, rest)
    hard_first, hard_rest = text[:TELEGRAM_LIMIT], text[TELEGRAM_LIMIT:]  # mid-word, as some clients cut
    assert continues(hard_first, hard_rest)


def test_a_sentence_going_on_in_lower_case_or_after_a_heading_continues() -> None:
    assert continues("Hội nghị đã đánh giá kết quả thực hiện nhiệm vụ và thống nhất", "các giải pháp trọng tâm.")
    assert continues("Thu ngân sách đạt", "412,6 tỷ đồng, bằng 62% dự toán.")
    assert continues("I. KẾT QUẢ ĐẠT ĐƯỢC", "Thu ngân sách đạt 412,6 tỷ đồng, bằng 62% dự toán.")
    assert continues("Nhiệm vụ trọng tâm 6 tháng cuối năm gồm:", "Tập trung giải ngân vốn đầu tư công.")


def test_a_finished_sentence_followed_by_a_capital_is_not_a_continuation() -> None:
    assert not continues("Thu ngân sách đạt 412,6 tỷ đồng.", "Giải ngân vốn đầu tư công đạt 95%.")
    assert not continues("Cảm ơn anh", "Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 15\n" + BODY * 3)


def test_a_new_report_never_continues_even_after_a_long_message() -> None:
    """The measured burst: different reports of about 4,000 characters each, back to back. Long
    enough to look like a client's cut; each opens with a headline or a header block."""
    first = _long(TELEGRAM_LIMIT - 80)
    assert utf16_len(first) == TELEGRAM_LIMIT - 80 and first.endswith(".")
    headline = "Hội nghị Ban Chấp hành Đảng bộ xã Yết Kiêu sơ kết 6 tháng đầu năm 2024\n" + BODY * 3
    official = "ĐẢNG BỘ HUYỆN GIA LỘC\nĐẢNG ỦY XÃ YẾT KIÊU\nSố 15-BC/ĐU\nGia Lộc, ngày 05 tháng 7 năm 2024\nBÁO CÁO\n" + BODY
    news = "Doanh thu du lịch Xuyên Mộc tăng 27%\nSáng 7/10, Huyện ủy Xuyên Mộc tổ chức hội nghị. " + BODY * 2
    for head in (headline, official, news):
        assert starts_report(head)
        assert not continues(first, head)
    assert continues(first, BODY)  # the same length, going on with the body: joined


def test_a_report_that_closed_is_not_continued() -> None:
    signed = BODY + "\nNơi nhận:\n- Như trên;\n- Lưu VP.\nT/M BAN THƯỜNG VỤ\nBÍ THƯ\nNguyễn Văn An"
    assert ends_report(signed)
    assert not continues(signed, "các xã còn lại thực hiện")
    byline = BODY + "\nTHANH MAI - THANH CƯƠNG"
    assert ends_report(byline)
    assert not continues(byline, "trên địa bàn huyện.")


@pytest.mark.parametrize("i", range(5))
def test_every_seed_report_opens_a_report(i: int) -> None:
    assert starts_report(seed_text(i))


def test_section_headings_do_not_open_a_report() -> None:
    for head in ("II. HẠN CHẾ, TỒN TẠI\n" + BODY, "Kết quả đạt được\n" + BODY * 2, "Về kinh tế\n" + BODY * 2,
                 "tiếp tục thực hiện các giải pháp. " + BODY):
        assert not starts_report(head), head


def test_lengths_are_counted_as_telegram_counts_them() -> None:
    assert utf16_len("📈") == 2 and utf16_len("đạt") == 3
