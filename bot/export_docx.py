"""A summary as a .docx laid out like a Vietnamese administrative report (python-docx).

Times New Roman 14, A4 with the usual margins (top/bottom 20 mm, left 30 mm, right 15 mm), the
issuing unit and date on top, a centred title, then the three sections numbered I, II, III.
Figures are bold exactly where they are written in the item.
"""

from __future__ import annotations

import html
import io
import re
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from bot.render import SECTION_MISSING, SECTION_TITLES, bold_figures, capitalise, fmt_date
from storage.models import StoredReport

FONT = "Times New Roman"


def _figure_runs(text: str, figures: list[str]) -> list[tuple[str, bool]]:
    """(text, bold) runs with the figures bold; same matching rules as the Telegram rendering."""
    # Shares the matching with the Telegram rendering; its <b> are parsed back into runs.
    runs: list[tuple[str, bool]] = []
    for part in re.split(r"(<b>.*?</b>)", bold_figures(text, figures)):
        if not part:
            continue
        if part.startswith("<b>"):
            runs.append((html.unescape(part[3:-4]), True))
        else:
            runs.append((html.unescape(part), False))
    return runs


def _set_font(document: Document) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    style.paragraph_format.space_after = Pt(6)


def build_docx(report: StoredReport, *, now: datetime | None = None) -> bytes:
    """The report's summary as .docx bytes."""
    s = report.summary
    document = Document()
    _set_font(document)
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)

    # Header: issuing unit (left), place/date line (right), as on administrative documents.
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    unit = (s.unit if s and s.unit else "") or ""
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(unit.upper() if unit else "BÁO CÁO HỘI NGHỊ")
    run.bold = True
    run.font.size = Pt(13)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    when = s.date if s and s.date else None
    date_line = f"ngày {when.day:02d} tháng {when.month:02d} năm {when.year}" if when else ""
    run = p.add_run(date_line[0].upper() + date_line[1:] if date_line else "")
    run.italic = True
    run.font.size = Pt(13)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(18)
    run = title.add_run("BÁO CÁO TÓM TẮT")
    run.bold = True
    run.font.size = Pt(15)
    subtitle_text = (s.title if s and s.title else None) or report.title or (s.meeting if s else None)
    if subtitle_text:
        sub = document.add_paragraph()
        sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
        sub.add_run(subtitle_text).bold = True

    def labelled(label: str, value: str | None) -> None:
        if not value:
            return
        para = document.add_paragraph()
        para.add_run(f"{label}: ").bold = True
        para.add_run(value)

    labelled("Đơn vị", unit or "không nêu")
    labelled("Hội nghị", s.meeting if s else None)
    labelled("Ngày họp", fmt_date(s.date) if s and s.date else None)
    labelled("Kỳ báo cáo", s.period if s else None)
    labelled("Mã báo cáo", f"#{report.id}")

    figures = [f.text for f in s.figures if f.text] if s else []
    for number, (name, heading) in zip(("I", "II", "III"), SECTION_TITLES.items(), strict=True):
        head = document.add_paragraph()
        head.paragraph_format.space_before = Pt(12)
        head.add_run(f"{number}. {heading.upper()}").bold = True
        items = s.section(name) if s else []  # type: ignore[arg-type]
        if not items:
            document.add_paragraph().add_run(SECTION_MISSING[name]).italic = True
            continue
        for item in items:
            para = document.add_paragraph()
            para.paragraph_format.first_line_indent = Mm(10)
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            para.add_run("- ")
            for text, bold in _figure_runs(capitalise(item.text), figures):  # items start with a capital
                para.add_run(text).bold = bold

    stamp = (now or datetime.now()).strftime("%d/%m/%Y %H:%M")
    note = document.add_paragraph()
    note.paragraph_format.space_before = Pt(18)
    run = note.add_run(
        f"Bản tóm tắt lập tự động từ báo cáo gốc #{report.id} lúc {stamp}; "
        "mọi số liệu được trích nguyên văn từ báo cáo."
    )
    run.italic = True
    run.font.size = Pt(11)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
