"""The call runner: customer audio → VAD → ASR → matcher/policy → TTS → bot audio, on the call clock.

Timeline of a simulated call (one clock, counted in samples heard, so a WAV call runs faster than
real time and gives the same events every run):

    t=0 ─ ringback? ─┬─ bot opens ──┬─ gap ─ customer file 1 ─ endpoint ─┬─ bot replies ─┬─ gap ─ file 2 …
                     │ (foreign:    │                                    │ (no-input     │
                     │  hang up)    │ the no-input timer starts here ────┘  timer again) │
    after the last file the line stays silent: the no-response protocol runs until the bot hangs up.

Barge-in: while the bot speaks, the customer's line is still heard frame by frame (a live
microphone, or a simulated file given as `FILE@S`); when their speech starts the bot stops at once
(`cut` event) and the call goes on with what they say. While it speaks, the bot's own level raises the
detector's gate, so its voice leaking into the microphone does not cut it (`echo_return_loss_db`).
A bare simulated file waits for the bot to finish, and the first ~300 ms after the bot stops are
ignored (its own tail). `barge_in=False` makes every line half duplex. The work after an endpoint
(ASR finish, matching, TTS) is measured in wall time and reported with each reply, but never moves
the clock.
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

import numpy as np

from .audio import SAMPLE_RATE, WavAppender, iter_audio_blocks
from .endpointing import cue_of, wait_ms
from .dialog import Ended, Hangup, Heard, Policy, Ringback, Say, Silence, Started, Turn
from .matcher import MAX_TEXT_CHARS
from .record import RECORDING_FILE, CallLog
from .text import to_simplified
from .tts.background import BackgroundRenderer
from .tts.cache import CachedSynthesizer
from .tts.lines import next_lines
from .vad import SpeechDetector, SpeechEnded, SpeechStarted, VadOptions

FRAME_MS = 30
FRAME = SAMPLE_RATE * FRAME_MS // 1000
FLUSH_S = 5.0
"""The recording is appended (and fsynced) at least this often, so a long silence between turns
neither piles up in memory nor is lost to a kill."""
RINGBACK_SCAN_S = 60.0
"""Ringback is looked for in this much of the first file (networks give up ringing after about a
minute); only this prefix is held in memory, the rest of the file streams."""


class Speaker(Protocol):
    """Where the bot's voice goes (a WAV recording in simulation, a sound card live)."""

    def synthesize(self, text: str, language: str = "zh") -> np.ndarray: ...


@dataclass(frozen=True)
class CallOptions:
    """The runner's timing; each default says why."""

    customer_gap_s: float = 0.5
    """Simulated customers start this long after the bot stops (people answer after about half a second)."""
    ignore_after_bot_s: float = 0.3
    """Microphone audio dropped after the bot stops talking, or the bot hears its own tail (Rhasspy)."""
    max_call_s: float = 600.0
    """A simulated call never runs longer than this on the call clock."""
    second_visit: bool = False
    """Open with the second-visit (二访) script."""
    preemptive_after_s: float | None = 0.12
    """Engines that decode only at the end (whisper) start decoding after this much trailing
    silence, before the endpoint, and drop that result if the customer speaks again (as LiveKit and
    Pipecat do); the turn keeps listening while that decode runs, so speech resuming before the
    reply is ready continues the same turn. whisper's decode (about 0.8 s idle) is most of its gap,
    so it starts early: in the 151 fixtures 178 of the 291 pauses inside a line are 60 ms or less
    (between syllables), 24 are 90 ms, 20 are 120–210 ms and 69 are clause pauses of 240–570 ms
    (`bench_call.py --pauses`): at 120 ms a decode is wasted about where a comma is. None turns it
    off. Only in real time (live calls, `realtime`): a simulation stays the same run after run."""
    realtime: bool = False
    """Feed simulated customer audio at real speed (benchmarks; live calls are real time anyway)."""
    render_ahead: bool = True
    """Render the lines the bot may say next (branches, repeat, protocol lines) in a background
    thread while the customer listens and talks, so an uncached line rarely keeps anyone waiting.
    Only in real time (live calls, `realtime`): a simulation's clock never waits for the voice."""
    barge_in: bool = True
    """The customer may cut the bot short: it stops at once and the call goes on with what they say
    (VoiceXML's default: a customer does not wait for the end of a long answer). Off: the bot always
    finishes its line and what the customer says meanwhile waits (half duplex)."""
    echo_return_loss_db: float = 20.0
    """While the bot speaks, a microphone frame counts as the customer only if it is louder than the
    bot's own level minus this, plus the detector's `margin_db`: the bot's voice leaking back into
    the microphone (open speakers) is then not taken for the customer as long as it comes back at
    least 14 dB down; a customer at most 14 dB under the bot still cuts it. Measured in
    tests/test_barge_in.py; a headset (the documented set-up) leaks far less."""
    echo_lag_ms: float = 300.0
    """How late the bot's own voice may reach the microphone (sound card buffers, the room): the gate
    follows the loudest of the bot's frames over this span."""


@dataclass
class CallResult:
    """What happened, for the CLI and the tests."""

    events: list[dict[str, Any]] = field(default_factory=list)
    folder: Path | None = None
    ended: str | None = None


TYPED_CHARS_PER_S = 5.0
"""A typed call's clock: a customer line takes this long to say (about Mandarin speaking pace)."""
BOT_CHARS_PER_S = 5.6
"""…and so does a bot line when there is no voice to measure (the Kokoro voice's pace)."""


class CallRunner:
    """Runs one call: from audio frames (`run_frames`), or from typed lines (`hear_text`, `stay_silent`).

    Events go to `on_event` (printing) and to the call log (durable) as they happen. `end(reason)`
    closes the call from outside (end of input, Ctrl-C, a signal, an error): the policy files what is
    still open and the last event is always a `hangup`.
    """

    def __init__(self, policy: Policy, recognizer: Any, synthesizer: Speaker | None, folder: Path | None = None,
                 options: CallOptions | None = None, vad_options: VadOptions | None = None,
                 on_event: Callable[[dict[str, Any]], None] | None = None,
                 play: Callable[[np.ndarray], None] | None = None,
                 stop: Callable[[], None] | None = None) -> None:
        self.policy = policy
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.options = options or CallOptions()
        if vad_options is None:
            vad_options = dataclasses.replace(policy.book.options("vad", VadOptions), frame_ms=FRAME_MS)
        self.turn_options = vad_options
        """The turn-taking waits (`endpointing`): the call ends each turn by them (`_turn_over`)."""
        longest = max(vad_options.end_silence_ms, vad_options.open_end_ms)
        self.vad = SpeechDetector(dataclasses.replace(vad_options, end_silence_ms=longest))
        self.folder = folder
        self.log: CallLog | None = None          # both files are created with the first event, so a
        self.recording: WavAppender | None = None  # call killed before it began leaves no empty files
        self._closed = False
        self.on_event = on_event
        self.play = play
        self.stop = stop
        self.line: Iterator[np.ndarray | None] | None = None
        """The customer's side, once `listen` attached it: heard while the bot speaks (barge-in)."""
        self.speaking = False
        """True while a line of the bot's is going out."""
        self.line_starts: list[float] = []
        """Call-clock seconds at which each of the bot's lines began (timed customer files start from them)."""
        self.result = CallResult(folder=folder)
        self.clock = 0  # samples on the call clock
        self._pending: list[np.ndarray] = []  # recording buffer, flushed each turn (and every FLUSH_S)
        self._pending_samples = 0
        self._utt: Any = None
        self._preroll: deque[np.ndarray] = deque(maxlen=10)
        self._speech_end_t: float | None = None
        self._preempt: Future[Any] | None = None
        self._stale: Future[Any] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.preempted_turns = 0
        self._partial: str | None = None
        self._early: Future[Any] | None = None
        self._cue: tuple[tuple[Any, ...], Any] | None = None  # (words and question asked, cue): judged once
        self._decode_wait_s = 0.0
        self._ahead = _renderer(synthesizer) if self.options.render_ahead and (
            self.options.realtime or play is not None) else None

    # -- bookkeeping

    @property
    def t(self) -> float:
        return self.clock / SAMPLE_RATE

    def emit(self, event: dict[str, Any]) -> None:
        event = {"t": round(event.pop("t", self.t), 3)} | event
        self.result.events.append(event)
        if self.folder is not None and not self._closed:
            if self.log is None:
                self.log = CallLog(self.folder)
            self.log.write(event)
        if self.on_event:
            self.on_event(event)

    def _record_audio(self, samples: np.ndarray) -> None:
        if self.folder is not None:
            self._pending.append(samples)
            self._pending_samples += len(samples)
            if self._pending_samples >= FLUSH_S * SAMPLE_RATE:
                self._flush_recording()

    def _flush_recording(self) -> None:
        if self.folder is not None and self._pending and not self._closed:
            if self.recording is None:
                self.recording = WavAppender(self.folder / RECORDING_FILE)
            pending, self._pending, self._pending_samples = self._pending, [], 0
            self.recording.append(np.concatenate(pending))

    def end(self, reason: str) -> None:
        """Close the call from outside the policy; the last event is a `hangup` with this reason."""
        try:
            if not self.policy.ended:
                self.act(self.policy.handle(Ended(self.t, reason)))
        finally:
            self.close()

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.close()
            self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        try:
            self._flush_recording()
        finally:
            self._closed = True
            if self.recording is not None:
                self.recording.close()
            if self.log:
                self.log.close()

    # -- the bot acts

    def act(self, actions: Iterable[Any], work_started: float | None = None) -> None:
        """Carry out the policy's actions: speak, record, escalate, hang up."""
        if self._ahead is not None and not self.policy.ended:
            self._ahead.submit(next_lines(self.policy))  # rendered while this turn plays
        first_audio = True
        cut = False
        for action in actions:
            if isinstance(action, Say):
                if cut:
                    continue  # the customer cut the bot short: the rest of what it meant to say is dropped
                if self.synthesizer is None:  # a typed call: no voice, the clock moves at speaking pace
                    self.emit(action.event() | {"duration_s": round(len(action.text) / BOT_CHARS_PER_S, 2)})
                    self.clock += int(len(action.text) / BOT_CHARS_PER_S * SAMPLE_RATE)
                    continue
                audio = self.synthesizer.synthesize(action.text, action.language)
                event = action.event() | {"duration_s": round(len(audio) / SAMPLE_RATE, 2)}
                if first_audio and work_started is not None:
                    event["work_ms"] = round((time.perf_counter() - work_started) * 1000, 1)
                    if self._speech_end_t is not None:
                        event["endpoint_wait_ms"] = round((self.t - self._speech_end_t) * 1000, 1)
                        event["decode_wait_ms"] = round(self._decode_wait_s * 1000, 1)
                first_audio = False
                self.line_starts.append(self.t)
                self.emit(event)
                played = self._speak(audio)
                if played is not None:
                    self.emit({"type": "cut", "played_s": round(played, 3)})
                    cut = True
            else:
                self.emit(action.event())
                if isinstance(action, Hangup):
                    self.result.ended = action.reason
        self._flush_recording()
        if cut:
            return  # the customer is speaking: their utterance goes on, nothing to ignore
        # The no-input timer starts when the bot has finished speaking; its own tail is not heard.
        self.vad.reset_silence()
        self.vad.ignore(self.options.ignore_after_bot_s)

    def listen(self, line: Iterator[np.ndarray | None]) -> CallRunner:
        """Attach the customer's side before `start`, so the bot hears it while it speaks (barge-in).

        The line yields 30 ms frames; while the bot speaks it may yield None: nothing on the line
        (a simulated customer waiting for the bot to finish), and the bot's audio alone moves the clock.
        """
        self.line = line
        return self

    def _speak(self, audio: np.ndarray) -> float | None:
        """The bot's line goes out: played, recorded, and the clock moves by its length.

        With barge-in the customer's line is heard frame by frame meanwhile; when their speech
        starts the bot stops (`stop`) and the seconds it played are returned. None: played in full.
        """
        barge = self.options.barge_in and self.line is not None
        pace = self.options.realtime and self.play is None
        if self.play is not None:
            self.play(audio)   # (live with barge-in: returns at once, the microphone sets the pace)
        if not (barge or pace):
            self._record_audio(audio)
            self.clock += len(audio)
            return None
        gate = self._echo_gate(audio) if barge else None
        started = time.perf_counter()
        self.speaking = True
        try:
            for k, i in enumerate(range(0, len(audio), FRAME)):
                chunk = audio[i:i + FRAME]
                heard = next(self.line, None) if barge and self.line is not None else None
                if heard is None:
                    self._record_audio(chunk)
                    self.clock += len(chunk)
                else:
                    if len(chunk) < len(heard):
                        chunk = np.concatenate([chunk, np.zeros(len(heard) - len(chunk), dtype=np.float32)])
                    self.vad.gate_dbfs = float(gate[k]) if gate is not None else None
                    try:
                        events = self._hear(heard, bot=chunk)
                    finally:
                        self.vad.gate_dbfs = None
                    if any(isinstance(ev, SpeechStarted) for ev in events):
                        if self.stop is not None:
                            self.stop()
                        return min(len(audio), i + len(chunk)) / SAMPLE_RATE
                if pace:
                    delay = started + (i + len(chunk)) / SAMPLE_RATE - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
        finally:
            self.speaking = False
        return None

    def _echo_gate(self, audio: np.ndarray) -> np.ndarray:
        """Per 30 ms frame of the bot's line: the level the customer must clear while it plays."""
        n = -(-len(audio) // FRAME)
        padded = np.zeros(n * FRAME, dtype=np.float64)
        padded[:len(audio)] = audio
        power = np.mean(padded.reshape(n, FRAME) ** 2, axis=1)
        levels = 10.0 * np.log10(np.maximum(power, 1e-12))
        lag = max(1, int(round(self.options.echo_lag_ms / FRAME_MS)))
        loudest = np.array([levels[max(0, k - lag):k + 1].max() for k in range(n)])
        return loudest - self.options.echo_return_loss_db + self.vad.options.margin_db

    # -- the customer speaks

    def _hear(self, frame: np.ndarray, bot: np.ndarray | None = None) -> list[Any]:
        """One frame of the line through VAD and ASR (recorded mixed with the bot's audio, if any)."""
        self._record_audio(frame if bot is None else np.clip(frame + bot, -1.0, 1.0))
        self.clock += len(frame)
        events = self.vad.push(frame)
        if self._utt is not None:
            partial = self._utt.accept(frame)
            if partial is not None:
                self._partial = partial.text
        else:
            self._preroll.append(frame)
        self._maybe_preempt()
        for ev in events:
            if isinstance(ev, SpeechStarted):
                if self._ahead is not None:
                    self._ahead.pause()  # the recogniser gets the cores while the customer talks
                self._utt, self._partial = self.recognizer.start(), None
                for old in self._preroll:
                    partial = self._utt.accept(old)
                    if partial is not None:
                        self._partial = partial.text
                self._preroll.clear()
        return events

    def _push(self, frame: np.ndarray | None) -> None:
        """One frame of customer audio (or line silence) through VAD and ASR; a turn at its endpoint."""
        if frame is None:
            frame = np.zeros(FRAME, dtype=np.float32)
        for ev in self._hear(frame):
            if isinstance(ev, SpeechEnded):
                self._turn(ev)
                if self.policy.ended:
                    return
        if self.vad.in_speech and self._turn_over():
            self._preempt = self._preempt or self._early
            self._turn(self.vad.end_now()[0])
            if self.policy.ended:
                return
        if not self.vad.in_speech and self.vad.silence_s >= self.policy.timeout_s():
            self._silence(self.vad.silence_s)

    def _silence(self, seconds: float) -> None:
        self.emit({"type": "silence", "seconds": round(seconds, 2)})
        self.act(self.policy.handle(Silence(self.t, seconds)))

    # -- a typed call (chat): the same runner, fed with text

    def hear_text(self, text: str) -> Turn:
        """The customer typed a line: it takes the time of saying it, then the bot answers."""
        text, capped = capped_line(text)
        start = self.t
        self.clock += int(max(1.0, len(text) / TYPED_CHARS_PER_S) * SAMPLE_RATE)
        turn = self.policy.handle(Heard(self.t, text))
        self.emit({"type": "heard", "text": text, "speech_start": round(start, 3), "speech_end": round(self.t, 3)}
                  | capped | turn.heard_fields())
        self.act(turn)
        return turn

    def stay_silent(self) -> None:
        """The customer says nothing until the no-input timer fires."""
        wait = self.policy.timeout_s()
        self.clock += int(wait * SAMPLE_RATE)
        self._silence(wait)

    def _maybe_preempt(self) -> None:
        """Start decoding at silence onset; forget that decode if speech resumes."""
        after = self.options.preemptive_after_s
        if not (self.options.realtime or self.play is not None):
            return  # faster than real time an early decode saves nothing, and would make runs differ
        if after is None or self._utt is None or not hasattr(self._utt, "samples") or not self.vad.in_speech:
            return  # (out of speech, the turn itself takes over)
        trailing = self.vad.trailing_silence_s
        if trailing == 0.0 and self._preempt is not None:
            self._stale = self._preempt  # the customer went on talking: that early decode is stale
            self._preempt = None
        elif trailing >= after and self._preempt is None:
            if self._stale is not None and not self._stale.done():
                return  # one decode at a time on two cores: a queued one would only come later
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preemptive-asr")
            self._preempt = self._pool.submit(self.recognizer.transcribe, self._utt.samples)

    def _turn_over(self) -> bool:
        """Has the trailing silence reached the wait the words so far call for (`endpointing`)?

        Words come from the streaming recogniser's partial text, or from whisper's decode started at
        silence onset (live: once it is done; simulated: run here, once per pause, so a simulation
        gives the same turns every run). While that early decode still runs the turn keeps
        listening: the reply cannot start before it anyway, and speech resuming meanwhile is the
        same turn (the decode is dropped). The detector itself ends the utterance at the longest
        wait (`open_end_ms`) whatever happens.
        """
        opts = self.turn_options
        trailing_ms = self.vad.trailing_silence_s * 1000
        if trailing_ms == 0.0:
            self._early = None  # the customer went on: words decoded in the pause are stale
            return False
        shortest = min(opts.reply_end_ms, opts.question_end_ms, opts.matched_end_ms, opts.end_silence_ms)
        if trailing_ms < shortest or self._utt is None:
            return False
        live = self.options.realtime or self.play is not None
        decoding = False
        if not hasattr(self._utt, "samples"):
            text = self._partial
        elif self._preempt is not None:
            decoding = not self._preempt.done()
            text = None if decoding else self._preempt.result().text
        elif live:
            text = None  # the early decode has not started (a stale one still runs)
            decoding = self._stale is not None and not self._stale.done()
        else:
            if self._early is None:
                self._early = Future()
                self._early.set_result(self.recognizer.transcribe(self._utt.samples))
            text = self._early.result().text
        wait = wait_ms(self._cue_of(text), opts)
        if decoding or (live and text is None and hasattr(self._utt, "samples")
                        and self.options.preemptive_after_s is not None):
            return False
        return trailing_ms >= wait

    def _cue_of(self, text: str | None) -> Any:
        """`endpointing.cue_of` on the words so far, judged once per text and bot line."""
        if not text:
            return None
        key = (to_simplified(text), self.policy.state.asked, self.policy.state.open)
        if self._cue is None or self._cue[0] != key:
            self._cue = (key, cue_of(key[0], self.policy))
        return self._cue[1]

    def _turn(self, ev: SpeechEnded) -> None:
        work_started = time.perf_counter()
        self._early = None
        # VAD times count customer audio only; the call clock also counts the bot's speech.
        offset = self.t - self.vad.t
        start, end = ev.start + offset, ev.t + offset
        self._speech_end_t = end
        utt, self._utt = self._utt, None
        preempt, self._preempt = self._preempt, None
        stale, self._stale = self._stale, None
        if preempt is None and stale is not None:
            stale.result()  # let a stale early decode finish rather than compete with the real one
        if preempt is not None:
            transcript = preempt.result()
            self.preempted_turns += 1
        elif utt is not None:
            transcript = utt.finish()
        else:
            transcript = self.recognizer.transcribe(ev.audio)
        text, capped = capped_line(to_simplified(transcript.text))
        self._decode_wait_s = 0.0
        if utt is not None and hasattr(utt, "samples") and (self.options.realtime or self.play is not None):
            # the part of the wait spent listening on for whisper's early decode, past its cue's wait
            cue_wait = wait_ms(self._cue_of(text), self.turn_options) / 1000
            self._decode_wait_s = max(0.0, self.t - end - cue_wait)
        heard = Heard(self.t, text, transcript.confidence, ev.level_dbfs, ev.snr_db,
                      transcript.language, transcript.language_prob)
        turn = self.policy.handle(heard)
        self.emit({"type": "heard", "text": text, "confidence": round(transcript.confidence, 3),
                   "speech_start": round(start, 3), "speech_end": round(end, 3),
                   "level_dbfs": round(ev.level_dbfs, 1), "snr_db": round(ev.snr_db, 1),
                   "language": transcript.language} | capped | turn.heard_fields())
        self.act(turn, work_started)

    # -- whole calls

    def start(self, ringback_kind: str | None = None) -> None:
        if ringback_kind:
            self.emit({"type": "ringback", "kind": ringback_kind})
            actions = self.policy.handle(Ringback(self.t, ringback_kind))
            if actions:
                self.act(actions)
                return
        self.emit({"type": "start", "second_visit": self.options.second_visit})
        self.act(self.policy.handle(Started(self.t, self.options.second_visit)))

    def run_frames(self, source: Iterable[np.ndarray | None] | None = None) -> CallResult:
        """Feed frames (default: the line given to `listen`) until the policy hangs up or the source
        ends (then the call ends as `line_silent`). An exception ends the call too (`interrupted` for
        Ctrl-C, else `error`) and goes on up."""
        if source is None:
            if self.line is None:
                raise ValueError("run_frames needs a source, or a line given to listen()")
            source = self.line
        pace = FRAME / SAMPLE_RATE if self.options.realtime else 0.0
        next_at = time.perf_counter()
        try:
            for frame in source:
                if self.policy.ended:
                    break
                if pace:
                    next_at = max(next_at + pace, time.perf_counter() - 0.5)
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self._push(frame)
        except BaseException as err:
            self.end(end_reason(err))
            raise
        self.end("line_silent")
        return self.result


MAX_LINE_CHARS = MAX_TEXT_CHARS
"""A customer line longer than this is cut (with `truncated_from` in its `heard` event, which the CLI
shows as a warning): a turn is a sentence or two, and the matcher reads no further anyway. A
recognised utterance is at most `VadOptions.max_speech_s` long, so this mostly guards typed lines."""


def capped_line(text: str) -> tuple[str, dict[str, int]]:
    """The line as the call keeps it, and `{"truncated_from": n}` when it was cut."""
    if len(text) <= MAX_LINE_CHARS:
        return text, {}
    return text[:MAX_LINE_CHARS], {"truncated_from": len(text)}


def _renderer(synthesizer: Any) -> BackgroundRenderer | None:
    """A background renderer for a voice with a cache (nothing to fill without one)."""
    return BackgroundRenderer(synthesizer) if isinstance(synthesizer, CachedSynthesizer) else None


def end_reason(err: BaseException) -> str:
    """The hangup reason for a call ended by an exception."""
    if isinstance(err, KeyboardInterrupt):
        return "interrupted"
    return getattr(err, "hangup_reason", "error")


def file_frames(blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Cut streamed blocks into FRAME-sized frames (the last padded with zeros), one block in memory."""
    rest = np.zeros(0, dtype=np.float32)
    for block in blocks:
        data = np.concatenate([rest, block]) if rest.size else block
        n = len(data) // FRAME * FRAME
        for i in range(0, n, FRAME):
            yield data[i:i + FRAME]
        rest = data[n:]
    if rest.size:
        yield np.concatenate([rest, np.zeros(FRAME - rest.size, dtype=np.float32)])


@dataclass(frozen=True)
class CustomerFile:
    """One recording of the customer's side of a simulated call, and when it starts."""

    path: Path
    """The audio file (any rate and channels; streamed)."""
    at_s: float | None = None
    """Seconds after the bot began its reply to the previous file (the opening, for the first file)
    at which this one starts, even if the bot is still talking (barge-in); None: the file waits
    until the bot has finished and `customer_gap_s` has passed."""

    @classmethod
    def parse(cls, arg: str | Path) -> CustomerFile:
        """`B.wav` or `B.wav@1.5` (a file whose own name ends in @<number> is taken as a name when it exists)."""
        text = str(arg)
        name, sep, when = text.rpartition("@")
        if not sep or not name or Path(text).exists():
            return cls(Path(text))
        try:
            at = float(when)
        except ValueError:
            return cls(Path(text))
        if not (at >= 0 and np.isfinite(at)):
            from .errors import VoicebotError
            raise VoicebotError(f"{text}: the time after @ must be seconds, 0 or more (e.g. {name}@1.5): "
                                f"how long after the bot begins its line the customer starts")
        return cls(Path(name), at)


class SimulatedLine:
    """The customer's side of a simulated call: each file after the bot's reply, then silence.

    Files stream block by block (`iter_audio_blocks`): memory does not grow with their length, and a
    file is read once, as the call reaches it. A bare file starts `gap_s` after the bot stops speaking
    and pauses while the bot speaks (nothing is consumed: None). A timed file (`at_s`, with
    barge-in) starts `at_s` after the bot began its reply to the previous file and plays on whether
    the bot talks or not: the call hears it over the bot's voice. The line ends at `max_s`.
    """

    def __init__(self, files: list[tuple[Iterator[np.ndarray], float | None]], runner: CallRunner,
                 gap_s: float, max_s: float, barge_in: bool = True) -> None:
        self.pending: deque[tuple[Iterator[np.ndarray], float | None]] = deque(files)
        self.runner = runner
        self.gap_s = gap_s
        self.max_s = max_s
        self.barge_in = barge_in
        self.current: Iterator[np.ndarray] | None = None
        self.current_timed = False
        self.started_t: float | None = None   # when the file playing (or the last one) began
        self.ended_t = 0.0                    # when the last file ran out (0: the call's start)
        self._silence = np.zeros(FRAME, dtype=np.float32)

    def __iter__(self) -> SimulatedLine:
        return self

    def __next__(self) -> np.ndarray | None:
        runner = self.runner
        if runner.t >= self.max_s:
            raise StopIteration
        if self.pending and self._due(self.pending[0][1]):
            # (a timed file may start while the previous, bare, one still holds its trailing audio:
            # that rest is dropped, the customer has moved on)
            self.current, at = self.pending.popleft()
            self.current_timed = at is not None and self.barge_in
            self.started_t = runner.t
        if self.current is not None and (self.current_timed or not runner.speaking):
            frame = next(self.current, None)
            if frame is not None:
                return frame
            self.current = None
            self.ended_t = runner.t
        return None if runner.speaking else self._silence

    def _due(self, at_s: float | None) -> bool:
        """Whether the next file starts now."""
        runner = self.runner
        if runner.vad.in_speech:
            return False
        if at_s is None or not self.barge_in:
            # A bare file: once the previous one is done, the bot has spoken and the gap has passed.
            return self.current is None and not runner.speaking and runner.vad.silence_s >= self.gap_s
        if self.current_timed and self.current is not None:
            return False
        # A timed file: from the bot's reply to the previous file, its first line after the
        # customer's last words heard in that file (after its end, if nothing was heard in it).
        heard_end = runner._speech_end_t
        if self.started_t is not None and heard_end is not None and heard_end >= self.started_t:
            after = heard_end
        elif self.current is None:
            after = self.ended_t
        else:
            return False   # the previous file is still playing and nothing of it has been answered
        anchor = next((t for t in runner.line_starts if t >= after - 1e-9), None)
        return anchor is not None and runner.t >= anchor + at_s - 1e-9


def simulate(policy: Policy, recognizer: Any, synthesizer: Speaker,
             customer_files: list[str | Path | CustomerFile], folder: Path | None = None,
             options: CallOptions | None = None,
             on_event: Callable[[dict[str, Any]], None] | None = None,
             vad_options: VadOptions | None = None) -> CallResult:
    """One call whose customer side is the given audio files, one after another, streamed
    (a `CustomerFile` with `at_s` cuts into the bot's reply; plain paths wait for the bot)."""
    from .ringback import detect_ringback
    options = options or CallOptions()
    runner = CallRunner(policy, recognizer, synthesizer, folder, options, vad_options, on_event=on_event)
    parts = [f if isinstance(f, CustomerFile) else CustomerFile(Path(f)) for f in customer_files]
    try:
        files = [file_frames(iter_audio_blocks(f.path)) for f in parts]
        ringback_kind = None
        if parts:
            # Ringback comes first: look for it in the first minute, keep the rest streaming.
            blocks = iter_audio_blocks(parts[0].path)
            head: list[np.ndarray] = []
            while sum(len(b) for b in head) < RINGBACK_SCAN_S * SAMPLE_RATE:
                block = next(blocks, None)
                if block is None:
                    break
                head.append(block)
            first = np.concatenate(head) if head else np.zeros(0, dtype=np.float32)
            ring = detect_ringback(first)
            if ring.kind != "none":
                ringback_kind = ring.kind
                cut = int(ring.ends_at * SAMPLE_RATE)
                runner._record_audio(first[:cut])
                runner.clock += cut
                first = first[cut:]
            files[0] = file_frames(itertools.chain([first], blocks))
            del head
        runner.listen(SimulatedLine([(frames, part.at_s) for frames, part in zip(files, parts)], runner,
                                    options.customer_gap_s, options.max_call_s, options.barge_in))
        runner.start(ringback_kind)
    except BaseException as err:
        runner.end(end_reason(err))
        raise
    if policy.ended:
        runner.close()
        return runner.result
    return runner.run_frames()
