"""Rendered answers on disk: the book's answers are fixed text, so each is synthesised once.

A WAV per (text, language, voice, rate, reading rules) in the user cache folder; a turn that
says a known answer reads a file instead of running the engine. Files are written atomically
(`write_wav`), so a killed run leaves no half file, and a file that does not read is rendered
again.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Final, Iterable

import numpy as np
import platformdirs

from voicebot.audio import SAMPLE_RATE, SpeakerSink, read_audio, write_wav
from voicebot.errors import AudioError
from voicebot.tts.base import Synthesizer
from voicebot.tts.reading import READING_VERSION, Language

CACHE_SUBDIR: Final = "tts"


def default_cache_dir() -> Path:
    """The OS's user cache folder for voicebot, then `tts` (~/.cache/voicebot/tts on Linux)."""
    return Path(platformdirs.user_cache_dir("voicebot")) / CACHE_SUBDIR


def cache_key(text: str, language: str, voice_id: str, rate: int) -> str:
    """sha256 of everything that decides the sound of a line."""
    blob = json.dumps([text, language, voice_id, int(rate), READING_VERSION], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CachedSynthesizer:
    """A `Synthesizer` that keeps every rendered line as a WAV file and reuses it."""

    def __init__(self, inner: Synthesizer, cache_dir: str | Path | None = None) -> None:
        self.inner = inner
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.name: str = inner.name
        self.rate: int = inner.rate
        self.hits: int = 0
        """Lines served from the cache since creation (for the "TTS cost" figure)."""
        self.misses: int = 0
        """Lines the engine had to render."""

    def voice_id(self, language: Language = "zh") -> str:
        return self.inner.voice_id(language)

    def path_for(self, text: str, language: Language = "zh") -> Path:
        """Where the rendering of `text` lives (whether or not it exists yet)."""
        key = cache_key(text, language, self.inner.voice_id(language), self.inner.rate)
        return self.cache_dir / f"{key}.wav"

    def cached(self, text: str, language: Language = "zh") -> bool:
        """True when `text` is already rendered."""
        return self.path_for(text, language).is_file()

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        """The cached rendering, or render, store and return it (the stored copy, so a hit
        returns exactly what the miss returned)."""
        path = self.path_for(text, language)
        if path.is_file():
            try:
                samples = read_audio(path)
                self.hits += 1
                return samples
            except AudioError:
                path.unlink(missing_ok=True)
        samples = self.inner.synthesize(text, language)
        self.misses += 1
        if samples.size == 0:
            return samples
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        write_wav(path, samples, SAMPLE_RATE)
        return read_audio(path)

    def warm(self, lines: Iterable[str], language: Language = "zh") -> int:
        """Render every line not yet cached (e.g. all the book's answers at start-up);
        returns how many were rendered."""
        rendered = 0
        for line in lines:
            if not self.cached(line, language):
                self.synthesize(line, language)
                rendered += 1
        return rendered

    def speak(self, text: str, language: Language = "zh", sink: SpeakerSink | None = None) -> None:
        """Say a line on the speaker now (blocking)."""
        samples = self.synthesize(text, language)
        if samples.size:
            (sink or SpeakerSink()).play(samples, SAMPLE_RATE)
