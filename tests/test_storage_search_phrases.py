"""Search that finds (issue 12): AND, quoted phrases, phrase-first ranking, abbreviations both
ways, newest first among equals, the matching sentence; hostile input and scopes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import NewReport, Repository, SearchPage
from storage import abbreviations as abbr
from storage import search as plan
from storage.folding import strip_marks
from summariser.models import Item, Summary

DEV = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "dev"


def marked(text: str) -> list[str]:
    return re.findall("\x02(.*?)\x03", text, flags=re.S)


def plain(text: str) -> str:
    return text.replace("\x02", "").replace("\x03", "")


def ids(page: SearchPage) -> list[int]:
    return [h.report_id for h in page.hits]


async def add(repo: Repository, text: str, scope: int = 1, **summary: object) -> int:
    stored, created = await repo.add_report(NewReport(scope=scope, chat_id=scope, text=text))
    assert created
    if summary:
        await repo.save_summary(stored.id, Summary(**summary))  # type: ignore[arg-type]
    return stored.id


@pytest.fixture
async def repo(db_url: str) -> AsyncIterator[Repository]:
    async with await Repository.open(db_url) as repository:
        yield repository


# --- AND, quoted phrases, phrase first ------------------------------------------------------------


@pytest.fixture
async def names(repo: Repository) -> dict[str, int]:
    """A commune whose name folds like common words, from oldest to newest."""
    return {
        "commune": await add(
            repo,
            "Sáng 5/7, Đảng ủy xã Đức Chính tổ chức hội nghị sơ kết 6 tháng đầu năm.",
            unit="xã Đức Chính",
        ),
        "folded": await add(repo, "Tăng cường công tác giáo dục chính trị tư tưởng cho đảng viên."),
        "apart": await add(repo, "Nâng cao đạo đức cách mạng. Củng cố hệ thống chính trị ở cơ sở."),
        "one_word": await add(repo, "Giữ gìn đạo đức, lối sống của cán bộ, đảng viên."),
    }


async def test_every_word_must_match(repo: Repository, names: dict[str, int]) -> None:
    page = await repo.search(1, "Đức Chính", limit=10)
    assert set(ids(page)) == {names["commune"], names["folded"], names["apart"]}
    assert page.total == 3
    assert (await repo.search(1, "đạo đức lối sống chính trị")).total == 0


async def test_quoted_words_match_as_a_phrase(repo: Repository, names: dict[str, int]) -> None:
    for query in ('"Đức Chính"', "“đức chính”", "«duc chinh»", '"Đức Chính'):  # the last: left open
        page = await repo.search(1, query, limit=10)
        # "giáo dục chính trị" holds the same folded phrase; "đạo đức ... chính trị" does not
        assert set(ids(page)) == {names["commune"], names["folded"]}, query
    assert (await repo.search(1, '"chính đức"')).total == 0
    # quoted words are whole words: no prefix on a quoted last word
    assert (await repo.search(1, '"Đức Chín"')).total == 0
    assert (await repo.search(1, "Đức Chín")).total == 3


async def test_a_name_ranks_reports_holding_it_as_a_phrase_first(
    repo: Repository, names: dict[str, int]
) -> None:
    # typed with its diacritics: the commune (named so in its unit), then the folded phrase
    # ("giáo dục chính trị"), then the words apart, though each is newer than the one before
    page = await repo.search(1, "Đức Chính", limit=10)
    assert ids(page) == [names["commune"], names["folded"], names["apart"]]
    page = await repo.search(1, "xã Đức Chính", limit=10)
    assert ids(page) == [names["commune"]]
    # typed without diacritics both phrase reports are equal candidates, the words apart last
    page = await repo.search(1, "duc chinh", limit=10)
    assert set(ids(page)[:2]) == {names["commune"], names["folded"]}
    assert ids(page)[2] == names["apart"]


async def test_phrase_first_beats_a_newer_report_with_the_words_apart(repo: Repository) -> None:
    phrase = await add(repo, "Huyện Lục Ngạn đẩy mạnh trồng vải thiều.")
    apart = await add(repo, "Huyện ủy chỉ đạo: vùng Lục Yên và Ngạn Sơn trồng rừng.")
    assert ids(await repo.search(1, "huyện Lục Ngạn")) == [phrase, apart]
    assert ids(await repo.search(1, "huyen luc ngan")) == [phrase, apart]


async def test_newest_first_among_equals(repo: Repository) -> None:
    first = await add(repo, "Báo cáo số 1 về chuyển đổi số trong cải cách.")
    second = await add(repo, "Báo cáo số 2 về chuyển đổi số trong cải cách.")
    third = await add(repo, "Báo cáo số 3 về chuyển đổi số trong cải cách.")
    for query in ("chuyển đổi", "chuyen doi so", '"chuyển đổi số"', "báo cáo"):
        page = await repo.search(1, query)
        assert ids(page) == [third, second, first], query
        assert len({h.rank for h in page.hits}) == 1  # equal: the order is the age


# --- abbreviations both ways ----------------------------------------------------------------------


@pytest.fixture
async def acronyms(repo: Repository) -> dict[str, int]:
    return {
        "gpmb": await add(repo, "Đẩy nhanh tiến độ GPMB dự án đường tỉnh 295."),
        "gpmb_full": await add(repo, "Hoàn thành giải phóng mặt bằng khu tái định cư."),
        "gpmb_apart": await add(repo, "Giải phóng sức sản xuất; mặt bằng giá cả ổn định."),
        "ubnd": await add(repo, "UBND huyện ban hành kế hoạch phòng chống thiên tai."),
        "ubnd_full": await add(repo, "Uỷ ban nhân dân xã Tân Lập họp phiên thường kỳ."),
        "ktxh": await add(repo, "Tình hình KT-XH tháng 9 tiếp tục ổn định."),
        "ktxh_full": await add(repo, "Phát triển kinh tế - xã hội bền vững, bảo đảm an sinh."),
        "ktxh_joined": await add(repo, "Chỉ tiêu KTXH cơ bản đạt kế hoạch năm."),
        "ttatgt": await add(repo, "Bảo đảm TTATGT trong dịp Tết Nguyên đán."),
    }


async def test_abbreviation_finds_its_expansion_and_back(repo: Repository, acronyms: dict[str, int]) -> None:
    gpmb = {acronyms["gpmb"], acronyms["gpmb_full"]}
    for query in ("GPMB", "gpmb", '"GPMB"', '"giải phóng mặt bằng"', '"giai phong mat bang"'):
        assert set(ids(await repo.search(1, query, limit=10))) == gpmb, query
    # unquoted, the expansion's words may also stand apart (AND), but rank after both forms
    page = await repo.search(1, "giải phóng mặt bằng", limit=10)
    assert set(ids(page)[:2]) == gpmb and ids(page)[2:] == [acronyms["gpmb_apart"]]

    ubnd = {acronyms["ubnd"], acronyms["ubnd_full"]}
    for query in ("UBND", "ủy ban nhân dân", "Uỷ ban nhân dân", "UY BAN NHAN DAN", '"ủy ban nhân dân"'):
        assert set(ids(await repo.search(1, query, limit=10))) == ubnd, query

    ktxh = {acronyms["ktxh"], acronyms["ktxh_full"], acronyms["ktxh_joined"]}
    for query in ("KT-XH", "kt xh", "KTXH", "kinh tế - xã hội", "kinh tế xã hội", '"KT - XH"'):
        assert set(ids(await repo.search(1, query, limit=10))) == ktxh, query


async def test_abbreviation_with_other_words_and_inside_quotes(
    repo: Repository, acronyms: dict[str, int]
) -> None:
    assert ids(await repo.search(1, "UBND huyện")) == [acronyms["ubnd"]]
    assert ids(await repo.search(1, "ủy ban nhân dân xã")) == [acronyms["ubnd_full"]]
    assert ids(await repo.search(1, '"UBND xã"')) == [acronyms["ubnd_full"]]  # written out in full
    assert ids(await repo.search(1, '"UBND huyện"')) == [acronyms["ubnd"]]
    assert (await repo.search(1, '"UBND tỉnh"')).total == 0
    # a longer expansion holding this one: ATGT finds TTATGT ("trật tự an toàn giao thông")
    assert ids(await repo.search(1, "ATGT")) == [acronyms["ttatgt"]]
    assert ids(await repo.search(1, "an toàn giao thông")) == [acronyms["ttatgt"]]
    # a prefix of an abbreviation is still a prefix
    assert set(ids(await repo.search(1, "UBN"))) == {acronyms["ubnd"]}


def test_the_table_covers_the_abbreviations_asked_for() -> None:
    asked = "GPMB UBND HĐND MTTQ KT-XH NTM ATGT CCHC ĐTXD NSNN BCH BTV TNGT ATTP GTVT TN&MT TNMT NN&PTNT"
    asked += " CNH-HĐH XDCB DN HTX KCN CCN BHXH BHYT THPT THCS ANTT QP-AN TTATGT PCCC"
    for spelling in asked.split():
        keys = abbr.terms(spelling)
        found = abbr.find(keys, 0)
        assert found is not None and found[0] == len(keys), spelling
        assert found[1].expansions and all(len(e) >= 2 for e in found[1].expansions), spelling
    tnmt, full = abbr.find(abbr.terms("TN&MT"), 0), abbr.find(abbr.terms("tài nguyên và môi trường"), 0)
    assert tnmt is not None and full is not None and tnmt[1] == full[1]
    assert abbr.find(abbr.terms("giải phóng mặt bằng dự án"), 0)[0] == 4  # type: ignore[index]
    assert abbr.find(abbr.terms("giải phóng"), 0) is None


@given(st.text(max_size=40))
def test_key_text_keeps_positions(text: str) -> None:
    # spans found in the key text are spans of the text: the sentence marks depend on it
    assert len(abbr.key_text(text)) == len(text)


def test_key_text_folds_like_the_index() -> None:
    assert abbr.key_text("Đảng uỷ XÃ Tân Lập, KT-XH") == "dang uy xa tan lap, kt-xh"
    assert abbr.terms("Ủy ban nhân dân") == abbr.terms("uy ban nhan dan") == ("uy", "ban", "nhan", "dan")


# --- the matching sentence ------------------------------------------------------------------------


async def test_hit_shows_the_sentence_holding_the_words(repo: Repository) -> None:
    text = (
        "Hội nghị đánh giá kết quả 9 tháng. Kinh tế tăng trưởng khá. Thu ngân sách đạt 80% dự toán. "
        "Công tác giải phóng mặt bằng dự án cao tốc còn chậm do vướng mắc về đơn giá bồi thường. "
        "Hội nghị thống nhất các nhiệm vụ quý IV."
    )
    await add(repo, text)
    [hit] = (await repo.search(1, "giai phong mat bang")).hits
    assert plain(hit.sentence) == (
        "Công tác giải phóng mặt bằng dự án cao tốc còn chậm do vướng mắc về đơn giá bồi thường."
    )
    assert [strip_marks(m) for m in marked(hit.sentence)] == ["giai phong mat bang"]
    assert marked(hit.snippet) == ["giải phóng mặt bằng"] and plain(hit.snippet).strip("…") in plain(
        hit.sentence
    )
    [hit] = (await repo.search(1, "GPMB")).hits  # found through the expansion: that one is marked
    assert marked(hit.sentence) == ["giải phóng mặt bằng"]


async def test_sentence_with_the_phrase_beats_one_with_the_words_apart(repo: Repository) -> None:
    await add(
        repo,
        "Nâng cao đạo đức, củng cố chính trị. Xã Đức Chính về đích nông thôn mới. Kết thúc hội nghị.",
    )
    [hit] = (await repo.search(1, "Đức Chính")).hits
    assert plain(hit.sentence) == "Xã Đức Chính về đích nông thôn mới."
    assert marked(hit.sentence) == ["Đức Chính"]


async def test_sentence_keeps_the_reports_spelling(repo: Repository) -> None:
    await add(repo, "Uỷ ban nhân dân xã Tân Lập họp. Dự họp có 30 đại biểu.")
    [hit] = (await repo.search(1, "ủy ban nhân dân")).hits
    assert marked(hit.sentence) == ["Uỷ ban nhân dân"]
    nfd = unicodedata.normalize("NFD", "Huyện Gia Lộc đẩy mạnh chuyển đổi số trong năm 2024.")
    await add(repo, nfd)
    [hit] = (await repo.search(1, "chuyển đổi số")).hits
    assert [strip_marks(m) for m in marked(hit.sentence)] == ["chuyen doi so"]


async def test_sentence_from_summary_items_or_title(repo: Repository) -> None:
    await add(
        repo, "Hội nghị giao ban tháng 9.", title="Giao ban", tasks=[Item(text="Cấp nước sạch cho 200 hộ.")]
    )
    [hit] = (await repo.search(1, "nuoc sach")).hits
    assert plain(hit.sentence) == "Cấp nước sạch cho 200 hộ." and marked(hit.sentence) == ["nước sạch"]
    stored, _ = await repo.add_report(NewReport(scope=1, chat_id=1, title="Về Khuổi Luông", text="Báo cáo."))
    [hit] = (await repo.search(1, "khuoi luong")).hits
    assert hit.report_id == stored.id and marked(hit.sentence) == ["Khuổi Luông"]


async def test_long_sentence_is_cut_around_the_match(repo: Repository) -> None:
    filler = ", ".join(f"chỉ tiêu thứ {i} đạt kế hoạch" for i in range(40))
    await add(repo, f"Năm qua {filler}, riêng công tác GPMB còn chậm, {filler}.")
    [hit] = (await repo.search(1, "gpmb")).hits
    assert marked(hit.sentence) == ["GPMB"]
    assert hit.sentence.startswith("…") and hit.sentence.endswith("…")
    assert len(plain(hit.sentence)) <= plan.SENTENCE_CHARS + 2
    words = plain(hit.snippet).strip("…").split()
    assert len(words) <= plan.SNIPPET_WORDS + 1 and "GPMB" in words


async def test_the_cut_keeps_the_phrase_not_a_stray_word(repo: Repository) -> None:
    filler = ", ".join(f"chỉ tiêu thứ {i} đạt kế hoạch" for i in range(30))
    await add(repo, f"Tập trung giải quyết vướng mắc, {filler}, đẩy nhanh giải phóng mặt bằng dự án.")
    await add(repo, "Tập trung giải quyết vướng mắc để đẩy nhanh tiến độ GPMB các dự án.")
    for hit in (await repo.search(1, "giải phóng mặt bằng")).hits:
        # the form found is marked, the expansion's words elsewhere in the sentence are not
        assert marked(hit.sentence) in (["giải phóng mặt bằng"], ["GPMB"]), hit.sentence
        assert marked(hit.snippet) == marked(hit.sentence)


async def test_every_hit_sentence_holds_a_query_word(repo: Repository, names: dict[str, int]) -> None:
    for query in ("Đức Chính", '"Đức Chính"', "chính trị", "đảng viên"):
        page = await repo.search(1, query, limit=10)
        assert page.hits, query
        *whole, last = abbr.terms(query)
        for hit in page.hits:
            found = [k for m in marked(hit.sentence) for k in abbr.terms(m)]
            assert found, (query, hit.sentence)
            assert all(k in whole or k.startswith(last) for k in found), (query, hit.sentence)


# --- hostile input, scopes ------------------------------------------------------------------------


HOSTILE = [
    '"',
    '""',
    '"""',
    '" "',
    "“",
    "«»",
    '"a',
    'a"',
    '"*"',
    "*",
    '"GPMB" OR "UBND"',
    '"a" AND',
    "NEAR",
    'NEAR("đức" "chính", 2)',
    '"NEAR(đức chính)"',
    "title:GPMB",
    '"title:GPMB"',
    '{title body}: "x"',
    'scope_tag:"s1"',
    '"s1"',
    '^"Đức"',
    '"Đức" -"Chính"',
    '"giải-phóng" AND (OR* NEAR',
    '"' + "từ " * 300,
    '"\x00\x02\x03"',
]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_never_raise(repo: Repository, names: dict[str, int], query: str) -> None:
    page = await repo.search(1, query)
    assert page.total >= len(page.hits) >= 0


async def test_syntax_inside_quotes_is_plain_words(repo: Repository, names: dict[str, int]) -> None:
    assert (await repo.search(1, '"title:GPMB"')).total == 0
    assert (await repo.search(1, '"s1"')).total == 0
    assert set(ids(await repo.search(1, '"Đức" -"Chính"'))) == set(ids(await repo.search(1, "đức chính")))
    assert set(ids(await repo.search(1, '^"Đức"'))) == set(ids(await repo.search(1, '"đức"')))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet='"“”«» *-^:(){}+ANDORTNEAR đứcĐChínhGPMBKT-XH&', max_size=40))
async def test_quote_soup_never_raises(repo: Repository, query: str) -> None:
    page = await repo.search(1, query, limit=3)
    assert len(page.hits) <= 3


async def test_scope_isolation(repo: Repository, names: dict[str, int], acronyms: dict[str, int]) -> None:
    mine = set(names.values()) | set(acronyms.values())
    others = set()
    for text in (
        "Đảng ủy xã Đức Chính họp.",
        "Đẩy nhanh GPMB.",
        "Giải phóng mặt bằng xong.",
        "KT-XH ổn định.",
    ):
        others.add(await add(repo, text, scope=2, unit="xã Đức Chính"))
    for query in ("Đức Chính", '"Đức Chính"', "GPMB", "giải phóng mặt bằng", "KT-XH", "xã Đức Chính"):
        page = await repo.search(1, query, limit=20)
        assert set(ids(page)) <= mine, query
        assert page.total == len(page.hits), query
        theirs = await repo.search(2, query, limit=20)
        assert theirs.hits and set(ids(theirs)) <= others, query
    assert (await repo.search(3, "GPMB")).total == 0


# --- the plan's bounds, on a small corpus ---------------------------------------------------------


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A phrase check may walk 3 reports holding the words; totals stop at 4."""
    monkeypatch.setattr(plan, "COUNT_CAP", 4)
    monkeypatch.setattr(plan, "RANK_WINDOW", 4)
    monkeypatch.setattr(plan, "PHRASE_SCAN_DOCS", 3)


async def words_everywhere(repo: Repository, phrase_at: set[int]) -> list[int]:
    """20 reports holding "chính" and "trị"; those numbered in `phrase_at` as "chính trị"."""
    out = []
    for i in range(20):
        text = (
            f"Báo cáo {i}: hệ thống chính trị vững mạnh."
            if i in phrase_at
            else f"Báo cáo {i}: chính quyền xử lý trị an."
        )
        out.append(await add(repo, text))
    return out


@pytest.mark.usefixtures("small_bounds")
async def test_a_bounded_phrase_check_says_so(repo: Repository) -> None:
    reports = await words_everywhere(repo, {2, 18})
    page = await repo.search(1, '"chính trị"')
    if repo.backend == "postgresql":  # the GIN index checks every report: no bound, nothing capped
        assert ids(page) == [reports[18], reports[2]] and not page.capped
        return
    # only the newest reports were checked: the one found there, the total flagged as a lower bound
    assert ids(page) == [reports[18]] and page.capped


@pytest.mark.usefixtures("small_bounds")
async def test_nothing_found_within_the_bound_looks_further(repo: Repository) -> None:
    reports = await words_everywhere(repo, {2, 5})
    page = await repo.search(1, '"chính trị"')
    assert ids(page) == [reports[5], reports[2]] and not page.capped
    assert (await repo.search(1, '"trị chính"')).total == 0


@pytest.mark.usefixtures("small_bounds")
async def test_phrase_first_within_the_bound(repo: Repository) -> None:
    reports = await words_everywhere(repo, {2, 18})
    page = await repo.search(1, "chính trị", limit=3)
    if repo.backend == "postgresql":  # no bound: both phrase hits first, then newest first
        assert set(ids(page)[:2]) == {reports[18], reports[2]} and ids(page)[2] == reports[19]
        assert not page.capped
        return
    assert page.capped and page.hits[0].report_id == reports[18]
    assert ids(page)[1:] == [reports[19], reports[17]]  # then newest first


# --- real reports (../shared/eval/dev) ------------------------------------------------------------


@pytest.fixture
async def dev(tmp_path: Path) -> AsyncIterator[tuple[Repository, dict[int, str]]]:
    if not DEV.is_dir():
        pytest.skip(f"no dev reports at {DEV}")
    async with await Repository.open(tmp_path / "dev.sqlite3") as repo:
        texts = {}
        for path in sorted(DEV.glob("*.txt")):
            stored, _ = await repo.add_report(
                NewReport(scope=1, chat_id=1, text=path.read_text(encoding="utf-8"))
            )
            texts[stored.id] = stored.text
        yield repo, texts


def holds(text: str, spelling: str) -> bool:
    """`spelling` in `text` as words, accents, đ and case aside (folding.strip_marks, not search)."""
    words = r"[\W_]+".join(re.escape(w) for w in re.findall(r"[^\W_]+", strip_marks(spelling)))
    return re.search(rf"(?<![^\W_]){words}(?![^\W_])", strip_marks(text)) is not None


@pytest.mark.parametrize("abbreviation", ["UBND", "HĐND", "GPMB", "NSNN", "KT-XH", "BTV", "TNGT", "MTTQ"])
async def test_dev_reports_abbreviations_both_ways(
    dev: tuple[Repository, dict[int, str]], abbreviation: str
) -> None:
    repo, texts = dev
    [(spellings, expansions)] = [row for row in abbr.TABLE if abbreviation in row[0]]
    # and abbreviations of longer expansions holding this one (UBMTTQ: "ủy ban mặt trận tổ quốc")
    longer = [s for row in abbr.TABLE if any(holds(e, x) for e in row[1] for x in expansions) for s in row[0]]
    forms = (*spellings, *expansions, *longer)
    expected = {i for i, t in texts.items() if any(holds(t, s) for s in forms)}
    assert expected, f"no dev report holds {abbreviation}: the check would prove nothing"
    for query in (abbreviation, expansions[0]):
        page = await repo.search(1, query, limit=50)
        found = set(ids(page))
        if query == abbreviation:
            assert found == expected, query
        else:  # the expansion unquoted: its words apart count too, after the phrase
            assert expected <= found
        for hit in page.hits:
            assert marked(hit.sentence), (query, hit.sentence)


async def test_a_report_merged_into_another_is_not_a_hit(repo: Repository) -> None:
    first = await add(repo, "Hội nghị giao ban phần một: giải phóng mặt bằng dự án cầu Khuổi Luông.")
    second = await add(repo, "Phần hai: Khuổi Luông hoàn thành bàn giao mặt bằng sạch.")
    await repo.merge_reports(first, second, 1, None)
    page = await repo.search(1, "Khuổi Luông", limit=10)
    assert ids(page) == [first]
    assert "Khuổi Luông" in marked(page.hits[0].sentence)
