"""faster-whisper (whisper-base assembled from PyPI) on real audio.

Mandarin clips are espeak-ng's pinyin voice reading tone-numbered pinyin: robotic speech that
whisper-base finds hard (CER ≈ 0.6 over 12 lines), so the lines used here are the ones it hears
best, and assertions are at character level after traditional → simplified.
"""
from __future__ import annotations

import re
import subprocess

import numpy as np
import opencc
import pytest
from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import Levenshtein

from voicebot.asr.base import Transcript
from voicebot.asr.whisper import WhisperRecognizer, max_tokens
from voicebot.audio import SAMPLE_RATE, frames, read_audio

from helpers import CUSTOMER

PHONE = "我的手机号码是多少"
KNOW = "你们怎么知道我的号码"
ENGLISH = "Hello, I would like to check my phone bill please."
_t2s = opencc.OpenCC("t2s")


def _chars(text: str) -> str:
    """Simplified Chinese characters only (whisper adds punctuation, often writes traditional)."""
    return re.sub(r"[^\u4e00-\u9fff]", "", _t2s.convert(text))


def _cer(ref: str, hyp: str) -> float:
    return Levenshtein.distance(ref, _chars(hyp)) / len(ref)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    folder = tmp_path_factory.mktemp("whisper")
    out = {}
    for key, voice, text in (
        ("phone", "cmn-latn-pinyin", " ".join(lazy_pinyin(PHONE, style=Style.TONE3))),
        ("know", "cmn-latn-pinyin", " ".join(lazy_pinyin(KNOW, style=Style.TONE3))),
        ("english", "en-us", ENGLISH),
    ):
        path = folder / f"{key}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
        out[key] = read_audio(path)
    return out


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer()


@pytest.fixture(scope="module")
def phone(whisper: WhisperRecognizer, clips: dict[str, np.ndarray]) -> Transcript:
    return whisper.transcribe(clips["phone"])


@pytest.mark.engine
def test_mandarin_line_is_heard(phone: Transcript, clips: dict[str, np.ndarray]) -> None:
    assert phone.engine == "whisper" and phone.language == "zh"
    assert phone.language_prob is None, "the language was imposed, not detected"
    assert _cer(PHONE, phone.text) < 0.6, phone.text
    assert "多少" in _chars(phone.text)
    duration = clips["phone"].size / SAMPLE_RATE
    assert phone.words
    for w in phone.words:
        assert 0.0 <= w.start <= w.end <= duration + 0.1
        assert 0.0 <= w.conf <= 1.0
    assert phone.confidence == pytest.approx(sum(w.conf for w in phone.words) / len(phone.words))
    assert 0.0 < phone.confidence <= 1.0


@pytest.mark.engine
@pytest.mark.parametrize("name", ["q15_how_number.wav", "q07_send_sms_tel8k.wav"])
def test_natural_voice_fixture(whisper: WhisperRecognizer, name: str) -> None:
    from ruamel.yaml import YAML

    rows = YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))
    reference = _chars(next(r["text"] for r in rows if r["file"] == name))
    tr = whisper.transcribe(read_audio(CUSTOMER / name))
    assert _cer(reference, tr.text) < 0.3, tr.text
    assert tr.confidence > 0.5


@pytest.mark.engine
def test_streaming_utterance_decodes_at_finish(whisper: WhisperRecognizer, phone: Transcript,
                                               clips: dict[str, np.ndarray]) -> None:
    utt = whisper.start()
    assert all(utt.accept(f) is None for f in frames(clips["know"], 30))
    tr = utt.finish()
    assert _cer(KNOW, tr.text) < 0.6, tr.text
    assert "知道" in _chars(tr.text)
    # Same audio, same text: decoding is deterministic (no temperature fallback).
    assert whisper.transcribe(clips["phone"]).text == phone.text


@pytest.mark.engine
def test_language_detection_notices_english(whisper: WhisperRecognizer,
                                            clips: dict[str, np.ndarray]) -> None:
    detect = whisper.with_language(None)
    tr = detect.transcribe(clips["english"])
    assert tr.language == "en"
    assert tr.language_prob is not None and tr.language_prob > 0.5
    assert {"phone", "bill"} <= set(re.findall(r"[a-z]+", tr.text.lower()))
    assert whisper.options.language == "zh", "with_language leaves the original alone"


@pytest.mark.engine
def test_silence_is_not_invented_into_words(whisper: WhisperRecognizer) -> None:
    silence = np.zeros(SAMPLE_RATE, np.float32)
    assert whisper.transcribe(silence).text == ""
    # With language detection whisper-base hears "I'm sorry, I'm sorry, …" in silence: dropped.
    assert whisper.with_language(None).transcribe(silence).text == ""
    empty = whisper.transcribe(np.zeros(0, np.float32))
    assert empty.empty and empty.words == () and empty.confidence == 0.0


def test_token_budget_grows_with_the_utterance_and_stays_legal() -> None:
    assert max_tokens(1.0) < max_tokens(5.0) <= 200
    assert max_tokens(120.0) == 200
