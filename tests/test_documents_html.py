"""documents.html.read_html: pages written in the test, read offline (trafilatura never fetches)."""

from __future__ import annotations

import pytest

import documents
from documents.errors import ReadError
from documents.html import read_html

SENTENCE = "Tổng giá trị sản xuất của huyện ước đạt 8.458 tỷ đồng, tăng 12,6% so với cùng kỳ năm trước."


def page(body: str, title: str = "Huyện Yên Định sơ kết 9 tháng - Báo Thanh Hóa") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            "<nav><a href='/'>Trang chủ</a> | <a href='/thoi-su'>Thời sự</a> | <a href='/kinh-te'>Kinh tế</a></nav>"
            f"<article>{body}</article>"
            "<footer><p>Bản quyền thuộc Báo Thanh Hóa. Ghi rõ nguồn khi phát hành lại thông tin.</p></footer>"
            "</body></html>")


REPORT_PAGE = page(
    "<h1>Huyện Yên Định sơ kết 9 tháng</h1>"
    "<p>Sáng 5-10, Huyện ủy Yên Định tổ chức hội nghị sơ kết công tác 9 tháng đầu năm 2023 với sự tham dự "
    "của đông đảo đại biểu.</p>"
    f"<h2>Kết quả đạt được</h2><p>{SENTENCE}</p>"
    "<ul><li>Thu ngân sách đạt 500 tỷ đồng, bằng 104% dự toán.</li>"
    "<li>Tỷ lệ hộ nghèo giảm còn 2,1%.<ul><li>Xã Yên Trường giảm 1,2%.</li></ul></li></ul>"
    "<h3>Hạn chế</h3><p>Tiến độ giải phóng mặt bằng một số dự án còn chậm, chưa đáp ứng yêu cầu đề ra.</p>"
    "<ol><li>Đẩy nhanh giải ngân vốn đầu tư công.</li><li>Hoàn thành thu ngân sách năm.</li></ol>"
    "<table><tr><th>Chỉ tiêu</th><th>Kết quả</th></tr><tr><td>Thu ngân sách</td><td>500</td></tr>"
    "<tr><td>Hộ nghèo</td><td>2,1%</td></tr></table>"
    "<h2>II. NHIỆM VỤ QUÝ IV</h2><p>Tập trung hoàn thành các chỉ tiêu kinh tế - xã hội của năm 2023 đã đề ra.</p>")


def test_headings_lists_and_table_keep_their_structure() -> None:
    doc = read_html(REPORT_PAGE, url="https://baothanhhoa.vn/yen-dinh.html")
    assert doc.source == "html" and doc.title == "Huyện Yên Định sơ kết 9 tháng"
    shape = [(b.kind, b.level, b.numbering) for b in doc.blocks]
    assert shape == [("paragraph", 0, None), ("heading", 1, None), ("paragraph", 0, None), ("list_item", 1, "-"),
                     ("list_item", 1, "-"), ("list_item", 2, "+"), ("heading", 2, None), ("paragraph", 0, None),
                     ("list_item", 1, "1."), ("list_item", 1, "2."), ("table", 0, None), ("heading", 1, "II."),
                     ("paragraph", 0, None)]
    texts = [b.text for b in doc.blocks]
    assert texts[1] == "Kết quả đạt được" and texts[5] == "Xã Yên Trường giảm 1,2%."
    assert texts[4] == "Tỷ lệ hộ nghèo giảm còn 2,1%."  # the nested list is not repeated in its parent
    table = doc.blocks[10]
    assert table.rows == [["Chỉ tiêu", "Kết quả"], ["Thu ngân sách", "500"], ["Hộ nghèo", "2,1%"]]
    assert table.header_rows == 1
    assert doc.blocks[11].text == "NHIỆM VỤ QUÝ IV"
    text = doc.text()
    assert "Trang chủ" not in text and "Bản quyền" not in text  # navigation and footer dropped
    assert text.splitlines()[0] == "Huyện Yên Định sơ kết 9 tháng"  # the headline once, as the title


def test_news_page_stays_paragraphs() -> None:
    body = "".join(f"<p>{SENTENCE} Đoạn thứ {i} của bài viết nêu thêm chi tiết về hội nghị.</p>" for i in range(1, 5))
    doc = read_html(page(body, title="Hội nghị sơ kết").encode("utf-8"))
    assert doc.header is None and doc.closing == []
    assert [b.kind for b in doc.blocks] == ["paragraph"] * 4
    assert doc.title == "Hội nghị sơ kết"


def test_bytes_in_a_declared_charset() -> None:
    html = page(f"<p>{SENTENCE}</p><p>{SENTENCE}</p>").replace("charset='utf-8'", "charset='utf-16'")
    doc = read_html(html.encode("utf-16"))
    assert SENTENCE in doc.text()


@pytest.mark.parametrize("data", [b"", b"<html><body><nav><a href='/'>x</a></nav></body></html>",
                                  "<html><body></body></html>"])
def test_a_page_without_main_text_is_a_read_error(data: bytes | str) -> None:
    with pytest.raises(ReadError) as info:
        read_html(data)
    assert info.value.vi == "Không tìm thấy nội dung chính của trang."


def test_read_dispatches_html_by_name_and_by_content() -> None:
    data = REPORT_PAGE.encode()
    assert documents.read(data, "trang.HTM").source == "html"
    assert documents.read(data, "tai-ve").source == "html"
