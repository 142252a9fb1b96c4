"""Rendered answers on disk: the book's answers are fixed text, so each is synthesised once.

A WAV per (text, language, voice, rate, reading rules) in the user cache folder; a turn that
says a known answer reads a file instead of running the engine. Files are written atomically
(`write_wav`), so a killed run leaves no half file, and a file that does not read is rendered
again.

Two threads may ask for the same line (the call, and `BackgroundRenderer` rendering ahead): the
second follows the first one's chunks as they come instead of rendering the line again.
"""
from __future__ import annotations

import hashlib
import json
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Final, Iterable, Iterator

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


class _Render:
    """A line being rendered by one thread: its chunks so far, for others who ask meanwhile."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.done = False
        self.complete = False
        """False when the renderer stopped early (its listener barged in): followers render it."""
        self.changed = threading.Condition()

    def add(self, chunk: np.ndarray) -> None:
        with self.changed:
            self.chunks.append(chunk)
            self.changed.notify_all()

    def finish(self, complete: bool) -> None:
        with self.changed:
            self.done, self.complete = True, complete
            self.changed.notify_all()

    def follow(self) -> Iterator[np.ndarray]:
        """The chunks in order as they arrive, until the renderer finishes."""
        i = 0
        while True:
            with self.changed:
                while i >= len(self.chunks) and not self.done:
                    self.changed.wait()
                if i >= len(self.chunks):
                    return
                chunk = self.chunks[i]
            i += 1
            yield chunk


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
        self._renders: dict[Path, _Render] = {}
        self._lock = threading.Lock()
        self._engine_lock = threading.RLock()
        """Engines that are not known to be thread-safe (pyttsx3) render one chunk at a time."""
        self._foreground = 0

    @property
    def foreground_busy(self) -> bool:
        """True while a line is being rendered for the call itself (background work waits)."""
        return self._foreground > 0

    def voice_id(self, language: Language = "zh") -> str:
        return self.inner.voice_id(language)

    def path_for(self, text: str, language: Language = "zh") -> Path:
        """Where the rendering of `text` lives (whether or not it exists yet)."""
        key = cache_key(text, language, self.inner.voice_id(language), self.inner.rate)
        return self.cache_dir / f"{key}.wav"

    def cached(self, text: str, language: Language = "zh") -> bool:
        """True when `text` is already rendered."""
        return self.path_for(text, language).is_file()

    def _read(self, path: Path) -> np.ndarray | None:
        if path.is_file():
            try:
                return read_audio(path)
            except AudioError:
                path.unlink(missing_ok=True)
        return None

    def _store(self, path: Path, samples: np.ndarray) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        write_wav(path, samples, SAMPLE_RATE)

    def stream(self, text: str, language: Language = "zh", background: bool = False) -> Iterator[np.ndarray]:
        """The cached rendering in one chunk; or the engine's chunks as they are rendered (clause
        by clause where the engine streams), stored once the line is complete. A consumer that
        stops early (the customer barged in) leaves nothing in the cache. A line another thread
        is rendering is followed, chunk by chunk, rather than rendered twice. `background`: the
        rendering is ahead-of-time work (it does not count as the call waiting for its voice)."""
        path = self.path_for(text, language)
        given = 0  # samples already yielded (from a renderer that then gave up)
        while True:
            cached = self._read(path)
            if cached is not None:
                self.hits += 1
                if cached.size > given:
                    yield cached[given:]
                return
            with self._lock:
                other = self._renders.get(path)
                if other is None:
                    mine = self._renders[path] = _Render()
            if other is None:
                break
            seen = 0
            for chunk in other.follow():
                seen += chunk.size
                if seen > given:
                    yield chunk[chunk.size - (seen - given):] if seen - chunk.size < given else chunk
                    given = seen
            if other.complete:
                self.hits += 1
                return
        seen = 0
        for chunk in self._render(text, language, path, mine, background):
            seen += chunk.size
            if seen > given:
                yield chunk[chunk.size - (seen - given):] if seen - chunk.size < given else chunk
                given = seen

    def _one(self, text: str, language: Language) -> Iterator[np.ndarray]:
        yield self.inner.synthesize(text, language)

    def _render(self, text: str, language: Language, path: Path, mine: _Render,
                background: bool) -> Iterator[np.ndarray]:
        """Render with the engine (chunk by chunk where it streams), share each chunk with
        followers, store the whole line; unregister whatever happens."""
        safe = getattr(self.inner, "thread_safe", False) and language != "en"
        inner_stream = getattr(self.inner, "stream", None)
        chunks: list[np.ndarray] = []
        complete = False
        if not background:
            self._foreground += 1
        try:
            source = inner_stream(text, language) if inner_stream is not None else self._one(text, language)
            while True:
                with (nullcontext() if safe else self._engine_lock):
                    chunk = next(source, None)
                if chunk is None:
                    break
                if not chunk.size:
                    continue
                chunks.append(chunk)
                mine.add(chunk)
                yield chunk
            complete = True
            self.misses += 1
            samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
            if samples.size:
                self._store(path, samples)
        finally:
            if not background:
                self._foreground -= 1
            with self._lock:
                if self._renders.get(path) is mine:
                    del self._renders[path]
            mine.finish(complete)

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        """The cached rendering, or render, store and return it (the stored copy, so a hit
        returns exactly what the miss returned)."""
        path = self.path_for(text, language)
        cached = self._read(path)
        if cached is not None:
            self.hits += 1
            return cached
        chunks = list(self.stream(text, language))
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return self._read(path) if path.is_file() else np.concatenate(chunks)

    def warm(self, lines: Iterable[str | tuple[str, Language]], language: Language = "zh",
             on_line: Callable[[str, bool], None] | None = None) -> int:
        """Render every line not yet cached (e.g. all the book's answers ahead of a call);
        returns how many were rendered. Items are lines in `language` or (line, language)
        pairs; `on_line(line, rendered)` is called after each (for a progress bar)."""
        rendered = 0
        for item in lines:
            text, lang = (item, language) if isinstance(item, str) else item
            fresh = not self.cached(text, lang)
            if fresh:
                for _ in self.stream(text, lang):
                    pass
                rendered += 1
            if on_line is not None:
                on_line(text, fresh)
        return rendered

    def speak(self, text: str, language: Language = "zh", sink: SpeakerSink | None = None) -> None:
        """Say a line on the speaker now (blocking)."""
        samples = self.synthesize(text, language)
        if samples.size:
            (sink or SpeakerSink()).play(samples, SAMPLE_RATE)
