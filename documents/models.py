"""The contract between `documents` (files and text in) and its users (summariser, bot, CLI).

A `Document` is what a report *says about its own structure*: ordered blocks (headings with their
level and numbering, paragraphs, list items, tables with a known header row), the header block of an
administrative document (Nghị định 30/2020/NĐ-CP, Hướng dẫn 36-HD/VPTW) and its closing (Nơi nhận,
signature), which produce nothing. Readers never guess sections: they only say what the layout says.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

BlockKind = Literal["heading", "paragraph", "list_item", "table"]
SourceKind = Literal["text", "docx", "pdf", "html", "ocr"]


class Block(BaseModel):
    """One block in reading order.

    heading: `text` without its numbering, `numbering` as written ("I.", "1.", "a)", "Phần thứ nhất"),
        `level` 1 for the top level ("I.", "Phần thứ nhất", a Heading 1 style), 2, 3 below;
        a phone-style label ("Kết quả:", "Nhiệm vụ tháng 12:") is a heading with `label=True`.
    paragraph: `text` as one paragraph (wrapped lines joined, hyphenation undone).
    list_item: `text` without its bullet, `numbering` the bullet or number, `level` the nesting (1..).
    table: `rows` of cell texts (a merged cell repeated in every cell it spans is given once, the
        others empty), `header_rows` how many leading rows are the header (0 when unknown).
    """

    kind: BlockKind
    text: str = ""
    level: int = 0
    numbering: str | None = None
    label: bool = False
    bold: bool = False
    rows: list[list[str]] = Field(default_factory=list)
    header_rows: int = 0
    page: int | None = None  # 1-based page of a PDF or scan, when known


class HeaderBlock(BaseModel):
    """The header of an administrative document; every field exactly as written, None when absent."""

    superior: str | None = None  # "ĐẢNG BỘ TỈNH THANH HÓA" (the body above the issuer)
    issuer: str | None = None  # "HUYỆN ỦY YÊN ĐỊNH" (the body that issues the report)
    number: str | None = None  # "215-BC/HU", "Số: 12/BC-UBND" -> "12/BC-UBND"
    national: str | None = None  # "ĐẢNG CỘNG SẢN VIỆT NAM" / "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM ..."
    place_date: str | None = None  # "Yên Định, ngày 05 tháng 10 năm 2023"
    doc_type: str | None = None  # "BÁO CÁO", "THÔNG BÁO", "NGHỊ QUYẾT", ...
    subject: str | None = None  # "Kết quả thực hiện nhiệm vụ 9 tháng đầu năm 2023, ..."


class Document(BaseModel):
    """A report as read from a file or from text."""

    blocks: list[Block] = Field(default_factory=list)
    header: HeaderBlock | None = None
    closing: list[str] = Field(default_factory=list)  # "Nơi nhận: ...", signature lines: never items
    title: str | None = None  # a web page's headline, when the source gives one apart from the text
    source: SourceKind = "text"
    ocr: bool = False  # text recognised from an image: figures must be checked by a person
    warnings: list[str] = Field(default_factory=list)  # Vietnamese, for the user ("trang 3 không đọc được")

    def text(self) -> str:
        """The document as plain text: what is stored as the report's source and searched.

        One line per block (a table row as "cell | cell"); the header block first, the closing last.
        Every number a summary shows must occur in this text.
        """
        lines: list[str] = []
        if self.title:
            lines.append(self.title)
        h = self.header
        if h is not None:
            lines += [v for v in (h.superior, h.issuer, h.number, h.national, h.place_date, h.doc_type, h.subject)
                      if v]
        for b in self.blocks:
            if b.kind == "table":
                lines += [" | ".join(c for c in row) for row in b.rows if any(c.strip() for c in row)]
            elif b.kind == "heading":
                lines.append(f"{b.numbering} {b.text}" if b.numbering else b.text)
            elif b.kind == "list_item":
                lines.append(f"{b.numbering} {b.text}" if b.numbering else f"- {b.text}")
            else:
                lines.append(b.text)
        lines += self.closing
        return "\n".join(line for line in lines if line.strip())
