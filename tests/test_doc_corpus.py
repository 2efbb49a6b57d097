"""bench/doc_corpus.py: the dev reports laid out as .docx / .pdf / scanned documents.

The corpus is only worth scoring if each NAME.txt is exactly the document's text (the scorer checks
every shown number against it), holds every gold item and figure, and the layout rules that keep the
gold true hold (no invented date, unit or period). Dev text is read from ../shared/eval/dev and
written only under tmp_path.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev"
SCORER = ROOT.parent / "shared" / "eval" / "score.py"
# party body without a unit (dated); an organ with no date but a period year; a people's committee
# with a date and no period
NAMES = ["004_f6f2329802a31a9e", "A-06", "B-02"]

if not DEV.is_dir() or not SCORER.exists():
    pytest.skip(f"dev set not found at {DEV} (it lives outside the project)", allow_module_level=True)
if any(not (DEV / f"{n}.gold.json").exists() for n in NAMES):
    pytest.skip(f"dev reports {NAMES} not all in {DEV}", allow_module_level=True)


dc = load_script("doc_corpus", ROOT / "bench" / "doc_corpus.py")
scorer = load_script("eval_score", SCORER)
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm) not installed")


def gold(name: str) -> dict[str, Any]:
    return json.loads((DEV / f"{name}.gold.json").read_text(encoding="utf-8"))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", dc.nfc(text)).strip().casefold()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One build of three reports (one scanned), with the temp dir and the working directory moved
    to empty folders so that a write outside the output folder shows."""
    base = tmp_path_factory.mktemp("corpus")
    out, systmp, cwd = base / "out", base / "systmp", base / "cwd"
    systmp.mkdir()
    cwd.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(systmp))
        mp.setenv("TMPDIR", str(systmp))
        mp.chdir(cwd)
        summary = dc.build(DEV, out, seed=7, scanned=1, names=NAMES)
    yield {"out": out, "summary": summary, "systmp": systmp, "cwd": cwd, "base": base}


def test_every_file_is_written(corpus: dict[str, Any]) -> None:
    out: Path = corpus["out"]
    scanned = corpus["summary"]["scanned"]
    assert corpus["summary"]["documents"] == 3 and len(scanned) == 1 and scanned[0] in NAMES
    for name in NAMES:
        for kind, ext in (("docx", ".docx"), ("pdf", ".pdf")):
            assert (out / kind / f"{name}{ext}").stat().st_size > 1000
            assert (out / kind / f"{name}.gold.json").read_bytes() == (DEV / f"{name}.gold.json").read_bytes()
            assert (out / kind / f"{name}.txt").read_text(encoding="utf-8").strip()
    assert sorted(p.name for p in (out / "scan").iterdir()) == sorted(
        f"{scanned[0]}{s}" for s in (".pdf", ".txt", ".gold.json"))
    assert (out / "scan" / f"{scanned[0]}.txt").read_bytes() == (out / "pdf" / f"{scanned[0]}.txt").read_bytes()


def test_no_dev_text_outside_the_output_folder(corpus: dict[str, Any]) -> None:
    assert list(corpus["systmp"].iterdir()) == []
    assert list(corpus["cwd"].iterdir()) == []
    assert sorted(p.name for p in corpus["base"].iterdir()) == ["cwd", "out", "systmp"]
    assert sorted(p.name for p in corpus["out"].iterdir()) == ["docx", "pdf", "scan"]  # no work folders left


@pytest.mark.parametrize("name", NAMES)
def test_text_holds_every_gold_item_and_figure(corpus: dict[str, Any], name: str) -> None:
    text = squash((corpus["out"] / "docx" / f"{name}.txt").read_text(encoding="utf-8"))
    g = gold(name)
    for section in ("results", "shortcomings", "tasks"):
        for item in g[section]:
            assert squash(item) in text, (section, item)
    for figure in g["figures"]:
        assert squash(figure["text"]) in text, figure


def read_docx(path: Path) -> list[str]:
    """The .docx as a person reads it: body paragraphs and table cells in order; a bordered table's
    rows as 'cell | cell'; a paragraph in a list style with the bullet its numbering shows."""
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = docx.Document(str(path))
    numbering = doc.part.numbering_part.element
    bullets: dict[str, str] = {}
    for num in numbering.findall(qn("w:num")):
        abstract_id = num.find(qn("w:abstractNumId")).get(qn("w:val"))
        abstract = next(a for a in numbering.findall(qn("w:abstractNum"))
                        if a.get(qn("w:abstractNumId")) == abstract_id)
        bullets[num.get(qn("w:numId"))] = abstract.find(qn("w:lvl")).find(qn("w:lvlText")).get(qn("w:val"))
    lines: list[str] = []

    def para(p: Paragraph) -> None:
        if not p.text.strip():
            return
        num_pr = p.style.element.pPr.numPr if p.style is not None and p.style.element.pPr is not None else None
        lines.append(f"{bullets[str(num_pr.numId.val)]} {p.text}" if num_pr is not None else p.text)

    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            para(Paragraph(child, doc))
        elif child.tag == qn("w:tbl"):
            table = Table(child, doc)
            if table.style is not None and table.style.name == "Table Grid":
                lines += [" | ".join(c.text for c in row.cells) for row in table.rows]
            else:
                for row in table.rows:
                    for cell in row.cells:
                        for p in cell.paragraphs:
                            para(p)
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_docx_text_is_the_text_file(corpus: dict[str, Any], name: str) -> None:
    lines = (corpus["out"] / "docx" / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    assert read_docx(corpus["out"] / "docx" / f"{name}.docx") == lines


def pdf_words(path: Path) -> tuple[list[str], list[str]]:
    """The PDF's words in drawing order without its page furniture, and the furniture lines."""
    raw = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    words: list[str] = []
    furniture: list[str] = []
    number = None
    for line in raw.replace("\f", "\n").splitlines():
        line = dc.nfc(line).strip()
        if number is None and line.startswith("Số: "):
            number = line[len("Số: "):]
        if re.fullmatch(r"- \d+ -", line) or (number is not None and line == number):
            furniture.append(line)
            continue
        words += line.split()
    return words, furniture


@needs_poppler
@pytest.mark.parametrize("name", NAMES)
def test_pdf_text_is_the_text_file(corpus: dict[str, Any], name: str) -> None:
    text = (corpus["out"] / "pdf" / f"{name}.txt").read_text(encoding="utf-8")
    expected = [w for w in dc.nfc(text).split() if w != "|"]
    words, furniture = pdf_words(corpus["out"] / "pdf" / f"{name}.pdf")
    assert words == expected
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(corpus["out"] / "pdf" / f"{name}.pdf")], capture_output=True, text=True).stdout).group(1))
    assert pages >= 2  # the paragraphs run onto a second page, so the running header is tested
    page_numbers = [f for f in furniture if f.startswith("- ")]
    assert page_numbers == [f"- {n} -" for n in range(1, pages + 1)]
    assert len(furniture) - len(page_numbers) == pages - 1  # running header on pages 2+


@needs_poppler
def test_scan_is_image_only(corpus: dict[str, Any]) -> None:
    from pypdf import PdfReader

    name = corpus["summary"]["scanned"][0]
    scan, pdf = corpus["out"] / "scan" / f"{name}.pdf", corpus["out"] / "pdf" / f"{name}.pdf"
    text = subprocess.run(["pdftotext", str(scan), "-"], capture_output=True, text=True, check=True).stdout
    assert text.strip() == ""
    reader = PdfReader(str(scan))
    assert len(reader.pages) == len(PdfReader(str(pdf)).pages)
    assert all(len(page.images) == 1 for page in reader.pages)


def place_date(lines: list[str]) -> str:
    return next(line for line in lines if re.search(r"\bngày\b.*\btháng\b.*\bnăm\b", line))


@pytest.mark.parametrize("name", NAMES)
def test_date_line_gives_only_the_gold_date(corpus: dict[str, Any], name: str) -> None:
    line = place_date((corpus["out"] / "pdf" / f"{name}.txt").read_text(encoding="utf-8").splitlines())
    g = gold(name)
    m = re.search(r"ngày (\d+) tháng (\d+) năm (\d{4})$", line)
    if g["date"]:
        assert m is not None and f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" == g["date"]
    else:
        years = re.findall(r"\b(?:19|20)\d{2}\b", g["period"] or "")
        assert re.search(r"ngày\s{2,}tháng\s{2,}năm" + (f" {years[-1]}" if years else "") + "$", line), line
        assert len(re.findall(r"\d+", line)) == len(years[-1:])


def test_date_line_rule() -> None:
    assert dc.date_line({"date": "2023-02-05"}, "Gia Lộc", padded=True) == "Gia Lộc, ngày 05 tháng 02 năm 2023"
    assert dc.date_line({"date": "2023-02-05"}, None, padded=False) == "ngày 5 tháng 2 năm 2023"
    assert dc.date_line({"date": "2023-11-25"}, None, padded=True) == "ngày 25 tháng 11 năm 2023"
    assert dc.date_line({"date": None, "period": "năm 2018 và 3 tháng đầu năm 2019"}, "X",
                        padded=True) == "X, ngày     tháng     năm 2019"
    assert dc.date_line({"date": None, "period": None}, None, padded=True) == "ngày     tháng     năm"
    assert dc.date_line({"date": None, "period": "8 năm qua"}, None, padded=True) == "ngày     tháng     năm"


def test_same_seed_same_bytes_other_seed_other_documents(corpus: dict[str, Any], tmp_path: Path) -> None:
    again, other = tmp_path / "again", tmp_path / "other"
    dc.build(DEV, again, seed=7, scanned=0, names=NAMES)
    dc.build(DEV, other, seed=8, scanned=0, names=NAMES)
    for name in NAMES:
        for rel in (f"docx/{name}.docx", f"pdf/{name}.pdf", f"docx/{name}.txt"):
            assert (again / rel).read_bytes() == (corpus["out"] / rel).read_bytes(), rel
    assert any((other / f"docx/{n}.txt").read_bytes() != (again / f"docx/{n}.txt").read_bytes() for n in NAMES)
    assert any((other / f"pdf/{n}.pdf").read_bytes() != (again / f"pdf/{n}.pdf").read_bytes() for n in NAMES)


# ---- the layout rules, on the plans of every dev report (no files written) ----

def all_plans(seed: int = 7) -> list[tuple[dict[str, Any], Any]]:
    plans = []
    for name in dc.dev_names(DEV):
        g = gold(name)
        plans.append((g, dc.plan_document(name, g, (DEV / f"{name}.txt").read_text(encoding="utf-8"), seed)))
    return plans


def test_issuer_names_the_gold_place_and_no_other() -> None:
    for g, plan in all_plans():
        own = scorer.place_name(plan.issuer)
        if g["unit"]:
            assert scorer.place_name(g["unit"]) <= own, (plan.name, g["unit"], plan.issuer)
        else:
            assert own == set(), (plan.name, plan.issuer)
            assert not scorer.place_name(plan.superior or ""), plan.superior
            assert place_date([plan.place_date]).startswith("ngày"), plan.place_date
        assert plan.issuer == plan.issuer.upper()
        party = plan.national == ["ĐẢNG CỘNG SẢN VIỆT NAM"]
        assert party == (plan.kind == "party")
        if not party:
            assert plan.national == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
        assert re.fullmatch(r"\d+-BC/\w+" if party else r"\d+/BC-\w+", plan.number), plan.number


def test_subject_period_and_opening_follow_the_gold() -> None:
    for g, plan in all_plans():
        if g["period"]:
            assert g["period"] in plan.subject
        else:
            assert not dc.PERIOD_WORDS.search(plan.subject + " " + (plan.note or "")), plan.subject
        opening = scorer.tokens(plan.blocks[0].text)
        for section in ("results", "shortcomings", "tasks"):
            for item in g[section]:
                assert scorer.cover(scorer.tokens(item), opening) < scorer.COVER, (plan.name, item)
        if not g["date"]:
            assert not re.search(r"ngày \d", plan.place_date)


def test_parts_follow_the_gold_and_extras_carry_no_figures() -> None:
    for g, plan in all_plans():
        heads = [b for b in plan.blocks if b.kind == "heading" and b.level == 1]
        expected = 1 + bool(g["shortcomings"]) + bool(g["tasks"])
        assert len(heads) - any("KIẾN NGHỊ" in b.text for b in heads) == expected
        assert [b.lead for b in heads] == [f"{r}. " for r in ("I", "II", "III", "IV")[: len(heads)]]
        for i, b in enumerate(plan.blocks):
            if b.kind == "heading" and (b.text == "Nguyên nhân" or "KIẾN NGHỊ" in b.text):
                assert not re.search(r"\d", plan.blocks[i + 1].text)
        table = next((b for b in plan.blocks if b.kind == "table"), None)
        if plan.uncovered_figures:
            assert table is not None
        if table is not None:
            assert table.rows[0] == ["STT", "Chỉ tiêu", "Kết quả"]
            assert [r[2] for r in table.rows[1:]] == [f["text"] for f in g["figures"]]


def test_layouts_vary_across_documents() -> None:
    plans = [p for _g, p in all_plans()]
    tables = sum(any(b.kind == "table" for b in p.blocks) for p in plans)
    assert len(plans) * 0.3 <= tables <= len(plans) * 0.8
    assert {p.heading_styles for p in plans} == {True, False}
    assert {p.word_lists for p in plans} == {True, False}
    blocks = [b for p in plans for b in p.blocks]
    assert any(b.kind == "item" for b in blocks) and any(b.lead == "1. " for b in blocks)
    assert any(b.lead == "a) " for b in blocks) and any(b.kind == "para" and "; " in b.text for b in blocks)
    assert any(b.text == "Nguyên nhân" for b in blocks) and any("KIẾN NGHỊ" in b.text for b in blocks)
    heads = {b.text for b in blocks if b.kind == "heading" and b.level == 1}
    assert {"KẾT QUẢ THỰC HIỆN NHIỆM VỤ", "Những kết quả đạt được", "HẠN CHẾ, KHÓ KHĂN, VƯỚNG MẮC",
            "NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM THỜI GIAN TỚI"} <= heads
