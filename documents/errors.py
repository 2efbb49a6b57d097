"""The one error every reader raises: a file or text we cannot turn into a `Document`.

Files come from strangers: whatever goes wrong inside a parser ends here, so the bot shows one
Vietnamese line to the user and logs the English reason, and never crashes on hostile input.
"""

from __future__ import annotations

__all__ = ["ReadError"]


class ReadError(Exception):
    """A file or text we cannot read; `.vi` is shown to the user (one line), `.en` goes to the log."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi = vi
        self.en = en

    def __reduce__(self) -> tuple[type[ReadError], tuple[str, str]]:
        # (pickled across worker processes: Exception's default keeps only the message, `en`)
        return (type(self), (self.vi, self.en))
