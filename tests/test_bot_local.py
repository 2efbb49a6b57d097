"""Local mode: `python -m bot` without BOT_TOKEN, driven through a pipe (stdin is not a TTY)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.bot_harness import seed_text

ROOT = Path(__file__).resolve().parent.parent


def run_local(tmp_path: Path, stdin: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost", BOT_MERGE_WINDOW="0.3", **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "bot"], input=stdin, cwd=tmp_path, env=env, capture_output=True,
        text=True, encoding="utf-8", timeout=120,
    )


def test_local_mode_over_a_pipe(tmp_path: Path) -> None:
    report_file = tmp_path / "bao_cao.txt"
    report_file.write_text(seed_text(3), encoding="utf-8")
    script = f"/help\n{seed_text(0)}\n/latest\n!1\n{report_file}\n/report 99\n/khong_co\n"
    proc = run_local(tmp_path, script)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Chế độ thử cục bộ" in out
    assert "/search <từ khóa>" in out  # /help, HTML rendered readably (escaped <> restored)
    assert "/approve" in out  # the local user is an admin
    for heading in ("Kết quả nổi bật", "Hạn chế, tồn tại", "Nhiệm vụ thời gian tới"):
        assert out.count(heading) >= 3  # pasted report, !1 on /latest, the file
    assert "[1] 📄 Tóm tắt đầy đủ  [2] 📊 Số liệu" in out  # the brief's buttons (issue 12)
    assert "[3] 📜 Văn bản gốc  [4] 📝 Word  [5] 🗑 Xóa" in out
    assert "1 báo cáo mới nhất" in out and "[1] #1" in out  # the many pasted lines made one report
    assert "«bao_cao.txt»" in out
    assert "Không tìm thấy báo cáo #99." in out
    assert "Gõ /help" in out
    assert "<b>" not in out and "&lt;" not in out
    assert out.rstrip().endswith("Tạm biệt!")
    assert (tmp_path / "data" / "local.sqlite3").exists()


def test_local_mode_uses_bot_database_and_empty_input(tmp_path: Path) -> None:
    database = tmp_path / "khac.sqlite3"
    proc = run_local(tmp_path, "", BOT_DATABASE=str(database))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert str(database) in proc.stdout and "Tạm biệt!" in proc.stdout
    assert database.exists() and not (tmp_path / "data" / "local.sqlite3").exists()


def test_local_mode_saves_the_digest_chart_and_prints_its_path_in_place(tmp_path: Path) -> None:
    """A terminal shows no picture: the chart goes to data/charts/….png and its path is printed
    right after the digest's text, before the answer to the next command (the chart is sent after
    the paced text messages, so a chat that stopped at the first quiet spell printed it late)."""
    from tests.chart_dump import dump
    from tests.test_digest_chart import BINH_GIANG, BUDGET_9M, GIA_LOC

    script = f"{GIA_LOC}\n/latest\n{BINH_GIANG}\n/digest\n/report 99\n"
    proc = run_local(tmp_path, script)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"Biểu đồ — đã lưu tại (data/charts/\S+\.png)", out)
    assert match, out[-3000:]
    chart = tmp_path / match.group(1)
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and chart.stat().st_size > 5000
    digest_at = out.index("Đã nhận 2 báo cáo từ 2 đơn vị")
    assert digest_at < match.start() < out.index("Không tìm thấy báo cáo #99.")
    assert BUDGET_9M in out[match.start() :]  # the caption under the path
    dump(chart.read_bytes(), "local-mode-chart")
