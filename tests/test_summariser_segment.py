"""Sentences and clauses as spans of the cleaned text, with or without line breaks."""

from summariser.segment import Piece, paragraphs, sentences, split_at, top_level_marks


def _sentences(text: str) -> list[str]:
    return [s.text for p in paragraphs(text) for s in sentences(p)]


def test_sentences_split_without_line_breaks():
    text = ("Trong quý I, thu ngân sách đạt 96,5 tỷ đồng. Tuy nhiên, tiến độ giải ngân còn chậm… "
            "Về nhiệm vụ quý II, đồng chí Bí thư yêu cầu đẩy mạnh sản xuất.")
    assert _sentences(text) == [
        "Trong quý I, thu ngân sách đạt 96,5 tỷ đồng.",
        "Tuy nhiên, tiến độ giải ngân còn chậm…",
        "Về nhiệm vụ quý II, đồng chí Bí thư yêu cầu đẩy mạnh sản xuất.",
    ]


def test_abbreviations_and_numbers_do_not_end_sentences():
    text = "Thực hiện Nghị quyết T.Ư 4 và chỉ đạo của TP. Hà Nội, thu đạt 1.234,5 tỷ đồng. Kết quả tốt."
    assert _sentences(text) == [
        "Thực hiện Nghị quyết T.Ư 4 và chỉ đạo của TP. Hà Nội, thu đạt 1.234,5 tỷ đồng.",
        "Kết quả tốt.",
    ]


def test_ellipsis_before_lower_case_does_not_end_a_sentence():
    assert len(_sentences("phòng trừ sâu bệnh… và xây dựng phương án sản xuất vụ Đông.")) == 1


def test_spans_index_into_the_text():
    text = "Dòng đầu tiên.\n  Câu một đạt 5%. Câu hai chưa đạt.  \nDòng cuối"
    for p in paragraphs(text):
        assert text[p.start:p.end] == p.text
        for s in sentences(p):
            assert text[s.start:s.end] == s.text


def test_clauses_split_on_semicolons_outside_brackets_and_quotes():
    text = "đạt 77,9% (kế hoạch; điều chỉnh); thực hiện phong trào “A; B”; giữ vững an ninh"
    piece = Piece(10, 10 + len(text), text)
    parts = split_at(piece, top_level_marks(text, ";"))
    assert [p.text for p in parts] == ["đạt 77,9% (kế hoạch; điều chỉnh)", "thực hiện phong trào “A; B”",
                                       "giữ vững an ninh"]
    assert all(p.start >= 10 and p.end - p.start == len(p.text) for p in parts)


def test_time_colons_are_not_list_marks():
    text = "khai mạc lúc 14:30 ngày 5/4, nội dung: A; B"
    assert top_level_marks(text, ":") == [text.index(": ")]
