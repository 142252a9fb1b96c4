"""The Kokoro-82M voice: real model, real WAV, heard back by whisper; its cache key, its fallback.

Renders only a few short lines (the model loads once per session, ~3 s; a clause takes ~0.5 s on
two idle cores). Skipped where install.sh has not installed the voice, except the fallback tests,
which need no model.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

import voicebot.tts as tts
from voicebot.audio import SAMPLE_RATE, read_audio, write_wav
from voicebot.errors import TtsError
from voicebot.text import to_simplified
from voicebot.tts import CachedSynthesizer, Pyttsx3Synthesizer, book_lines, load_synthesizer
from voicebot.tts import kokoro_assets
from voicebot.tts.kokoro import KokoroSynthesizer, resolve_voice
from voicebot.tts.reading import to_spoken

LINE = "是有录音的，主要是为了提高我们对客户的服务质量，请您谅解！"
PINYIN_FLOOR = 90.0
"""Toneless-pinyin ratio of what whisper-base hears against the line. Kokoro's zf_xiaoyi comes
back near-perfect (measured 100 on this line); espeak's pinyin voice scores ~86 on average."""

@pytest.fixture
def kokoro_installed() -> None:
    """install.sh installs the Kokoro model and voices: without them these tests fail (never skip)."""
    missing = kokoro_assets.missing("zf_xiaoyi")
    assert missing is None, f"Kokoro not installed ({missing}): run bash install.sh"


installed = pytest.mark.usefixtures("kokoro_installed")


def syllables(text: str) -> list[str]:
    spoken = to_spoken(to_simplified(text))
    return lazy_pinyin(re.sub(r"[^\u4e00-\u9fff]", "", spoken))


@pytest.fixture(autouse=True)
def default_engine(monkeypatch) -> None:
    """These tests are about the default choice: conftest sets the suite's engine to pyttsx3."""
    monkeypatch.delenv(tts.ENV_ENGINE, raising=False)


@pytest.fixture(scope="module")
def kokoro() -> KokoroSynthesizer:
    return KokoroSynthesizer()


@installed
def test_kokoro_writes_a_wav_that_whisper_hears_as_the_line(kokoro, whisper, tmp_path: Path) -> None:
    path = tmp_path / "line.wav"
    write_wav(path, kokoro.synthesize(LINE))
    samples = read_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert 2.5 < samples.size / SAMPLE_RATE < 10.0  # 26 syllables at 4-6 a second
    assert 0.05 < float(np.max(np.abs(samples))) <= 1.0
    heard = whisper.transcribe(samples).text
    score = fuzz.ratio(syllables(LINE), syllables(heard))
    print(f"{score:.1f}  {heard}")
    assert score >= PINYIN_FLOOR, heard


@installed
def test_stream_gives_the_first_clause_alone_and_synthesize_joins_the_clauses(kokoro) -> None:
    line = "请您稍等，我马上叫领导来接听。"
    assert kokoro.clauses(line) == ["请您稍等，", "我马上叫领导来接听。"]
    chunks = list(kokoro.stream(line))
    assert len(chunks) == 2 and all(c.dtype == np.float32 for c in chunks)
    assert 0.5 < chunks[0].size / SAMPLE_RATE < 2.5  # 4 syllables and a comma's pause
    whole = kokoro.synthesize(line)
    assert abs(whole.size - sum(c.size for c in chunks)) < 0.1 * SAMPLE_RATE


@installed
def test_10086_is_read_digit_by_digit_before_g2p(kokoro) -> None:
    assert kokoro.clauses("您可以看一下来电显示是10086") == ["您可以看一下来电显示是幺零零八六"]
    phonemes = " ".join(kokoro.phonemes("来电显示是10086"))
    assert "jau→" in phonemes and "wa↘n" not in phonemes  # 幺零零八六, never 一万零八十六
    assert kokoro.clauses("资费是10元/月，3.15晚会") == ["资费是十元每月，", "三一五晚会"]


def test_voice_words_and_settings_choose_the_kokoro_voice() -> None:
    assert resolve_voice("女") == resolve_voice("female") == "zf_xiaoyi"
    assert resolve_voice("男") == resolve_voice("M") == "zm_yunxi"
    assert resolve_voice("zf_xiaobei") == "zf_xiaobei"
    assert resolve_voice("sit/cmn-latn-pinyin+f2") is None


@installed
def test_settings_and_flags_reach_the_engine() -> None:
    male = load_synthesizer(cache=False, settings={"声音": "男", "语速": "1.1"})
    assert isinstance(male, KokoroSynthesizer) and (male.voice, male.speed) == ("zm_yunxi", 1.1)
    female = load_synthesizer(cache=False, voice="女", settings={"声音": "男"})  # --voice wins
    assert female.voice == "zf_xiaoyi" and female.speed == 1.0
    assert load_synthesizer(cache=False, rate=180).speed == pytest.approx(1.2)
    espeak = load_synthesizer(cache=False, voice="sit/cmn-latn-pinyin+f2")
    assert isinstance(espeak, Pyttsx3Synthesizer)
    with pytest.raises(TtsError, match="女 or 男"):
        load_synthesizer(cache=False, settings={"声音": "童声"})
    with pytest.raises(TtsError, match="语速"):
        load_synthesizer(cache=False, settings={"语速": "fast"})
    with pytest.raises(TtsError, match="out of range"):
        load_synthesizer(cache=False, settings={"语速": "5"})


@installed
def test_cache_key_holds_engine_voice_and_speed(tmp_path: Path) -> None:
    text = "请您稍等"
    paths = {CachedSynthesizer(KokoroSynthesizer(voice, speed=speed), tmp_path).path_for(text)
             for voice in ("zf_xiaoyi", "zm_yunxi") for speed in (1.0, 1.2)}
    paths.add(CachedSynthesizer(Pyttsx3Synthesizer(), tmp_path).path_for(text))
    assert len(paths) == 5
    same = CachedSynthesizer(KokoroSynthesizer("女"), tmp_path)
    assert same.path_for(text) in paths
    assert same.path_for(text) != same.path_for("请您稍等。")


@installed
def test_a_streamed_line_is_cached_and_read_back_whole(tmp_path: Path) -> None:
    cached = CachedSynthesizer(KokoroSynthesizer(), tmp_path)
    line = "好的，再见。"
    streamed = np.concatenate(list(cached.stream(line)))
    assert cached.cached(line) and (cached.hits, cached.misses) == (0, 1)
    again = list(cached.stream(line))
    assert len(again) == 1 and abs(again[0].size - streamed.size) <= 1
    assert cached.hits == 1
    # a listener that stops after the first clause (barge-in) leaves nothing half-rendered
    first = next(iter(cached.stream("对不起，请您使用普通话好吗？")))
    assert first.size > 0 and not cached.cached("对不起，请您使用普通话好吗？")


@installed
def test_english_lines_keep_the_espeak_english_voice(kokoro) -> None:
    assert kokoro.voice_id("en").startswith("pyttsx3/") and "/en" in kokoro.voice_id("en")
    samples = kokoro.synthesize("Sorry, you have dialled a wrong number.", "en")
    assert 0.8 < samples.size / SAMPLE_RATE < 6.0


def test_without_the_model_files_pyttsx3_speaks_and_says_so_once(tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    monkeypatch.setenv(kokoro_assets.ENV_DIR, str(tmp_path / "empty"))
    monkeypatch.delenv(tts.ENV_ENGINE, raising=False)
    monkeypatch.setattr(tts, "_noticed", set())
    first = load_synthesizer(cache=False)
    second = load_synthesizer(cache_dir=tmp_path / "cache")
    assert isinstance(first, Pyttsx3Synthesizer)
    assert isinstance(second, CachedSynthesizer) and second.inner.name.startswith("pyttsx3")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Kokoro" in err[0] and "install.sh" in err[0] and "pyttsx3" in err[0]
    assert first.synthesize("再见").size > 0
    # asked for by name, a missing Kokoro is an error, not a quiet fallback
    monkeypatch.setenv(tts.ENV_ENGINE, "kokoro")
    with pytest.raises(TtsError, match="install.sh"):
        load_synthesizer(cache=False)


def test_voice_files_are_checked_by_sha256(tmp_path: Path) -> None:
    import io
    import tarfile
    tgz = tmp_path / "kokoro-js.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        blob = b"\0" * kokoro_assets.VOICE_BYTES
        info = tarfile.TarInfo("package/voices/zf_xiaoyi.bin")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
    with pytest.raises(TtsError, match="sha256"):
        kokoro_assets.install_voices(tgz, tmp_path / "assets", ("zf_xiaoyi",))
    assert not kokoro_assets.voice_ready("zf_xiaoyi", tmp_path / "assets")


def test_book_lines_cover_answers_branches_and_protocols_filled(fixture_book) -> None:
    book = fixture_book
    lines = book_lines(book)
    texts = {text for text, _ in lines}
    assert all("{" not in text for text in texts)
    assert book.fill(book.entries[0].answer[0]) in texts
    assert book.fill(book.protocol("no_response")["prompt"]) in texts
    assert book.fill(book.protocol("opening")["say"][0]) in texts
    assert any(lang == "en" for _, lang in lines)
    assert not texts & {"hangup", "no_response"}  # protocol settings are not lines
    assert len(lines) == len(set(lines))


def test_voice_warm_renders_the_book_lines_once(tmp_path: Path, monkeypatch, capsys) -> None:
    from voicebot.cli import main
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(tts.ENV_ENGINE, "pyttsx3")  # the command, not the voice, is tested here
    monkeypatch.setattr(tts, "book_lines", lambda book: [("再见", "zh"), ("Goodbye.", "en")])
    assert main(["voice", "warm"]) == 0
    assert "rendered 2 lines" in capsys.readouterr().out
    assert main(["voice", "warm"]) == 0
    assert "rendered 0 lines" in capsys.readouterr().out
    assert len(list((tmp_path / "voicebot" / "tts").glob("*.wav"))) == 2
