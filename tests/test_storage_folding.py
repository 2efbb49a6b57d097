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
    lookup_key,
    query_tokens,
    scope_tag,
    text_sha256,
    token_key,
    vocabulary,
)
from storage.search import match_expression


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


def test_vocabulary_is_what_fts5_indexes() -> None:
    assert vocabulary("Đảng ủy xã Tân Lập đạt 77,9% (GPMB)") == {
        "dang", "uy", "xa", "tan", "lap", "dat", "77", "9", "gpmb"
    }  # fmt: skip
    assert vocabulary(None) == set()


def test_token_key_only_for_latin_words() -> None:
    assert token_key("bằ") == "ba"
    assert token_key("hoà") == token_key("hòa") == "hoa"
    assert token_key("đường") == "duong"
    assert token_key("москва") is None
    assert token_key("ølst") is None


def test_match_expression_quotes_items_and_filters_scope() -> None:
    expression = match_expression(-7, ['"giai"', '"b" *'])
    assert expression == 'scope_tag : "sm7" AND {title body items} : ("giai" AND "b" *)'


@given(st.text())
def test_query_tokens_are_safe_to_quote(query: str) -> None:
    # Quoting is only safe because a token never holds a quote, space or other FTS5 syntax.
    for token in query_tokens(query):
        assert token and all(c.isalnum() for c in token), token
