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


# The fast paths below must give what the plain patterns give, for any text: compared on generated
# strings made of the pieces the patterns look for.
_PIECES = (
    "A-A A+", "A - A A +", "A+", "A", "+", "|", "Tăng tương phản", "Giảm tương phản", "tương phản", "Cỡ chữ",
    "Kích thước chữ", "Font chữ", "chữ", "Ý kiến bạn đọc", "Bình luận", "(", ")", "(0)", "(12)", ":", ": ",
    "Đang online", "Đang truy cập", "Hôm nay", "Hôm qua", "Trong tuần", "Tuần này", "Trong tháng", "Tháng này",
    "Tất cả", "Tổng lượt truy cập", "Tổng số lượt truy cập", "Lượt truy cập", "Lượt xem", "Số lượt xem",
    "Tổng truy cập", "Thống kê truy cập", "truy cậ", "ơ", "ữ", "ậ", " ", "  ", "\n", "\t", "\u00a0", "12", "3.456",
    "1,5", ".", ";", "/", " / ", " > ", "»", "›", "Ảnh", "ảnh", "Nguồn", "Thứ hai", "Chủ nhật", "Ngày đăng",
    "Cập nhật", "Đăng lúc", "ngày", "20/10/2023", "08:30", "Tin liên quan", "Tags", "Đồng chí", "dự", "đạt",
    "tăng", "đề nghị", "nhiệm vụ", "huyện", "Hội nghị", "hoà", "uỷ", "quý", "khoẻ", "Uỷ", "HOÀ", "oà,", ",",
    "đơn vị,tiếp", "tốt.Đẩy", "!", "?", "…", "\u200b", "\r\n", "\u2003", "\x85", "\u0301", "a\u0300",
    "THANH MAI - THANH CƯƠNG", "Tin, ảnh: ", "”", "’)", ". ", "… ",
)


def _generated(count: int, seed: int, longest: int = 14) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def test_inline_widgets_fast_path_equals_the_whole_pattern() -> None:
    from summariser import boilerplate as b

    for text in _generated(6000, 1):
        assert b._strip_inline(text) == b._INLINE.sub("\n", text), text


def test_line_gates_equal_the_patterns() -> None:
    import re
    import sys

    from summariser import boilerplate as b

    # The characters _PUBLISHED can start with, besides \s and \d, over all of Unicode.
    first = re.compile(r"[:TCNĐLS]", re.IGNORECASE)
    assert {chr(c) for c in range(sys.maxunicode + 1) if first.match(chr(c))} == b._PUBLISHED_FIRST
    for line in _generated(6000, 2, longest=8):
        if not line:
            continue
        c = line[0]
        if not (c in b._PUBLISHED_FIRST or c.isdecimal() or c.isspace()):
            assert not b._PUBLISHED.match(line), line
        if len(line) > b._TAIL_MAX:
            assert not b._TAIL_START.match(line), line
        if "." in line or ";" in line or not any(s in line for s in "/>»›"):
            assert not b._BREADCRUMB.match(line), line
        if "(" not in line and "|" not in line:
            assert bool(b._PHOTO.search(line)) == bool(b._PHOTO.match(line)), line
        if ":" not in line and ";" not in line and not any(w in line for w in b._CONTENT_WORDS):
            assert not b._CAPTION_CONTENT.search(line), line
    for word in b._TAIL_WORDS:  # the longest line that can match
        assert b._TAIL_START.match(word.rstrip("?") + " " + "x" * 39)


def _normalise_with_every_pass(text: str) -> str:
    """normalise() as written before its shortcuts: every pass on every text."""
    from summariser import normalise as n

    text = unicodedata.normalize("NFC", text)
    text = n._INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = n._CONTROL.sub(" ", text)
    for pattern in n._TONE_RES:
        text = pattern.sub(n._fix_tone, text)
    text = n._ODD_SPACE.sub(" ", text)
    text = n._SPACE_RUN.sub(" ", text)
    for glued in n._GLUED_MARKS:
        text = glued.sub(n._space_after_comma, text)
    for stop in n._GLUED_STOPS:
        text = stop.sub(n._space_after_stop, text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def test_normalise_shortcuts_equal_every_pass() -> None:
    for text in _generated(6000, 3):
        assert normalise(text) == _normalise_with_every_pass(text), text


def test_last_sentence_end_found_from_the_last_mark_equals_the_search() -> None:
    from summariser import boilerplate as b

    def by_search(line: str) -> str:  # _without_trailing_credit as written with `.search`
        m = b._LAST_SENTENCE_END.search(line) if len(line) > 120 else None
        if m is None:
            return line
        tail = line[m.end():]
        words = b._words(tail)
        credit = b._CREDIT.match(tail) or (
            0 < len(words) <= 8 and b._is_upper_line(tail) and not any(ch.isdigit() for ch in tail))
        return line[: m.start() + 1].rstrip() if credit else line

    lead = "Huyện tiếp tục chỉ đạo các xã hoàn thành kế hoạch năm 2024 theo đúng tiến độ đề ra. " * 2
    changed = 0
    for tail in _generated(4000, 4, longest=10):
        for line in (lead + tail, tail * 12):
            assert b._without_trailing_credit(line) == by_search(line), line
            changed += by_search(line) != line
    assert changed > 20  # (credits were cut: the comparison covered both outcomes)
