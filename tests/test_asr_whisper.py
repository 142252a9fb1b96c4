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
from voicebot.asr.whisper import WINDOW_MARGIN_FRAMES, WhisperRecognizer, cut_window, max_tokens, undouble
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


def test_cut_window_keeps_the_utterance_and_a_margin_of_padding() -> None:
    rng = np.random.default_rng(0)
    speech = rng.normal(size=(80, 307)).astype(np.float32)  # 3.07 s of features
    padded = np.pad(speech, ((0, 0), (0, 3000 - 307)))       # faster-whisper's pad_or_trim: zeros
    cut = cut_window(padded, margin=50)
    assert cut.shape == (80, 358), "307 frames + 50 of padding, rounded up to an even length"
    assert np.array_equal(cut[:, :307], speech) and not cut[:, 307:].any()
    batch = cut_window(padded[None], margin=50)
    assert batch.shape == (1, 80, 358)
    full = rng.normal(size=(80, 3000)).astype(np.float32)
    assert cut_window(full).shape == (80, 3000), "a window without padding is left whole"
    quiet = np.full((80, 100), -0.6, np.float32)              # real silence is not zeros in log-mel
    assert cut_window(np.pad(quiet, ((0, 0), (0, 2900))), margin=0).shape == (80, 100)


@pytest.mark.engine
def test_the_encoder_runs_on_the_utterance_not_on_30_seconds(whisper: WhisperRecognizer) -> None:
    samples = read_audio(CUSTOMER / "q15_how_number.wav")
    features = whisper._model.feature_extractor(samples)
    content = samples.size // 160
    window = np.pad(features[:, :content], ((0, 0), (0, 3000 - content)))
    encoded = whisper._model.encode(window)
    expected = content + WINDOW_MARGIN_FRAMES + (content + WINDOW_MARGIN_FRAMES) % 2
    assert encoded.shape[1] == expected // 2, "the encoder halves the frames it was given"
    from voicebot.asr import whisper as module

    module._WINDOW.whole = True  # what a full-window decode sets for its thread
    try:
        assert whisper._model.encode(window).shape[1] == 1500
    finally:
        module._WINDOW.whole = False
    assert whisper._model.encode(window).shape[1] == expected // 2, "another decode is not affected"


def test_scoring_decodes_on_the_whole_window(whisper: WhisperRecognizer) -> None:
    from voicebot.asr import for_scoring

    scoring = for_scoring(whisper)
    assert scoring.options.full_window and not whisper.options.full_window
    assert scoring._model is whisper._model, "the same loaded model"
    assert scoring.with_language(None).options.full_window
    assert for_scoring(None) is None
    sentinel = object()
    assert for_scoring(sentinel) is sentinel, "an engine without windows (vosk) is used as it is"


@pytest.mark.engine
def test_the_cut_window_hears_as_well_as_the_whole_window(whisper: WhisperRecognizer) -> None:
    """Per line they may differ by a character (垄断/楼断); over lines of every voice and
    condition the cut window makes no more errors (the benchmark measures all 152 fixtures)."""
    from ruamel.yaml import YAML

    rows = {r["file"]: r for r in YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))}
    names = ["number.wav", "q03_monopoly.wav", "q06_hk_macau_taiwan_xiaoyi.wav", "q07_send_sms_tel8k.wav",
             "q02_why_my_data_noisy.wav", "q11_accent.wav", "dnc.wav", "yes_dui.wav"]
    edits = {"cut": 0, "whole": 0}
    size = 0
    for name in names:
        reference = _chars(rows[name]["text"])
        samples = read_audio(CUSTOMER / name)
        size += len(reference)
        for label, rec in (("cut", whisper), ("whole", _full_window())):
            heard = _chars(rec.transcribe(samples).text)
            edits[label] += Levenshtein.distance(reference, heard)
            assert Levenshtein.distance(reference, heard) <= 0.35 * len(reference), (name, label, heard)
    assert edits["cut"] <= edits["whole"] + 2, (edits, size)


_FULL: list[WhisperRecognizer] = []


def _full_window() -> WhisperRecognizer:
    if not _FULL:
        _FULL.append(WhisperRecognizer().with_window(True))
    return _FULL[0]


def test_a_sentence_decoded_twice_is_kept_once() -> None:
    from voicebot.asr.base import Word

    words = tuple(Word(c, i * 0.2, i * 0.2 + 0.2, 0.9) for i, c in enumerate("谁要你们给我打电话的" * 2))
    text, kept = undouble("谁要你们给我打电话的 谁要你们给我打电话的", words)
    assert text == "谁要你们给我打电话的" and "".join(w.text for w in kept) == "谁要你们给我打电话的"
    assert undouble("谁要你们给我打电话的，谁要你们给我打电话的？", words)[0] == "谁要你们给我打电话的"
    for said in ("喂喂", "不要不要", "你好你好", "我不同意，我不同意", "是的是的，就是这个号码"):
        assert undouble(said, ())[0] == said, "short repeats are how people talk"


def test_digital_silence_is_measured_as_silence() -> None:
    from voicebot.asr.whisper import SILENT_DBFS, peak_dbfs

    assert peak_dbfs(np.zeros(SAMPLE_RATE, np.float32)) < SILENT_DBFS
    quiet_room = (np.random.default_rng(0).normal(size=SAMPLE_RATE) * 0.001).astype(np.float32)
    assert peak_dbfs(quiet_room) == pytest.approx(-60, abs=1.5) and peak_dbfs(quiet_room) > SILENT_DBFS
    click = np.zeros(SAMPLE_RATE, np.float32)
    click[8000:8320] = 0.1
    assert peak_dbfs(click) > -25, "a short loud part counts, not the average"
    assert peak_dbfs(read_audio(CUSTOMER / "yes_dui.wav")) > SILENT_DBFS + 20


def test_a_looping_decode_is_decoded_again_on_the_whole_window(whisper: WhisperRecognizer, monkeypatch) -> None:
    """The short window's failure mode (唯唯唯唯…, seen on one Kokoro line) falls back to the window
    whisper was trained on. The decoder is stubbed here: the real loop needs a Kokoro render."""
    from types import SimpleNamespace

    def segment(text: str, ratio: float) -> SimpleNamespace:
        return SimpleNamespace(text=text, compression_ratio=ratio, no_speech_prob=0.01, words=[])

    calls: list[bool] = []

    def decode(samples: np.ndarray, whole_window: bool = False):
        calls.append(whole_window)
        text = "我们的工号是唯一的" if whole_window else "我们的功是唯唯唯唯唯唯唯唯唯唯唯唯"
        return [segment(text, 1.2 if whole_window else 3.1)], SimpleNamespace(language="zh", language_probability=1.0)

    monkeypatch.setattr(whisper, "_decode", decode)
    assert whisper.transcribe(np.full(SAMPLE_RATE, 0.1, np.float32)).text == "我们的工号是唯一的"
    assert calls == [False, True]
    calls.clear()
    assert whisper.with_language("zh").transcribe(np.full(SAMPLE_RATE, 0.1, np.float32)).text
    assert calls == [False, True]


def test_a_character_split_across_segments_leaves_no_replacement_mark(whisper: WhisperRecognizer, monkeypatch) -> None:
    """Byte-level tokens can close a segment inside a character (诈� for 诈骗, seen on a Kokoro line):
    the transcript, its words and so the matcher and the record never carry U+FFFD. The decoder is
    stubbed: the split needs a particular render to happen."""
    from types import SimpleNamespace

    def decode(samples: np.ndarray, whole_window: bool = False):
        words = [SimpleNamespace(word=w, start=i * 0.3, end=i * 0.3 + 0.25, probability=0.9)
                 for i, w in enumerate(["你们", "是", "诈", "\ufffd"])]
        seg = SimpleNamespace(text="你们是诈\ufffd", compression_ratio=1.1, no_speech_prob=0.01, words=words)
        seg2 = SimpleNamespace(text="\ufffd吧", compression_ratio=1.0, no_speech_prob=0.01,
                               words=[SimpleNamespace(word="\ufffd吧", start=1.3, end=1.5, probability=0.8)])
        return [seg, seg2], SimpleNamespace(language="zh", language_probability=1.0)

    monkeypatch.setattr(whisper, "_decode", decode)
    heard = whisper.transcribe(np.full(SAMPLE_RATE, 0.1, np.float32))
    assert "\ufffd" not in heard.text and heard.text.startswith("你们是诈") and heard.text.endswith("吧")
    assert [w.text for w in heard.words] == ["你们", "是", "诈", "吧"]
