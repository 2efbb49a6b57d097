"""OCR confusions of diacritics fixed where the Vietnamese reading is certain, so names and periods
read from a scan match the paper ("tỉnh Bình Phước", "Nghị quyết T.Ư 5")."""

from __future__ import annotations

import pytest

from documents.ocr import fix_text
from summariser import summarise


@pytest.mark.parametrize(
    ("read", "fixed"),
    [
        ("Phuớc", "Phước"), ("PHUỚC", "PHƯỚC"), ("nguời", "người"), ("Truờng", "Trường"), ("TRUỜNG", "TRƯỜNG"),
        ("duợc", "dược"), ("phuơng", "phương"), ("huởng", "hưởng"), ("Huớng,", "Hướng,"),
        ("T.U", "T.Ư"), ("T.U5", "T.Ư5"), ("T.U,", "T.Ư,"),
    ],
)
def test_a_lost_horn_is_restored_where_the_reading_is_certain(read: str, fixed: str) -> None:
    assert fix_text(read) == fixed


@pytest.mark.parametrize("word", ["thuở", "huơ", "quơ", "quờ", "uống", "buôn", "TU", "T.UB", "NQ/TU", "8.458.73O"])
def test_real_words_and_other_readings_are_left_alone(word: str) -> None:
    assert fix_text(word) == word  # "uơ" without a final, after "q", and "TU" (Tỉnh ủy) are real


def test_a_scanned_period_and_unit_read_as_written() -> None:
    read = ("Thành ủy Hà Nội tổ chức hội nghị tổng kết 15 năm thực hiện Nghị quyết T.U 5 (khóa VIII). "
            "Hội nghị có sự tham dự của lãnh đạo Thành ủy.")
    words = read.split()  # Tesseract's words, each fixed on its own as documents.ocr does
    s = summarise("Tổng kết Nghị quyết\n" + " ".join(fix_text(w) for w in words))
    assert s.period is not None and "Nghị quyết T.Ư 5" in s.period
