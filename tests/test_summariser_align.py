"""Alignment of gold items to candidate clauses: the labels the section model learns from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summariser import align, clean_text, learned

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"

REPORT = """Hội nghị sơ kết 6 tháng đầu năm 2024 của huyện Tân Lạc
Sáng 12/7, Huyện ủy Tân Lạc tổ chức hội nghị sơ kết công tác 6 tháng đầu năm 2024.
Sáu tháng đầu năm, tổng giá trị sản xuất ước đạt 1.250 tỷ đồng, tăng 7,4% so với cùng kỳ. Thu ngân sách trên địa bàn đạt 86 tỷ đồng, bằng 52% dự toán.
Tuy nhiên, tiến độ giải phóng mặt bằng một số dự án còn chậm; tỷ lệ giải ngân vốn đầu tư công mới đạt 31% kế hoạch.
Thời gian tới, huyện tập trung đẩy nhanh tiến độ giải phóng mặt bằng, phấn đấu hoàn thành 100% kế hoạch giải ngân vốn đầu tư công."""
GOLD = {
    "results": ["tổng giá trị sản xuất ước đạt 1.250 tỷ đồng, tăng 7,4% so với cùng kỳ",
                "thu ngân sách đạt 86 tỷ đồng, bằng 52% dự toán"],
    "shortcomings": ["tiến độ giải phóng mặt bằng một số dự án còn chậm",
                     "giải ngân vốn đầu tư công mới đạt 31% kế hoạch"],
    "tasks": ["đẩy nhanh tiến độ giải phóng mặt bằng, hoàn thành 100% kế hoạch giải ngân vốn đầu tư công"],
}


def test_tokens_and_cover_follow_the_scorer() -> None:
    # function words and "thực hiện", "tập trung" do not count; numbers stay whole with their %
    assert align.tokens("Đã thực hiện tập trung giải ngân 31,5% vốn") == {"giải": 1, "ngân": 1, "31,5%": 1, "vốn": 1}
    gold = align.tokens("giải ngân vốn đầu tư công đạt 31%")
    assert align.cover(gold, align.tokens("tỷ lệ giải ngân vốn đầu tư công mới đạt 31% kế hoạch")) == 1.0
    assert align.cover(gold, align.tokens("giải ngân vốn")) == pytest.approx(3 / 7)
    assert align.cover(align.tokens("của và các"), gold) == 0.0  # an item of function words holds nothing


def test_synthetic_report_labels() -> None:
    cleaned = clean_text(REPORT)
    cands = learned.candidates(cleaned)
    labels = align.align([c.text for c in cands], GOLD, [c.sentence for c in cands])
    by_text = dict(zip((c.text for c in cands), labels, strict=True))
    assert by_text["Hội nghị sơ kết 6 tháng đầu năm 2024 của huyện Tân Lạc"] == "none"
    assert by_text["Thu ngân sách trên địa bàn đạt 86 tỷ đồng, bằng 52% dự toán"] == "results"
    assert by_text["tiến độ giải phóng mặt bằng một số dự án còn chậm"] == "shortcomings"
    assert by_text["tỷ lệ giải ngân vốn đầu tư công mới đạt 31% kế hoạch"] == "shortcomings"
    assert [lab for lab in labels if lab == "tasks"] == ["tasks"]
    assert labels.count("none") == len(labels) - 5


def test_majority_and_runs() -> None:
    cands = ["đẩy nhanh tiến độ giải phóng mặt bằng dự án đường tỉnh 435",
             "hoàn thành giải ngân vốn đầu tư công năm 2024",
             "bảo vệ bí mật nhà nước trong các cơ quan, đơn vị"]
    gold = {"results": [], "shortcomings": ["tiến độ giải phóng mặt bằng dự án đường tỉnh 435 chậm"],
            "tasks": ["đẩy nhanh giải phóng mặt bằng dự án đường tỉnh 435",
                      "đẩy nhanh tiến độ giải phóng mặt bằng dự án đường tỉnh"]}
    # the first candidate holds one shortcoming and two tasks: the tasks win
    assert align.align(cands, gold) == ["tasks", "none", "none"]
    # an item that no single candidate holds, but two neighbours of one sentence do together
    split = {"results": [], "shortcomings": [],
             "tasks": ["hoàn thành giải ngân vốn đầu tư công năm 2024, bảo vệ bí mật nhà nước trong các cơ quan, đơn vị"]}
    assert align.align(cands, split) == ["none", "none", "none"]
    assert align.align(cands, split, groups=[0, 1, 1]) == ["none", "tasks", "tasks"]
    assert align.align(cands, split, groups=[0, 1, 2]) == ["none", "none", "none"]


def test_a_repeated_sentence_is_labelled_with_others() -> None:
    cands = ["thu ngân sách đạt 86 tỷ đồng", "hội nghị diễn ra sáng nay", "thu ngân sách đạt 86 tỷ đồng"]
    gold = {"results": ["thu ngân sách đạt 86 tỷ đồng"], "shortcomings": [], "tasks": []}
    assert align.align(cands, gold) == ["results", "none", "none"]
    assert align.align(cands, gold, others=True) == ["results", "none", "results"]


def _dev_pairs() -> list[tuple[Path, dict[str, object]]]:
    if not DEV.is_dir():
        pytest.skip(f"dev set not found at {DEV}")
    return [(p, json.loads(p.with_suffix(".gold.json").read_text(encoding="utf-8")))
            for p in sorted(DEV.glob("*.txt")) if p.with_suffix(".gold.json").exists()]


def test_dev_alignment_holds_what_the_oracle_finds() -> None:
    pairs = _dev_pairs()
    assert len(pairs) >= 40
    found = total = 0
    for path, gold in pairs:
        cleaned = clean_text(path.read_text(encoding="utf-8"))
        cands = learned.candidates(cleaned)
        texts = [c.text for c in cands]
        labels = align.align(texts, gold, [c.sentence for c in cands])
        for m in align.matches(texts, gold, [c.sentence for c in cands]):
            total += 1
            g = align.tokens(align.item_text(gold[m.section][m.index]))  # type: ignore[index]
            if m.candidate >= 0:
                found += 1
                # the candidate it is aligned to holds 60% of it, and is labelled with its section unless
                # it holds more items of another section
                assert align.cover(g, align.tokens(texts[m.candidate])) >= align.COVER
                assert labels[m.candidate] in align.SECTIONS
            elif m.run:
                found += 1
                union = sum((align.tokens(texts[j]) for j in m.run), align.tokens(""))
                assert align.cover(g, union) >= align.COVER
                assert len({cands[j].sentence for j in m.run}) == 1
        # every span is a slice of the cleaned text
        for c in cands:
            for p in c.spans:
                assert cleaned[p.start: p.end] == p.text
    # the candidates can hold nearly every gold item: the ceiling of what a labeller can reach
    assert found / total >= 0.93
