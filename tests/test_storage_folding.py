"""Folding used for search, dedupe and unit/period lookups."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from storage.folding import (
    MAX_QUERY_TOKENS,
    canonical,
    fold,
    fts_match,
    lookup_key,
    query_tokens,
    scope_tag,
    text_sha256,
)


def test_tone_placement_variants_fold_to_one_form() -> None:
    assert canonical("Uỷ ban") == canonical("Ủy ban") == "Ủy ban"
    assert canonical("hoà bình") == canonical("hòa bình") == "hòa bình"
    assert canonical("Hoá") == "Hóa"
    assert canonical("khoẻ mạnh") == "khỏe mạnh"
    assert canonical("tuỳ") == "tùy"


def test_tone_placement_left_alone_where_it_is_fixed() -> None:
    # closed syllables and "qu" words have one spelling only
    assert canonical("hoàng") == "hoàng"
    assert canonical("Huỳnh") == "Huỳnh"
    assert canonical("quý") == "quý"
    assert canonical("Quỷ") == "Quỷ"


def test_fold_maps_d_bar_and_lowercases_without_changing_length() -> None:
    assert fold("Đảng ủy") == "dảng ủy"
    assert fold("ĐOÀN") == "doàn"
    weird = "İstanbul Đà"
    assert len(fold(weird)) == len(weird)
    assert fold(None) is None


def test_fold_normalises_decomposed_text() -> None:
    decomposed = unicodedata.normalize("NFD", "Giải phóng mặt bằng")
    assert fold(decomposed) == fold("Giải phóng mặt bằng") == "giải phóng mặt bằng"


def test_lookup_key_is_accent_case_and_space_insensitive() -> None:
    assert lookup_key("huyện  Gia Lộc") == "huyen gia loc"
    assert lookup_key("Huyện Gia Lộc") == lookup_key("huyen gia loc")
    assert lookup_key("6 tháng đầu năm 2024") == "6 thang dau nam 2024"
    assert lookup_key("   ") is None
    assert lookup_key(None) is None


def test_sha_ignores_whitespace_case_and_tone_placement_but_not_content() -> None:
    a = "Ủy ban nhân dân huyện\n\nbáo cáo  kết quả"
    assert text_sha256(a) == text_sha256("  uỷ ban nhân dân huyện báo cáo kết quả ")
    assert text_sha256(a) != text_sha256(a + " 2024")
    assert re.fullmatch(r"[0-9a-f]{64}", text_sha256(a))


def test_query_tokens_drop_syntax_and_fold() -> None:
    assert query_tokens('"Đảng-ủy" AND (NEAR) * ^x col:y') == ["dảng", "ủy", "and", "near", "x", "col", "y"]
    assert query_tokens('" - * ( ) ^ : _') == []
    assert len(query_tokens("từ " * 100)) == MAX_QUERY_TOKENS


def test_scope_tag_is_one_token_for_negative_ids() -> None:
    assert scope_tag(-1001234) == "sm1001234"
    assert scope_tag(42) == "s42"
    assert scope_tag(-5) != scope_tag(5)


def test_fts_match_quotes_every_token_and_prefixes_the_last() -> None:
    match = fts_match(7, "giai phong mat b")
    assert match is not None
    assert '"s7"' in match
    assert '"giai phong mat b" *' in match
    assert '"giai" AND "phong" AND "mat" AND "b" *' in match
    assert fts_match(7, '" * -') is None


@given(st.text())
def test_fts_match_never_leaks_quotes_or_syntax(query: str) -> None:
    match = fts_match(1, query)
    if match is None:
        return
    # Everything between quotes is letters/digits/spaces: no user character is FTS syntax.
    for quoted in re.findall(r'"([^"]*)"', match):
        assert all(c.isalnum() or c == " " for c in quoted), quoted
    assert match.count('"') % 2 == 0
