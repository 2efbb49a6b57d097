"""The compiled summariser (mypyc, setup.py) and its Python sources give the same summaries, and a
stale or broken build falls back to the sources instead of running old code."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import summariser
from summariser import _native, summarise

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "seeds").glob("*.txt")) + sorted((ROOT / "tests" / "fixtures" / "summariser").rglob("*.txt"))

_DUMP = """
import json, sys
from pathlib import Path
import summariser
out = {"runs_from": summariser.RUNS_FROM}
for name in sys.argv[1:]:
    text = Path(name).read_text(encoding="utf-8")
    for variant, body in (("as is", text), ("flat", text.replace("\\n", " "))):
        out[f"{name} {variant}"] = summariser.summarise(body).model_dump(mode="json")
print(json.dumps(out, ensure_ascii=False))
"""


def _summaries(pure: bool) -> dict:
    env = {**os.environ, "HOINGHI_PURE": "1" if pure else "0"}
    done = subprocess.run([sys.executable, "-c", _DUMP, *map(str, CORPUS)], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(summariser.RUNS_FROM != "compiled", reason="the summariser is not compiled in this install")
def test_compiled_and_source_summaries_are_identical() -> None:
    compiled, source = _summaries(pure=False), _summaries(pure=True)
    assert (compiled.pop("runs_from"), source.pop("runs_from")) == ("compiled", "source")
    assert len(compiled) == 2 * len(CORPUS) >= 20
    for key, summary in source.items():
        assert compiled[key] == summary, key


def test_pure_python_is_used_on_request() -> None:
    assert _summaries(pure=True)["runs_from"] == "source"
    assert summarise("").results == []  # (this process: whichever copy, it runs)


def _fake_build(package: Path, *, recorded: str) -> Path:
    """A package folder with fastre.py, an extension for it, and the record of what was compiled."""
    (package / "fastre.py").write_text("# source\n")
    ext = package / f"fastre{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    ext.write_bytes(b"\x7fELF")
    digest = hashlib.sha256(recorded.encode()).hexdigest()
    (package / "_compiled_sources.json").write_text(json.dumps({"fastre": digest}))
    return ext


def test_extension_compiled_from_another_source_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOINGHI_PURE", raising=False)
    monkeypatch.setattr(_native, "_PACKAGE", tmp_path)
    ext = _fake_build(tmp_path, recorded="# the source before an edit\n")
    assert _native.compiled_modules() == {"fastre": ext}
    reason = _native._why_not_compiled(_native.compiled_modules())
    assert reason and "fastre" in reason and "other versions" in reason
    (tmp_path / "_compiled_sources.json").unlink()  # no record at all: not trusted either
    assert "fastre" in (_native._why_not_compiled(_native.compiled_modules()) or "")


def test_matching_extension_without_its_shared_library_is_not_used(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOINGHI_PURE", raising=False)
    monkeypatch.setattr(_native, "_PACKAGE", tmp_path)
    monkeypatch.setattr(_native, "_GROUP", "no_such_group__mypyc")
    _fake_build(tmp_path, recorded="# source\n")
    reason = _native._why_not_compiled(_native.compiled_modules())
    assert reason and "does not load" in reason


def test_sources_first_finder_serves_the_python_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_native, "_PACKAGE", tmp_path)
    _fake_build(tmp_path, recorded="# source\n")
    finder = _native._SourcesFirst({"fastre"})
    spec = finder.find_spec("summariser.fastre")
    assert spec is not None and spec.origin == str(tmp_path / "fastre.py")
    assert finder.find_spec("summariser.models") is None
    assert finder.find_spec("other.fastre") is None
