"""faster-whisper as the Mandarin engine PyPI can feed (whisper-base, int8, CPU).

whisper decodes a whole utterance at once: its encoder always runs on a 30 s window, so one
decode costs about 1–1.3 s on two threads whatever the utterance length. `Utterance` therefore
only buffers frames and decodes at `finish()`; a caller wanting lower latency decodes early with
`transcribe()` at silence onset and drops the result if speech resumes.

whisper writes Mandarin in traditional characters about 70 % of the time; the text is left as
written (the matcher converts to simplified).
"""
from __future__ import annotations

import copy
import dataclasses
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from voicebot.asr.base import Partial, Transcript, Word, mean_conf
from voicebot.asr.models import find_whisper_model
from voicebot.audio import SAMPLE_RATE
from voicebot.errors import ModelError

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


class WhisperRecognizer:
    """A loaded whisper model; `start()` opens an utterance, `transcribe()` decodes a buffer."""

    name: str = "whisper"

    def __init__(self, model_dir: str | Path | None = None, language: str | None = "zh",
                 initial_prompt: str | None = DEFAULT_PROMPT, hotwords: str | None = None,
                 beam_size: int = 5, cpu_threads: int = 2, compute_type: str = "int8") -> None:
        from faster_whisper import WhisperModel  # heavy import (ctranslate2): only when used

        self.sample_rate: int = SAMPLE_RATE
        self.model_dir = find_whisper_model(model_dir)
        self.options = WhisperOptions(language, initial_prompt, hotwords, beam_size)
        started = time.perf_counter()
        try:
            self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=compute_type,
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

    def start(self) -> WhisperUtterance:
        """Open an utterance that buffers frames until `finish()`."""
        return WhisperUtterance(self)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Decode a whole utterance (float32 mono, 16 kHz)."""
        samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        opts = self.options
        if samples.size == 0:
            return Transcript("", 0.0, (), 0.0, 0.0, opts.language, None, self.name)
        segments, info = self._model.transcribe(
            samples, language=opts.language, initial_prompt=opts.initial_prompt,
            hotwords=opts.hotwords, beam_size=opts.beam_size, vad_filter=False,
            word_timestamps=True, condition_on_previous_text=False,
            temperature=list(TEMPERATURES), no_speech_threshold=NO_SPEECH_THRESHOLD,
            max_new_tokens=max_tokens(samples.size / self.sample_rate))
        segments = [s for s in segments if not _invented(s)]  # the generator does the decoding
        words = tuple(Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                      for s in segments for w in (s.words or ()) if w.word.strip())
        text = "".join(s.text.strip() if _no_space_between(i, segments) else " " + s.text.strip()
                       for i, s in enumerate(segments)).strip()
        detected = opts.language is None
        return Transcript(
            text=text, confidence=mean_conf(words), words=words,
            start=words[0].start if words else 0.0, end=words[-1].end if words else 0.0,
            language=info.language, language_prob=float(info.language_probability) if detected else None,
            engine=self.name)


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
