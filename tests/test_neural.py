"""The transformers engine: real offline loading/generation on a tiny random model, and validation.

A random model writes garbage, so the real generate path shows validation and fallback; stub
generators show a valid rewrite accepted (and bad ones rejected) through the same path.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
spm = pytest.importorskip("sentencepiece")

import summariser  # noqa: E402
from summariser import neural  # noqa: E402
from summariser.engines import get_engine  # noqa: E402
from summariser.models import SECTIONS, Figure, Item, Span, Summary  # noqa: E402
from summariser.neural import ModelLoadError, TransformersEngine, chunk_text  # noqa: E402
from summariser.neural_checks import check_output, numbers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
CONTEXT = 48  # tiny T5 context: seed sentences are longer, so chunking is exercised

REPORT = (
    "Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 15.\n"
    "Tổng thu ngân sách trên địa bàn ước đạt 8.458.730 triệu đồng, bằng 77,9% dự toán năm.\n"
    "Tiến độ giải phóng mặt bằng một số dự án còn chậm, chưa đáp ứng yêu cầu đề ra.\n"
    "Tập trung chỉ đạo hoàn thành 13/18 nhiệm vụ trọng tâm còn lại trong quý IV năm 2023.\n"
)
RESULT, SHORTCOMING, TASK = REPORT.splitlines()[1:4]
GOOD = {
    RESULT: "Thu ngân sách ước đạt 8.458.730 triệu đồng, bằng 77,9% dự toán",
    SHORTCOMING: "Giải phóng mặt bằng còn chậm, chưa đáp ứng yêu cầu",
    TASK: "Hoàn thành 13/18 nhiệm vụ trọng tâm trong quý IV năm 2023",
}


def _item(text: str, sentence: str) -> Item:
    start = text.index(sentence)
    return Item(text=sentence, source=[Span(start=start, end=start + len(sentence))])


def fake_extractive(text: str, title: str | None = None) -> Summary:
    """Stand-in for the extractive pipeline (rewritten concurrently): report sentences as items."""
    clean = summariser.clean_text(text)
    sentences = [s.strip() for s in re.split(r"(?<=[.;…])\s+|\n+", clean) if len(s.strip()) > 20]
    shortcoming = re.compile(r"chậm|chưa|hạn chế|khó khăn")
    results = [s for s in sentences if re.search(r"\d", s) and re.search(r"đạt|tăng|bằng", s)]
    results = [s for s in results if not shortcoming.search(s)][:6]
    shortcomings = [s for s in sentences if shortcoming.search(s)][:4]
    tasks = [s for s in sentences if re.search(r"[Tt]ập trung|[Tt]iếp tục", s) and s not in results][:4]
    figure = next(iter(numbers(clean)), None)
    return Summary(
        title=title,
        results=[_item(clean, s) for s in results],
        shortcomings=[_item(clean, s) for s in shortcomings],
        tasks=[_item(clean, s) for s in tasks],
        figures=[Figure(text=figure)] if figure else [],
        warnings=["cảnh báo của bản trích xuất"],
    )


@pytest.fixture
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neural, "_extractive", fake_extractive)


def _sp_vocab() -> list[tuple[str, float]]:
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in SEEDS)
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus.splitlines()),
        model_writer=buf,
        vocab_size=400,
        hard_vocab_limit=False,
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny random T5 (seq2seq) and GPT-2 (decoder-only) saved with a seed-trained tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, T5Config, T5ForConditionalGeneration, T5Tokenizer

    vocab = _sp_vocab()
    torch.manual_seed(0)
    t5_dir = tmp_path_factory.mktemp("tiny-t5")
    tok = T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=CONTEXT)
    config = T5Config(
        vocab_size=len(tok), d_model=64, d_ff=128, d_kv=16, num_layers=2, num_decoder_layers=2,
        num_heads=4, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.pad_token_id,
    )  # fmt: skip
    T5ForConditionalGeneration(config).save_pretrained(t5_dir)
    tok.save_pretrained(t5_dir)

    gpt_dir = tmp_path_factory.mktemp("tiny-gpt")
    tok = T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=256)
    config = GPT2Config(
        vocab_size=len(tok), n_embd=64, n_layer=2, n_head=2, n_positions=256,
        bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(gpt_dir)
    tok.save_pretrained(gpt_dir)
    return {"t5": t5_dir, "gpt": gpt_dir}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _items(summary: Summary) -> list[Item]:
    return [i for s in SECTIONS for i in summary.section(s)]


def _assert_no_foreign_numbers(summary: Summary, text: str) -> None:
    allowed = set(numbers(summariser.clean_text(text)))
    for item in _items(summary):
        assert set(numbers(item.text)) <= allowed, item.text


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        ("", "empty"),
        ("  ... ;", "empty"),
        ("Thu ngân sách ước đạt 9.458.730 triệu đồng", "number"),
        ("Thu ngân sách ước đạt 8.458.730 triệu đồng, bằng 78% dự toán", "number"),
        ("Thu ngân sách ước đạt 8458730 triệu đồng", "number"),  # not as written
        ("Thu ngân sách ngân sách ngân sách ngân sách đạt", "repetition"),
        ("đạt đạt đạt 8.458.730 triệu đồng", "repetition"),
        ("Budget revenue reached 8.458.730 million dong", "not_vietnamese"),
        ("Тổng thu ngân sách đạt 8.458.730 триệu đồng", "not_vietnamese"),
        (RESULT + " và vượt kế hoạch", "too_long"),
        ("Thu ngân sách tỉnh vượt xa mọi kỳ vọng của nhân dân", "unfaithful"),
    ],
)
def test_check_output_rejects(candidate: str, reason: str) -> None:
    assert check_output(candidate, RESULT, REPORT) == reason


def test_check_output_rejects_dropped_negation_and_accepts_faithful_condensations() -> None:
    assert check_output("Giải phóng mặt bằng đáp ứng yêu cầu", SHORTCOMING, REPORT) == "negation"
    for original, good in GOOD.items():
        assert check_output(good, original, REPORT) is None, good
    # a number from elsewhere in the report is still misattributed to this item
    assert check_output("Thu ngân sách đạt 13/18 dự toán", RESULT, REPORT) == "number"


def test_chunk_text_respects_budget_and_keeps_every_word() -> None:
    text = " ".join(f"ý thứ {i} về công tác giải phóng mặt bằng, xây dựng Đảng." for i in range(40))
    count = lambda s: len(s.split())  # noqa: E731
    chunks = chunk_text(text, 25, count)
    assert len(chunks) > 1
    assert all(count(c) <= 25 for c in chunks)
    assert " ".join(chunks).split() == text.split()


# ----------------------------------------------------------------------------- stub generators


def test_valid_stub_output_is_used(fake_pipeline: None) -> None:
    seen: list[list[str]] = []

    def gen(chunks: list[str]) -> list[str]:
        seen.append(chunks)
        return [GOOD[c] for c in chunks]

    engine = TransformersEngine("stub-model", generator=gen)
    base = fake_extractive(REPORT)
    summary = engine.summarise(REPORT, title="Hội nghị")
    assert seen == [[RESULT, SHORTCOMING, TASK]]  # one batch, section order
    assert [i.text for i in _items(summary)] == [GOOD[RESULT], GOOD[SHORTCOMING], GOOD[TASK]]
    assert {i.engine for i in _items(summary)} == {"transformers"}
    assert [i.source for i in _items(summary)] == [i.source for i in _items(base)]
    assert summary.engine == "transformers"
    assert summary.engine_version == f"{neural.__version__}+stub-model"
    assert summary.figures == base.figures and summary.title == "Hội nghị"
    assert summary.warnings == base.warnings  # no fallback warning


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("Thu ngân sách ước đạt 9.000.000 triệu đồng", "number"),
        ("", "empty"),
        ("thu thu thu ngân sách 8.458.730 triệu đồng", "repetition"),
        ("Budget revenue reached 8.458.730 million dong", "not_vietnamese"),
    ],
)
def test_bad_stub_output_is_replaced_by_the_extractive_item(
    fake_pipeline: None, bad: str, reason: str
) -> None:
    engine = TransformersEngine(
        "stub-model", generator=lambda cs: [bad if c == RESULT else GOOD[c] for c in cs]
    )
    summary, reasons = engine.summarise_explained(REPORT)
    assert reasons == [reason, None, None]
    assert summary.results == [fake_extractive(REPORT).results[0]]  # extractive wording, spans kept
    assert summary.results[0].engine == "extractive"
    assert [i.engine for i in summary.shortcomings + summary.tasks] == ["transformers", "transformers"]
    assert not any("Mô hình" in w for w in summary.warnings)  # partial fallback: no report warning


def test_all_rejected_adds_a_vietnamese_warning(fake_pipeline: None) -> None:
    engine = TransformersEngine("stub-model", generator=lambda cs: ["the the the"] * len(cs))
    summary = engine.summarise(REPORT)
    assert [i.text for i in _items(summary)] == [RESULT, SHORTCOMING, TASK]
    assert {i.engine for i in _items(summary)} == {"extractive"}
    assert summary.warnings[0] == "cảnh báo của bản trích xuất"
    assert "Mô hình" in summary.warnings[-1] and "trích nguyên văn" in summary.warnings[-1]


def test_slow_generation_times_out_to_the_extractive_summary(fake_pipeline: None) -> None:
    def slow(chunks: list[str]) -> list[str]:
        time.sleep(1.5)
        return [GOOD[c] for c in chunks]

    engine = TransformersEngine("stub-model", timeout=0.2, generator=slow)
    started = time.monotonic()
    summary = engine.summarise(REPORT)
    assert time.monotonic() - started < 1.0
    assert [i.text for i in _items(summary)] == [RESULT, SHORTCOMING, TASK]
    assert {i.engine for i in _items(summary)} == {"extractive"}
    assert "0.2 giây" in summary.warnings[-1]


def test_generator_failure_falls_back_with_warning(fake_pipeline: None) -> None:
    engine = TransformersEngine("stub-model", generator=lambda cs: cs[:-1])  # wrong count
    summary = engine.summarise(REPORT)
    assert {i.engine for i in _items(summary)} == {"extractive"}
    assert "lỗi" in summary.warnings[-1]


async def test_asummarise_runs_off_the_loop(fake_pipeline: None) -> None:
    import threading

    threads: list[str] = []

    def gen(chunks: list[str]) -> list[str]:
        threads.append(threading.current_thread().name)
        return [GOOD[c] for c in chunks]

    engine = TransformersEngine("stub-model", generator=gen)
    summary = await engine.asummarise(REPORT)
    assert threads == ["neural-generate"]
    assert [i.text for i in summary.results] == [GOOD[RESULT]]


# ----------------------------------------------------------------------------- real model path


def test_random_t5_output_is_rejected_everywhere(models: dict[str, Path], fake_pipeline: None) -> None:
    engine = TransformersEngine(models["t5"], max_new_tokens=16, batch_size=4)
    text = SEEDS[1].read_text(encoding="utf-8")
    base = fake_extractive(text)
    summary, reasons = engine.summarise_explained(text)
    assert len(reasons) == len(_items(base)) >= 5
    assert all(r is not None for r in reasons)
    assert _items(summary) == _items(base)  # extractive text and spans, engine "extractive"
    assert {i.engine for i in _items(summary)} == {"extractive"}
    assert summary.engine == "transformers" and summary.engine_version.endswith(models["t5"].name)
    assert "Mô hình" in summary.warnings[-1]
    _assert_no_foreign_numbers(summary, text)


def test_long_items_are_chunked_to_the_model_context(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = TransformersEngine(models["t5"], max_new_tokens=8)
    engine.load()
    long_item = " ".join(SEEDS[1].read_text(encoding="utf-8").split()[:400])
    chunks = engine.chunks(long_item)
    tok = engine._loaded.tokenizer  # type: ignore[union-attr]
    assert len(chunks) > 5
    assert all(len(tok(c).input_ids) <= CONTEXT for c in chunks)
    assert " ".join(chunks).split() == long_item.split()
    base = Summary(results=[Item(text=long_item)], tasks=[Item(text=chunks[0])])
    monkeypatch.setattr(neural, "_extractive", lambda text, title: base)
    summary, reasons = engine.summarise_explained(long_item)  # real generate over every chunk
    assert len(reasons) == 2 and all(r is not None for r in reasons)
    assert [i.text for i in _items(summary)] == [long_item, chunks[0]]
    _assert_no_foreign_numbers(summary, long_item)


def test_decoder_only_model_path(models: dict[str, Path], fake_pipeline: None) -> None:
    engine = TransformersEngine(models["gpt"], max_new_tokens=8, batch_size=2)
    summary, reasons = engine.summarise_explained(REPORT)
    assert engine._loaded is not None and not engine._loaded.seq2seq
    assert len(reasons) == 3 and all(r is not None for r in reasons)
    assert [i.text for i in _items(summary)] == [RESULT, SHORTCOMING, TASK]


def test_real_pipeline_fallback_equals_extractive_summary(models: dict[str, Path]) -> None:
    """Against the real extractive pipeline, whatever it currently returns."""
    engine = get_engine("transformers", model=models["t5"], device="cpu", max_new_tokens=8)
    assert isinstance(engine, TransformersEngine) and engine.name == "transformers"
    for path in SEEDS[:2]:
        text = path.read_text(encoding="utf-8")
        base = summariser.summarise(text, title="t")
        summary = engine.summarise(text, title="t")
        for section in SECTIONS:
            assert [i.text for i in summary.section(section)] == [i.text for i in base.section(section)]
            assert {i.engine for i in summary.section(section)} <= {"extractive"}
        assert summary.figures == base.figures
        assert (summary.unit, summary.date, summary.period, summary.title) == (
            base.unit, base.date, base.period, base.title,
        )  # fmt: skip
        assert summary.engine == "transformers"
        _assert_no_foreign_numbers(summary, text)


# ----------------------------------------------------------------------------- loading errors


def test_loading_errors_are_clean(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="model directory not found"):
        TransformersEngine(tmp_path / "missing")
    with pytest.raises(ValueError, match="needs a model"):
        get_engine("transformers", model="")
    with pytest.raises(ValueError, match="BOT_MODEL"):
        get_engine("transformers", device="cpu")  # how the bot calls it when BOT_MODEL is unset
    empty = TransformersEngine(tmp_path)
    with pytest.raises(ModelLoadError) as info:
        empty.summarise(REPORT)
    assert isinstance(info.value, RuntimeError) and "\n" not in str(info.value)
    offline_id = TransformersEngine("VietAI/no-such-model-here")  # offline: must not download
    with pytest.raises(ModelLoadError, match="cannot load model"):
        offline_id.load()
    with pytest.raises(ModelLoadError, match="device"):
        TransformersEngine(tmp_path, device="cuda").load()


def test_importing_summariser_does_not_import_torch() -> None:
    code = (
        "import sys, summariser, summariser.engines, summariser.neural, summariser.neural_checks; "
        "print('torch' in sys.modules or 'transformers' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_model_loads_once_across_threads(models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    calls: list[str] = []
    real_load = neural._load

    def counting_load(ref: str, device: str) -> object:
        calls.append(ref)
        time.sleep(0.1)  # widen the race window
        return real_load(ref, device)

    monkeypatch.setattr(neural, "_load", counting_load)
    engine = TransformersEngine(models["t5"])
    threads = [threading.Thread(target=engine.load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [str(models["t5"])]
    assert engine._loaded is not None


def test_timeout_stops_real_generation(models: dict[str, Path], fake_pipeline: None) -> None:
    """On timeout the running generate() is stopped, so the worker is free for the next report."""
    engine = TransformersEngine(models["t5"], timeout=0.3, max_new_tokens=5000, batch_size=1)
    engine.load()
    engine._loaded.model.generation_config.eos_token_id = None  # type: ignore[union-attr]  # never ends alone
    summary = engine.summarise(REPORT)
    assert {i.engine for i in _items(summary)} == {"extractive"}
    assert "0.3 giây" in summary.warnings[-1]
    started = time.monotonic()
    assert engine._worker.submit(lambda: "free").result(timeout=2) == "free"
    assert time.monotonic() - started < 1.0


def test_cli_runs_the_transformers_engine_on_a_local_model(
    models: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m summariser --engine transformers` takes the model from --model or $BOT_MODEL."""
    from summariser.cli import main

    seed = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))[0]
    monkeypatch.delenv("BOT_MODEL", raising=False)
    assert main(["--engine", "transformers", "--json", str(seed)]) == 2
    assert "BOT_MODEL" in capsys.readouterr().err

    monkeypatch.setenv("BOT_MODEL", str(models["t5"]))
    assert main(["--engine", "transformers", "--json", str(seed)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["engine"] == "transformers"
    source = seed.read_text(encoding="utf-8")
    shown = " ".join(i["text"] for s in ("results", "shortcomings", "tasks") for i in out[s])
    assert all(n in source for n in re.findall(r"\d+(?:[.,/]\d+)*", shown))
