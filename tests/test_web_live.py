"""The socket's call line (`LiveCall`) without a server or real engines: full duplex in step with the
browser's playback. A scripted recogniser stands in for whisper and a tone for the voice, so what is
checked is the line itself: a real customer recording (tests/data/customer) streamed over the bot's
line cuts it at the right point, and microphone audio that arrived while the bot was still working
on its line does not (it is dropped, so the bot's line is not run ahead of the browser)."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from helpers import customer_wav
from voicebot.asr.base import Transcript
from voicebot.audio import SAMPLE_RATE, read_audio
from voicebot.web.engines import Engines, LockedVoice
from voicebot.web.live import LiveCall, float_to_pcm16

LINE = "你们怎么知道我的号码"


class ScriptedRecognizer:
    """Hears every utterance as LINE (the test is about when the line hears, not what)."""

    def start(self) -> Any:
        return self

    def accept(self, frame: np.ndarray) -> None:
        return None

    def finish(self) -> Transcript:
        return Transcript(LINE, 0.9, (), 0.0, 1.0, "zh", None, "scripted")

    def transcribe(self, samples: np.ndarray) -> Transcript:
        return self.finish()


class ToneVoice:
    """Every line is `seconds` of a 300 Hz tone at −20 dBFS."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def synthesize(self, text: str, language: str = "zh") -> np.ndarray:
        t = np.arange(int(self.seconds * SAMPLE_RATE)) / SAMPLE_RATE
        return (0.1 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def onset_s(samples: np.ndarray) -> float:
    frame = SAMPLE_RATE * 30 // 1000
    return next(i / SAMPLE_RATE for i in range(0, len(samples), frame)
                if 20 * np.log10(np.sqrt(np.mean(samples[i:i + frame] ** 2)) + 1e-12) > -40)


def test_full_duplex_line(fixture_book, fixture_matcher, tmp_path: Path) -> None:
    engines = Engines(fixture_book, fixture_matcher, ScriptedRecognizer(), LockedVoice(ToneVoice(4.0)))
    sent: list[tuple[float, Any]] = []
    live = LiveCall(engines, tmp_path, lambda item: sent.append((time.monotonic(), item)))
    assert live.full_duplex
    speech = read_audio(customer_wav("q01_who_allowed.wav"))
    block = int(0.04 * SAMPLE_RATE)

    # the trainee talks while the bot is still preparing its opening: that backlog is not heard over it
    for i in range(0, len(speech), block):
        live.feed_audio(float_to_pcm16(speech[i:i + block]))
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not any(isinstance(item, bytes) for _, item in sent):
        assert time.monotonic() < deadline, "no opening"
        time.sleep(0.01)
    opened = next(t for t, item in sent if isinstance(item, bytes))

    # then talks over the opening, at the browser's pace, 1.5 s into it
    time.sleep(max(0.0, opened + 1.5 - time.monotonic()))
    for i in range(0, len(speech), block):
        live.feed_audio(float_to_pcm16(speech[i:i + block]))
        time.sleep(max(0.0, opened + 1.5 + (i + block) / SAMPLE_RATE - time.monotonic()))
    deadline = time.monotonic() + 30
    while not any(isinstance(item, str) and '"heard"' in item for _, item in sent):
        assert time.monotonic() < deadline, "the trainee was not heard"
        time.sleep(0.05)
    live.hang_up("customer_hangup")
    thread.join(30)

    events = live.runner.result.events
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["start", "say", "cut"], kinds          # one cut, by the speech during the line
    cut = events[2]
    expected = 1.5 + onset_s(speech)
    assert expected - 0.1 <= cut["played_s"] <= expected + 0.5, (cut, expected)
    heard = next(e for e in events if e["type"] == "heard")
    assert heard["text"] == LINE and heard["entry"] == "how_number"
    assert any(e["type"] == "say" and e.get("entry") == "how_number" for e in events)   # answered
    assert kinds[-1] == "hangup" and events[-1]["reason"] == "customer_hangup"


def test_client_message_reads_the_small_json_protocol() -> None:
    """Both sockets (call and drill) parse the browser's text frames with one function: a typed
    line is stripped and cut, an unexpected or malformed frame is None (each socket answers it)."""
    from voicebot.web.live import MAX_TEXT_CHARS, client_message

    call = ("text", "hangup")
    assert client_message('{"type": "text", "text": "  你们怎么知道我号码的  "}', call) == ("text", "你们怎么知道我号码的")
    assert client_message('{"type": "text", "text": "' + "长" * 900 + '"}', call) == ("text", "长" * MAX_TEXT_CHARS)
    assert client_message('{"type": "hangup"}', call) == ("hangup", "")
    assert client_message('{"type": "done"}', call) == (None, ""), "done is the drill's, not the call's"
    assert client_message('{"type": "done"}', ("text", "done", "hangup")) == ("done", "")
    for bad in ("not json", "[1, 2]", '{"type": "text", "text": 5}', '{"text": "你好"}', ""):
        assert client_message(bad, call) == (None, ""), bad
