"""Files from strangers read in worker processes with memory, CPU and wall-clock limits (issue 13).

The readers' structural guards refuse the bombs we know; this bounds the ones we do not. Each
worker sets RLIMIT_AS (a parser that balloons gets MemoryError or dies, the bot does not) and
RLIMIT_CPU (re-armed before every file, so a long-lived worker is not killed for the work it did
earlier); the caller's wall-clock timeout kills a worker stuck in C code or asleep.

Every worker is its own one-process `ProcessPoolExecutor` (a *slot*): a pool whose worker dies
fails every task in flight in it (`terminate_broken`), which would hand a bystander's plain .txt
the bomb's error. With one process per pool only the culprit's slot is rebuilt.

Results come back as plain tuples: `ReadError(vi, en)` does not survive pickling (its args hold
`en` only), and a `Document` is a pydantic model, which pickles.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from documents.errors import ReadError
from documents.models import Document

__all__ = ["DEFAULT_CPU_SECONDS", "DEFAULT_MEMORY_BYTES", "TOO_COMPLEX", "Extractor", "read_isolated"]

log = logging.getLogger(__name__)

DEFAULT_MEMORY_BYTES = 1 << 30  # address space per worker: a 300-page report needs a few hundred MB
DEFAULT_CPU_SECONDS = 40.0  # CPU per file; the wall-clock timeout (60 s) also covers waiting for a core
DEFAULT_READER = "documents.reader:read"
_EXHAUSTED_SHARE = 0.5  # a worker that grew past this share of its limit is replaced after the file
_START_TIMEOUT = 60.0  # spawning a worker and importing the readers (a few seconds on a busy machine)
_ORPHAN_POLL = 1.0  # seconds between a worker's checks that the bot is still its parent

TOO_COMPLEX = ("Tệp quá phức tạp hoặc quá lớn để xử lý; vui lòng gửi bản .docx hoặc .pdf đơn giản hơn, "
               "hoặc dán nội dung văn bản.")
_UNAVAILABLE = "Máy chủ tạm thời không đọc được tệp; vui lòng thử lại sau ít phút."
_FAILED = "Không đọc được nội dung tệp."


# ------------------------------------------------------------------------------------------ worker side
def _init_worker(memory_bytes: int, cpu_seconds: float) -> None:
    """Limits set once per worker: address space, no core dumps (a 1 GB core would take the disk).

    The worker leads its own process group, so killing it also kills the Tesseract or pdftoppm it
    started (limits are inherited, but a killed parent leaves its children running).
    """
    os.setpgid(0, 0)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, memory_bytes)
    _arm_cpu(cpu_seconds)
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), name="orphan-watch", daemon=True).start()


def _orphan_watch(parent: int) -> None:
    """End the worker (and what it started) once the bot is gone. A SIGKILLed bot closes no pipe
    the idle worker is waiting on in a way it notices, and its own process group keeps it out of
    the terminal's signals: measured, workers outlived a `kill -9` of the bot indefinitely."""
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL)
    with contextlib.suppress(OSError):
        os.killpg(0, signal.SIGKILL)
    os._exit(1)


def _limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _arm_cpu(cpu_seconds: float) -> None:
    """The CPU limit counts from now: the process's CPU so far plus this file's budget.

    Past the soft limit the kernel sends SIGXCPU, whose default action ends the process (Python
    leaves it alone), so even a loop inside C code stops; the pool then reports it broken.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _limit(resource.RLIMIT_CPU, int(used + cpu_seconds) + 1)


def _hello() -> int:
    """Run once per new worker: imports the readers' common modules and says which process it is."""
    import documents.reader  # noqa: F401  (warm: the first file should not pay for the imports)

    return os.getpid()


def _resolve(reader: str) -> Callable[..., Document]:
    """'package.module:function' (or dotted) -> the function; resolved in the worker, so tests can
    point the Extractor at a reader of their own."""
    module, _, name = reader.partition(":") if ":" in reader else reader.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


class _Outcome(NamedTuple):
    """What a worker sends back: plain values only (see the module docstring on ReadError)."""

    status: Literal["ok", "error", "exhausted"]
    document: Document | None = None
    vi: str = ""
    en: str = ""
    peak_rss: int = 0  # bytes, the worker's peak resident size so far


def _peak_rss() -> int:
    """This process's own peak resident size. `ru_maxrss` survives exec, so a worker spawned by a
    large parent would report the parent's size: /proc's VmHWM belongs to this image alone."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _work(reader: str, data: bytes, filename: str, max_chars: int, cpu_seconds: float,
          memory_bytes: int) -> _Outcome:
    """Read one file; never raises, so nothing but a Document and strings needs to pickle.

    A reader that failed with the worker's memory near its limit counts as exhausted whatever it
    raised: libxml2 out of memory says XMLSyntaxError('unknown error'), not MemoryError.
    """
    _arm_cpu(cpu_seconds)
    try:
        document = _resolve(reader)(data, filename, max_chars=max_chars)
    except MemoryError as exc:
        return _Outcome("exhausted", en=f"MemoryError in reader: {exc!r}", peak_rss=_peak_rss())
    except ReadError as exc:
        peak = _peak_rss()
        if isinstance(exc.__cause__, MemoryError) or peak >= memory_bytes * _EXHAUSTED_SHARE:
            return _Outcome("exhausted", en=exc.en, peak_rss=peak)
        return _Outcome("error", vi=exc.vi, en=exc.en, peak_rss=peak)
    except Exception as exc:  # a reader bug: the caller still gets a ReadError, not a traceback
        peak = _peak_rss()
        if peak >= memory_bytes * _EXHAUSTED_SHARE:
            return _Outcome("exhausted", en=f"reader failed: {exc!r}", peak_rss=peak)
        return _Outcome("error", vi=_FAILED, en=f"reader failed: {exc!r}", peak_rss=peak)
    if not isinstance(document, Document):
        return _Outcome("error", vi=_FAILED, en=f"reader returned {type(document).__name__}, not a Document")
    return _Outcome("ok", document=document, peak_rss=_peak_rss())


# ------------------------------------------------------------------------------------------ parent side
@dataclass
class _Slot:
    """One worker process in its own pool; `pid` is known once `_hello` has answered."""

    pool: concurrent.futures.ProcessPoolExecutor | None = None
    pid: int | None = None
    light_only: bool = False  # the lane kept for plain text, so a bomb never makes a report wait
    reads: int = field(default=0)


class Extractor:
    """`await extractor.read(data, filename)`: `documents.read` in a bounded worker process.

    Up to `max_workers` files are read at once; others wait for a free worker (the wait is not part
    of their timeout). `light_workers` more workers take only plain text (by name and first bytes),
    which is cheap and bounded: measured, two workers held by PDF bombs made a .txt wait 72 s. A worker that runs out of memory, hits its CPU limit, dies or overruns the
    timeout is killed and replaced, and its caller gets ReadError(TOO_COMPLEX). Safe to use from
    several event loops in turn (tests) and from several threads.
    """

    def __init__(self, max_workers: int = 2, *, light_workers: int = 1, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 cpu_seconds: float = DEFAULT_CPU_SECONDS, reader: str = DEFAULT_READER) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.memory_bytes = memory_bytes
        self.cpu_seconds = cpu_seconds
        self.reader = reader
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._free: list[_Slot] = [_Slot(light_only=True) for _ in range(light_workers)]
        self._free += [_Slot() for _ in range(max_workers)]
        self._slots = list(self._free)
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False

    # --- public ----------------------------------------------------------------------------------
    async def read(self, data: bytes, filename: str, *, timeout: float = 60.0,
                   max_chars: int = 500_000) -> Document:
        """The file's Document, or ReadError (`.vi` for the user) within about `timeout` seconds of
        a worker taking it; never another exception from the worker."""
        slot = await self._acquire(light=_is_light(data, filename))
        try:
            await self._start(slot)
            assert slot.pool is not None
            started = time.monotonic()
            try:
                future = slot.pool.submit(_work, self.reader, data, filename, max_chars, self.cpu_seconds,
                                          self.memory_bytes)
            except (BrokenProcessPool, RuntimeError) as exc:
                await self._replace(slot, kill=True)
                raise ReadError(_UNAVAILABLE, f"worker pool unusable: {exc!r}") from exc
            try:
                outcome = await asyncio.wait_for(asyncio.wrap_future(future), timeout)
            except TimeoutError as exc:
                log.warning("reading %r: no answer after %.0f s; killing worker %s", filename, timeout, slot.pid)
                await self._replace(slot, kill=True)
                raise ReadError(TOO_COMPLEX, f"read timed out after {timeout:.1f} s") from exc
            except BrokenProcessPool as exc:
                log.warning("reading %r: worker %s died after %.1f s (memory or CPU limit?)", filename,
                            slot.pid, time.monotonic() - started)
                await self._replace(slot, kill=True)
                if self._closed:
                    raise ReadError(_UNAVAILABLE, "extractor closed while reading") from exc
                raise ReadError(TOO_COMPLEX, f"worker died: {exc!r}") from exc
            except asyncio.CancelledError:
                await asyncio.shield(self._replace(slot, kill=True))  # the caller gave up: free the core
                raise
            except Exception as exc:  # e.g. the Document failed to unpickle: still one ReadError
                await self._replace(slot, kill=True)
                raise ReadError(_FAILED, f"worker result unusable: {exc!r}") from exc
            slot.reads += 1
            if outcome.status == "exhausted" or outcome.peak_rss >= self.memory_bytes * _EXHAUSTED_SHARE:
                # A heap that grew this far stays this big (and may be damaged): start afresh.
                log.warning("reading %r: %s (peak RSS %d MB); replacing worker %s", filename,
                            outcome.en or "ok", outcome.peak_rss >> 20, slot.pid)
                await self._replace(slot, kill=True)
            if outcome.status == "ok" and outcome.document is not None:
                return outcome.document
            if outcome.status == "exhausted":
                raise ReadError(TOO_COMPLEX, outcome.en)
            raise ReadError(outcome.vi, outcome.en)
        finally:
            self._release(slot)

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (for logs and tests)."""
        with self._lock:
            return [s.pid for s in self._slots if s.pid is not None]

    def close(self) -> None:
        """Stop every worker (a busy one is killed); later reads raise ReadError."""
        with self._lock:
            self._closed = True
            slots = list(self._slots)
        for slot in slots:
            self._stop(slot, kill=slot not in self._free)
        self._wake()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- slots -----------------------------------------------------------------------------------
    async def _acquire(self, *, light: bool) -> _Slot:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._closed:
                    raise ReadError(_UNAVAILABLE, "extractor closed")
                usable = [s for s in self._free if light or not s.light_only]
                if usable:
                    slot = max(usable, key=lambda s: s.light_only)  # light files keep the others free
                    self._free.remove(slot)
                    return slot
                waiter: asyncio.Future[None] = loop.create_future()
                self._waiters.append(waiter)
            try:
                await waiter
            finally:
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            if slot in self._slots and slot not in self._free:
                self._free.append(slot)
        self._wake()

    def _wake(self) -> None:
        """Every waiter tries again (a handful at most; one cancelled waiter cannot lose a wake-up)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody is waiting there
                waiter.get_loop().call_soon_threadsafe(_set_pending, waiter)

    async def _start(self, slot: _Slot) -> None:
        """A worker for the slot, spawned and warmed (its pid known, so a timeout can kill it)."""
        if slot.pool is not None and slot.pid is not None:
            return
        slot.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=self._context, initializer=_init_worker,
            initargs=(self.memory_bytes, self.cpu_seconds))
        try:
            slot.pid = await asyncio.wait_for(asyncio.wrap_future(slot.pool.submit(_hello)), _START_TIMEOUT)
        except (TimeoutError, BrokenProcessPool, OSError) as exc:
            log.error("starting a document worker failed: %r", exc)
            await self._replace(slot, kill=True)
            raise ReadError(_UNAVAILABLE, f"worker did not start: {exc!r}") from exc

    async def _replace(self, slot: _Slot, *, kill: bool) -> None:
        """Stop the slot's worker and wait until it is reaped; the next read spawns a new one."""
        await asyncio.to_thread(self._stop, slot, kill=kill)

    @staticmethod
    def _stop(slot: _Slot, *, kill: bool) -> None:
        pool, pid = slot.pool, slot.pid
        slot.pool, slot.pid = None, None
        if pool is None:
            return
        if kill and pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # the worker and whatever it started
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # The pool's manager thread sees the process gone, fails its future and joins (reaps) it.
        pool.shutdown(wait=True, cancel_futures=True)


_LIGHT_NAMES = (".txt", ".text")
_HEAVY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*",
                b"RIFF", b"GIF8", b"{\\rtf", b"<")


def _is_light(data: bytes, filename: str) -> bool:
    """Named as plain text and not another format in disguise (`documents.read` trusts the bytes)."""
    name = (filename or "").strip().rstrip(". ").lower()
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return name.endswith(_LIGHT_NAMES) and not head.startswith(_HEAVY_MAGIC) and b"%PDF-" not in data[:1024]


def _set_pending(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def read_isolated(data: bytes, filename: str, *, timeout: float = 60.0, max_chars: int = 500_000,
                  memory_bytes: int = DEFAULT_MEMORY_BYTES, cpu_seconds: float = DEFAULT_CPU_SECONDS,
                  reader: str = DEFAULT_READER) -> Document:
    """One file read in a fresh bounded worker, for the CLI (no event loop running)."""
    with Extractor(1, memory_bytes=memory_bytes, cpu_seconds=cpu_seconds, reader=reader) as extractor:
        return asyncio.run(extractor.read(data, filename, timeout=timeout, max_chars=max_chars))
