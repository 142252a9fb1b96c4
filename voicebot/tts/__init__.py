"""Speech out: the reading step, a pyttsx3 voice and a cache of rendered answers.

    synth = load_synthesizer()
    samples = synth.synthesize("请您稍等，我马上叫领导来接听")   # float32, 16 kHz mono
"""
from __future__ import annotations

from pathlib import Path

from voicebot.tts.base import Synthesizer
from voicebot.tts.cache import CachedSynthesizer, default_cache_dir
from voicebot.tts.pyttsx3_engine import DEFAULT_RATE, Pyttsx3Synthesizer
from voicebot.tts.reading import READING_VERSION, split_languages, to_pinyin, to_spoken

__all__ = ["CachedSynthesizer", "DEFAULT_RATE", "Pyttsx3Synthesizer", "READING_VERSION", "Synthesizer",
           "default_cache_dir", "load_synthesizer", "split_languages", "to_pinyin", "to_spoken"]


def load_synthesizer(rate: int | None = None, cache: bool = True, voice: str | None = None,
                     volume: float = 1.0, cache_dir: str | Path | None = None) -> Synthesizer:
    """The machine's voice (pyttsx3), behind the on-disk cache unless `cache` is False.

    Raises `voicebot.errors.TtsError` (one line, with the fix) when no engine or voice exists.
    """
    engine = Pyttsx3Synthesizer(rate=DEFAULT_RATE if rate is None else rate, volume=volume, voice=voice)
    return CachedSynthesizer(engine, cache_dir) if cache else engine
