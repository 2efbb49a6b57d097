"""Files and text in -> `Document` (blocks, header block, closing). No Telegram, no database.

`read(data, filename)` for files, `read_text(text)` for pasted text (`join_parts` first when it came
in several Telegram messages); `build` is the layout logic every reader shares. Heavy parsers
(python-docx, trafilatura, pdfplumber, Tesseract) are imported only when a file needs them.
"""

from documents.docx import read_docx
from documents.errors import ReadError
from documents.html import read_html
from documents.models import Block, BlockKind, Document, HeaderBlock, SourceKind
from documents.reader import read, read_text
from documents.structure import build
from documents.text import decode, from_text, join_parts

__all__ = [
    "Block",
    "BlockKind",
    "Document",
    "HeaderBlock",
    "ReadError",
    "SourceKind",
    "build",
    "decode",
    "from_text",
    "join_parts",
    "read",
    "read_docx",
    "read_html",
    "read_text",
]
