"""One call over a WebSocket: the browser's audio and typed lines in, the bot's audio and events out.

The call runs on the CLI's `CallRunner` in a thread of its own (VAD → ASR → policy → TTS, the
no-response protocol on the line's silence), fed by the socket:

- binary frames in: 16-bit little-endian 16 kHz mono PCM from the microphone (any length);
- text frames in: `{"type": "text", "text": …}` a typed line, `{"type": "hangup"}` the trainee hangs up;
- binary frames out: the bot's voice, same format, one frame per line spoken;
- text frames out: the call's events, the same objects as `voicebot chat --json`.

The line stays open like a phone line: when no audio arrives the runner hears silence at the pace
of the wall clock, so a trainee who says nothing meets the no-response protocol.

Full duplex, as `voicebot call`: the microphone keeps streaming while the bot's line plays, and the
runner hears it frame by frame at the browser's pace (its echo gate raised by the bot's own level,
over the browser's echoCancellation). When the trainee starts speaking the runner stops the bot and
sends `{"type": "cut", "played_s": …}`: the page stops playing at once and drops what it still
holds of the line (a line goes out whole, so nothing is left to hold back here), and the call goes
on with what the trainee says. With barge-in off in the book's settings it is half duplex: the
microphone's audio during the bot's line is dropped and the first 300 ms after it ignored.
"""
from __future__ import annotations

import json
import queue
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Final, Iterator

import numpy as np

from ..asr import for_scoring
from ..audio import SAMPLE_RATE
from ..call import FRAME, CallRunner

FRAME_S: Final = FRAME / SAMPLE_RATE
LINE_WAIT_S: Final = 0.1
"""How long the line waits for the browser's audio before it counts silence (network jitter is
tens of milliseconds; a longer wait would make the no-input timer late)."""

MAX_TEXT_CHARS: Final = 500
"""A typed line longer than this is cut (the matcher reads 500 characters at most)."""


def client_message(text: str, kinds: tuple[str, ...]) -> tuple[str | None, str]:
    """A browser's text frame as (kind, typed line): kind is one of `kinds` (`text` carries the line,
    stripped and cut to MAX_TEXT_CHARS), or None for anything malformed or not expected here. The
    call and the drill sockets speak the same small JSON protocol; each answers None its own way."""
    try:
        msg = json.loads(text)
    except ValueError:
        return None, ""
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind not in kinds:
        return None, ""
    if kind == "text":
        line = msg.get("text")
        return (kind, line.strip()[:MAX_TEXT_CHARS]) if isinstance(line, str) else (None, "")
    return kind, ""


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
                 on_end: Callable[[CallRunner], None] | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.engines = engines
        self.send = send
        self.on_end = on_end
        self.on_event = on_event
        self.inbox: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        """(kind, value, arrival time): audio, text or end, as the socket delivered them."""
        self.folder = folder
        self.options = engines.call_options()
        voiced = engines.voice is not None
        # The browser call decodes on whisper's whole window: on the utterance window the customer's
        # line spoken over the bot through the page's microphone was misheard in CI twice (once over the
        # socket, once through Chromium's AudioWorklet), while the same tests pass on the whole window.
        self.runner = CallRunner(engines.policy(), for_scoring(engines.recognizer), engines.voice, folder, self.options,
                                 on_event=self._event, play=self._play if voiced else None)
        self.full_duplex = voiced and self.options.barge_in
        """The microphone is heard while the bot speaks (barge-in): the same as `voicebot call`."""
        self._kept: deque[tuple[str, Any, float]] = deque()
        """What the line heard after the bot's line ended, taken out of the inbox while draining it."""
        self._typed: deque[str] = deque()
        """Typed lines that came while the bot spoke: said when it has finished."""
        self._buffer = np.zeros(0, dtype=np.float32)
        self._line_t = time.monotonic()
        """Wall time up to which the line has been heard (silence is counted from here when no audio comes)."""

    # -- from the socket (event loop thread)

    def feed_audio(self, data: bytes) -> None:
        if self.engines.recognizer is not None:
            self.inbox.put(("audio", pcm16_to_float(data), time.monotonic()))

    def feed_message(self, text: str) -> None:
        """A text frame: a typed line or a hangup; anything else is answered with an error event."""
        kind, line = client_message(text, ("text", "hangup"))
        if kind == "text":
            if line:
                self.inbox.put(("text", line, time.monotonic()))
        elif kind == "hangup":
            self.inbox.put(("end", "customer_hangup", time.monotonic()))
        else:
            self.send(json.dumps({"type": "error", "message": 'unknown message: send {"type": "text", "text": "…"} '
                                  'or {"type": "hangup"}, or binary 16-bit 16 kHz mono PCM'}, ensure_ascii=False))

    def hang_up(self, reason: str) -> None:
        self.inbox.put(("end", reason, time.monotonic()))

    # -- the runner's side (its own thread)

    def _event(self, event: dict[str, Any]) -> None:
        self.send(json.dumps(event, ensure_ascii=False))
        if self.on_event is not None:
            self.on_event(event)
        if self.engines.voice is None and self.engines.pace_typed and event.get("type") == "say":
            # No voice (a typed-only server): the line still takes its speaking time, so the
            # no-input timer starts when the trainee has had time to read it.
            time.sleep(float(event.get("duration_s") or 0.0))

    def _play(self, audio: np.ndarray) -> None:
        """Send the bot's line. Full duplex: return at once; the runner then hears the microphone
        frame by frame while the line plays (the browser's pace) and stops it when the trainee
        speaks. Half duplex (barge-in off): wait while the browser plays it and drop what the
        microphone sent meanwhile, as `voicebot call --no-barge-in`."""
        self.send(float_to_pcm16(audio))
        if self.full_duplex:
            # The line starts playing now, and the runner hears the microphone from here on, in step
            # with the browser's playback. What the microphone sent while the bot was working on its
            # answer (recognising, matching, rendering: seconds under load) is dropped, as the half
            # duplex line dropped it: heard now, that backlog would run the bot's line ahead of the
            # browser by its length (a wrong played_s, an echo gate out of step, a no-input timer
            # started while the trainee still hears the bot). Typed lines and a hangup are kept.
            started = time.monotonic()
            self._drop_audio(before=started)
            self._line_t = max(self._line_t, started)
            return
        deaf_until = time.monotonic() + len(audio) / SAMPLE_RATE
        time.sleep(max(0.0, deaf_until - time.monotonic()))
        # Drop the audio that arrived while the line played, by its arrival time: a thread that
        # wakes late (a busy machine) must not drop what the trainee said after the bot stopped.
        self._drop_audio(before=deaf_until)

    def _drop_audio(self, before: float) -> None:
        """Take the microphone's audio that arrived before `before` out of the line (and any part
        frame left of it); everything else stays, in order."""
        self._buffer = np.zeros(0, dtype=np.float32)
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if item[0] != "audio" or item[2] >= before:
                self._kept.append(item)

    def _frames(self) -> Iterator[np.ndarray | str]:
        """The customer's side as 30 ms frames: the browser's audio, else silence at wall-clock pace;
        a typed line comes through as a str."""
        silence = np.zeros(FRAME, dtype=np.float32)
        while True:
            while len(self._buffer) >= FRAME:
                frame, self._buffer = self._buffer[:FRAME], self._buffer[FRAME:]
                yield frame
            try:
                kind, value, at = self._kept.popleft() if self._kept else self.inbox.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                owed = int((time.monotonic() - self._line_t) / FRAME_S)
                self._line_t += owed * FRAME_S
                for _ in range(owed):
                    yield silence
                continue
            if kind == "audio":
                self._buffer = np.concatenate([self._buffer, value])
                self._line_t = max(self._line_t, at)
            elif kind == "text":
                yield value
            elif kind == "end":
                raise CustomerHangup(value)

    def _line(self) -> Iterator[np.ndarray]:
        """The line `run_frames` reads: frames, and typed lines said between them."""
        for item in self._frames():
            while self._typed and not self.runner.policy.ended:
                self.runner.hear_text(self._typed.popleft())
            if self.runner.policy.ended:
                return
            if isinstance(item, str):
                self.runner.hear_text(item)
                if self.runner.policy.ended:
                    return
                continue
            yield item

    def _while_speaking(self) -> Iterator[np.ndarray | None]:
        """The line the runner hears while the bot speaks (`listen`): the same frames, at the
        browser's pace; a typed line waits until the bot has finished (it is not speech to cut in)."""
        for item in self._frames():
            if isinstance(item, str):
                self._typed.append(item)
                continue
            yield item

    def run(self) -> None:
        """The whole call, until the bot or the trainee hangs up (blocking: run it in a thread)."""
        try:
            if self.full_duplex:
                self.runner.listen(self._while_speaking())
            self.runner.start()
            if not self.runner.policy.ended:
                self.runner.run_frames(self._line())
            else:
                self.runner.close()
        except CustomerHangup as hangup:
            if not self.runner.policy.ended:   # (a hangup during the opening; run_frames ends its own)
                self.runner.end(hangup.hangup_reason)
        except Exception:  # noqa: BLE001 - the call is ended and recorded; the socket closes
            if not self.runner.policy.ended:
                self.runner.end("error")
        finally:
            if self.on_end is not None:
                self.on_end(self.runner)
