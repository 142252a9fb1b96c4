"""faster-whisper as the Mandarin engine PyPI can feed (whisper-base, int8, CPU).

whisper decodes a whole utterance at once. Its encoder was trained on 30 s windows and
faster-whisper pads every utterance to one; on this machine's two cores that encoder pass alone is
~1.9 s of a ~2 s decode, whatever the utterance length. The encoder (CTranslate2) accepts a shorter
input, so the window is cut to the utterance plus `WINDOW_MARGIN_FRAMES` of the padding (as
whisper.cpp's `audio_ctx` does): decode ~0.5 s, same error rate (see `WINDOW_MARGIN_FRAMES`).
A decode that loops on the short window (唯唯唯唯…) is decoded again on the whole one.
`Utterance` only buffers frames and decodes at `finish()`; a caller wanting lower latency decodes
early with `transcribe()` at silence onset and drops the result if speech resumes.

whisper writes Mandarin in traditional characters about 70 % of the time; the text is left as
written (the matcher converts to simplified).
"""
from __future__ import annotations

import copy
import dataclasses
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from voicebot.asr.base import Partial, Transcript, Word, mean_conf
from voicebot.asr.models import find_whisper_model
from voicebot.audio import SAMPLE_RATE, frames
from voicebot.errors import ModelError
from voicebot.vad import level_dbfs

SHORT_PROMPT: Final = "以下是普通话的句子。"
"""The short script-steering prompt that was measured (and rejected as a default, see below)."""
DEFAULT_PROMPT: Final[str | None] = None
"""No prompt by default: the short prompt trades errors for simplified script.
24 natural-voice lines (tests/data/customer, clean; beam 5, int8, 2 threads; CER after t2s):
no prompt 0.098, 21/24 lines traditional; SHORT_PROMPT 0.163, 3/24 traditional: it appends
subtitle credits that were never said ("作词", "字幕製作", "请订阅"), and writes 10086 as
零零八六. 12 espeak-ng pinyin lines: 0.61 → 1.47 (the prompt echoed as a transcript, loops).
The field notes saw a long domain prompt hurt as well (13–16 % vs 10.5 %). The matcher converts
traditional to simplified anyway, so script is not worth a single error."""
TEMPERATURES: Final = (0.0,)
"""Deterministic decoding (beam search at temperature 0), no fallback: the same audio gives the same text
every run (a WAV call replays identically), and a fallback is another full decode (up to 10–18 s
in the field notes). Measured on 12 espeak pinyin lines: fallback 0.0–0.4 gave CER 0.73 vs 0.61."""
WINDOW_MARGIN_FRAMES: Final = 50
"""Padding frames (10 ms each) kept after the utterance when the 30 s window is cut (0.5 s).
Measured on the Mandarin customer fixtures (every voice and condition; beam 5, 2 threads, with
`python3 benchmarks/bench_asr.py --window` and the study before it), whole window vs cut:
149 lines at load ≈ 4: CER 13.1 % vs 11.8 %, entry matched 125 vs 124 of 134, yes/no replies 11
vs 10 of 11 (是的 → 试灯 vs 是等), decode median 2.00 s vs 0.75 s; 152 lines at load ≈ 2: CER 12.9 %
vs 12.3 % (cut at +1 s: 12.8 %), 17 vs 16 lines badly heard, decode median 3.18 s vs 0.49 s.
Longer minimum windows (5 s, 10 s) measured no better (12.0 %, 12.5 %). Lines differ by a
character either way (垄断/楼断, 乱扣费/乱咖啡): no more errors, four times faster."""
TOKENS_BASE: Final = 16
TOKENS_PER_SECOND: Final = 12
"""Cap on tokens decoded per 30 s window, 16 + 12 per second of audio: fast Mandarin is ~6
characters a second (~1.3 tokens each) plus punctuation and timestamps, so real lines never hit
it, but a repetition loop ("天天天…", "（（（（") stops within a few tokens instead of at 448.
Measured on 12 espeak pinyin lines: CER 1.20 → 0.61, decoding 19.1 s → 10.9 s for all 12."""
TOKENS_MAX: Final = 200
"""faster-whisper refuses prompt + new tokens > 448, and the prompt can take up to 224."""
NO_SPEECH_THRESHOLD: Final = 0.6
"""faster-whisper's default: a segment judged silence (and decoded with low log-probability) is dropped."""
LOOP: Final = re.compile(r"(.{1,12}?)\1{2,}", re.DOTALL)
"""A piece said three times in a row. A segment judged silence (no-speech probability above
NO_SPEECH_THRESHOLD) that loops like this is invented: "I'm sorry, I'm sorry, I'm sorry" on 1 s
of silence or noise with language detection (no-speech 0.73–0.77); real lines measured ≤ 0.42."""
LOOP_COMPRESSION: Final = 2.4
"""Or whose text compresses this well (faster-whisper's own threshold for a repetitive decode)."""
SILENT_DBFS: Final = -70.0
"""An utterance whose loudest 20 ms stay below this is digital silence (a muted microphone, a WAV's
padding): nothing was said, and whisper, given nothing, invents (请问问, 作詞, You). A live line's
noise floor sits far above it (a quiet room ≈ −60 dBFS, the quietest fixture speech ≈ −35)."""
DOUBLED: Final = re.compile(r"^(?P<once>.{6,}?)[\s,，、。.]*(?P=once)[\s,，、。.?？!！]*$", re.DOTALL)
"""A whole transcript that is one phrase of 6+ characters said twice: whisper's other repetition
(seen once in the 152 fixtures: 谁要你们给我打电话的 谁要你们给我打电话的, for a line said once).
People repeat short things (喂喂, 不要不要), rarely a whole sentence word for word in one breath."""


@dataclass(frozen=True)
class WhisperOptions:
    """Decoding options, fixed when the recogniser loads."""

    language: str | None
    """"zh" to impose Mandarin; None to detect (to notice a caller speaking something else)."""
    initial_prompt: str | None
    """Text decoded as if it came before the utterance (biases script and vocabulary)."""
    hotwords: str | None
    """Words to favour (faster-whisper prepends them like a prompt; measure before using)."""
    beam_size: int
    """5 is faster-whisper's default; beam 1 saves ~0.1 s but looped once on "（（（（" here."""
    full_window: bool = False
    """True: encode the whole padded 30 s window as whisper was trained: about four times slower,
    the same error rate overall, but lines differ by a character either way, and a spoken work id
    (我的工号是8086) came out 八人八六 on the short window: drills and recorded calls score on it."""


class WhisperRecognizer:
    """A loaded whisper model; `start()` opens an utterance, `transcribe()` decodes a buffer."""

    name: str = "whisper"

    def __init__(self, model_dir: str | Path | None = None, language: str | None = "zh",
                 initial_prompt: str | None = DEFAULT_PROMPT, hotwords: str | None = None,
                 beam_size: int = 5, cpu_threads: int = 2, compute_type: str = "int8",
                 full_window: bool = False) -> None:
        self.sample_rate: int = SAMPLE_RATE
        self.model_dir = find_whisper_model(model_dir)
        self.options = WhisperOptions(language, initial_prompt, hotwords, beam_size, full_window)
        started = time.perf_counter()
        try:
            self._model = _model_class()(
                str(self.model_dir), device="cpu", compute_type=compute_type,
                cpu_threads=cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as err:
            reason = " ".join(str(err).split())[:160]
            raise ModelError(f"cannot load the whisper model in {self.model_dir} ({reason}): "
                             f"run `voicebot models download whisper-base`") from err
        self.load_seconds: float = time.perf_counter() - started
        """Time the model took to load (for benchmarks and the "using …" note)."""

    def with_language(self, language: str | None) -> WhisperRecognizer:
        """The same loaded model decoding another language (None: detect), without a second load."""
        other = copy.copy(self)
        other.options = dataclasses.replace(self.options, language=language)
        return other

    def with_window(self, full: bool) -> WhisperRecognizer:
        """The same loaded model on the whole 30 s window (full=True: scoring what a trainee said,
        where a digit matters more than half a second) or the utterance's (a call's turn)."""
        other = copy.copy(self)
        other.options = dataclasses.replace(self.options, full_window=full)
        return other

    def start(self) -> WhisperUtterance:
        """Open an utterance that buffers frames until `finish()`."""
        return WhisperUtterance(self)

    def _decode(self, samples: np.ndarray, whole_window: bool = False) -> tuple[list, object]:
        """faster-whisper's segments (decoded here: it yields them lazily) and its info."""
        opts = self.options
        _WINDOW.whole = whole_window
        try:
            segments, info = self._model.transcribe(
                samples, language=opts.language, initial_prompt=opts.initial_prompt,
                hotwords=opts.hotwords, beam_size=opts.beam_size, vad_filter=False,
                word_timestamps=True, condition_on_previous_text=False,
                temperature=list(TEMPERATURES), no_speech_threshold=NO_SPEECH_THRESHOLD,
                max_new_tokens=max_tokens(samples.size / self.sample_rate))
            return list(segments), info
        finally:
            _WINDOW.whole = False

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Decode a whole utterance (float32 mono, 16 kHz)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        opts = self.options
        if samples.size == 0 or peak_dbfs(samples) < SILENT_DBFS:
            return Transcript("", 0.0, (), 0.0, 0.0, opts.language, None, self.name)
        segments, info = self._decode(samples, whole_window=opts.full_window)
        if not opts.full_window and any(_looped(s) for s in segments):
            segments, info = self._decode(samples, whole_window=True)  # a loop: decode as trained
        segments = [s for s in segments if not _invented(s)]
        words = tuple(Word(unbroken(w.word).strip(), float(w.start), float(w.end), float(w.probability))
                      for s in segments for w in (s.words or ()) if unbroken(w.word).strip())
        text = "".join(unbroken(s.text).strip() if _no_space_between(i, segments) else " " + unbroken(s.text).strip()
                       for i, s in enumerate(segments)).strip()
        text, words = undouble(text, words)
        detected = opts.language is None
        return Transcript(
            text=text, confidence=mean_conf(words), words=words,
            start=words[0].start if words else 0.0, end=words[-1].end if words else 0.0,
            language=info.language, language_prob=float(info.language_probability) if detected else None,
            engine=self.name)


def unbroken(text: str) -> str:
    """`text` without U+FFFD: whisper's byte-level tokens can end a segment inside a character's UTF-8
    bytes (诈� for 诈骗), and the broken half would reach the matcher, the record and the trainer's
    page as a replacement character. The whole character is lost either way; the rest reads clean."""
    return text.replace("\ufffd", "")


def peak_dbfs(samples: np.ndarray, window_ms: int = 20) -> float:
    """Level of the loudest `window_ms` of `samples` (`vad.level_dbfs` of each block, the max)."""
    return max((level_dbfs(block) for block in frames(samples, window_ms)), default=level_dbfs(samples))


def undouble(text: str, words: tuple[Word, ...]) -> tuple[str, tuple[Word, ...]]:
    """One copy of a transcript that is a phrase decoded twice (`DOUBLED`), and its words."""
    doubled = DOUBLED.match(text)
    if doubled is None:
        return text, words
    once = doubled.group("once").strip()
    kept: list[Word] = []
    said = 0
    for w in words:
        if said >= len(re.sub(r"\s", "", once)):
            break
        kept.append(w)
        said += len(re.sub(r"\s", "", w.text))
    return once, tuple(kept)


def cut_window(features: np.ndarray, margin: int = WINDOW_MARGIN_FRAMES) -> np.ndarray:
    """The utterance's frames of a padded 30 s window, plus `margin` frames of the padding.

    faster-whisper pads a window with exact zeros after the utterance (`pad_or_trim`); a frame of
    real audio, even silence, is never all zeros in whisper's normalised log-mel. So the last
    frame with a non-zero value ends the utterance. The length stays even (the encoder's
    convolution halves it)."""
    batch = features if features.ndim == 3 else features[None]
    nonzero = np.flatnonzero(np.any(batch != 0.0, axis=(0, 1)))
    content = int(nonzero[-1]) + 1 if nonzero.size else 0
    keep = min(batch.shape[-1], max(content + margin, 2))
    keep += keep % 2
    out = np.ascontiguousarray(batch[..., :keep])
    return out if features.ndim == 3 else out[0]


def _model_class() -> type:
    """faster-whisper's model class, encoding only the utterance unless this thread asks for the
    whole window (`_WINDOW.whole`)."""
    from faster_whisper import WhisperModel  # heavy import (ctranslate2): only when used

    class UtteranceWindowModel(WhisperModel):  # type: ignore[misc,valid-type]
        """Encodes the utterance and a short margin instead of the whole padded 30 s window."""

        def encode(self, features: np.ndarray):  # noqa: ANN201 (a ctranslate2.StorageView)
            return super().encode(features if getattr(_WINDOW, "whole", False) else cut_window(features))

    return UtteranceWindowModel


_WINDOW = threading.local()
"""`whole`: this thread's decode encodes the whole 30 s window (a retry after a loop). Per thread,
because one loaded model serves several calls (the classroom server) at once."""


def _looped(segment: object) -> bool:
    """A decode stuck repeating itself (唯唯唯唯…): the short window's failure, whatever no-speech says."""
    return segment.compression_ratio > LOOP_COMPRESSION or LOOP.search(segment.text) is not None


def _invented(segment: object) -> bool:
    """Silence decoded as a loop: whisper's best-known hallucination."""
    return segment.no_speech_prob > NO_SPEECH_THRESHOLD and (
        segment.compression_ratio > LOOP_COMPRESSION or LOOP.search(segment.text) is not None)


def max_tokens(seconds: float) -> int:
    """Token budget for one 30 s window of an utterance this long (stops repetition loops)."""
    return int(min(TOKENS_MAX, TOKENS_BASE + TOKENS_PER_SECOND * min(seconds, 30.0)))


def _no_space_between(i: int, segments: list) -> bool:
    """Segments of Chinese text join without a space; others keep one."""
    if i == 0:
        return True
    prev, cur = segments[i - 1].text.strip(), segments[i].text.strip()
    return bool(prev and cur) and ord(prev[-1]) > 0x2E80 and ord(cur[0]) > 0x2E80


class WhisperUtterance:
    """Buffers the customer's frames; whisper needs the whole utterance to decode."""

    def __init__(self, recognizer: WhisperRecognizer) -> None:
        self._recognizer = recognizer
        self._frames: list[np.ndarray] = []

    def accept(self, frame: np.ndarray) -> Partial | None:
        """Keep the frame; whisper gives no partial results."""
        self._frames.append(np.asarray(frame, dtype=np.float32).reshape(-1))
        return None

    @property
    def samples(self) -> np.ndarray:
        """Everything accepted so far (for a caller that decodes early)."""
        return np.concatenate(self._frames) if self._frames else np.zeros(0, np.float32)

    def finish(self) -> Transcript:
        """Decode everything accepted so far."""
        return self._recognizer.transcribe(self.samples)
