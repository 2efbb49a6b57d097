"""Optional transformers engine: a local model condenses the items of the extractive summary.

Structure, metadata and figures always come from the extractive pipeline; the model only rewrites
the items of each section, and every rewrite passes `neural_checks.check_output` or the extractive
item is kept. torch/transformers are imported only when the model is loaded, never at import time,
so the base install and start-up stay light.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import queue
import re
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summariser.models import SECTIONS, Item, Section, Summary
from summariser.neural_checks import Reason, check_output

if TYPE_CHECKING:
    from documents.models import Document

__version__ = "0.1"

log = logging.getLogger(__name__)

Generator = Callable[[list[str]], list[str]]

DEFAULT_CONTEXT = 512
MIN_CHUNK_TOKENS = 16
INSTRUCTION = (
    "Rút gọn ý sau thành một mệnh đề ngắn bằng tiếng Việt. Giữ nguyên mọi con số như trong văn bản, "
    "không thêm thông tin, chỉ trả lời bằng mệnh đề đã rút gọn."
)
FALLBACK_NOTE = "bản tóm tắt dùng các câu trích nguyên văn từ báo cáo."


class ModelLoadError(RuntimeError):
    """The model or tokenizer could not be loaded; the message is one line, fit for a user."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _extractive(text: str | Document, title: str | None) -> Summary:
    """The extractive pipeline, looked up at call time (it is being rewritten independently)."""
    from summariser import summarise

    return summarise(text, title=title)


def _clean(text: str | Document) -> str:
    from summariser.pipeline import cleaned_source

    return cleaned_source(text)


# ----------------------------------------------------------------------------- chunking

_SPLITTERS = (re.compile(r"(?<=[.;!?])\s+"), re.compile(r"(?<=[,:])\s+"), re.compile(r"\s+"))


def chunk_text(text: str, budget: int, count: Callable[[str], int]) -> list[str]:
    """Split `text` into pieces of at most `budget` tokens, at sentence, then clause, then word breaks.

    A single word longer than the budget is left whole (the tokenizer truncates it).
    """
    text = text.strip()
    if not text or count(text) <= budget:
        return [text] if text else []
    for splitter in _SPLITTERS:
        parts = [p for p in splitter.split(text) if p.strip()]
        if len(parts) > 1:
            break
    else:
        return [text]
    pieces: list[str] = []
    for part in parts:
        pieces.extend(chunk_text(part, budget, count) if count(part) > budget else [part])
    chunks: list[str] = []
    for piece in pieces:
        if chunks and count(f"{chunks[-1]} {piece}") <= budget:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks


def _join(outputs: list[str]) -> str:
    parts = [o.strip().rstrip(".;,") for o in outputs if o.strip()]
    return "; ".join(parts)


# ----------------------------------------------------------------------------- worker


class _Worker:
    """One daemon thread running jobs in order: torch generation is not worth running in parallel
    on a CPU, and a daemon thread never holds up interpreter exit after a timeout."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="neural-generate", daemon=True)
                self._thread.start()
        self._jobs.put((future, fn))
        return future

    def _run(self) -> None:
        while True:
            future, fn = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)


# ----------------------------------------------------------------------------- loaded model


@dataclass
class _Loaded:
    model: Any
    tokenizer: Any
    seq2seq: bool
    prefix: str
    context: int
    device: Any
    torch: Any
    stopping: Any  # transformers.StoppingCriteria base class


def _context_limit(tokenizer: Any, config: Any) -> int:
    limits = []
    mml = getattr(tokenizer, "model_max_length", None)
    if isinstance(mml, int) and 0 < mml < 1_000_000:
        limits.append(mml)
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            limits.append(value)
    return min(limits) if limits else DEFAULT_CONTEXT


def _prefix(config: Any, model_ref: str) -> str:
    params = getattr(config, "task_specific_params", None) or {}
    prefix = (params.get("summarization") or {}).get("prefix")
    if isinstance(prefix, str):
        return prefix
    return "vietnews: " if "vietnews" in model_ref.lower() else ""


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _load(model_ref: str, device: str) -> _Loaded:
    try:
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as exc:
        raise ModelLoadError(
            "the transformers engine needs the 'neural' extra (pip install 'hoinghi-bot[neural]')"
        ) from exc
    transformers.utils.logging.disable_progress_bar()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ModelLoadError(f"unknown device {device!r}: {_one_line(exc)}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} asked for, but CUDA is not available here")
    local = Path(model_ref).expanduser()
    path = str(local) if local.is_dir() else model_ref
    options = {"local_files_only": _offline() or local.is_dir()}
    try:
        config = AutoConfig.from_pretrained(path, **options)
        tokenizer = AutoTokenizer.from_pretrained(path, **options)
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        model = auto.from_pretrained(path, **options)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError, ... here
        raise ModelLoadError(f"cannot load model {model_ref!r}: {_one_line(exc)}") from exc
    model.to(dev)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right" if seq2seq else "left"
    return _Loaded(
        model=model,
        tokenizer=tokenizer,
        seq2seq=seq2seq,
        prefix=_prefix(config, model_ref) if seq2seq else "",
        context=_context_limit(tokenizer, config),
        device=dev,
        torch=torch,
        stopping=transformers.StoppingCriteria,
    )


# ----------------------------------------------------------------------------- engine


@dataclass
class _Plan:
    """Which chunks belong to which item, so outputs can be stitched back per item."""

    items: list[tuple[Section, int, Item]] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # chunk index -> item index


class TransformersEngine:
    """Extractive summary first, then a seq2seq or instruction model condenses each item.

    `generator`, when given, replaces model generation (tests, stubs): it receives the chunk texts
    of the items and returns one condensed text per chunk; the model is then never loaded.
    """

    name = "transformers"

    def __init__(
        self,
        model: str | Path | None = None,
        device: str = "cpu",
        timeout: float = 60.0,
        max_new_tokens: int = 64,
        batch_size: int = 8,
        generator: Generator | None = None,
    ) -> None:
        ref = str(model).strip() if model is not None else ""
        if not ref:
            raise ValueError(
                "the transformers engine needs a model (BOT_MODEL): a local directory or a Hugging Face id"
            )
        looks_local = isinstance(model, Path) or ref.startswith(("/", ".", "~"))
        if looks_local and not Path(ref).expanduser().is_dir():
            raise ValueError(f"model directory not found: {ref}")
        if timeout <= 0 or max_new_tokens < 1 or batch_size < 1:
            raise ValueError("timeout, max_new_tokens and batch_size must be positive")
        self.model_ref = ref
        self.device = device or "cpu"
        self.timeout = float(timeout)
        self.max_new_tokens = int(max_new_tokens)
        self.batch_size = int(batch_size)
        self._generator = generator
        self._loaded: _Loaded | None = None
        self._load_error: ModelLoadError | None = None
        self._load_lock = threading.Lock()
        self._worker = _Worker()
        label = Path(ref).name if Path(ref).expanduser().is_dir() else ref
        self.version = f"{__version__}+{label}"

    # -- loading

    def load(self) -> None:
        """Load model and tokenizer once (thread-safe); call early to warm up. Raises ModelLoadError."""
        if self._generator is not None or self._loaded is not None:
            return
        with self._load_lock:
            if self._loaded is not None:
                return
            if self._load_error is not None:
                raise self._load_error
            try:
                self._loaded = _load(self.model_ref, self.device)
            except ModelLoadError as exc:
                self._load_error = exc
                raise
            log.info("loaded %s on %s (context %d)", self.model_ref, self.device, self._loaded.context)

    # -- planning

    def _count(self, text: str) -> int:
        if self._loaded is None:
            return 2 * len(text.split())  # rough, for stub generators: syllables ~ 1-2 tokens
        return len(self._loaded.tokenizer(text, add_special_tokens=True, verbose=False).input_ids)

    def chunk_budget(self) -> int:
        """Tokens one chunk of an item may take so that prompt + chunk fit the model's context."""
        if self._loaded is None:
            return DEFAULT_CONTEXT
        loaded = self._loaded
        if loaded.seq2seq:
            overhead = self._count(loaded.prefix) if loaded.prefix else 0
            return max(MIN_CHUNK_TOKENS, loaded.context - overhead)
        overhead = self._count(self._prompt(""))
        return max(MIN_CHUNK_TOKENS, loaded.context - self.max_new_tokens - overhead)

    def chunks(self, text: str) -> list[str]:
        return chunk_text(text, self.chunk_budget(), self._count)

    def _plan(self, base: Summary) -> _Plan:
        plan = _Plan()
        for section in SECTIONS:
            for index, item in enumerate(base.section(section)):
                plan.items.append((section, index, item))
                for chunk in self.chunks(item.text):
                    plan.chunks.append(chunk)
                    plan.owner.append(len(plan.items) - 1)
        return plan

    def _prompt(self, chunk: str) -> str:
        loaded = self._loaded
        if loaded is None or loaded.seq2seq:
            return f"{loaded.prefix if loaded else ''}{chunk}"
        tok = loaded.tokenizer
        if getattr(tok, "chat_template", None):
            messages = [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": chunk}]
            return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return f"{INSTRUCTION}\nÝ: {chunk}\nRút gọn:"

    # -- generation (runs in the worker thread)

    def _generate(self, chunks: list[str], cancel: threading.Event) -> list[str]:
        if self._generator is not None:
            outputs = list(self._generator(list(chunks)))
            if len(outputs) != len(chunks):
                raise RuntimeError(f"generator returned {len(outputs)} texts for {len(chunks)} inputs")
            return [str(o) for o in outputs]
        loaded = self._loaded
        assert loaded is not None
        torch, tok = loaded.torch, loaded.tokenizer

        class _Cancelled(loaded.stopping):  # type: ignore[name-defined,misc]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool)

        prompts = [self._prompt(c) for c in chunks]
        # seq2seq: the tokenizer adds </s>; causal: a chat template already holds BOS, plain prompts may need it
        chat = bool(getattr(tok, "chat_template", None))
        special = loaded.seq2seq or (not chat and tok.bos_token is not None)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # less padding per batch
        outputs: list[str] = [""] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            if cancel.is_set():
                break
            batch = order[start : start + self.batch_size]
            enc = tok(
                [prompts[i] for i in batch],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=loaded.context if loaded.seq2seq else max(1, loaded.context - self.max_new_tokens),
                add_special_tokens=special,
            ).to(loaded.device)
            with torch.inference_mode():
                out = loaded.model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                    no_repeat_ngram_size=3,
                    pad_token_id=tok.pad_token_id,
                    stopping_criteria=[_Cancelled()],
                )
            if not loaded.seq2seq:
                out = out[:, enc["input_ids"].shape[1] :]
            for i, text in zip(batch, tok.batch_decode(out, skip_special_tokens=True), strict=True):
                outputs[i] = text
        return outputs

    # -- summarising

    def summarise(self, text: str | Document, title: str | None = None) -> Summary:
        """Condensed summary; any item the model gets wrong keeps its extractive wording."""
        base = _extractive(text, title)
        summary, _ = self._summarise(text, base)
        return summary

    def summarise_explained(self, text: str | Document, title: str | None = None) -> tuple[Summary, list[Reason | None]]:
        """Like `summarise`, plus why each item (in section order) was rejected, None if accepted."""
        base = _extractive(text, title)
        return self._summarise(text, base)

    async def asummarise(self, text: str | Document, title: str | None = None) -> Summary:
        """For the bot: the whole job (load, extractive pass, generation) runs off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(self.summarise, text, title))

    def _summarise(self, text: str | Document, base: Summary) -> tuple[Summary, list[Reason | None]]:
        stamped = base.model_copy(update={"engine": self.name, "engine_version": self.version})
        self.load()  # ModelLoadError propagates: a broken model is a configuration error
        plan = self._plan(base)
        if not plan.chunks:
            return stamped, []
        cancel = threading.Event()
        future = self._worker.submit(lambda: self._generate(plan.chunks, cancel))
        try:
            outputs = future.result(timeout=self.timeout)
        except FutureTimeout:
            cancel.set()
            future.cancel()
            log.warning("generation timed out after %.1f s; using the extractive summary", self.timeout)
            return self._fallback(stamped, f"Mô hình tóm tắt chạy quá {self.timeout:g} giây; {FALLBACK_NOTE}")
        except Exception as exc:
            log.warning("generation failed (%s); using the extractive summary", _one_line(exc), exc_info=exc)
            return self._fallback(stamped, f"Mô hình tóm tắt gặp lỗi khi chạy; {FALLBACK_NOTE}")

        per_item: list[list[str]] = [[] for _ in plan.items]
        for owner, output in zip(plan.owner, outputs, strict=True):
            per_item[owner].append(output)
        source = _clean(text)
        reasons: list[Reason | None] = []
        sections: dict[Section, list[Item]] = {s: list(base.section(s)) for s in SECTIONS}
        for (section, index, item), pieces in zip(plan.items, per_item, strict=True):
            candidate = unicodedata.normalize("NFC", _join(pieces))
            reason = check_output(candidate, item.text, source)
            reasons.append(reason)
            if reason is None:
                sections[section][index] = Item(text=candidate, source=item.source, engine=self.name)
            else:
                log.debug("rejected model output (%s): %r for %r", reason, candidate, item.text)
                sections[section][index] = item.model_copy(update={"engine": "extractive"})
        summary = stamped.model_copy(update=dict(sections))
        if all(r is not None for r in reasons):
            summary.warnings = [
                *summary.warnings,
                f"Mô hình chưa viết được ý nào đạt kiểm tra; {FALLBACK_NOTE}",
            ]
        return summary, reasons

    def _fallback(self, stamped: Summary, warning: str) -> tuple[Summary, list[Reason | None]]:
        update: dict[str, Any] = {
            s: [i.model_copy(update={"engine": "extractive"}) for i in stamped.section(s)] for s in SECTIONS
        }
        update["warnings"] = [*stamped.warnings, warning]
        return stamped.model_copy(update=update), []
