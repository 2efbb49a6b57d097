"""CLI: readable Vietnamese by default, JSON per file, exit code 2 with one bilingual line on refusal."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from summariser import cli

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_module_entry_point_prints_json_for_a_seed():
    proc = subprocess.run([sys.executable, "-m", "summariser", "--json", str(SEEDS[0])],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["unit"] == "huyện Gia Lộc" and data["date"] == "2023-10-05"
    assert data["results"] and data["tasks"] and data["figures"]


def test_several_files_give_one_json_object_per_line(capsys):
    assert cli.main(["--json", *map(str, SEEDS[:3])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert [json.loads(ln)["period"] for ln in lines] == ["9 tháng đầu năm 2023", "9 tháng đầu năm 2023", "năm 2023"]


def test_default_output_is_readable_vietnamese(capsys):
    assert cli.main([str(SEEDS[3])]) == 0
    out = capsys.readouterr().out
    for heading in ("KẾT QUẢ ĐẠT ĐƯỢC", "HẠN CHẾ, TỒN TẠI", "NHIỆM VỤ THỜI GIAN TỚI", "Đơn vị: huyện Lạng Giang",
                    "Ngày: 18/07/2024", "Lưu ý: Báo cáo không nêu hạn chế, tồn tại."):
        assert heading in out
    assert "{" not in out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "trống"),
        (b"   \n\n", "trống"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "nhị phân"),
        ("Báo cáo kết quả thực hiện nhiệm vụ".encode("utf-16"), "nhị phân"),
        ("Hội nghị Ban Chấp hành Đảng bộ huyện lần thứ 15".encode() + b" \xe0\xe1\xff k\xea\xf4t qu\xe3", "UTF-8"),
        ("Chào anh, em gửi báo cáo sau nhé!".encode(), "quá ngắn"),
    ],
)
def test_refused_input_exits_2_with_one_bilingual_line(tmp_path, capsys, content, needle):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    assert cli.main([str(path)]) == 2
    captured = capsys.readouterr()
    line = _one_line(captured.err)
    assert needle in line and " / " in line
    assert captured.out == ""


def test_a_refused_file_does_not_stop_the_others(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert cli.main(["--json", str(SEEDS[1]), str(empty), str(SEEDS[2])]) == 2
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert "empty.txt" in _one_line(captured.err)


def test_missing_file_exits_2(capsys):
    assert cli.main(["/nonexistent/report.txt"]) == 2
    assert "report.txt" in _one_line(capsys.readouterr().err)


def test_engine_that_cannot_load_exits_2(monkeypatch, capsys):
    def broken(name: str, **options: object):
        raise ImportError("No module named 'torch'")

    monkeypatch.setattr(cli, "get_engine", broken)
    assert cli.main(["--engine", "transformers", str(SEEDS[0])]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "transformers" in line and "torch" in line and "Không tải được" in line


def test_unknown_engine_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--engine", "nope", str(SEEDS[0])])
    assert exc.value.code == 2
