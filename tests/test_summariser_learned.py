"""The learned section model: candidates, the committed CRF, reproducible training, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summariser import clean_text, learned, train

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev"

AGENDA = """Hội nghị Ban Chấp hành Đảng bộ xã Tân Phú quý 1 năm 2024
Sáng ngày 5/4, Đảng ủy xã Tân Phú tổ chức hội nghị đánh giá kết quả quý 1, phương hướng nhiệm vụ quý 2 năm 2024.
Trong quý 1, tổng giá trị sản xuất của xã ước đạt 125 tỷ đồng, tăng 8,5% so với cùng kỳ. Thu ngân sách trên địa bàn đạt 3,2 tỷ đồng, bằng 35% dự toán. Toàn xã có thêm 45 hộ thoát nghèo, tỷ lệ hộ nghèo giảm còn 2,1%.
Tình hình an ninh chính trị, trật tự an toàn xã hội được giữ vững."""
CAPTION = """Huyện Đông Sơn sơ kết công tác 6 tháng đầu năm
Ngày 10/7, UBND huyện Đông Sơn tổ chức hội nghị sơ kết công tác 6 tháng đầu năm 2024.
Quang cảnh hội nghị. Ảnh: Minh Hà/TTXVN
Sáu tháng đầu năm, giá trị sản xuất nông nghiệp đạt 410 tỷ đồng, tăng 4,2% so với cùng kỳ.
Tuy nhiên, tiến độ giải ngân vốn đầu tư công còn chậm, mới đạt 38% kế hoạch."""
PROCEDURE = """Hội nghị tổng kết công tác năm 2023 của huyện Yên Lạc
Sáng 20/12, Huyện ủy Yên Lạc tổ chức hội nghị tổng kết công tác năm 2023.
Hội nghị do đồng chí Nguyễn Văn An, Bí thư Huyện ủy chủ trì.
Dự hội nghị có các đồng chí lãnh đạo tỉnh, Thường trực Huyện ủy và Bí thư Đảng ủy các xã, thị trấn.
Năm 2023, tổng thu ngân sách trên địa bàn huyện đạt 520 tỷ đồng, vượt 12% dự toán.
Năm 2024, huyện phấn đấu tốc độ tăng trưởng kinh tế đạt 9%."""
UPWARD = """Tỉnh Hòa Bình làm việc với đoàn công tác của Chính phủ
Chiều 15/5, UBND tỉnh Hòa Bình làm việc với đoàn công tác của Chính phủ về tình hình kinh tế - xã hội.
Năm 2023, tốc độ tăng trưởng kinh tế của tỉnh đạt 7,2%, thu ngân sách đạt 5.100 tỷ đồng.
Tại buổi làm việc, tỉnh kiến nghị Trung ương sớm bố trí vốn đầu tư tuyến cao tốc Hòa Bình - Mộc Châu và hỗ trợ kinh phí khắc phục hậu quả thiên tai.
Trưởng đoàn yêu cầu tỉnh tập trung đẩy nhanh tiến độ giải ngân vốn đầu tư công, quyết tâm hoàn thành kế hoạch năm 2024."""


def _labelled(raw: str) -> dict[str, str]:
    """Each candidate's text -> the committed model's label."""
    cleaned = clean_text(raw)
    cands = learned.candidates(cleaned)
    return dict(zip((c.text for c in cands), learned.tag(cleaned, cands, learned.load_model()), strict=True))


def _items(raw: str) -> list[tuple[str, list[tuple[int, int]], str]]:
    return learned.label(clean_text(raw))


def test_committed_model_loads_and_labels() -> None:
    assert learned.MODEL_PATH.is_file()
    assert learned.MODEL_PATH.stat().st_size < 5_000_000
    tagger = learned.load_model()
    assert set(tagger.labels()) == {"results", "shortcomings", "tasks", "none"}
    assert learned.load_model() is tagger  # opened once
    for raw in (AGENDA, CAPTION, PROCEDURE, UPWARD):
        cleaned = clean_text(raw)
        out = learned.label(cleaned)
        assert out, raw[:40]
        starts = [spans[0][0] for _, spans, _ in out]
        assert starts == sorted(starts)  # report order
        for section, spans, text in out:
            assert section in ("results", "shortcomings", "tasks")
            # the text is the slices joined: every number in it is written in the report
            assert text == " ".join(cleaned[s:e] for s, e in spans)


def test_agenda_then_figures_stays_results() -> None:
    # "phương hướng nhiệm vụ quý 2" in the opening must not turn the results after it into tasks
    labels = _labelled(AGENDA)
    figures = [t for t in labels if "tỷ đồng" in t or "hộ thoát nghèo" in t]
    assert len(figures) == 3
    assert all(labels[t] == "results" for t in figures)
    assert not [s for s, _, _ in _items(AGENDA) if s == "tasks"]


def test_photo_caption_gives_no_item() -> None:
    labels = _labelled(CAPTION)
    captions = [t for t in labels if "Ảnh:" in t]
    assert captions and all(labels[t] == "none" for t in captions)
    assert all("Ảnh" not in text for _, _, text in _items(CAPTION))
    sections = {s for s, _, text in _items(CAPTION)}
    assert sections == {"results", "shortcomings"}


def test_procedure_gives_no_item() -> None:
    labels = _labelled(PROCEDURE)
    procedural = [t for t in labels if "chủ trì" in t or t.startswith("Dự hội nghị")]
    assert len(procedural) == 2
    assert all(labels[t] == "none" for t in procedural)
    texts = [text for _, _, text in _items(PROCEDURE)]
    assert not [t for t in texts if "chủ trì" in t or "Dự hội nghị" in t]
    assert [s for s, _, _ in _items(PROCEDURE)] == ["results", "tasks"]


def test_request_upward_is_not_a_task() -> None:
    labels = _labelled(UPWARD)
    upward = [t for t in labels if "kiến nghị Trung ương" in t]
    assert len(upward) == 1 and labels[upward[0]] != "tasks"
    tasks = [text for s, _, text in _items(UPWARD) if s == "tasks"]
    assert len(tasks) == 1 and "đẩy nhanh tiến độ giải ngân" in tasks[0]
    assert "Trưởng đoàn" not in tasks[0]  # the speaker and the addressee are trimmed off a task


def _training_docs() -> list[train.Doc]:
    """Six small synthetic reports in three batches, with gold written here."""
    docs = []
    for i, raw in enumerate((AGENDA, CAPTION, PROCEDURE, UPWARD, AGENDA.replace("Tân Phú", "Hòa An"),
                             UPWARD.replace("Hòa Bình", "Sơn La"))):
        cleaned = clean_text(raw)
        cands = learned.candidates(cleaned)
        gold: dict[str, list[str]] = {"results": [], "shortcomings": [], "tasks": []}
        for c in cands:  # a gold summary from what the text says, written out by cue
            if "đạt" in c.text and "phấn đấu" not in c.text and "còn chậm" not in c.text:
                gold["results"].append(c.text)
            elif "còn chậm" in c.text:
                gold["shortcomings"].append(c.text)
            elif "phấn đấu" in c.text or "yêu cầu" in c.text:
                gold["tasks"].append(c.text)
        docs.append(train.make_doc(f"{'ABC'[i % 3]}-0{i}", raw, gold))
    return docs


def test_training_is_reproducible(tmp_path: Path) -> None:
    docs = _training_docs()
    assert {d.batch for d in docs} == {"A", "B", "C"}
    assert all("results" in d.labels for d in docs)
    first, second, other = tmp_path / "a.crfsuite", tmp_path / "b.crfsuite", tmp_path / "c.crfsuite"
    train.train(docs, first, min_docs=1)
    train.train(docs, second, min_docs=1)
    train.train(docs, other, min_docs=1, c2=0.01)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()  # the bytes do depend on the parameters
    # the model learned from them labels a report it was trained on
    tagger = learned.load_model(first)
    cleaned = clean_text(PROCEDURE)
    cands = learned.candidates(cleaned)
    labels = learned.tag(cleaned, cands, tagger)
    assert labels == docs[2].labels


def test_train_cli_on_a_small_dev_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    for d in _training_docs():
        (dev / f"{d.name}.txt").write_text(d.raw, encoding="utf-8")
        (dev / f"{d.name}.gold.json").write_text(json.dumps(d.gold, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "model.crfsuite"
    assert train.main(["--dev", str(dev), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "grouped cross-validation" in printed and "mean" in printed
    assert [line.split()[0] for line in printed.splitlines() if line.startswith("  ") and "|" in line
            and "mean" not in line] == ["A", "B", "C"]
    assert out.is_file() and out.stat().st_size > 0
    assert train.main(["--dev", str(tmp_path / "missing")]) == 2


def test_cli_prints_the_summary_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.txt"
    path.write_text(UPWARD, encoding="utf-8")
    assert learned.main(["--json", str(path), str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    data = json.loads(lines[0])
    assert {"unit", "date", "period", "figures", "results", "shortcomings", "tasks"} <= data.keys()
    assert [item["text"] for item in data["tasks"]] == [t for s, _, t in _items(UPWARD) if s == "tasks"]
    cleaned = clean_text(UPWARD)
    for item in data["results"] + data["tasks"]:
        assert item["text"] == " ".join(cleaned[s["start"]: s["end"]] for s in item["source"])
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert learned.main(["--json", str(empty)]) == 2


def test_dev_report_labels_with_the_committed_model() -> None:
    if not DEV.is_dir():
        pytest.skip(f"dev set not found at {DEV}")
    raw = (DEV / "B-03.txt").read_text(encoding="utf-8")
    cleaned = clean_text(raw)
    out = learned.label(cleaned)
    assert {s for s, _, _ in out} >= {"results", "tasks"}
    for _, spans, text in out:
        assert text == " ".join(cleaned[s:e] for s, e in spans)
