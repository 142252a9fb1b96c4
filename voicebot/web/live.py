"""One call over a WebSocket: the browser's audio and typed lines in, the bot's audio and events out.

The call runs on the CLI's `CallRunner` in a thread of its own (VAD → ASR → policy → TTS, the
no-response protocol on the line's silence), fed by the socket:

- binary frames in: 16-bit little-endian 16 kHz mono PCM from the microphone (any length);
- text frames in: `{"type": "text", "text": …}` a typed line, `{"type": "hangup"}` the trainee hangs up;
- binary frames out: the bot's voice, same format, one frame per line spoken;
- text frames out: the call's events, the same objects as `voicebot chat --json`.

The line stays open like a phone line: when no audio arrives the runner hears silence at the pace
of the wall clock, so a trainee who says nothing meets the no-response protocol. Half duplex as in
`voicebot call`: while the bot's line plays (its length in wall time) the microphone's audio is
dropped, and the runner ignores the first 300 ms after it.
"""
from __future__ import annotations

import json
import queue
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Final, Iterator

import numpy as np

from ..audio import SAMPLE_RATE
from ..call import FRAME, CallRunner

LINE_WAIT_S: Final = 0.1
"""How long the line waits for the browser's audio before it counts silence (network jitter is
tens of milliseconds; a longer wait would make the no-input timer late)."""

MAX_TEXT_CHARS: Final = 500
"""A typed line longer than this is cut (the matcher reads 500 characters at most)."""


class CustomerHangup(Exception):
    """The trainee hung up or the socket closed; `hangup_reason` goes into the call's last event."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.hangup_reason = reason


def pcm16_to_float(data: bytes) -> np.ndarray:
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class LiveCall:
    """The runner of one browser call and the inbox the socket fills (thread-safe)."""

    def __init__(self, engines: Any, folder: Path, send: Callable[[str | bytes], None],
                 on_end: Callable[[CallRunner], None] | None = None) -> None:
        self.engines = engines
        self.send = send
        self.on_end = on_end
        self.inbox: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        """(kind, value, arrival time): audio, text or end, as the socket delivered them."""
        self.folder = folder
        self.runner = CallRunner(engines.policy(), engines.recognizer, engines.voice, folder,
                                 engines.call_options(), on_event=self._event,
                                 play=self._play if engines.voice is not None else None)
        self._kept: deque[tuple[str, Any, float]] = deque()
        """What the line heard after the bot's line ended, taken out of the inbox while draining it."""

    # -- from the socket (event loop thread)

    def feed_audio(self, data: bytes) -> None:
        if self.engines.recognizer is not None:
            self.inbox.put(("audio", pcm16_to_float(data), time.monotonic()))

    def feed_message(self, text: str) -> None:
        """A text frame: a typed line or a hangup; anything else is answered with an error event."""
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        if isinstance(msg, dict) and msg.get("type") == "text" and isinstance(msg.get("text"), str):
            line = msg["text"].strip()[:MAX_TEXT_CHARS]
            if line:
                self.inbox.put(("text", line, time.monotonic()))
        elif isinstance(msg, dict) and msg.get("type") == "hangup":
            self.inbox.put(("end", "customer_hangup", time.monotonic()))
        else:
            self.send(json.dumps({"type": "error", "message": 'unknown message: send {"type": "text", "text": "…"} '
                                  'or {"type": "hangup"}, or binary 16-bit 16 kHz mono PCM'}, ensure_ascii=False))

    def hang_up(self, reason: str) -> None:
        self.inbox.put(("end", reason, time.monotonic()))

    # -- the runner's side (its own thread)

    def _event(self, event: dict[str, Any]) -> None:
        self.send(json.dumps(event, ensure_ascii=False))
        if self.engines.voice is None and self.engines.pace_typed and event.get("type") == "say":
            # No voice (a typed-only server): the line still takes its speaking time, so the
            # no-input timer starts when the trainee has had time to read it.
            time.sleep(float(event.get("duration_s") or 0.0))

    def _play(self, audio: np.ndarray) -> None:
        """Send the bot's line, then wait while the browser plays it; what the microphone sent
        meanwhile is the bot's own voice or talk over it (half duplex, as `voicebot call`)."""
        self.send(float_to_pcm16(audio))
        deaf_until = time.monotonic() + len(audio) / SAMPLE_RATE
        time.sleep(max(0.0, deaf_until - time.monotonic()))
        # Drop the audio that arrived while the line played, by its arrival time: a thread that
        # wakes late (a busy machine) must not drop what the trainee said after the bot stopped.
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if item[0] != "audio" or item[2] >= deaf_until:
                self._kept.append(item)

    def _line(self) -> Iterator[np.ndarray]:
        """The customer's side as 30 ms frames: the browser's audio, else silence at wall-clock pace."""
        silence = np.zeros(FRAME, dtype=np.float32)
        buffer = np.zeros(0, dtype=np.float32)
        while True:
            while len(buffer) >= FRAME:
                frame, buffer = buffer[:FRAME], buffer[FRAME:]
                yield frame
            try:
                kind, value, _ = self._kept.popleft() if self._kept else self.inbox.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                for _ in range(round(LINE_WAIT_S * SAMPLE_RATE / FRAME)):
                    yield silence
                continue
            if kind == "audio":
                buffer = np.concatenate([buffer, value])
            elif kind == "text":
                self.runner.hear_text(value)
                if self.runner.policy.ended:
                    return
            elif kind == "end":
                raise CustomerHangup(value)

    def run(self) -> None:
        """The whole call, until the bot or the trainee hangs up (blocking: run it in a thread)."""
        try:
            self.runner.start()
            if not self.runner.policy.ended:
                self.runner.run_frames(self._line())
            else:
                self.runner.close()
        except CustomerHangup:
            pass   # run_frames has ended the call with the reason
        except Exception:  # noqa: BLE001 - the call is ended and recorded; the socket closes
            if not self.runner.policy.ended:
                self.runner.end("error")
        finally:
            if self.on_end is not None:
                self.on_end(self.runner)
