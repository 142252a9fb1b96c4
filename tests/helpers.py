"""Helpers shared by the test files: where the test data lives, readers of the policy's actions and
of a call's events, and a fake sound card.

Import with `from helpers import said, customer_wav, ...` (pyproject's `pythonpath = ["tests"]`
puts this folder on sys.path). Fixtures stay in conftest.py; plain functions and classes live here.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
"""The checkout (or worktree) the tests run from."""
DATA = ROOT / "tests" / "data"
SHIPPED_BOOK = ROOT / "scripts_kb"
"""The shipped book: only tests marked `book` read it."""
FIXTURE_BOOK = DATA / "book"
"""The small fixture book the engine suite runs on (worded unlike the shipped one)."""
FIXTURE_KB = str(FIXTURE_BOOK)
"""The fixture book, as `--kb` takes it (CLI tests of the engine suite pass `--kb FIXTURE_KB`)."""
KB = str(SHIPPED_BOOK)
"""The shipped book, as `--kb` takes it: for tests about the shipped book (mark them `book`)."""
CUSTOMER = DATA / "customer"
"""Natural-voice customer recordings (16 kHz mono), listed in manifest.yaml."""


def customer_wav(name: str) -> Path:
    """A customer recording from tests/data/customer/ (fails if it is missing)."""
    path = CUSTOMER / name
    assert path.exists(), path
    return path


# ---------------------------------------------------------------- the policy's actions


def turn(policy: Any, text: str, t: float = 10.0, **heard: Any) -> list[Any]:
    """Feed the policy one customer line (a `Heard` event); return its actions."""
    from voicebot.dialog import Heard
    return policy.handle(Heard(t, text, **heard))


def said(actions: Iterable[Any]) -> list[str]:
    """The texts of the `Say` actions, in order."""
    from voicebot.dialog import Say
    return [a.text for a in actions if isinstance(a, Say)]


def records(actions: Iterable[Any]) -> list[tuple[str, str]]:
    """(kind, text) of the `Record` actions, in order."""
    from voicebot.dialog import Record
    return [(a.kind, a.text) for a in actions if isinstance(a, Record)]


# ---------------------------------------------------------------- a call's events (dicts)


def events_of(events: Iterable[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    """The events of the given types ("say", "heard", "record", "hangup", ...), in order."""
    return [e for e in events if e["type"] in types]


def say_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the bot said, as events (text, reason, entry, t, duration_s, ...)."""
    return events_of(events, "say")


def heard_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the bot heard, as events (text, entry, confidence, level_dbfs, snr_db, ...)."""
    return events_of(events, "heard")


# ---------------------------------------------------------------- a fake sound card


class _NoFlags:
    """sounddevice's CallbackFlags with nothing set."""

    input_overflow = False

    def __bool__(self) -> bool:
        return False


class FakeInputStream:
    """sounddevice.RawInputStream: calls `callback(indata, frames, time, status)` with int16 blocks.

    `push(samples)` delivers audio at once, as PortAudio's thread would; when the fake card has a
    `line`, `start()` also starts a thread that plays that line into the stream in real time.
    """

    def __init__(self, card: FakeSoundDevice, device: int, samplerate: float, channels: int, dtype: str,
                 callback: Callable[..., None], **_: Any) -> None:
        assert (channels, dtype) == (1, "int16"), (channels, dtype)
        self.card = card
        self.device = device
        self.samplerate = int(samplerate)
        self.callback = callback
        self.active = False
        self.closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def push(self, samples: np.ndarray) -> None:
        """Deliver samples (float, at the stream's rate) to the callback as one int16 block."""
        from voicebot.audio import to_pcm16
        data = to_pcm16(np.asarray(samples, dtype=np.float32))
        self.callback(data, len(data) // 2, None, _NoFlags())

    def start(self) -> None:
        self.active = True
        self.card.input_streams.append(self)
        if self.card.line is not None:
            self._thread = threading.Thread(target=self._play_line, name="fake-mic", daemon=True)
            self._thread.start()

    def _play_line(self) -> None:
        card = self.card
        rate = self.samplerate
        block = card.block
        speech = card.line
        if rate != 16000:
            from voicebot.audio import resample
            speech = resample(speech, 16000, rate)
        silence = np.zeros(block, dtype=np.float32)
        started = time.perf_counter()
        sent = 0
        pending = speech
        waiting = card.line_after_bot
        lead_until: float | None = None if waiting else 0.0
        while not self._stop.is_set() and sent < card.line_max_s * rate:
            if lead_until is None and card.played:          # the bot has spoken: the customer answers
                lead_until = sent + card.line_lead_s * rate
            if lead_until is not None and sent >= lead_until and len(pending):
                chunk, pending = pending[:block], pending[block:]
                chunk = np.concatenate([chunk, silence[: block - len(chunk)]])
            else:
                chunk = silence
            self.push(chunk)
            sent += block
            # Real time (or `speed` times faster): a live microphone cannot run ahead of the clock.
            delay = started + sent / rate / card.speed - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)

    def stop(self) -> None:
        self.active = False
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        self.closed = True


class _Default:
    def __init__(self, device: list[int]) -> None:
        self.device = device


class _PlayingStream:
    def __init__(self) -> None:
        self.active = False


class FakeSoundDevice:
    """A stand-in for the `sounddevice` module, with zero, one or two devices.

    The machines that run these tests have no sound card, so a fake device is the only way to run
    the live paths (microphone, speaker, `voicebot call`) here; with it they run the same on every
    machine, with or without a sound card. Install it with `fake_sound_card(monkeypatch, ...)`:
    `voicebot.audio` imports sounddevice when it needs it and then finds this object.

    - `mic_rate` / `speaker_rate`: the only rate each device accepts (others are refused, as a
      device that cannot do 16 kHz does), None for no such device.
    - `line`: 16 kHz samples the microphone hears (a customer WAV): after the bot's first line
      has been played and `line_lead_s` more seconds if `line_after_bot`, else at once; silence
      around it, for `line_max_s` seconds of line in all, then the microphone goes quiet (a guard:
      `MicSource` then fails after its timeout rather than a test hanging).
    - The speaker keeps what it was asked to play in `played` (samples, rate).
    """

    class PortAudioError(Exception):
        pass

    def __init__(self, mic_rate: int | None = 16000, speaker_rate: int | None = 16000,
                 line: np.ndarray | None = None, line_after_bot: bool = False, line_lead_s: float = 0.5,
                 line_max_s: float = 120.0, block: int = 512, speed: float = 1.0) -> None:
        self.mic_rate = mic_rate
        self.speaker_rate = speaker_rate
        self.line = None if line is None else np.asarray(line, dtype=np.float32)
        self.line_after_bot = line_after_bot
        self.line_lead_s = line_lead_s
        self.line_max_s = line_max_s
        self.block = block
        self.speed = speed
        self.played: list[tuple[np.ndarray, int]] = []
        self.input_streams: list[FakeInputStream] = []
        self.waits = 0
        self.stops = 0
        self._stream = _PlayingStream()
        self._devices: list[dict[str, Any]] = []
        if mic_rate is not None:
            self._devices.append({"name": "Fake USB Microphone", "index": len(self._devices), "hostapi": 0,
                                  "max_input_channels": 1, "max_output_channels": 0,
                                  "default_samplerate": float(mic_rate)})
        if speaker_rate is not None:
            self._devices.append({"name": "Fake Speaker", "index": len(self._devices), "hostapi": 0,
                                  "max_input_channels": 0, "max_output_channels": 2,
                                  "default_samplerate": float(speaker_rate)})
        self.mic_index = 0 if mic_rate is not None else -1
        self.speaker_index = len(self._devices) - 1 if speaker_rate is not None else -1
        self.default = _Default([-1, -1])   # as on Linux: not set, each host API's default is used

    # -- listing

    def query_devices(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self._devices]

    def query_hostapis(self) -> tuple[dict[str, Any], ...]:
        return ({"name": "ALSA", "devices": [d["index"] for d in self._devices],
                 "default_input_device": self.mic_index, "default_output_device": self.speaker_index},)

    # -- microphone

    def check_input_settings(self, device: int, samplerate: float, channels: int, dtype: str) -> None:
        if device != self.mic_index:
            raise self.PortAudioError(f"Invalid device [PaErrorCode -9996] {device}")
        if int(samplerate) != self.mic_rate:
            raise self.PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def RawInputStream(self, **kwargs: Any) -> FakeInputStream:  # noqa: N802 (sounddevice's name)
        if kwargs["device"] != self.mic_index or int(kwargs["samplerate"]) != self.mic_rate:
            raise self.PortAudioError("Error opening RawInputStream: Invalid sample rate [PaErrorCode -9997]")
        return FakeInputStream(self, **kwargs)

    # -- speaker

    def check_output_settings(self, device: int, samplerate: float, channels: int, dtype: str) -> None:
        if device != self.speaker_index:
            raise self.PortAudioError(f"Invalid device [PaErrorCode -9996] {device}")
        if int(samplerate) != self.speaker_rate:
            raise self.PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def play(self, data: np.ndarray, samplerate: float, device: int | None = None, blocking: bool = False) -> None:
        if device != self.speaker_index or int(samplerate) != self.speaker_rate:
            raise self.PortAudioError("Error opening OutputStream: Invalid sample rate [PaErrorCode -9997]")
        self.played.append((np.array(data, dtype=np.float32), int(samplerate)))
        self._stream.active = not blocking

    def get_stream(self) -> _PlayingStream:
        return self._stream

    def wait(self) -> None:
        self.waits += 1
        self._stream.active = False

    def stop(self) -> None:
        self.stops += 1
        self._stream.active = False


def fake_sound_card(monkeypatch: Any, **options: Any) -> FakeSoundDevice:
    """Replace the `sounddevice` module with a FakeSoundDevice for one test (see its docstring)."""
    import sys
    card = FakeSoundDevice(**options)
    monkeypatch.setitem(sys.modules, "sounddevice", card)
    return card
