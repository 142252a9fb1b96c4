"""Proof of the pinyin path: what the bot says must be heard back as the book's words.

Each line is synthesised twice (tone-numbered pinyin through espeak-ng's `cmn-latn-pinyin`, and
the raw characters through `cmn`), transcribed by whisper-base, and compared with the reading
of the line as toneless pinyin syllables (homophones and traditional characters count as right).
Measured here (whisper-base int8, rate 150, +f2 voice): pinyin mean 86.3 / 81.9 in two runs,
raw `cmn` 1.9 / 2.8 — Debian's `cmn` reads characters as pinyin spelled out in English
("shi four you three …").
"""
from __future__ import annotations

import re
import shutil
import statistics
import subprocess

import pytest
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from voicebot.asr.whisper import WhisperRecognizer
from voicebot.text import to_simplified
from voicebot.tts.pyttsx3_engine import ESPEAK_VARIANT, Pyttsx3Synthesizer
from voicebot.tts.reading import to_pinyin, to_spoken

pytestmark = pytest.mark.engine  # espeak-ng speaks, whisper listens

LINES = (
    "是有录音的",
    "请您稍等，我马上叫领导来接听",
    "电话已接通，请问您能听到我的声音吗？",
    "很抱歉，我刚才没有听清楚，请您重复一遍，好吗？",
    "对不起，请您使用普通话好吗？",
    "谢谢，这是我们应该做的。",
    "您可以看一下您手机上的来电显示是10086",
    "对不起，您的声音有些小，麻烦您声音稍大一些，好吗？",
)
PINYIN_FLOOR = 70.0
"""Mean toneless-pinyin ratio the pinyin voice must reach. Measured over runs: 86.3 and 81.9 (in
the second, whisper looped on one line, "寧可以康以下…", scoring 13.8: renders of one line through
pyttsx3 differ slightly from run to run, and whisper-base sometimes loops on robotic speech)."""
PINYIN_MEDIAN_FLOOR = 75.0
"""Median per-line ratio: measured 94.5 twice on an idle machine, 81.7 and 77.5 on a loaded one
(pyttsx3's espeak-ng renders vary run to run: issue 13 measured one line at 5.7 s and 8.1 s)."""
MARGIN = 50.0
"""How far the pinyin voice's mean must beat raw characters through `cmn` (measured 84.4, 79.1)."""


def syllables(text: str) -> list[str]:
    """Toneless pinyin of the Chinese characters of a line, numbers read as agents say them."""
    spoken = to_spoken(to_simplified(text))
    return lazy_pinyin(re.sub(r"[^\u4e00-\u9fff]", "", spoken))


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer(language="zh")


@pytest.fixture(scope="module")
def scores(whisper: WhisperRecognizer) -> dict[str, list[float]]:
    pinyin_voice = Pyttsx3Synthesizer()
    raw_voice = Pyttsx3Synthesizer(voice=f"sit/cmn+{ESPEAK_VARIANT}")
    assert pinyin_voice.plan("zh").pinyin and not raw_voice.plan("zh").pinyin
    out: dict[str, list[float]] = {"pinyin": [], "raw": []}
    for line in LINES:
        ref = syllables(line)
        for mode, synth in (("pinyin", pinyin_voice), ("raw", raw_voice)):
            heard = whisper.transcribe(synth.synthesize(line)).text
            score = fuzz.ratio(ref, syllables(heard))
            out[mode].append(score)
            print(f"{mode:6s} {score:5.1f}  {line}  →  {heard[:60]}")
    print({mode: round(statistics.mean(v), 1) for mode, v in out.items()})
    return out


def test_pinyin_voice_is_understood(scores: dict[str, list[float]]) -> None:
    assert statistics.mean(scores["pinyin"]) >= PINYIN_FLOOR, scores["pinyin"]
    assert statistics.median(scores["pinyin"]) >= PINYIN_MEDIAN_FLOOR, scores["pinyin"]


def test_pinyin_voice_beats_raw_characters(scores: dict[str, list[float]]) -> None:
    assert statistics.mean(scores["pinyin"]) >= statistics.mean(scores["raw"]) + MARGIN, scores


@pytest.mark.parametrize("line", LINES)
def test_espeak_reads_every_syllable_as_pinyin(line: str) -> None:
    """espeak-ng's phonemes for our pinyin: one Mandarin word per syllable, no switch to English."""
    exe = shutil.which("espeak-ng")
    assert exe is not None, "apt-get install espeak-ng"
    pinyin = to_pinyin(line)
    done = subprocess.run([exe, "-v", "cmn-latn-pinyin", "-q", "-x", pinyin],
                          capture_output=True, check=True, text=True)
    words = [w for w in re.split(r"_\|\s*|\s+", done.stdout) if w.strip()]
    assert "(en)" not in done.stdout
    assert len(words) == len(pinyin.split()), (pinyin, done.stdout)
    assert all(re.search(r"\d", w) for w in words), done.stdout  # every syllable carries a tone
