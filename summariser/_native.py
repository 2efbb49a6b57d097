"""Which copy of the summariser runs: the mypyc-compiled modules or their Python sources.

setup.py compiles the per-report modules to C extensions beside their sources and records the
sha256 of each source it compiled (`_compiled_sources.json`). Python loads an extension in preference
to its source even after the source was edited, so the sources run instead when any source differs
from the one compiled, when the compiled group does not load, or when HOINGHI_PURE=1. Always all or nothing: compiled modules call each other directly in C.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

_PACKAGE = Path(__file__).resolve().parent
_GROUP = "summariser__mypyc"  # the shared library setup.py's `group_name` makes


def compiled_modules() -> dict[str, Path]:
    """Module name -> extension file, for the modules of this package that have one."""
    found: dict[str, Path] = {}
    for path in _PACKAGE.iterdir():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:  # (the longest first: ".cpython-311-…so")
            if path.name.endswith(suffix):
                found[path.name[: -len(suffix)]] = path
                break
    return found


class _SourcesFirst(importlib.abc.MetaPathFinder):
    """Finds `summariser.<name>` in `<name>.py` for the modules that also have an extension."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __package__ or name not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, _PACKAGE / f"{name}.py")


def compiled_sources() -> dict[str, str]:
    """Module name -> sha256 of the source the build compiled (empty when no build recorded it)."""
    try:
        recorded = json.loads((_PACKAGE / "_compiled_sources.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _digest(name: str) -> str | None:
    path = _PACKAGE / f"{name}.py"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _why_not_compiled(modules: dict[str, Path]) -> str | None:
    if os.environ.get("HOINGHI_PURE") == "1":
        return ""  # asked for: no warning
    recorded = compiled_sources()
    stale = sorted(name for name in modules if _digest(name) != recorded.get(name))
    if stale:
        return f"compiled from other versions of the sources ({', '.join(stale)}); rebuild with `make`"
    try:
        importlib.import_module(_GROUP)
    except ImportError as exc:
        return f"compiled summariser does not load ({exc})"
    return None


def choose() -> str:
    """'compiled' when the extensions are used, else 'source' (the finder then serves the sources)."""
    modules = compiled_modules()
    if not modules:
        return "source"
    reason = _why_not_compiled(modules)
    if reason is None:
        return "compiled"
    if reason:
        warnings.warn(f"summariser runs from its Python sources: {reason}", RuntimeWarning, stacklevel=2)
    if not any(isinstance(f, _SourcesFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourcesFirst(set(modules)))
    return "source"
