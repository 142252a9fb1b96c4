"""What the rest of voicebot needs from a voice: text in, 16 kHz mono float32 samples out."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from voicebot.tts.reading import Language


@runtime_checkable
class Synthesizer(Protocol):
    """A text-to-speech engine behind one small interface (the call runner never asks which)."""

    name: str
    """Engine name for logs and the cache key ("pyttsx3/espeak")."""
    rate: int
    """Speaking rate in words per minute (part of the cache key: it changes every sample)."""

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        """Render a book line (the reading step applied) to float32 mono samples at 16 kHz."""
        ...

    def voice_id(self, language: Language = "zh") -> str:
        """Everything besides text and rate that decides the sound of `language` lines
        (voice, reading mode, the voice used for English words): the cache key's voice part."""
        ...
