"""Build hook: compile the extractive summariser to C with mypyc (metadata lives in pyproject.toml).

The summariser is plain typed Python; mypyc turns its modules into C extensions that run the same
code about 1.4x faster (bench/summariser.py). The Python sources stay the reference: with
HOINGHI_PURE=1, or when mypyc is missing or fails, the package installs as pure Python, and
`summariser/__init__.py` falls back to the sources when the compiled modules are older than them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup

# The modules on the per-report path (the neural engine, CLI and models are not compiled).
COMPILED = [
    "boilerplate", "compress", "cues", "fastre", "figures", "metadata", "normalise", "pipeline",
    "sections", "segment", "validate",
]


def record_sources() -> None:
    """Write the sha256 of each source being compiled: `summariser._native` runs the sources instead
    of extensions built from other versions of them (an edit, a checkout) without trusting mtimes.

    Extensions of an earlier build in the tree are removed first: if this build fails, the sources
    run rather than old extensions under the new record."""
    for old in [*Path("summariser").glob("*.so"), *Path(".").glob("summariser__mypyc*.so")]:
        old.unlink()
    digests = {name: hashlib.sha256(Path(f"summariser/{name}.py").read_bytes()).hexdigest() for name in COMPILED}
    Path("summariser/_compiled_sources.json").write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")


def extensions() -> list:
    if os.environ.get("HOINGHI_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        print(f"mypyc not available ({exc}): installing the summariser as pure Python", file=sys.stderr)
        return []
    # (pydantic is not in the build environment: its types count as Any here)
    options = ["--ignore-missing-imports"]
    try:
        record_sources()
        return mypycify(options + [f"summariser/{name}.py" for name in COMPILED], opt_level="3",
                        group_name="summariser")
    except (Exception, SystemExit) as exc:  # mypy reports type errors by exiting
        print(f"mypyc failed ({exc!r}): installing the summariser as pure Python", file=sys.stderr)
        return []


setup(ext_modules=extensions())
