"""Rendering: escaping, figures in bold, splitting on item boundaries, snippets, the .docx export."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import docx

from bot.export_docx import build_docx
from bot.render import (
    SECTION_MISSING,
    bold_figures,
    esc,
    marked_snippet,
    render_figures,
    render_summary,
    split_html,
    split_plain,
)
from storage.models import StoredReport
from summariser.models import Figure, Item, Summary


class _Balance(HTMLParser):
    """Checks that tags are balanced (what Telegram requires of every message)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def balanced(text: str) -> bool:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    return parser.ok and not parser.stack


def make_report(summary: Summary | None, text: str = "Nội dung báo cáo.", **kw: object) -> StoredReport:
    fields: dict[str, object] = {
        "id": 7,
        "scope": 1,
        "chat_id": 1,
        "user_id": 1,
        "sha256": "x",
        "received_at": datetime(2024, 7, 1, tzinfo=UTC),
        "source_kind": "text",
        "text": text,
        "state": "summarised" if summary else "received",
        "summary": summary,
    }
    fields.update(kw)
    return StoredReport(**fields)  # type: ignore[arg-type]


def test_bold_figures_bolds_exact_substrings_after_escaping() -> None:
    out = bold_figures("Thu ngân sách <đạt> 77,9% dự toán & 13/18 xã; năm 2013", ["77,9%", "13/18", "13"])
    assert out == "Thu ngân sách &lt;đạt&gt; <b>77,9%</b> dự toán &amp; <b>13/18</b> xã; năm 2013"


def test_bold_figures_does_not_bold_inside_longer_numbers() -> None:
    assert bold_figures("đạt 113 và 13", ["13"]) == "đạt 113 và <b>13</b>"


def test_summary_sections_escaped_and_missing_section_stated() -> None:
    summary = Summary(
        unit="huyện <Gia Lộc>",
        meeting="Hội nghị lần thứ 24",
        date=date(2023, 10, 5),
        period="9 tháng năm 2023",
        results=[Item(text="Tổng thu ngân sách đạt 1.234 tỷ đồng <script>alert(1)</script>")],
        tasks=[Item(text="Đẩy nhanh giải phóng mặt bằng & tái định cư")],
        figures=[Figure(text="1.234 tỷ đồng", section="results")],
    )
    [message] = render_summary(make_report(summary))
    assert "<script>" not in message
    assert "&lt;script&gt;" in message
    assert "huyện &lt;Gia Lộc&gt;" in message
    assert "<b>1.234 tỷ đồng</b>" in message
    assert "&amp; tái định cư" in message
    for heading in ("Kết quả nổi bật", "Hạn chế, tồn tại", "Nhiệm vụ thời gian tới"):
        assert f"<b>{heading}</b>" in message
    assert SECTION_MISSING["shortcomings"] in message
    assert "05/10/2023" in message and "#7" in message and "9 tháng năm 2023" in message
    assert balanced(message)


def test_long_summary_split_on_item_boundaries() -> None:
    items = [Item(text=f"Mục số {i}: " + "nội dung dài có số liệu 12,5% " * 20) for i in range(60)]
    summary = Summary(unit="tỉnh Hải Dương", results=items, figures=[Figure(text="12,5%")])
    messages = render_summary(make_report(summary))
    assert len(messages) > 1
    joined = "\n".join(messages)
    for i in range(60):
        # every item whole, in one message
        assert sum(f"Mục số {i}:" in m for m in messages) == 1
    for m in messages:
        assert len(m) <= 4096
        assert balanced(m)
        # a message never starts or ends in the middle of an item
        assert all(line.startswith(("•", "📋", "Đơn vị", "Nguồn", "Mã", "<b>", "")) for line in m.split("\n"))
    assert joined.count("<b>12,5%</b>") == 60 * 20


def test_block_longer_than_limit_is_split_with_tags_balanced() -> None:
    block = "• " + " ".join(f"<b>{i}%</b> chỉ tiêu &amp; kết quả" for i in range(800))
    pieces = split_html([block], 500)
    assert len(pieces) > 5
    for p in pieces:
        assert len(p) <= 500
        assert balanced(p)
        assert not re.search(r"&[a-z]*$", p)  # no entity cut in two
    text = re.sub(r"<[^>]+>", "", "".join(pieces))
    assert text.count("chỉ tiêu") == 800


def test_split_plain_pages_keep_all_text() -> None:
    text = "\n".join(f"Dòng {i} " + "chữ " * (i % 50) for i in range(500))
    pages = split_plain(text, 1000)
    assert all(len(p) <= 1000 for p in pages)
    assert "".join(pages).replace("\n", "") == text.replace("\n", "")


def test_marked_snippet_bold_after_escaping_and_closed() -> None:
    assert marked_snippet("a <x> \x02giải phóng\x03 & \x02mặt") == "a &lt;x&gt; <b>giải phóng</b> &amp; <b>mặt</b>"


def test_render_without_summary_says_so() -> None:
    [message] = render_summary(make_report(None))
    assert "Chưa có bản tóm tắt" in message
    assert esc("<") == "&lt;"


def test_docx_export_has_title_header_and_three_sections() -> None:
    summary = Summary(
        unit="huyện Gia Lộc",
        meeting="Hội nghị Ban Chấp hành lần thứ 24",
        date=date(2023, 10, 5),
        period="9 tháng năm 2023",
        results=[Item(text="Giá trị sản xuất tăng 8,2% so với cùng kỳ"), Item(text="tăng cường thu ngân sách")],
        shortcomings=[Item(text="Giải phóng mặt bằng còn chậm")],
        figures=[Figure(text="8,2%")],
    )
    data = build_docx(make_report(summary))
    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    body = "\n".join(paragraphs)
    assert "BÁO CÁO TÓM TẮT" in body
    assert "I. KẾT QUẢ NỔI BẬT" in body and "II. HẠN CHẾ, TỒN TẠI" in body and "III. NHIỆM VỤ THỜI GIAN TỚI" in body
    assert "Giá trị sản xuất tăng 8,2% so với cùng kỳ" in body
    assert "- Tăng cường thu ngân sách" in body  # items start with a capital, as in the chat
    assert SECTION_MISSING["tasks"] in body
    assert "#7" in body
    header_cells = [c.text for c in document.tables[0].rows[0].cells]
    assert header_cells[0] == "HUYỆN GIA LỘC" and "Ngày 05 tháng 10 năm 2023" in header_cells[1]
    bold_runs = [r.text for p in document.paragraphs for r in p.runs if r.bold]
    assert "8,2%" in bold_runs
    assert document.styles["Normal"].font.name == "Times New Roman"


def test_figures_view_names_kind_and_period_escaped() -> None:
    summary = Summary(figures=[
        Figure(text="81,2%", label="thu ngân sách <huyện>", kind="share", period="6 tháng đầu năm 2024"),
        Figure(text="5%", label="vượt dự toán", kind="target"),
        Figure(text="3 trường hợp"),
    ])
    text = render_figures(make_report(summary))
    assert balanced(text) and "&lt;huyện&gt;" in text
    assert "<b>81,2%</b> <i>(so với kế hoạch, 6 tháng đầu năm 2024)</i>" in text
    assert "<b>5%</b> <i>(mục tiêu)</i>" in text and "<b>3 trường hợp</b>" in text
    assert "không nêu số liệu" in render_figures(make_report(Summary()))


# --- UTF-16 lengths (issue 13 defect 8) and the brief message (issue 12 part 1) ------------------

EMOJI = "📈"


def test_split_html_counts_utf16_units() -> None:
    from summariser.brief import utf16_len

    block = "• <b>" + EMOJI * 1500 + "</b> " + "tăng trưởng " * 200
    for limit in (300, 1000, 4096):
        pieces = split_html([block, "<b>Hạn chế</b>\n• " + EMOJI * 3000], limit)
        assert all(utf16_len(p) <= limit for p in pieces), limit
        assert all(balanced(p) and re.sub(r"<[^>]+>", "", p).strip() for p in pieces)  # no empty "<b></b>"
        text = re.sub(r"<[^>]+>", "", "".join(pieces))
        assert text.count(EMOJI) == 4500 and "\ud83d" not in text  # nothing lost, no half surrogate


def test_split_plain_and_text_pages_count_utf16_units() -> None:
    from bot.buttons import text_pages
    from summariser.brief import utf16_len

    text = "Báo cáo tăng trưởng\n" + EMOJI * 1500 + "\n" + " ".join([f"{EMOJI} tăng <&>"] * 800)
    for limit in (100, 999, 3000):
        pages = split_plain(text, limit)
        assert all(utf16_len(p) <= limit for p in pages), limit
        assert "".join(pages).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    pages = text_pages(text)
    assert len(pages) >= 2 and all(utf16_len(p) <= 3900 for p in pages)  # escaped, still under the limit


def test_summary_page_and_figures_fit_with_emoji_items() -> None:
    from bot.render import summary_page
    from summariser.brief import utf16_len

    summary = Summary(unit=EMOJI * 400, results=[Item(text=EMOJI * 1500 + " tăng")] * 4,
                      figures=[Figure(text="1.234 tỷ đồng", label=EMOJI * 3000)])
    report = make_report(summary, title=EMOJI * 3000)
    first, _, pages = summary_page(report, 0)
    assert pages >= 2 and "Đơn vị:" in first  # the title is capped, not a page of its own
    for n in range(pages):
        page, _, _ = summary_page(report, n)
        assert utf16_len(page) <= 3800 and balanced(page)
    assert utf16_len(render_figures(report)) <= 4096


def test_brief_message_escapes_bolds_and_keeps_warnings_under_the_title() -> None:
    from bot.render import BRIEF_LIMIT, brief_message, plain_len

    summary = Summary(
        unit="huyện <Gia Lộc>", meeting="Hội nghị lần thứ 24", date=date(2023, 10, 5),
        results=[Item(text="tổng thu ngân sách đạt 1.234 tỷ đồng <script>")]
        + [Item(text=f"kết quả {i} " + "đạt khá " * 40) for i in range(9)],
        tasks=[Item(text="đẩy nhanh giải phóng mặt bằng & tái định cư")],
        figures=[Figure(text="1.234 tỷ đồng", section="results")],
        warnings=["Báo cáo không nêu hạn chế, tồn tại."],
    )
    report = make_report(summary, file_name="bc <1>.docx", source_kind="document")
    message = brief_message(report, ["Văn bản được nhận dạng từ ảnh (OCR)."], notice="Bot vừa khởi động lại.")
    assert balanced(message) and "<script>" not in message and "&lt;script&gt;" in message
    lines = message.split("\n")
    assert lines[0] == "Bot vừa khởi động lại." and lines[2].startswith("📋 <b>huyện &lt;Gia Lộc&gt;")
    assert lines[3] == "Mã báo cáo: <code>#7</code> · Nguồn: tệp «bc &lt;1&gt;.docx»"
    assert lines[4].startswith("⚠️") and "OCR" in lines[4] and "không nêu hạn chế" in lines[5]
    assert "• Tổng thu ngân sách đạt <b>1.234 tỷ đồng</b> &lt;script&gt;" in message  # a capital, bold figure
    assert "• Đẩy nhanh giải phóng mặt bằng &amp; tái định cư" in message
    assert "+5 mục khác" in message and "Hạn chế, tồn tại</b>" not in message
    body = "\n".join(x for x in lines[2:] if not x.startswith("⚠️"))
    assert plain_len(body) <= BRIEF_LIMIT
    assert "Chưa có bản tóm tắt" in brief_message(make_report(None))
