"""A call interrupted from outside ends cleanly: the last event of its record is a `hangup` whose
reason says why, and the exit code is the documented one (130 Ctrl-C, 143 SIGTERM, 0 end of input)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_chat(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "voicebot", "chat", "--json", "--out", str(out)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def read_until(proc: subprocess.Popen, kind: str, limit_s: float = 60.0) -> list[dict]:
    events, deadline = [], time.monotonic() + limit_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
        if events[-1]["type"] == kind:
            return events
    raise AssertionError(f"no {kind} event: {events}")


def record_events(out: Path) -> list[dict]:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1
    return [json.loads(line) for line in (folders[0] / "events.jsonl").read_text("utf-8").splitlines()]


@pytest.mark.parametrize("sig, code, reason", [(signal.SIGTERM, 143, "terminated"),
                                               (signal.SIGINT, 130, "interrupted")])
def test_chat_interrupted_mid_call_ends_with_a_hangup(tmp_path, sig, code, reason):
    proc = start_chat(tmp_path)
    try:
        read_until(proc, "say")                        # the opening
        proc.stdin.write("这个流量包一个月多少钱\n")
        proc.stdin.flush()
        read_until(proc, "say")                        # the answer has started
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
    finally:
        proc.kill()
    events = record_events(tmp_path)
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == reason
    assert [e["fields"] for e in events if e["type"] == "record" and e["kind"] == "offer"] == [{"verdict": "undecided"}]


def test_chat_end_of_input_ends_with_a_hangup(tmp_path):
    proc = start_chat(tmp_path)
    out, _ = proc.communicate("你们这个电话有录音吗\n", timeout=120)
    assert proc.returncode == 0
    events = record_events(tmp_path)
    assert events[-1] == {**events[-1], "type": "hangup", "reason": "end_of_input"}
    assert json.loads(out.splitlines()[-1])["reason"] == "end_of_input"


# ---------------------------------------------------------------- simulate, at real speed

import queue
import threading

import soundfile as sf

from helpers import FIXTURE_KB as KB, customer_wav


class EventReader:
    """The --json events of a subprocess as they arrive, with the wall time each came."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            if line.startswith("{"):
                self.events.put((time.monotonic(), json.loads(line)))

    def next(self, limit_s: float = 120.0) -> tuple[float, dict]:
        return self.events.get(timeout=limit_s)

    def until(self, pred, limit_s: float = 120.0) -> tuple[float, dict]:
        deadline = time.monotonic() + limit_s
        while True:
            at, ev = self.next(max(0.1, deadline - time.monotonic()))
            if pred(ev):
                return at, ev

    def quiet_until(self, at: float) -> dict | None:
        """Wait until wall time `at` unless an event comes first (returned)."""
        try:
            return self.events.get(timeout=max(0.0, at - time.monotonic()))[1]
        except queue.Empty:
            return None


def start_simulate(out: Path, *files: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "voicebot", "--kb", KB, "simulate", "--realtime", "--json",
                             "--asr", "whisper", "--out", str(out), *map(str, files)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def signal_at(proc: subprocess.Popen, reader: EventReader, point: str) -> None:
    """Send nothing yet: wait for the moment `point` of the call (real time), then return."""
    at, first = reader.until(lambda e: e["type"] == "say")             # the opening begins
    if point == "opening":
        time.sleep(0.3)
        return
    last_at, last = at, first
    if point == "customer":
        # The customer's file starts 0.5 s after the bot's last opening line; 1.2 s into it.
        while True:
            ev = reader.quiet_until(last_at + last["duration_s"] + 0.5 + 1.2)
            if ev is None:
                return
            assert ev["type"] == "say", ev                               # (the opening goes on)
            last_at, last = time.monotonic(), ev
    reader.until(lambda e: e["type"] == "heard")
    at, reply = reader.until(lambda e: e["type"] == "say")
    if point == "reply":
        time.sleep(min(0.4, reply["duration_s"] / 3))
        return
    assert point == "silence"
    time.sleep(reply["duration_s"] + 1.5)                                # the no-input timeout is 4 s


def check_record(folder: Path, reason: str) -> list[dict]:
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text("utf-8").splitlines()]
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == reason, events[-3:]
    assert sum(e["type"] == "hangup" for e in events) == 1
    wav = folder / "recording.wav"
    info = sf.info(wav)
    assert info.samplerate == 16000 and info.channels == 1
    assert info.frames * 2 + 44 == wav.stat().st_size              # the header matches the data
    assert len(sf.read(wav)[0]) == info.frames
    length = info.frames / info.samplerate
    assert all(e["t"] <= length + 1e-3 for e in events), (length, [e["t"] for e in events])
    return events


TERM = (signal.SIGTERM, 143, "terminated")
INT = (signal.SIGINT, 130, "interrupted")


@pytest.mark.engine
@pytest.mark.parametrize("point, how", [("opening", TERM), ("opening", INT), ("customer", TERM),
                                        ("reply", INT), ("reply", TERM), ("silence", INT)],
                         ids=lambda v: v if isinstance(v, str) else v[2])
def test_simulate_stopped_by_a_signal_ends_its_record_cleanly(tmp_path, point, how):
    sig, code, reason = how
    out = tmp_path / "calls"
    proc = start_simulate(out, customer_wav("recording.wav"))
    reader = EventReader(proc)
    try:
        signal_at(proc, reader, point)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
    finally:
        proc.kill()
    folders = list(out.iterdir())
    assert len(folders) == 1
    events = check_record(folders[0], reason)
    says = [e for e in events if e["type"] == "say"]
    heard = [e for e in events if e["type"] == "heard"]
    end = events[-1]["t"]
    if point == "opening":                 # stopped while the bot greets: nothing heard, greeting cut
        assert not heard and end < says[-1]["t"] + says[-1]["duration_s"]
    elif point == "customer":              # stopped while the customer speaks: not heard yet
        assert not heard and end > says[-1]["t"] + says[-1]["duration_s"]
    elif point == "reply":                 # stopped while the bot answers
        assert heard and says[-1]["t"] >= heard[-1]["t"] and end < says[-1]["t"] + says[-1]["duration_s"]
    else:                                  # stopped in the silence after the answer
        assert heard and end >= says[-1]["t"] + says[-1]["duration_s"]
        assert not [e for e in events if e["type"] == "silence"]


def test_a_call_stopped_before_its_first_event_leaves_no_folder(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the call folder was made but before anything was written: no empty folder."""
    from voicebot import call, cli
    from voicebot.audio import write_wav
    import numpy as np

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(call, "simulate", stopped)
    monkeypatch.setattr(cli, "_recognizer", lambda *a, **k: None)
    monkeypatch.setattr(cli, "_synthesizer", lambda *a, **k: None)
    wav = write_wav(tmp_path / "a.wav", np.zeros(16000, dtype=np.float32))
    out = tmp_path / "calls"
    assert cli.main(["--kb", KB, "simulate", "--out", str(out), str(wav)]) == 130
    assert out.is_dir() and list(out.iterdir()) == []


def test_a_runner_that_never_spoke_writes_no_files(tmp_path, fixture_book, fixture_matcher):
    from voicebot.call import CallRunner
    from voicebot.dialog import Policy
    folder = tmp_path / "call"
    folder.mkdir()
    CallRunner(Policy(fixture_book, fixture_matcher), None, None, folder).close()
    assert list(folder.iterdir()) == []


def test_a_very_long_customer_line_is_cut_with_a_warning(tmp_path):
    proc = start_chat(tmp_path)
    line = "我想问一下这个流量包" * 400                    # 4,000 characters
    out, err = proc.communicate(line + "\n", timeout=120)
    assert proc.returncode == 0
    heard = [json.loads(x) for x in out.splitlines() if '"heard"' in x][0]
    assert len(heard["text"]) == 500 and heard["truncated_from"] == 4000
    assert heard["text"] == line[:500]
    assert "warning: a customer line of 4000 characters: only its first 500 are kept" in err
    events = record_events(tmp_path)
    assert events[-1]["type"] == "hangup"
    assert [e for e in events if e["type"] == "heard"][0]["truncated_from"] == 4000


# ---------------------------------------------------------------- a signal another thread takes

WAITING_FOR_A_LINE = """
import signal, sys, threading, time
from voicebot.console import read_line
def handler(signum, frame):
    raise SystemExit(143)
signal.signal(signal.SIGTERM, handler)
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()  # a native library's worker
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # the kernel hands SIGTERM to that thread
print(repr(read_line()), repr(read_line()), flush=True)
print("waiting", flush=True)
read_line()
"""


def test_a_typed_call_waiting_for_a_line_hears_a_signal_another_thread_took():
    """A plain blocking readline sleeps on when the signal lands on another thread (Python's handler
    waits for the main thread to come back): read_line comes back in ticks, so the call ends."""
    proc = subprocess.Popen([sys.executable, "-c", WAITING_FOR_A_LINE], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        proc.stdin.write("第一句\n第二句\n")  # two lines in one write: read one by one
        proc.stdin.flush()
        assert proc.stdout.readline() == "'第一句\\n' '第二句\\n'\n"
        assert proc.stdout.readline() == "waiting\n"
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 143
    finally:
        proc.kill()
