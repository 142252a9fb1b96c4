"""The commands people type: help, exit codes, JSON output, one-line errors."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import numpy as np

from voicebot.audio import SAMPLE_RATE, read_audio
from voicebot.cli import main

from conftest import ROOT, customer_wav

KB = str(ROOT / "scripts_kb")


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "voicebot", "--help"], capture_output=True, text=True).stdout
    for command in ["kb", "match", "transcribe", "say", "devices", "models", "simulate", "demo", "call", "chat",
                    "report", "drill", "progress"]:
        assert f"  {command}" in out
    assert "exit codes" in out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_transcribe_json_with_whisper(capsys):
    assert main(["transcribe", "--json", "--asr", "whisper", str(customer_wav("recording.wav"))]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "录" in result["text"] or "錄" in result["text"]
    assert result["engine"] == "whisper" and result["words"] and 0 < result["confidence"] <= 1


def test_transcribe_missing_model_path_is_one_line(tmp_path, capsys):
    code = main(["transcribe", "--asr", "vosk", "--model", str(tmp_path / "nomodel"), str(customer_wav("recording.wav"))])
    err = capsys.readouterr().err.strip()
    assert code == 5 and "\n" not in err and "models download" in err


def test_say_writes_a_wav_and_keeps_stdout_clean(tmp_path, capfd):
    out = tmp_path / "line.wav"
    assert main(["say", "-o", str(out), "是有录音的"]) == 0
    printed = capfd.readouterr().out
    assert "Audio saved" not in printed
    samples = read_audio(out)
    assert 0.5 < len(samples) / SAMPLE_RATE < 10 and np.abs(samples).max() > 0.05


def test_devices_and_live_call_without_a_sound_card(capsys):
    code = main(["devices"])
    text = capsys.readouterr()
    assert code in (0, 4)
    if code == 4:
        assert "simulate" in text.out + text.err
        code = main(["--kb", KB, "call"])
        err = capsys.readouterr().err.strip()
        assert code == 4 and "\n" not in err and "simulate" in err and "chat" in err


def test_models_list(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "small-cn" in out and "whisper-base" in out


def test_chat_runs_a_typed_call(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("你们这个通话有录音吗\n\n\n\n"))
    assert main(["--kb", KB, "chat", "--json", "--out", str(tmp_path)]) == 0
    events = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [e["entry"] for e in events if e["type"] == "heard"] == ["q24_recording"]
    assert [e["reason"] for e in events if e["type"] == "say"][-3:] == ["no_response"] * 3
    assert events[-1] == events[-1] | {"type": "hangup", "reason": "no_response"}
    folder = next(tmp_path.iterdir())
    assert (folder / "events.jsonl").read_text(encoding="utf-8").count("\n") == len(events)


def test_chat_second_visit(tmp_path, monkeypatch, capsys, book):
    monkeypatch.setattr("sys.stdin", io.StringIO("是我\n"))
    assert main(["--kb", KB, "chat", "--json", "--second-visit", "--out", str(tmp_path)]) == 0
    says = [json.loads(l)["text"] for l in capsys.readouterr().out.splitlines() if '"say"' in l]
    sv = book.protocol("second_visit")
    assert says == [book.fill(sv["identity"]), book.fill(sv["apology_confirm"]), book.fill(sv["purpose"])]


def test_tuning_file_overrides_defaults_and_bad_keys_are_reported(tmp_path, capsys):
    from voicebot import kb
    from voicebot.dialog import Policy
    copy = tmp_path / "book"
    shutil.copytree(ROOT / "scripts_kb", copy)
    (copy / "tuning.yaml").write_text("policy:\n  no_input_timeout_s: 7\nmatcher:\n  nonsense: 1\n", encoding="utf-8")
    book = kb.load(copy)
    assert Policy(book).options.no_input_timeout_s == 7
    assert main(["--kb", str(copy), "kb", "check"]) == 6
    assert f"{copy / 'tuning.yaml'}:4: matcher: unknown setting 'nonsense'" in capsys.readouterr().out
