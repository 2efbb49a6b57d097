"""Full-text search: Vietnamese folding, hostile input, ranking, snippets, index upkeep."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import NewReport, Repository
from storage.folding import fold, strip_marks
from storage.schema import _fts_row
from summariser.models import Item, Summary

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))

PARTY = (
    "Sáng 12/3, Ban Thường vụ Đảng uỷ xã Tân Lập tổ chức hội nghị sơ kết quý I. "
    "Đồng chí Đặng Văn Hoà, Bí thư Đảng ủy, phát biểu chỉ đạo. Xã hoàn thành 13/18 chỉ tiêu."
)
OTHER = "Đồng chí Đặng Văn Minh dự họp. Huyện ủy giao nhiệm vụ cho các xã về nông thôn mới."


@pytest.fixture
async def repo(db_url: str) -> AsyncIterator[Repository]:
    repository = await Repository.open(db_url)
    for i, path in enumerate(SEEDS):
        await repository.add_report(
            NewReport(scope=1, chat_id=1, text=path.read_text(encoding="utf-8"), title=f"Seed {i}")
        )
    await repository.add_report(NewReport(scope=1, chat_id=1, text=PARTY))
    await repository.add_report(NewReport(scope=1, chat_id=1, text=OTHER))
    yield repository
    await repository.close()


def marked(snippet: str) -> list[str]:
    return re.findall("\x02(.*?)\x03", snippet, flags=re.S)


async def texts_of(repo: Repository, query: str) -> list[str]:
    page = await repo.search(1, query, limit=50)
    out = []
    for hit in page.hits:
        report = await repo.get_report(1, hit.report_id)
        assert report is not None
        out.append(report.text)
    return out


async def test_without_diacritics_finds_text_with_them(repo: Repository) -> None:
    page = await repo.search(1, "giai phong mat bang", limit=50)
    assert page.total >= 1
    for hit in page.hits:
        report = await repo.get_report(1, hit.report_id)
        # the phrase, or its abbreviation (storage.abbreviations)
        assert report is not None and ("giải phóng mặt bằng" in report.text.lower() or "GPMB" in report.text)
        found = {strip_marks(m) for m in marked(hit.snippet)}
        assert found & {"giai phong mat bang", "gpmb"} or found & {"giai", "phong", "mat", "bang"}


async def test_with_and_without_diacritics_agree(repo: Repository) -> None:
    with_marks = await repo.search(1, "giải phóng mặt bằng", limit=50)
    without = await repo.search(1, "GIAI PHONG MAT BANG", limit=50)
    assert [h.report_id for h in with_marks.hits] == [h.report_id for h in without.hits]
    assert with_marks.total == without.total > 0


async def test_last_word_is_a_prefix(repo: Repository) -> None:
    # (not "giai phong mat bang": completed, it is an expansion and finds "GPMB" too)
    full = await repo.search(1, "thu ngan sach", limit=50)
    prefix = await repo.search(1, "thu ngan sa", limit=50)
    assert prefix.total >= full.total > 0
    assert {h.report_id for h in full.hits} <= {h.report_id for h in prefix.hits}


async def test_only_the_last_word_is_a_prefix(repo: Repository) -> None:
    # "Tân Lập" is in PARTY; "Tâ" as a non-last word must be a whole word, so nothing matches
    assert (await repo.search(1, "tan la")).total == 1
    assert (await repo.search(1, "ta lap")).total == 0


async def test_acronym_as_typed_and_expanded(repo: Repository) -> None:
    texts = await texts_of(repo, "GPMB")
    assert any("GPMB" in t for t in texts)
    assert any("GPMB" not in t for t in texts)  # found through "giải phóng mặt bằng"
    assert all("GPMB" in t or "giải phóng mặt bằng" in t.lower() for t in texts)
    assert await texts_of(repo, "gpmb") == texts


async def test_d_bar_folds_both_ways(repo: Repository) -> None:
    for query in ("dang uy", "Đảng ủy", "ĐẢNG UỶ", "Dang Uy"):
        page = await repo.search(1, query, limit=10)
        assert page.hits, query
        # the adjacent phrase ranks first, not "Đặng ... ủy"
        top = await repo.get_report(1, page.hits[0].report_id)
        assert top is not None and top.text == PARTY, query
        assert any(strip_marks(m) == "dang uy" for m in marked(page.hits[0].snippet)), page.hits[0].snippet


async def test_tone_placement_variants_match(repo: Repository) -> None:
    # PARTY writes "Hoà" (new style); a query in the old style finds it and vice versa
    assert PARTY in await texts_of(repo, "Hòa")
    assert PARTY in await texts_of(repo, "hoà")


async def test_snippet_marks_the_match_in_the_original_spelling(repo: Repository) -> None:
    page = await repo.search(1, "tan lap")
    assert page.total == 1
    assert marked(page.hits[0].snippet) == ["Tân Lập"]
    assert "Đảng uỷ" in page.hits[0].snippet  # the report's own spelling, not the folded copy


async def test_decomposed_text_is_found_and_marked(db_url: str) -> None:
    async with await Repository.open(db_url) as repo:
        text = unicodedata.normalize("NFD", "Huyện Gia Lộc đẩy mạnh chuyển đổi số trong năm 2024.")
        await repo.add_report(NewReport(scope=1, chat_id=1, text=text))
        page = await repo.search(1, "chuyển đổi số")
        assert page.total == 1
        assert [strip_marks(m) for m in marked(page.hits[0].snippet)] == ["chuyen doi so"]


HOSTILE = [
    '"',
    '""',
    '"GPMB',
    "giải-phóng",
    "-GPMB",
    "GPMB*",
    "*",
    "^GPMB",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "GPMB AND",
    "OR GPMB",
    "NOT GPMB",
    "NEAR(GPMB mặt, 3)",
    "(GPMB",
    "GPMB)",
    "()",
    "title:GPMB",
    "body : GPMB",
    "{title body}: x",
    "scope_tag:s1",
    "s1",
    "s2 OR GPMB",
    "GPMB'; DROP TABLE reports; --",
    "%_\\",
    "",
    "   ",
    "...,;!?",
    "\x00\x02\x03",
    "🙂 GPMB",
    "a" * 5000,
    "từ " * 300,
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_input_never_raises(repo: Repository, query: str) -> None:
    page = await repo.search(1, query)
    assert page.total >= len(page.hits) >= 0


async def test_hostile_input_is_searched_as_words(repo: Repository) -> None:
    gpmb = (await repo.search(1, "GPMB")).total
    assert gpmb > 0
    for query in ('"GPMB', "GPMB*", "-GPMB", "^GPMB", "(GPMB", "GPMB)", "🙂 GPMB"):
        assert (await repo.search(1, query)).total == gpmb, query
    # operators are plain words here, and no report contains them
    for query in ("GPMB AND", "OR GPMB", "NOT GPMB", "title:GPMB", "s1", "scope_tag:s1"):
        assert (await repo.search(1, query)).total == 0, query
    # the hyphen joins nothing and excludes nothing
    assert (await repo.search(1, "giải-phóng")).total == (await repo.search(1, "giải phóng")).total > 0
    assert (await repo.search(1, "")).total == 0
    assert (await repo.search(1, "...,;!?")).hits == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60))
async def test_arbitrary_text_never_raises(repo: Repository, query: str) -> None:
    page = await repo.search(1, query, limit=3)
    assert len(page.hits) <= 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet='"*-^:(){}+ANDORTNEAR ghpmbđĐ', max_size=30))
async def test_fts_syntax_soup_never_raises(repo: Repository, query: str) -> None:
    await repo.search(1, query)


async def test_title_and_items_outweigh_body(db_url: str) -> None:
    async with await Repository.open(db_url) as repo:
        filler = " ".join(["Hội nghị bàn về công tác phát triển kinh tế xã hội địa phương."] * 3)
        # the body-only report is the newest: newest-first would list it first
        titled, _ = await repo.add_report(
            NewReport(scope=1, chat_id=1, title="Chuyển đổi số", text=f"{filler} Chuyển đổi số. {filler} 2")
        )
        itemised, _ = await repo.add_report(
            NewReport(scope=1, chat_id=1, text=f"{filler} Chuyển đổi số. {filler} 3")
        )
        body, _ = await repo.add_report(
            NewReport(scope=1, chat_id=1, text=f"{filler} Chuyển đổi số. {filler}")
        )
        await repo.save_summary(itemised.id, Summary(tasks=[Item(text="Đẩy mạnh chuyển đổi số")]))
        page = await repo.search(1, "chuyen doi so")
        assert [h.report_id for h in page.hits][-1] == body.id
        assert {h.report_id for h in page.hits[:2]} == {titled.id, itemised.id}
        assert page.hits[0].rank <= page.hits[-1].rank  # bm25: lower is better


async def test_summary_items_are_indexed_and_replaced_on_resummary(db_url: str) -> None:
    async with await Repository.open(db_url) as repo:
        stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text="Hội nghị giao ban tháng 9."))
        assert (await repo.search(1, "nước sạch")).total == 0
        await repo.save_summary(
            stored.id,
            Summary(unit="xã Tân Lập", title="Giao ban", tasks=[Item(text="Cấp nước sạch cho 200 hộ")]),
        )
        page = await repo.search(1, "nuoc sach")
        assert page.total == 1
        assert page.hits[0].title == "Giao ban" and page.hits[0].unit == "xã Tân Lập"
        assert [strip_marks(m) for m in marked(page.hits[0].snippet)] == ["nuoc sach"]
        await repo.save_summary(stored.id, Summary(tasks=[Item(text="Làm đường giao thông nông thôn")]))
        assert (await repo.search(1, "nuoc sach")).total == 0
        assert (await repo.search(1, "giao thong nong thon")).total == 1
        assert await repo.delete_report(1, stored.id)
        assert (await repo.search(1, "giao thong")).total == 0
        assert (await repo.search(1, "giao ban")).total == 0


async def test_pagination_and_total(repo: Repository) -> None:
    everything = await repo.search(1, "huyen", limit=100)
    assert everything.total == len(everything.hits) >= 4
    first = await repo.search(1, "huyen", limit=2)
    second = await repo.search(1, "huyen", limit=2, offset=2)
    assert first.total == second.total == everything.total
    assert [h.report_id for h in first.hits + second.hits] == [h.report_id for h in everything.hits[:4]]
    beyond = await repo.search(1, "huyen", limit=5, offset=1000)
    assert beyond.hits == [] and beyond.total == everything.total


async def test_hit_fields(repo: Repository) -> None:
    page = await repo.search(1, "Gia Lộc")
    hit = page.hits[0]
    report = await repo.get_report(1, hit.report_id)
    assert report is not None
    assert hit.title == report.title and hit.received_at == report.received_at
    assert hit.snippet and "\x02" in hit.snippet and "\x03" in hit.snippet
    assert hit.meeting_name is None  # not summarised yet
    # the meeting the summary names, for the list line (#id · unit · meeting · date)
    await repo.save_summary(hit.report_id, Summary(unit="huyện Gia Lộc", meeting="Hội nghị Ban Chấp hành lần thứ 24"))
    again = next(h for h in (await repo.search(1, "Gia Lộc")).hits if h.report_id == hit.report_id)
    assert again.meeting_name == "Hội nghị Ban Chấp hành lần thứ 24" and again.unit == "huyện Gia Lộc"


async def test_marker_bytes_inside_a_report_are_not_taken_as_marks(db_url: str) -> None:
    async with await Repository.open(db_url) as repo:
        await repo.add_report(NewReport(scope=1, chat_id=1, text="Báo cáo \x02giả\x03 về nông thôn mới"))
        page = await repo.search(1, "nong thon")
        assert marked(page.hits[0].snippet) == ["nông thôn"]


# --- the plan used at scale (storage/search.py), exercised on a small corpus ---------------------


@pytest.fixture
def at_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds of a 100k-report database, scaled down to a dozen reports."""
    import storage.search as plan

    monkeypatch.setattr(plan, "COUNT_CAP", 6)
    monkeypatch.setattr(plan, "RANK_WINDOW", 4)
    monkeypatch.setattr(plan, "SAMPLE_ROWS", 12)
    monkeypatch.setattr(plan, "COMMON_MIN_REPORTS", 1)


async def scaled_corpus(repo: Repository) -> dict[str, int]:
    """Ten reports all saying "hội nghị" (a common word), one of which is about water supply."""
    ids = {}
    for i in range(10):
        text = f"Hội nghị lần thứ {i} của xã Tân Lập bàn về kinh tế. Hội nghị thống nhất cao."
        if i in (2, 7):
            text += " Cấp nước sạch cho bản Khuổi Luông."
        title = "Nước sạch nông thôn" if i == 1 else None
        stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, text=text, title=title))
        ids[f"r{i}"] = stored.id
    other, _ = await repo.add_report(NewReport(scope=2, chat_id=2, text="Hội nghị nước sạch Khuổi Luông"))
    ids["other"] = other.id
    return ids


@pytest.mark.usefixtures("at_scale")
async def test_total_is_capped_and_flagged(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "s.sqlite3") as repo:
        await scaled_corpus(repo)
        page = await repo.search(1, "hoi nghi", limit=3)
        assert page.total == 6 and page.capped
        assert len(page.hits) == 3
        few = await repo.search(1, "khuoi luong")
        assert few.total == 2 and not few.capped


@pytest.mark.usefixtures("at_scale")
async def test_common_words_leave_rare_words_to_rank(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "s.sqlite3") as repo:
        ids = await scaled_corpus(repo)
        # every report says "hội nghị": "nước" alone ranks, and in a title it weighs most, so r1
        # comes first though it is the oldest of the three
        page = await repo.search(1, "hội nghị nước")
        assert page.hits[0].report_id == ids["r1"]
        assert {h.report_id for h in page.hits} == {ids["r1"], ids["r2"], ids["r7"]}
        page = await repo.search(1, "hoi nghi", limit=10)
        # all common: newest first, within the scope, capped
        assert [h.report_id for h in page.hits] == [ids[f"r{i}"] for i in (9, 8, 7, 6, 5, 4)]
        assert ids["other"] not in [h.report_id for h in page.hits]


@pytest.mark.usefixtures("at_scale")
async def test_pages_past_the_rank_window(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "s.sqlite3") as repo:
        ids = await scaled_corpus(repo)
        seen = []
        for offset in range(0, 8, 2):
            seen += [h.report_id for h in (await repo.search(1, "tan lap", limit=2, offset=offset)).hits]
        assert len(seen) == len(set(seen)) == 6  # the capped candidates, each once
        assert set(seen) <= {ids[f"r{i}"] for i in range(10)}


async def test_long_last_word_expands_to_index_terms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.search as plan

    async with await Repository.open(tmp_path / "e.sqlite3") as repo:
        stored, _ = await repo.add_report(
            NewReport(scope=1, chat_id=1, text="Giải phóng mặt bằng dự án; bàn giao mặt bằng sạch; ban hành.")
        )
        await repo.save_summary(stored.id, Summary(tasks=[Item(text="Hỗ trợ bản Khuổi Luông")]))
        items = await plan.query_items(repo._reader, "mat ban")
        assert items[-1] == '("ban" OR "bang")'
        assert (await repo.search(1, "giai phong mat ban")).total == 1
        # a word only in the summary items is expandable too
        assert await plan.query_items(repo._reader, "khuoi luo") == ['"khuoi"', '("luong")']
        assert (await repo.search(1, "khuoi luo")).total == 1
        # too many terms for the prefix: FTS5's own prefix query, same result
        monkeypatch.setattr(plan, "MAX_EXPANSION", 1)
        assert (await plan.query_items(repo._reader, "mat ban"))[-1] == '"ban" *'
        assert (await repo.search(1, "giai phong mat ban")).total == 1
        # no term starts so: nothing found, nothing raised
        assert (await repo.search(1, "giai phong mat banx")).total == 0


async def test_non_latin_last_word_uses_fts_prefix(tmp_path: Path) -> None:
    async with await Repository.open(tmp_path / "c.sqlite3") as repo:
        await repo.add_report(NewReport(scope=1, chat_id=1, text="Đoàn công tác tới Москва và 北京 tháng 5."))
        assert (await repo.search(1, "моск")).total == 1
        assert (await repo.search(1, "doan cong tac москва")).total == 1


def index_instances(path: Path) -> tuple[list[tuple], list[tuple]]:
    """(every term instance of report_fts, those of an index rebuilt from the rows by the SQL
    definition the v2 triggers used): equal when the repository kept the index in step."""
    raw = sqlite3.connect(path)
    try:
        raw.create_function("fold", 1, fold, deterministic=True)
        raw.execute(
            "CREATE VIRTUAL TABLE temp.rebuilt USING fts5(scope_tag, title, body, items, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2')"
        )
        raw.execute(
            "INSERT INTO temp.rebuilt (rowid, scope_tag, title, body, items) "
            f"SELECT {_fts_row('reports')} FROM reports"
        )
        raw.execute("CREATE VIRTUAL TABLE temp.kept_terms USING fts5vocab(main, report_fts, instance)")
        raw.execute("CREATE VIRTUAL TABLE temp.rebuilt_terms USING fts5vocab(temp, rebuilt, instance)")
        query = "SELECT term, doc, col, offset FROM temp.{} ORDER BY 1, 2, 3, 4"
        return raw.execute(query.format("kept_terms")).fetchall(), raw.execute(
            query.format("rebuilt_terms")
        ).fetchall()
    finally:
        raw.close()


async def test_index_stays_equal_to_a_rebuild(tmp_path: Path) -> None:
    """add_reports and save_summaries write the index rows themselves (schema v3): after
    inserts, duplicates, summaries with and without a title, re-summaries (also twice in one
    batch), a failure and a deletion, the index holds exactly what a rebuild would."""
    path = tmp_path / "kept.sqlite3"
    async with await Repository.open(path) as repo:
        added = await repo.add_reports(
            [
                NewReport(scope=1, chat_id=1, title="Đảng ủy xã Tân Lập", text=PARTY),
                NewReport(scope=-5, chat_id=-5, text=OTHER),
                NewReport(scope=1, chat_id=1, text=PARTY.upper()),  # a duplicate
                NewReport(scope=1, chat_id=1, text=SEEDS[0].read_text(encoding="utf-8")),
                NewReport(scope=2, chat_id=2, text="Hội nghị giao ban tháng 9, Đoàn kiểm tra."),
            ]
        )
        (titled, _), (untitled, _), _, (seed, _), (gone, _) = added
        await repo.save_summary(
            untitled.id, Summary(title="Giao ban Huyện ủy", tasks=[Item(text="Nông thôn mới")])
        )
        await repo.save_summaries(
            [
                (titled.id, Summary(title="Bỏ qua", results=[Item(text="Hoàn thành 13/18 chỉ tiêu")])),
                (seed.id, Summary(tasks=[Item(text="Xây cầu Khuổi Luông")])),
                (seed.id, Summary(shortcomings=[Item(text="Cống bản Nà Pàn hỏng")])),
                (gone.id, Summary()),
            ]
        )
        await repo.save_summary(untitled.id, Summary(results=[Item(text="Đặng Văn Minh dự họp")]))
        await repo.mark_failed(titled.id, "boom")
        await repo.save_summary(titled.id, Summary(title="Lần hai", tasks=[Item(text="Chuyển đổi số")]))
        assert await repo.delete_report(2, gone.id)
        more, _ = await repo.add_report(NewReport(scope=2, chat_id=2, text="Báo cáo mới của xã Đông Hòa."))
        assert more.id == gone.id  # the freed id is used again: its old entries must be gone
        assert [h.report_id for h in (await repo.search(1, "na pan")).hits] == [seed.id]
        assert (await repo.search(1, "khuoi luong")).total == 0  # replaced within the batch
        assert (await repo.search(1, "lan hai")).total == 0  # the report's own title wins
        assert (await repo.search(-5, "giao ban")).total == 0  # the summary title was dropped
    kept, rebuilt = index_instances(path)
    assert len(kept) > 1000 and kept == rebuilt
