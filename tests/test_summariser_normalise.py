"""Normalisation and boilerplate removal: what the bot stores and every span indexes into."""

import unicodedata

from summariser import clean_text
from summariser.boilerplate import strip_boilerplate
from summariser.normalise import fix_tone_placement, normalise


def test_old_tone_placement_becomes_new_style():
    assert fix_tone_placement("Uỷ ban hoà giải, khoẻ mạnh, thuỷ lợi") == "Ủy ban hòa giải, khỏe mạnh, thủy lợi"
    assert fix_tone_placement("UỶ BAN HOÀ") == "ỦY BAN HÒA"


def test_tone_placement_leaves_correct_syllables_alone():
    for word in ("quý", "quỹ", "hoàn thành", "khuỷu", "ngoài", "huyện", "Huỳnh"):
        assert fix_tone_placement(word) == word


def test_nfd_input_becomes_nfc():
    decomposed = unicodedata.normalize("NFD", "Huyện ủy Bình Gia")
    assert decomposed != "Huyện ủy Bình Gia"
    assert normalise(decomposed) == "Huyện ủy Bình Gia"


def test_whitespace_and_invisible_characters():
    assert normalise("  Hội\u00a0nghị\t\tlần  thứ 24\u200b \r\n\r\n\n Kết luận ") == "Hội nghị lần thứ 24\nKết luận"


def test_glued_punctuation_is_split_but_numbers_are_not():
    out = normalise("các cơ quan, đơn vị,tiếp tục tăng 12,6%;đạt 8.458.730 triệu đồng.Tiếp theo T.Ư 4, TP.HCM")
    assert "đơn vị, tiếp tục" in out
    assert "12,6%; đạt" in out
    assert "8.458.730" in out
    assert "đồng. Tiếp theo" in out
    assert "T.Ư 4" in out and "TP.HCM" in out


def test_widgets_counters_and_menus_are_removed():
    page = (
        "A- A A+ | Tăng tương phản Giảm tương phản\n"
        "Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 15\n"
        "Năm 2023, huyện đạt tăng trưởng 8,5% so với cùng kỳ.\n"
        "Thông tin tuyên truyền\nLiên kết website\nThống kê truy cập\n"
        "Đang online : 0\nHôm nay : 105\nTất cả : 10.029\n"
    )
    out = clean_text(page)
    for junk in ("A+", "tương phản", "Thông tin tuyên truyền", "Liên kết website", "online", "10.029", "105"):
        assert junk not in out
    assert out.splitlines() == ["Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 15",
                                "Năm 2023, huyện đạt tăng trưởng 8,5% so với cùng kỳ."]


def test_inline_widgets_in_crawled_text_do_not_glue_numbers():
    out = clean_text("Thu ngân sách đạt 12 tỷ đồng. Ý kiến bạn đọc (0) Đang online : 7 Tất cả : 120.456")
    assert out.startswith("Thu ngân sách đạt 12 tỷ đồng.")
    assert "120.456" not in out and "(0)" not in out


def test_photo_captions_are_removed():
    text = (
        "Chiều 9/10/2023, Huyện ủy tổ chức hội nghị. Đồng chí Lương Văn A, Bí thư Huyện ủy chủ trì hội nghị.\n"
        "Đồng chí Lương Văn A, Bí thư Huyện ủy chủ trì hội nghị.\n"
        "Các đại biểu tham dự Hội nghị.\n"
        "Quang cảnh hội nghị.\n"
        "Đồng chí Tạ Văn B phát biểu tại hội nghị. |\n"
        "Trong 9 tháng, thu ngân sách đạt 20 tỷ đồng, bằng 107% dự toán."
    )
    lines = strip_boilerplate(normalise(text)).splitlines()
    assert lines == [
        "Chiều 9/10/2023, Huyện ủy tổ chức hội nghị. Đồng chí Lương Văn A, Bí thư Huyện ủy chủ trì hội nghị.",
        "Trong 9 tháng, thu ngân sách đạt 20 tỷ đồng, bằng 107% dự toán.",
    ]


def test_a_content_line_about_a_leader_is_kept():
    line = "Đồng chí Bí thư Huyện ủy yêu cầu các cấp tập trung tháo gỡ khó khăn trong giải phóng mặt bằng."
    assert clean_text("Mở đầu báo cáo tháng 8/2023.\n" + line).splitlines()[-1] == line


def test_bylines_and_credits_at_the_end_are_removed():
    body = "Huyện ủy yêu cầu các cấp tập trung thực hiện tốt nhiệm vụ trọng tâm những tháng cuối năm."
    for tail in ("THANH MAI - THANH CƯƠNG", "Tin, ảnh: Quốc Phương\nÝ kiến bạn đọc (0)",
                 "Đức Nguyên-Hiệp Thương, TTVHTTTTDL", "Minh Thu", "Nguồn: Báo Bắc Giang"):
        assert clean_text(body + "\n" + tail) == body, tail


def test_a_byline_run_into_the_last_paragraph_is_removed():
    """Crawled without line breaks, the credit follows the last sentence on the same line."""
    last = ("Đồng thời, tăng cường củng cố tổ chức cơ sở đảng; chú trọng xây dựng đội ngũ cán bộ nhằm đáp "
            "ứng yêu cầu, nhiệm vụ trong tình hình hiện nay.")
    for credit in ("THANH MAI - THANH CƯƠNG", "Tin, ảnh: Quốc Phương"):
        assert strip_boilerplate(f"Tiêu đề\n{last} {credit}").endswith("tình hình hiện nay.")
    # A last sentence that merely ends in capitals or a short unfinished phrase is left alone.
    for tail in ("Ý KIẾN CỦA 2 ĐẠI BIỂU", "Theo đó, huyện tiếp tục chỉ đạo các xã hoàn thành kế hoạch"):
        assert strip_boilerplate(f"Tiêu đề\n{last} {tail}").endswith(tail)


def test_dateline_before_the_lead_is_removed():
    out = clean_text("Tiêu đề bài viết về hội nghị\nBẮC GIANG – Ngày 18/7, Huyện ủy Lạng Giang tổ chức sơ kết công tác.")
    assert out.splitlines()[1] == "Ngày 18/7, Huyện ủy Lạng Giang tổ chức sơ kết công tác."


def test_related_articles_after_the_report_are_cut():
    out = clean_text("Huyện đạt 100% kế hoạch thu ngân sách năm 2023.\nTin liên quan\nHuyện X đạt 95% kế hoạch")
    assert out == "Huyện đạt 100% kế hoạch thu ngân sách năm 2023."


def test_clean_text_is_deterministic_and_stable():
    text = "A- A A+\nHuyện uỷ  tổ chức hội nghị,đánh giá kết quả.\nTHANH MAI"
    assert clean_text(text) == clean_text(text)
    assert clean_text(clean_text(text)) == clean_text(text)
