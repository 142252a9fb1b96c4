"""Speech out: the reading step, the voices (Kokoro-82M, pyttsx3) and a cache of rendered answers.

    synth = load_synthesizer()
    samples = synth.synthesize("请您稍等，我马上叫领导来接听")   # float32, 16 kHz mono
    for chunk in synth.stream("您好，这里是北京移动10086客服。"):  # first clause early
        ...

Which engine: `engine` if given, else `$VOICEBOT_TTS` (kokoro | pyttsx3 | auto), else auto:
Kokoro where it is installed (install.sh), otherwise pyttsx3 over espeak-ng, said once on stderr.
A pyttsx3 voice id as `voice` (sit/cmn-latn-pinyin+f2, …) chooses pyttsx3.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Final, Mapping

from voicebot.errors import TtsError
from voicebot.tts.base import Synthesizer
from voicebot.tts.cache import CachedSynthesizer, default_cache_dir
from voicebot.tts.lines import book_lines
from voicebot.tts.pyttsx3_engine import DEFAULT_RATE, Pyttsx3Synthesizer
from voicebot.tts.reading import READING_VERSION, split_languages, to_pinyin, to_spoken

__all__ = ["CachedSynthesizer", "DEFAULT_RATE", "ENGINES", "ENV_ENGINE", "Pyttsx3Synthesizer",
           "READING_VERSION", "SETTING_SPEED", "SETTING_VOICE", "Synthesizer", "book_lines",
           "default_cache_dir", "load_synthesizer", "split_languages", "to_pinyin", "to_spoken"]

ENV_ENGINE: Final = "VOICEBOT_TTS"
ENGINES: Final = ("auto", "kokoro", "pyttsx3")
SETTING_VOICE: Final = "声音"
"""settings.yaml key: 女 (zf_xiaoyi, default) or 男 (zm_yunxi), or a Kokoro voice name."""
SETTING_SPEED: Final = "语速"
"""settings.yaml key: Kokoro's speed, 1.0 natural, 0.5–2.0."""

_noticed: set[str] = set()


def _stderr_once(message: str) -> None:
    """The fallback notice, once per process (a call loads its voice once; tests load many)."""
    if message not in _noticed:
        _noticed.add(message)
        print(f"voicebot: {message}", file=sys.stderr)


def _speed(rate: int | None, settings: Mapping[str, str]) -> float:
    if rate is not None:
        return rate / DEFAULT_RATE
    raw = str(settings.get(SETTING_SPEED, "") or "").strip()
    if not raw:
        return 1.0
    try:
        return float(raw)
    except ValueError:
        raise TtsError(f"settings.yaml {SETTING_SPEED}: {raw!r} is not a number: write e.g. "
                       f"`{SETTING_SPEED}: 1.0` (0.5 slow … 2.0 fast)") from None


def load_synthesizer(rate: int | None = None, cache: bool = True, voice: str | None = None,
                     volume: float = 1.0, cache_dir: str | Path | None = None,
                     engine: str | None = None, settings: Mapping[str, str] | None = None,
                     notice: Callable[[str], None] | None = None) -> Synthesizer:
    """The bot's voice, behind the on-disk cache unless `cache` is False.

    `voice`: 女/男 (female/male), a Kokoro voice (zf_xiaoyi, zm_yunxi, zf_xiaobei) or a pyttsx3
    voice id; else the book's `声音` setting. `rate`: words per minute (pyttsx3) or speed × 150
    (Kokoro); else the book's `语速`. `notice` receives the one-line fallback message (default:
    stderr, once per process).

    Raises `voicebot.errors.TtsError` (one line, with the fix) when no engine or voice exists,
    or when Kokoro was asked for by name and is not installed.
    """
    from voicebot.tts.kokoro import DEFAULT_VOICE, MAX_SPEED, MIN_SPEED, KokoroSynthesizer, resolve_voice
    settings = settings or {}
    choice = (engine or os.environ.get(ENV_ENGINE) or "auto").strip().lower()
    if choice not in ENGINES:
        raise TtsError(f"unknown speech engine {choice!r} (${ENV_ENGINE}): use one of {', '.join(ENGINES)}")
    wanted = voice if voice is not None else (settings.get(SETTING_VOICE) or None)
    kokoro_voice = resolve_voice(wanted) if wanted is not None else DEFAULT_VOICE
    if voice is not None and kokoro_voice is None:
        choice = "pyttsx3"  # a pyttsx3 voice id was named
    elif wanted is not None and kokoro_voice is None:
        raise TtsError(f"settings.yaml {SETTING_VOICE}: {wanted!r} is not a voice: write 女 or 男 "
                       "(or zf_xiaoyi, zm_yunxi, zf_xiaobei)")
    synth: Synthesizer
    if choice in ("auto", "kokoro"):
        speed = _speed(rate, settings)  # a wrong setting is an error, not a reason to fall back
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise TtsError(f"speed {speed:g} ({SETTING_SPEED} or --rate) is out of range: use "
                           f"{MIN_SPEED:g} (slow) to {MAX_SPEED:g} (fast); 1.0 is natural")
        try:
            synth = KokoroSynthesizer(kokoro_voice or DEFAULT_VOICE, speed=speed, volume=volume)
        except TtsError as err:
            if choice == "kokoro":
                raise
            (notice or _stderr_once)(f"no Kokoro voice ({err}); speaking with pyttsx3/espeak-ng")
            choice = "pyttsx3"
    if choice == "pyttsx3":
        synth = Pyttsx3Synthesizer(rate=DEFAULT_RATE if rate is None else rate, volume=volume,
                                   voice=voice if kokoro_voice is None else None)
    return CachedSynthesizer(synth, cache_dir) if cache else synth
