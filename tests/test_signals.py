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
