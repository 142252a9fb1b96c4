"""The card's voice: pyttsx3 over espeak-ng (Linux), SAPI5 (Windows) or NSSpeechSynthesizer (macOS).

Debian's espeak-ng ships a small Mandarin dictionary: its `cmn` voice turns characters into
pinyin and then reads that pinyin with English rules (中国移动 → "ts.'ong55 (en)gju:…"), so
whisper hears noise. The `cmn-latn-pinyin` voice reads tone-numbered pinyin correctly, so on such
an install each line is converted with `reading.to_pinyin` (pypinyin, which also picks the right
reading of 还, 行, 重 …) and English words go to an English voice. An espeak-ng built with the
full dictionary (zh_listx) reads characters with `cmn` itself; that is detected once per process.

pyttsx3 2.99 quirks handled here (see nateshmbhat/pyttsx3 #194, #170):
- its espeak driver prints "Audio saved to …" on stdout: stdout is redirected around the call;
- `runAndWait` with nothing to say hangs on the second call (the end-of-loop command runs before
  the loop starts): an empty line is never sent to the engine;
- repeated `save_to_file` + `runAndWait` on one engine works in 2.99, so one engine per process
  is kept (espeak can be initialised only once anyway); but its `runAndWait` returns after
  ~10 ms, before espeak's own thread has finished a long line (the loop's end command runs before
  the synthesis): the file is complete only at the "finished-utterance" notification, which is
  waited for;
- `say` after `save_to_file` still writes to the old file (the driver never clears it), and on
  Linux `say` shells out to `aplay`: `speak` therefore plays the synthesized samples itself.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Iterator, Protocol, Sequence

import numpy as np

from voicebot.audio import SAMPLE_RATE, SpeakerSink, read_audio
from voicebot.errors import AudioError, TtsError
from voicebot.tts.reading import Language, split_languages, to_pinyin, to_spoken

DEFAULT_RATE: Final = 150
"""Words per minute (espeak's default is 175, pyttsx3 sets 200). whisper-base on 8 book lines,
pinyin voice +f2, mean toneless-pinyin ratio: 130 wpm 78, 150 wpm 90, 175 wpm 68; 150 is also
about the 4 syllables a second an agent speaks."""
ESPEAK_VARIANT: Final = "f2"
"""espeak-ng voice variant for the agent's voice. Same 16 lines, same measure: default (male)
61.6, +f2 83.5, +f3 83.6, +f5 76.5, +m3 65.6 (first 8), +klatt 27.8 (first 8). A female agent
voice, as on most 10086 lines, and the one whisper hears best."""
MAX_PEAK: Final = 0.98
"""espeak peaks at 99.9 % of full scale and resampling 22.05 → 16 kHz overshoots by ~0.5 %: a
line peaking above this is scaled down so the 16-bit cache file never clips."""
PART_GAP_S: Final = 0.12
"""Silence between a Mandarin run and an English run of one line (a voice change needs a breath)."""
PROBE_TEXT: Final = "中国移动"
PROBE_PINYIN: Final = "zhong1 guo2 yi2 dong4"
"""espeak-ng reads PROBE_TEXT with `cmn` exactly like PROBE_PINYIN with `cmn-latn-pinyin` only
when it has the full Mandarin dictionary."""
PROBE_TIMEOUT_S: Final = 10.0
RENDER_TIMEOUT_S: Final = 60.0
"""Longest wait for espeak to finish one line (it renders ~50x faster than real time: a
minute covers any book answer many times over; a hang becomes an error, not a frozen call)."""

ZH_NAME_HINTS: Final = ("huihui", "yaoyao", "kangkang", "ting-ting", "tingting", "lili", "li-mu",
                        "yu-shu", "chinese (simplified)", "mandarin")
"""Mandarin (mainland) voices by name, in order of preference, where a driver gives no language."""
ZH_AVOID: Final = ("zh-tw", "zh_tw", "zh-hk", "zh_hk", "yue", "cantonese", "taiwan", "hong kong",
                   "meijia", "sinji", "hanhan", "tracy", "danny", "zhiwei")
"""Taiwanese and Cantonese voices: a 10086 agent speaks mainland Mandarin."""
EN_PREFERRED: Final = ("en-us", "en_us", "en-gb", "en_gb", "en")

_LOCK: Final = threading.Lock()
"""One pyttsx3 engine per process (espeak initialises once): calls are serialised."""


class VoiceLike(Protocol):
    """What pyttsx3's `Voice` offers (so voice choice is testable without an engine)."""

    id: str
    name: str | None
    languages: list[Any]


@dataclass(frozen=True)
class VoicePlan:
    """How lines of one language are spoken on this machine."""

    voice: str
    """pyttsx3 voice id given to `setProperty("voice", …)`."""
    pinyin: bool
    """Send tone-numbered pinyin (espeak `cmn-latn-pinyin`) instead of characters."""
    english_voice: str | None = None
    """Voice for English words inside a Mandarin line (pinyin mode only: the pinyin voice would
    read them as pinyin)."""


RENDER_ATTEMPTS: Final = 3
"""espeak's finished-utterance can arrive before its file is written (seen here about 1 run in 300)."""


def _wait_for_data(path: Path, timeout_s: float = 1.0) -> None:
    """Wait until the file holds more than a WAV header and stops growing."""
    deadline = time.monotonic() + timeout_s
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        if size > 44 and size == last:
            return
        last = size
        time.sleep(0.02)

def _langs(voice: VoiceLike) -> list[str]:
    out = []
    for lang in voice.languages or []:
        if isinstance(lang, bytes):
            lang = lang.decode("utf-8", "ignore")
        out.append(str(lang).strip().lower().replace("_", "-"))
    return out


def _describe(voice: VoiceLike) -> str:
    return " ".join([voice.id or "", voice.name or "", *_langs(voice)]).lower()


def _is_mandarin(voice: VoiceLike) -> bool:
    text = _describe(voice)
    if any(bad in text for bad in ZH_AVOID):
        return False
    langs = _langs(voice)
    if any(lang.startswith(("zh-cn", "zh-hans", "cmn")) or lang == "zh" for lang in langs):
        return True
    return "cmn" in (voice.id or "").lower() or any(hint in text for hint in ZH_NAME_HINTS)


def _zh_rank(voice: VoiceLike) -> int:
    text = _describe(voice)
    for rank, hint in enumerate(ZH_NAME_HINTS):
        if hint in text:
            return rank
    return len(ZH_NAME_HINTS)


def english_voice(voices: Sequence[VoiceLike]) -> str | None:
    """An English voice id (American first), or None."""
    for want in EN_PREFERRED:
        for voice in voices:
            langs = _langs(voice)
            if want in langs or (voice.id or "").lower().endswith("/" + want):
                return voice.id
    for voice in voices:
        if any(lang.startswith("en") for lang in _langs(voice)):
            return voice.id
    return None


def _no_voice_fix(driver: str) -> str:
    if driver == "sapi5":
        return ("add the Chinese (Simplified) speech pack in Settings > Time & Language > Speech "
                "(Huihui or Kangkang)")
    if driver in ("nsss", "avspeech"):
        return ("add the Ting-Ting voice in System Settings > Accessibility > Spoken Content > "
                "System Voice > Manage Voices")
    return "apt-get install espeak-ng (its data holds the cmn voices)"


def choose_voice(voices: Sequence[VoiceLike], driver: str, language: Language,
                 full_mandarin_dict: bool, override: str | None = None) -> VoicePlan:
    """Pick the voice for `language` lines among the engine's voices (see the module doc).

    `override` is a voice id the user asked for (Mandarin lines only).
    """
    ids = {(v.id or "").lower() for v in voices}
    variant = f"+{ESPEAK_VARIANT}" if driver == "espeak" else ""
    english = english_voice(voices)
    english = english + variant if english else None
    if language == "en":
        if english is None:
            raise TtsError(f"no English voice in {driver}: {_no_voice_fix(driver)}")
        return VoicePlan(english, pinyin=False)
    if override is not None:
        base = override.split("+")[0] if driver == "espeak" else override
        if base.lower() not in ids:
            known = ", ".join(v.id for v in voices if _is_mandarin(v)) or "none"
            raise TtsError(f"voice {override!r} is not installed in {driver} (Mandarin voices "
                           f"here: {known}): pick one of those or leave the voice unset")
        pinyin = driver == "espeak" and "latn-pinyin" in override.lower()
        return VoicePlan(override, pinyin, english if pinyin else None)
    mandarin = [v for v in voices if _is_mandarin(v)]
    if driver == "espeak":
        pinyin_voice = next((v.id for v in mandarin if "latn-pinyin" in v.id.lower()), None)
        char_voice = next((v.id for v in mandarin if "latn" not in v.id.lower()), None)
        if char_voice and (full_mandarin_dict or pinyin_voice is None):
            return VoicePlan(char_voice + variant, pinyin=False)
        if pinyin_voice:
            return VoicePlan(pinyin_voice + variant, pinyin=True, english_voice=english)
    elif mandarin:
        return VoicePlan(min(mandarin, key=_zh_rank).id, pinyin=False)
    raise TtsError(f"no Mandarin voice in {driver}: {_no_voice_fix(driver)}")


@lru_cache(maxsize=1)
def espeak_has_full_mandarin() -> bool:
    """True when espeak-ng's `cmn` voice reads characters right (the full zh_listx dictionary).

    Compares the phonemes of 中国移动 read by `cmn` with those of its pinyin read by
    `cmn-latn-pinyin`. Without the espeak-ng program (library only) the answer is False: the
    pinyin path is right on both kinds of install.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        return False

    def phonemes(voice: str, text: str) -> str:
        done = subprocess.run([exe, "-v", voice, "-q", "-x", text], capture_output=True,
                              timeout=PROBE_TIMEOUT_S, check=False)
        return " ".join(done.stdout.decode("utf-8", "replace").split())

    try:
        chars = phonemes("cmn", PROBE_TEXT)
        reference = phonemes("cmn-latn-pinyin", PROBE_PINYIN)
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(chars) and "(en)" not in chars and chars == reference


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence stdout (Python and the file descriptor) around a pyttsx3 call: its espeak driver
    prints "Audio saved to …", which would break `--json` output. Process-wide for the few
    milliseconds of a render: another thread printing then is silenced too."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (a GUI launcher): only the Python level to silence
        saved = -1
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        if saved >= 0:
            os.dup2(devnull, 1)
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        if saved >= 0:
            os.dup2(saved, 1)
            os.close(saved)
        os.close(devnull)


def _init_engine() -> tuple[Any, str]:
    """The process's pyttsx3 engine and its driver name, or a TtsError saying what to install."""
    try:
        import pyttsx3
    except ImportError as err:
        raise TtsError("pyttsx3 is not installed: pip install pyttsx3") from err
    try:
        with quiet_stdout():
            engine = pyttsx3.init()
    except (RuntimeError, OSError, ImportError, AttributeError) as err:
        reason = " ".join(str(err).split())[:120]
        if sys.platform.startswith("linux") or "espeak" in reason.lower():
            fix = "apt-get install espeak-ng"
        else:
            fix = "check the system speech settings"
        raise TtsError(f"no speech engine for pyttsx3 ({reason}): {fix}") from err
    return engine, str(getattr(engine, "driver_name", "espeak"))


class Pyttsx3Synthesizer:
    """Mandarin and English lines through pyttsx3, returned as 16 kHz mono float32."""

    def __init__(self, rate: int = DEFAULT_RATE, volume: float = 1.0, voice: str | None = None) -> None:
        self.rate: int = int(rate)
        self.volume: float = float(volume)
        self._engine, self.driver = _init_engine()
        self.name: str = f"pyttsx3/{self.driver}"
        voices = list(self._engine.getProperty("voices") or [])
        full = self.driver == "espeak" and espeak_has_full_mandarin()
        self.plans: dict[str, VoicePlan] = {"zh": choose_voice(voices, self.driver, "zh", full, voice)}
        """How each language is spoken (English is resolved on first use: a machine without
        an English voice can still speak Mandarin)."""
        self._voices = voices
        self._full_dict = full
        self._finished = threading.Event()
        self._engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, name: str | None = None, completed: bool = True) -> None:
        """pyttsx3 notification (from espeak's thread): the file of the last line is written."""
        self._finished.set()

    def plan(self, language: Language) -> VoicePlan:
        """The voice plan for `language` lines."""
        if language not in self.plans:
            self.plans[language] = choose_voice(self._voices, self.driver, language, self._full_dict)
        return self.plans[language]

    def voice_id(self, language: Language = "zh") -> str:
        """Voice, reading mode and the English voice used inside Mandarin lines."""
        plan = self.plan(language)
        mode = "pinyin" if plan.pinyin else "chars"
        extra = f"|en={plan.english_voice}" if plan.english_voice else ""
        return f"{self.name}:{plan.voice}:{mode}{extra}:vol={self.volume:g}"

    def engine_texts(self, text: str, language: Language = "zh") -> list[tuple[str, str]]:
        """(voice id, text sent to the engine) for each run of a line, after the reading step."""
        plan = self.plan(language)
        spoken = to_spoken(text, language)
        if not spoken:
            return []
        if not plan.pinyin:
            return [(plan.voice, spoken)]
        out: list[tuple[str, str]] = []
        for lang, chunk in split_languages(spoken):
            if lang == "en":
                if plan.english_voice:
                    out.append((plan.english_voice, to_spoken(chunk, "en")))
            else:
                out.append((plan.voice, to_pinyin(chunk)))
        return [(v, t) for v, t in out if re.search(r"\w", t)]

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        """Render a line; an empty or symbol-only line gives an empty array."""
        parts = [self._render(voice, said) for voice, said in self.engine_texts(text, language)]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        gap = np.zeros(int(PART_GAP_S * SAMPLE_RATE), dtype=np.float32)
        joined: list[np.ndarray] = []
        for i, part in enumerate(parts):
            if i:
                joined.append(gap)
            joined.append(part)
        return np.ascontiguousarray(np.concatenate(joined), dtype=np.float32)

    def speak(self, text: str, language: Language = "zh", sink: SpeakerSink | None = None) -> None:
        """Say a line on the speaker now (blocking)."""
        samples = self.synthesize(text, language)
        if samples.size:
            (sink or SpeakerSink()).play(samples, SAMPLE_RATE)

    def _render(self, voice: str, said: str) -> np.ndarray:
        """Render once; espeak's notification can race its file write, so an empty file is retried."""
        for attempt in range(RENDER_ATTEMPTS):
            try:
                return self._render_once(voice, said)
            except TtsError:
                if attempt == RENDER_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _render_once(self, voice: str, said: str) -> np.ndarray:
        suffix = ".aiff" if self.driver in ("nsss", "avspeech") else ".wav"
        with _LOCK, tempfile.TemporaryDirectory(prefix="voicebot-tts-") as tmp:
            path = Path(tmp) / f"line{suffix}"
            self._finished.clear()
            with quiet_stdout():
                self._engine.setProperty("voice", voice)
                self._engine.setProperty("rate", self.rate)
                self._engine.setProperty("volume", self.volume)
                self._engine.save_to_file(said, str(path))
                self._engine.runAndWait()
                # espeak synthesises on its own thread and prints when done: wait inside the
                # silenced stretch (other drivers return from runAndWait when done)
                if self.driver == "espeak" and not self._finished.wait(RENDER_TIMEOUT_S):
                    raise TtsError(f"{self.name} did not finish {said[:40]!r} within "
                                   f"{RENDER_TIMEOUT_S:g} s: check `espeak-ng -v "
                                   f"{voice.split('/')[-1]} \"{said[:20]}\"` works")
            _wait_for_data(path)
            if not path.exists() or path.stat().st_size == 0:
                raise TtsError(f"{self.name} wrote no audio for {said[:40]!r} with voice {voice!r}: "
                               f"check `espeak-ng -v {voice.split('/')[-1]} \"{said[:20]}\"` works")
            try:
                samples = read_audio(path)
            except AudioError as err:
                raise TtsError(f"{self.name} wrote unreadable audio for {said[:40]!r} ({err}): "
                               "reinstall the speech engine (apt-get install espeak-ng)") from err
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > MAX_PEAK:
            samples = (samples * np.float32(MAX_PEAK / peak)).astype(np.float32)
        return samples
