"""Speech detection on the sample clock: when the customer starts and stops talking.

Each 30 ms frame is speech only if three things agree:
  1. webrtcvad says it sounds like speech (it alone calls any loud steady noise speech);
  2. its level clears an adaptive noise floor by `margin_db` (a low percentile of the last few
     seconds of frame levels: steady noise sits at the floor, speech rises above it);
  3. its level clears an absolute minimum (`min_level_dbfs`), so hiss on a silent line is not
     speech, while a quiet speaker at -40 dBFS still is.
An utterance starts after `min_speech_ms` of speech frames and ends after `end_silence_ms` of
non-speech. Time is counted in samples pushed (the call clock), never in wall time, so a WAV
gives the same events on every run and on every machine.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import webrtcvad

from voicebot.audio import SAMPLE_RATE, frames, to_pcm16

MIN_DBFS: Final = -120.0
"""Level reported for digital silence (log of zero), so levels stay finite and JSON-friendly."""

FLOOR_MIN_DBFS: Final = -90.0
"""Lowest noise floor assumed: below 16-bit dither, no real line is quieter. Keeps the SNR of
generated (digitally silent) audio finite."""

HIGHPASS_HZ: Final = 100.0
"""Energy below this is never speech (hum, rumble, wind, handling noise): the gate and the
noise floor ignore it, so a 50 Hz hum or a rumbling truck does not open the gate."""

WEBRTC_FRAME_MS: Final = (10, 20, 30)
"""The only frame lengths webrtcvad accepts."""


@dataclass(frozen=True)
class VadOptions:
    """Tuning of the speech detector. Each default says why it was chosen."""

    aggressiveness: int = 2
    """webrtcvad mode 0-3. 2 keeps soft word onsets that 3 drops, and the energy gate below
    already rejects the steady noise that makes modes 0-1 too eager."""
    frame_ms: int = 30
    """Analysis frame (10, 20 or 30 ms for webrtcvad); 30 ms gives its steadiest decisions."""
    min_speech_ms: int = 150
    """Speech needed before an utterance starts: shorter is a click, a cough or a breath; a
    one-syllable "嗯" / "对" still lasts 150-300 ms."""
    start_window_ms: int = 300
    """The `min_speech_ms` of speech may be spread over this window, so one dropped frame in a
    soft onset does not delay the start."""
    end_silence_ms: int = 600
    """Silence after speech that ends an utterance (the endpoint). Mandarin speakers pause
    200-400 ms between phrases, so less cuts sentences in two; vosk itself endpoints after 0.5 s
    (confident) to 1.0 s of silence, and people accept 500-800 ms from their last word to the
    bot's voice. 600 ms ends a turn inside that window with room for the reply."""
    reply_end_ms: int = 300
    """Silence that ends a turn whose words are a short reply to the yes/no question the bot just
    asked (可以 / 不需要 / 没兴趣): the customer has clearly finished (`voicebot.endpointing`). Shorter
    than a breath between phrases, longer than the gap between syllables."""
    question_end_ms: int = 600
    """Silence that ends a turn whose words are a complete question (…吗, 多少, 为什么). Measured on
    the fixtures (benchmarks/bench_call.py --cutoffs): a first clause that reads as a whole
    question (我的资料你们不是都有吗，还问我干嘛) is followed by pauses of up to 570 ms, so any
    shorter wait cuts customers off; raise `end_silence_ms` and this cue still ends questions at
    this wait."""
    matched_end_ms: int = 400
    """Silence that ends a turn whose words the matcher places strongly in the book and that end
    complete (the semantic cue of `voicebot.endpointing`). No first clause of the fixtures reaches
    that match (the cue fires on whole lines only), so the wait is set by people, not by the
    fixtures: longer than the pause between the words of a phrase (≤ 150 ms in the fixtures), about
    the 0.2–0.4 s people leave before they answer."""
    open_end_ms: int = 1000
    """Silence a turn waits when its words end mid-phrase (…因为, …然后, 我想问一下那个): the
    customer is still speaking. vosk's own endpointer waits 1.0 s when its decoder is not in a final
    state. The call's detector ends no utterance sooner than this (it is the longest wait)."""
    pre_roll_ms: int = 200
    """Audio kept before the detected start, so the recogniser hears the first consonant that
    the detector only counts as speech once it is voiced."""
    tail_ms: int = 90
    """Audio kept after the last speech frame: the last syllable's fading end, which webrtcvad
    often marks as silence; the rest of the trailing silence is trimmed."""
    margin_db: float = 6.0
    """How far above the noise floor a frame must be to be speech. Steady noise varies by
    1-3 dB per frame around its floor; speech at even 10 dB SNR clears 6 dB on most frames."""
    min_level_dbfs: float = -60.0
    """Frames quieter than this are never speech: handset hiss is -65 to -55 dBFS while a quiet
    speaker is still around -45 to -35 dBFS."""
    noise_window_s: float = 3.0
    """History the noise floor is taken from. Long enough to contain a pause between phrases,
    short enough that a new steady noise (a fan switched on) is absorbed within seconds."""
    noise_percentile: float = 10.0
    """Percentile of frame levels in the window taken as the floor. The minimum would sit
    below a fluctuating noise and let its peaks through; 10 % still finds the speech pauses."""
    steady_s: float = 1.0
    """A sound whose level holds within `steady_db` for this long is noise, not speech (speech
    rises and falls with every syllable: 6-10 dB spread over any second, measured on espeak-ng
    Mandarin). The floor then jumps to it at once instead of creeping up over `noise_window_s`,
    so a fan switched on mid-call ends the false utterance after about a second."""
    steady_db: float = 1.5
    """Standard deviation of frame levels (dB) below which a sound counts as steady: white and
    pink noise measure 0.2-0.9 dB over a second, speech 6 dB and more."""
    max_speech_s: float = 30.0
    """Longest utterance: whisper hears at most 30 s at once; a customer rarely talks that long
    without a pause, and it caps memory when a noise is taken for speech."""

    def __post_init__(self) -> None:
        if self.frame_ms not in WEBRTC_FRAME_MS:
            raise ValueError(f"frame_ms must be one of {WEBRTC_FRAME_MS} for webrtcvad, got {self.frame_ms}")
        if not 0 <= self.aggressiveness <= 3:
            raise ValueError(f"aggressiveness must be 0-3, got {self.aggressiveness}")
        if self.min_speech_ms > self.start_window_ms:
            raise ValueError("min_speech_ms cannot exceed start_window_ms")

    def n_frames(self, ms: float) -> int:
        """Whole frames covering ms milliseconds (at least one)."""
        return max(1, int(np.ceil(ms / self.frame_ms - 1e-9)))


@dataclass(frozen=True)
class SpeechStarted:
    """The customer started talking. Reported `min_speech_ms` after `t`, when it is certain."""

    t: float
    """Call-clock seconds where speech began (first speech frame)."""


@dataclass(frozen=True, eq=False)
class SpeechEnded:
    """The customer stopped talking. Reported `end_silence_ms` after `t` (the endpoint)."""

    t: float
    """Call-clock seconds where speech ended (end of the last speech frame)."""
    start: float
    """Call-clock seconds where this utterance's speech began (as in `SpeechStarted.t`)."""
    level_dbfs: float
    """RMS level of the speech frames, dB re full scale (-20 normal, -40 quiet)."""
    snr_db: float
    """Speech power over the noise floor heard before it, both above 100 Hz and with the
    noise's share taken out of the speech frames, in dB (-> "please move somewhere quieter")."""
    audio: np.ndarray = field(repr=False)
    """The utterance at 16 kHz: `pre_roll_ms` before `start` to `tail_ms` after `t`."""

    @property
    def duration(self) -> float:
        """Seconds of speech (t - start)."""
        return self.t - self.start


VadEvent = SpeechStarted | SpeechEnded


@dataclass(frozen=True)
class Segment:
    """One utterance found in a recording by `segments`."""

    start: float
    """Seconds where speech began."""
    end: float
    """Seconds where speech ended."""
    level_dbfs: float
    """RMS level of the speech frames (dBFS)."""
    snr_db: float
    """Speech over noise floor (dB)."""

    @property
    def duration(self) -> float:
        """Seconds of speech."""
        return self.end - self.start


def _power(samples: np.ndarray) -> float:
    data = np.asarray(samples, dtype=np.float64)
    return float(np.mean(data * data)) if data.size else 0.0


def _db(power: float) -> float:
    return max(MIN_DBFS, float(10.0 * np.log10(power))) if power > 0 else MIN_DBFS


def _band_power(frame: np.ndarray) -> float:
    """Mean-square power of the frame above HIGHPASS_HZ (Parseval on a real FFT)."""
    n = frame.size
    spec = np.fft.rfft(np.asarray(frame, dtype=np.float64))
    lo = int(np.ceil(HIGHPASS_HZ * n / SAMPLE_RATE))
    mag = np.abs(spec[lo:]) ** 2
    # Every bin but DC and (for even n) Nyquist stands for two conjugate bins.
    total = 2.0 * mag.sum()
    if n % 2 == 0 and lo <= n // 2:
        total -= mag[-1]
    return float(total / (n * n))


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB re full scale (1.0); MIN_DBFS for silence or no samples."""
    return _db(_power(samples))


def noise_floor_dbfs(samples: np.ndarray, frame_ms: int = 30, percentile: float = 10.0) -> float:
    """Noise floor of a recording: a low percentile of its frame levels (dBFS)."""
    levels = [level_dbfs(f) for f in frames(samples, frame_ms)]
    if not levels:
        return FLOOR_MIN_DBFS
    return max(FLOOR_MIN_DBFS, float(np.percentile(levels, percentile)))


def _snr_db(speech_power: float, floor_db: float) -> float:
    """SNR with the noise's own power taken out of the speech frames' power."""
    noise = 10.0 ** (floor_db / 10.0)
    clean = max(speech_power - noise, noise * 1e-3)
    return float(10.0 * np.log10(clean / noise))


UTTERANCE_NOISE_PERCENTILE: Final = 5.0
"""Percentile of in-utterance frame power taken as the noise heard between words."""


class SpeechDetector:
    """Streaming speech detector: `push` audio in any chunk sizes, get events back.

    The call owns one per call. `t` is the call clock (seconds pushed). `silence_s` is how long
    the line has been quiet, counted from the end of the last utterance or from the last
    `reset_silence()` (called when the bot stops talking, so the no-input timer never runs while
    the bot speaks). `ignore(0.3)` drops the bot's own tail heard right after it stops.
    """

    def __init__(self, options: VadOptions | None = None) -> None:
        self.options = opts = options or VadOptions()
        self._vad = webrtcvad.Vad(opts.aggressiveness)
        self._frame = SAMPLE_RATE * opts.frame_ms // 1000
        self._min_speech = opts.n_frames(opts.min_speech_ms)
        self._end_silence = opts.n_frames(opts.end_silence_ms)
        self._pre_roll = opts.n_frames(opts.pre_roll_ms)
        self._tail = int(round(opts.tail_ms / opts.frame_ms))
        self._max_frames = max(1, int(opts.max_speech_s * 1000 // opts.frame_ms))
        start_window = opts.n_frames(opts.start_window_ms)
        self._levels: deque[float] = deque(maxlen=opts.n_frames(opts.noise_window_s * 1000))
        self._window: deque[tuple[int, bool, float, float, float]] = deque(maxlen=start_window)
        self._history: deque[tuple[int, np.ndarray]] = deque(maxlen=self._pre_roll + start_window)
        self._recent: deque[float] = deque(maxlen=opts.n_frames(opts.steady_s * 1000))
        self.gate_dbfs: float | None = None
        """A level every frame must also clear to be speech, set by the call while the bot speaks (its
        own voice leaking into the microphone is quieter than the bot); None: no such gate."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._pushed = 0
        self._index = 0
        self._ignore = 0
        self._floor = FLOOR_MIN_DBFS
        self._silence_since = 0.0
        self._in_speech = False
        self._start_index = 0
        self._first_index = 0
        self._last_voiced = 0
        self._silence_run = 0
        self._utt_audio: list[np.ndarray] = []
        self._utt_powers: list[float] = []
        self._utt_band: list[float] = []
        self._utt_floor = FLOOR_MIN_DBFS
        self._utt_all_band: list[float] = []

    # -- clock and state
    @property
    def t(self) -> float:
        """Seconds of audio pushed so far: the call clock."""
        return self._pushed / SAMPLE_RATE

    @property
    def in_speech(self) -> bool:
        """True between SpeechStarted and SpeechEnded."""
        return self._in_speech

    @property
    def trailing_silence_s(self) -> float:
        """Inside an utterance: seconds of silence since the last speech frame (0 while speaking).

        The call starts decoding early (whisper) once this passes ~0.2 s, before the endpoint."""
        if not self._in_speech:
            return 0.0
        return self._silence_run * self._frame / SAMPLE_RATE

    @property
    def silence_s(self) -> float:
        """Seconds since the last utterance ended or `reset_silence()`; 0 while in speech."""
        if self._in_speech:
            return 0.0
        return max(0.0, self.t - self._silence_since)

    @property
    def noise_floor_dbfs(self) -> float:
        """Current noise floor estimate (dBFS)."""
        return self._floor

    def reset_silence(self) -> None:
        """Restart the silence count now (the bot just finished speaking)."""
        self._silence_since = self.t

    def ignore(self, seconds: float) -> None:
        """Treat the next `seconds` of input as silence (whole frames): the bot's own echo tail.

        Ignored audio moves the clock but never counts as speech, never moves the noise floor,
        and is replaced by zeros in utterance audio.
        """
        self._ignore += max(0, int(round(seconds * SAMPLE_RATE)))

    # -- input
    def push(self, samples: np.ndarray) -> list[VadEvent]:
        """Feed 16 kHz mono float samples (any length); return the events they complete."""
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._pushed += data.size
        buf = np.concatenate([self._pending, data]) if self._pending.size else data
        events: list[VadEvent] = []
        n_full = buf.size // self._frame
        for k in range(n_full):
            # A copy: the caller may reuse its buffer, and frames live on in utterance audio.
            self._process(buf[k * self._frame : (k + 1) * self._frame].copy(), events)
        self._pending = buf[n_full * self._frame :].copy()
        return events

    def end_now(self) -> list[VadEvent]:
        """End the utterance in progress here, before `end_silence_ms` (the call judged from the
        words that the customer has finished); [] outside speech."""
        events: list[VadEvent] = []
        if self._in_speech:
            self._end(events)
        return events

    def flush(self) -> list[VadEvent]:
        """End of input: analyse the partial last frame and end an utterance in progress."""
        events: list[VadEvent] = []
        if self._pending.size:
            frame = np.zeros(self._frame, dtype=np.float32)
            frame[: self._pending.size] = self._pending
            self._pending = np.zeros(0, dtype=np.float32)
            self._process(frame, events)
        if self._in_speech:
            self._end(events)
        return events

    # -- internals
    def _process(self, frame: np.ndarray, events: list[VadEvent]) -> None:
        index = self._index
        self._index += 1
        opts = self.options
        if self._ignore > 0:
            self._ignore = max(0, self._ignore - self._frame)
            frame = np.zeros(self._frame, dtype=np.float32)
            power, band, voiced = 0.0, 0.0, False
        else:
            power = _power(frame)
            band = _band_power(frame)
            level = _db(band)
            self._levels.append(level)
            self._recent.append(level)
            self._floor = max(FLOOR_MIN_DBFS, float(np.percentile(self._levels, opts.noise_percentile)))
            if self._is_steady_noise():
                self._levels.clear()
                self._levels.extend(self._recent)
                self._floor = max(FLOOR_MIN_DBFS, float(np.percentile(self._levels, opts.noise_percentile)))
            voiced = (
                level >= opts.min_level_dbfs
                and level >= self._floor + opts.margin_db
                and (self.gate_dbfs is None or level >= self.gate_dbfs)
                and self._vad.is_speech(to_pcm16(frame), SAMPLE_RATE)
            )
        self._history.append((index, frame))
        if not self._in_speech:
            self._window.append((index, voiced, power, band, self._floor))
            if sum(w[1] for w in self._window) >= self._min_speech:
                self._start(index, events)
            return
        self._utt_audio.append(frame)
        self._utt_floor = min(self._utt_floor, self._floor)
        self._utt_all_band.append(band)
        if voiced:
            self._last_voiced = index
            self._silence_run = 0
            self._utt_powers.append(power)
            self._utt_band.append(band)
        else:
            self._silence_run += 1
        if self._silence_run >= self._end_silence or index + 1 - self._start_index >= self._max_frames:
            self._end(events)

    def _is_steady_noise(self) -> bool:
        """The last `steady_s` of levels hold still well above the floor: a new steady noise."""
        if len(self._recent) < (self._recent.maxlen or 0):
            return False
        levels = np.fromiter(self._recent, dtype=np.float64)
        return bool(np.mean(levels) >= self._floor + self.options.margin_db and np.std(levels) < self.options.steady_db)

    def _start(self, index: int, events: list[VadEvent]) -> None:
        voiced = [w for w in self._window if w[1]]
        self._start_index = voiced[0][0]
        self._first_index = max(0, self._start_index - self._pre_roll)
        self._utt_audio = [f for i, f in self._history if i >= self._first_index]
        self._first_index = index + 1 - len(self._utt_audio)
        self._utt_powers = [w[2] for w in voiced]
        self._utt_band = [w[3] for w in voiced]
        self._utt_all_band = [w[3] for w in self._window]
        # The floor as it was when speech began: later values are already lifted by the speech.
        self._utt_floor = voiced[0][4]
        self._last_voiced = index
        self._silence_run = 0
        self._in_speech = True
        self._window.clear()
        events.append(SpeechStarted(t=self._start_index * self._frame / SAMPLE_RATE))

    def _noise_in_utterance(self) -> float:
        """The floor before the speech, or the noise in the pauses between words if that is louder.

        Noise that arrives with the caller (a street, a car) is not in the floor heard before the
        utterance; the quietest frames inside it (word gaps) still show it.
        """
        bands = [b for b in self._utt_all_band if b > 0]
        if len(bands) < 10:
            return self._utt_floor
        gaps = float(np.percentile(10.0 * np.log10(np.asarray(bands)), UTTERANCE_NOISE_PERCENTILE))
        return max(self._utt_floor, gaps)

    def _end(self, events: list[VadEvent]) -> None:
        keep = min(len(self._utt_audio), self._last_voiced + 1 + self._tail - self._first_index)
        audio = np.concatenate(self._utt_audio[:keep]) if keep > 0 else np.zeros(0, dtype=np.float32)
        speech_power = float(np.mean(self._utt_powers)) if self._utt_powers else 0.0
        band_power = float(np.mean(self._utt_band)) if self._utt_band else 0.0
        end_t = (self._last_voiced + 1) * self._frame / SAMPLE_RATE
        events.append(
            SpeechEnded(
                t=end_t,
                start=self._start_index * self._frame / SAMPLE_RATE,
                level_dbfs=_db(speech_power),
                snr_db=_snr_db(band_power, self._noise_in_utterance()),
                audio=audio,
            )
        )
        self._in_speech = False
        self._utt_audio = []
        self._utt_powers = []
        self._utt_band = []
        self._silence_run = 0
        self._silence_since = end_t


def detect(samples: np.ndarray, options: VadOptions | None = None) -> list[VadEvent]:
    """All events of a whole recording (pushed at once, then flushed)."""
    det = SpeechDetector(options)
    return det.push(samples) + det.flush()


def segments(samples: np.ndarray, options: VadOptions | None = None) -> list[Segment]:
    """The utterances of a whole recording, in order."""
    return [
        Segment(start=e.start, end=e.t, level_dbfs=e.level_dbfs, snr_db=e.snr_db)
        for e in detect(samples, options)
        if isinstance(e, SpeechEnded)
    ]



WINDOW_S: Final = 28.0
"""Longest stretch of a recording `speech_windows` hands over at once: whisper hears 30 s at a time."""


@dataclass(frozen=True, eq=False)
class SpeechWindow:
    """Up to `WINDOW_S` of a long recording around its speech, for one recogniser call."""

    start: float
    """Seconds into the recording where `audio` begins (add it to word times)."""
    audio: np.ndarray = field(repr=False)
    """16 kHz mono float32: the utterances at their places, the silence between them zeroed."""


def speech_windows(blocks: Iterable[np.ndarray], options: VadOptions | None = None,
                   max_s: float = WINDOW_S) -> Iterator[SpeechWindow]:
    """Cut a long recording, given as blocks (`audio.iter_audio_blocks`), into windows of speech.

    Consecutive utterances are grouped while they fit in `max_s`; stretches with no speech are
    dropped. Memory holds one window and the detector's few seconds of history, whatever the
    recording's length.
    """
    opts = options or VadOptions()
    det = SpeechDetector(opts)
    pre_roll_s = det._pre_roll * det._frame / SAMPLE_RATE
    pending: list[tuple[float, np.ndarray]] = []

    def window() -> SpeechWindow:
        first = pending[0][0]
        end = max(s + a.size / SAMPLE_RATE for s, a in pending)
        audio = np.zeros(int(round((end - first) * SAMPLE_RATE)) + 1, dtype=np.float32)
        for s, a in pending:
            at = int(round((s - first) * SAMPLE_RATE))
            piece = a[: max(0, audio.size - at)]
            audio[at : at + piece.size] = piece
        pending.clear()
        return SpeechWindow(first, audio)

    def take(events: list[VadEvent]) -> Iterator[SpeechWindow]:
        for ev in events:
            if not isinstance(ev, SpeechEnded) or ev.audio.size == 0:
                continue
            start = max(0.0, ev.start - pre_roll_s)
            end = start + ev.audio.size / SAMPLE_RATE
            if pending and end - pending[0][0] > max_s:
                yield window()
            pending.append((start, ev.audio))

    for block in blocks:
        yield from take(det.push(block))
    yield from take(det.flush())
    if pending:
        yield window()
