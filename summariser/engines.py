"""Engine registry: the extractive pipeline always; the transformers engine only when asked.

The neural engine is imported lazily so the base install and start-up never import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from summariser.models import Summary

if TYPE_CHECKING:
    from documents.models import Document


class Engine(Protocol):
    name: str
    version: str

    def summarise(self, text: str | Document, *, title: str | None = None) -> Summary: ...


class ExtractiveEngine:
    name = "extractive"

    @property
    def version(self) -> str:
        from summariser.pipeline import ENGINE_VERSION

        return ENGINE_VERSION

    def summarise(self, text: str | Document, *, title: str | None = None) -> Summary:
        from summariser.pipeline import summarise

        return summarise(text, title=title)


ENGINE_NAMES = ("extractive", "transformers")


def get_engine(name: str = "extractive", **options: object) -> Engine:
    """Build an engine by name; options (model, device, timeout) go to the transformers engine."""
    if name == "extractive":
        return ExtractiveEngine()
    if name == "transformers":
        from summariser.neural import TransformersEngine  # heavy: only on request

        return TransformersEngine(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
