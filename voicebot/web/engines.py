"""What every call of a server shares: the book, its matcher, one recogniser and one voice.

Loaded once at start (whisper takes ~1 s and ~170 MB; a model per call would not fit a class on
two cores). The voice is behind a lock: pyttsx3 drives one espeak-ng engine per process, and
Kokoro's session is one ONNX runtime.
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..call import CallOptions
from ..dialog import Policy, PolicyOptions
from ..kb import KnowledgeBase
from ..matcher import Matcher


class LockedVoice:
    """The shared synthesizer, one line at a time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._lock = threading.Lock()

    def synthesize(self, text: str, language: str = "zh") -> np.ndarray:
        with self._lock:
            return self.inner.synthesize(text, language)


@dataclass
class Engines:
    """The shared stages of every call a server runs."""

    book: KnowledgeBase
    """The script book (scripts_kb/ or --kb)."""
    matcher: Matcher
    """Its matcher, built once."""
    recognizer: Any
    """The speech recogniser (whisper or vosk); per-utterance state lives in `start()`'s object."""
    voice: LockedVoice | None
    """The bot's voice; None for a text-only server (tests of the pages)."""
    note: str = ""
    """Which recogniser and why (printed at start)."""
    pace_typed: bool = True
    """Without a voice, each bot line still takes its speaking time before the line goes on (the
    trainee reads it; the no-input timer starts after). Off only for tests of the routes."""

    def policy(self) -> Policy:
        return Policy(self.book, self.matcher, self.book.options("policy", PolicyOptions))

    def call_options(self) -> CallOptions:
        return dataclasses.replace(self.book.options("call", CallOptions), realtime=False)

    def notes(self, entry_id: str) -> dict[str, Any] | None:
        """The book's view of an entry for the trainer: where it stands, its answer, 注意/强调/思路."""
        entry = next((e for e in self.book if e.id == entry_id), None)
        if entry is None:
            return None
        return {"id": entry.id, "category": entry.category, "source": entry.source,
                "answer": [self.book.fill(a) for a in entry.answer], "notes": list(entry.notes),
                "key_points": list(entry.key_points), "action": entry.action}


def load_engines(kb: str | None, asr: str = "auto", model: str | None = None, voice: str | None = None,
                 speech: bool = True, pace_typed: bool = True) -> Engines:
    """Load the book and, unless `speech` is False, the recogniser and the voice."""
    from ..kb import load
    book = load(kb)
    matcher = Matcher(book)
    recognizer, note, synth = None, "typed calls only (no recogniser loaded)", None
    if speech:
        from ..asr import load_recognizer
        from ..tts import load_synthesizer
        recognizer, note = load_recognizer(asr, model)
        synth = LockedVoice(load_synthesizer(voice=voice, settings=book.settings))
    return Engines(book, matcher, recognizer, synth, note, pace_typed)
