"""Files and text in -> `Document` (blocks, header block, closing). No Telegram, no database."""

from documents.models import Block, BlockKind, Document, HeaderBlock, SourceKind

__all__ = ["Block", "BlockKind", "Document", "HeaderBlock", "SourceKind"]
