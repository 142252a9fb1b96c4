"""The commands people type: help, exit codes, JSON output, one-line errors."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

from voicebot import kb
from voicebot.audio import SAMPLE_RATE, read_audio
from voicebot.cli import main
from voicebot.record import read_events
from voicebot.text import to_simplified

from helpers import FIXTURE_BOOK, FIXTURE_KB, customer_wav, fake_sound_card, heard_events, say_events


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "voicebot", "--help"], capture_output=True, text=True).stdout
    for command in ["kb", "match", "transcribe", "say", "devices", "models", "simulate", "demo", "call", "chat",
                    "report", "drill", "progress"]:
        assert f"  {command}" in out
    assert "exit codes" in out


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


@pytest.mark.engine
def test_transcribe_json_with_whisper(capsys):
    assert main(["transcribe", "--json", "--asr", "whisper", str(customer_wav("recording.wav"))]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "录" in to_simplified(result["text"])
    assert result["engine"] == "whisper" and result["words"] and 0 < result["confidence"] <= 1


def test_transcribe_missing_model_path_is_one_line(tmp_path, capsys):
    code = main(["transcribe", "--asr", "vosk", "--model", str(tmp_path / "nomodel"), str(customer_wav("recording.wav"))])
    err = capsys.readouterr().err.strip()
    assert code == 5 and "\n" not in err and "models download" in err


@pytest.mark.engine
def test_say_writes_a_wav_and_keeps_stdout_clean(tmp_path, capfd):
    out = tmp_path / "line.wav"
    assert main(["say", "-o", str(out), "是有录音的"]) == 0
    printed = capfd.readouterr().out
    assert "Audio saved" not in printed
    samples = read_audio(out)
    assert 0.5 < len(samples) / SAMPLE_RATE < 10 and np.abs(samples).max() > 0.05


# These machines have no sound card, so a fake PortAudio device (helpers.FakeSoundDevice, in place
# of the sounddevice module) is the only way to run the live paths here; with it the tests below run
# the same on a machine with a sound card and on one without.

def test_devices_and_live_call_without_a_sound_card(monkeypatch, capsys):
    """No device at all (a fake PortAudio that lists none): `devices` and `call` say what to use instead."""
    fake_sound_card(monkeypatch, mic_rate=None, speaker_rate=None)
    assert main(["devices"]) == 4
    text = capsys.readouterr()
    assert "no audio devices found" in text.out and "simulate" in text.out and "chat" in text.out
    assert main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--kb", FIXTURE_KB, "call"]) == 4
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no microphone or speaker" in err and "simulate" in err and "chat" in err


def test_live_call_needs_both_a_microphone_and_a_speaker(monkeypatch, tmp_path, capsys):
    """A speaker but no microphone (fake devices): `call` fails in one line before loading anything."""
    fake_sound_card(monkeypatch, mic_rate=None)
    assert main(["--kb", FIXTURE_KB, "call", "--out", str(tmp_path)]) == 4
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "simulate" in err
    assert list(tmp_path.iterdir()) == []


def test_devices_lists_the_microphone_and_speaker(monkeypatch, capsys):
    """A machine with a sound card, faked: both devices are listed, the defaults marked."""
    fake_sound_card(monkeypatch, mic_rate=16000, speaker_rate=48000)
    assert main(["devices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["*  0  Fake USB Microphone  in:1 out:0  16000 Hz", "*  1  Fake Speaker  in:0 out:2  48000 Hz"]
    assert main(["devices", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["is_default_in"], d["is_default_out"]) for d in listed] == [
        ("Fake USB Microphone", True, False), ("Fake Speaker", False, True)]


FIXTURE = kb.load(FIXTURE_KB)
HEAR_ME = FIXTURE.fill(FIXTURE.protocols.no_response.prompt)
"""The fixture book's no-response prompt."""


@pytest.mark.engine
def test_live_call_on_a_fake_microphone_and_speaker(monkeypatch, tmp_path, capsys):
    """`voicebot call` end to end, live. These machines have no sound card, so a fake device is the
    only way to run the live path here: PortAudio's device list and streams are faked
    (helpers.FakeSoundDevice); MicSource, SpeakerSink, the runner, whisper, espeak-ng and the call
    record are the real ones. The microphone hears a customer recording (in real time) after the
    greeting, then silence; with --timeout 1 the no-response protocol ends the call. The fake
    microphone goes quiet after 90 s of line, so a call that never ends fails instead of hanging."""
    card = fake_sound_card(monkeypatch, line=read_audio(customer_wav("recording.wav")), line_after_bot=True,
                           line_max_s=90)
    started = time.monotonic()
    code = main(["--kb", FIXTURE_KB, "call", "--asr", "whisper", "--timeout", "1", "--no-barge-in", "--out", str(tmp_path)])
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    assert code == 0, out.err
    assert elapsed < 90
    folder = next(tmp_path.iterdir())
    assert f"live call, record in {folder}" in out.out
    events = read_events(folder)
    spoken = say_events(events)
    # The bot greeted, heard the question, answered it, asked twice whether the line works, hung up.
    assert spoken[0]["reason"] == "opening" and spoken[0]["t"] == 0.0
    assert [h["entry"] for h in heard_events(events)] == ["recording"]
    assert spoken[1]["entry"] == "recording" and spoken[1]["t"] == heard_events(events)[0]["t"]
    assert [e["text"] for e in spoken[2:4]] == [HEAR_ME, HEAR_ME] and len(spoken) == 5
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == "no_response"
    # Every line went to the speaker, at 16 kHz, as long as the record says.
    assert [rate for _, rate in card.played] == [SAMPLE_RATE] * len(spoken)
    assert [round(len(x) / SAMPLE_RATE, 2) for x, _ in card.played] == [e["duration_s"] for e in spoken]
    # The recording holds both voices: everything the bot played and what the microphone heard.
    recording = read_audio(folder / "recording.wav")
    assert len(recording) >= sum(len(x) for x, _ in card.played) + len(read_audio(customer_wav("recording.wav")))
    assert card.input_streams[0].closed


def test_models_list(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "small-cn" in out and "whisper-base" in out


def test_chat_runs_a_typed_call(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("你们这个通话有录音吗\n\n\n\n"))
    assert main(["--kb", FIXTURE_KB, "chat", "--json", "--out", str(tmp_path)]) == 0
    events = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [e["entry"] for e in events if e["type"] == "heard"] == ["recording"]
    assert [e["reason"] for e in events if e["type"] == "say"][-3:] == ["no_response"] * 3
    assert events[-1] == events[-1] | {"type": "hangup", "reason": "no_response"}
    folder = next(tmp_path.iterdir())
    assert (folder / "events.jsonl").read_text(encoding="utf-8").count("\n") == len(events)


def test_chat_second_visit(tmp_path, monkeypatch, capsys, fixture_book):
    monkeypatch.setattr("sys.stdin", io.StringIO("是我\n"))
    assert main(["--kb", FIXTURE_KB, "chat", "--json", "--second-visit", "--out", str(tmp_path)]) == 0
    says = [json.loads(l)["text"] for l in capsys.readouterr().out.splitlines() if '"say"' in l]
    sv = fixture_book.protocol("second_visit")
    assert says == [fixture_book.fill(sv["identity"]), fixture_book.fill(sv["apology_confirm"]),
                    fixture_book.fill(sv["purpose"])]


def test_tuning_file_overrides_defaults_and_bad_keys_are_reported(tmp_path, capsys):
    from voicebot.dialog import Policy
    copy = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, copy)
    (copy / "tuning.yaml").write_text("policy:\n  no_input_timeout_s: 7\nmatcher:\n  nonsense: 1\n", encoding="utf-8")
    book = kb.load(copy)
    assert Policy(book).options.no_input_timeout_s == 7
    assert main(["--kb", str(copy), "kb", "check"]) == 6
    assert f"{copy / 'tuning.yaml'}:4: matcher: unknown setting 'nonsense'" in capsys.readouterr().out


@pytest.mark.engine
@pytest.mark.book
def test_demo_is_a_whole_call_answered_by_the_kokoro_voice(tmp_path):
    """The README's first command: the shipped customer WAVs through whisper, the shipped book and
    the Kokoro voice; the call is recorded with both voices and ends as the book says (问题28, insist)."""
    env = {k: v for k, v in os.environ.items() if k != "VOICEBOT_TTS"}  # as a user runs it: auto
    run = subprocess.run([sys.executable, "-m", "voicebot", "demo", "--no-play", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "speaking with kokoro (zf_xiaoyi" in run.stdout
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    heard = [e["entry"] for e in events if e["type"] == "heard"]
    assert heard[:2] == ["q24_recording", "q28_complain_agent"]
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == "escalated"
    with wave.open(str(folder / "recording.wav")) as w:
        seconds = w.getnframes() / w.getframerate()
    last_say = max(e["t"] + e["duration_s"] for e in events if e["type"] == "say")
    assert seconds >= last_say - 0.05
