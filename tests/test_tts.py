"""The pyttsx3 voice (real espeak-ng engine, real WAV files) and the cache of rendered answers."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from voicebot.audio import SAMPLE_RATE
from voicebot.errors import TtsError
from voicebot.tts import CachedSynthesizer, Synthesizer, load_synthesizer
from voicebot.tts.pyttsx3_engine import (ESPEAK_VARIANT, Pyttsx3Synthesizer, choose_voice,
                                         espeak_has_full_mandarin, quiet_stdout)
from voicebot.tts.reading import Language

ANSWER = "是有录音的，主要是为了提高我们对客户的服务质量，保障双方的合法权益，方便出现问题及时查询，请您谅解！"


@pytest.fixture(scope="module")
def synth() -> Pyttsx3Synthesizer:
    return Pyttsx3Synthesizer()


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


@pytest.mark.engine
def test_book_answer_is_speech_length_audio(synth: Pyttsx3Synthesizer) -> None:
    samples = synth.synthesize(ANSWER)
    assert samples.dtype == np.float32 and samples.ndim == 1
    seconds = samples.size / SAMPLE_RATE
    assert 5.0 < seconds < 30.0, seconds  # 41 syllables at ~3-4 a second
    assert _rms(samples) > 0.02
    assert float(np.max(np.abs(samples))) <= 1.0


@pytest.mark.engine
def test_nothing_reaches_stdout(synth: Pyttsx3Synthesizer, capfd: pytest.CaptureFixture[str]) -> None:
    synth.synthesize("请您稍等，我马上叫领导来接听")
    out, _ = capfd.readouterr()
    assert "Audio saved" not in out
    assert out == ""
    print("still printing")  # stdout is given back afterwards
    assert capfd.readouterr().out == "still printing\n"


def test_quiet_stdout_silences_the_file_descriptor(capfd: pytest.CaptureFixture[str]) -> None:
    import os
    with quiet_stdout():
        os.write(1, b"from C\n")
        print("from Python")
    assert capfd.readouterr().out == ""


@pytest.mark.engine
def test_calls_in_a_row_on_one_engine(synth: Pyttsx3Synthesizer) -> None:
    short = synth.synthesize("好的")
    long = synth.synthesize("对不起，您的声音有些小，麻烦您声音稍大一些，好吗？")
    again = synth.synthesize("好的")
    assert 0.2 < short.size / SAMPLE_RATE < 2.0
    assert long.size > 3 * short.size
    assert abs(again.size - short.size) < 0.05 * SAMPLE_RATE


@pytest.mark.engine
def test_empty_or_symbol_line_gives_no_audio_and_leaves_engine_working(synth: Pyttsx3Synthesizer) -> None:
    assert synth.synthesize("").size == 0
    assert synth.synthesize("******~~~……").size == 0
    # pyttsx3's runAndWait with nothing to say would hang the next call: it must still work
    assert synth.synthesize("再见").size > 0


@pytest.mark.engine
def test_mandarin_plan_follows_the_dictionary_probe(synth: Pyttsx3Synthesizer) -> None:
    plan = synth.plan("zh")
    assert "cmn" in plan.voice and plan.voice.endswith("+" + ESPEAK_VARIANT)
    assert plan.pinyin is (not espeak_has_full_mandarin())
    assert plan == choose_voice(synth._voices, "espeak", "zh", espeak_has_full_mandarin())


@pytest.mark.engine
@pytest.mark.parametrize("full_dictionary", [False, True], ids=["pinyin_dictionary", "full_dictionary"])
def test_mandarin_plan_for_each_espeak_dictionary(synth: Pyttsx3Synthesizer, monkeypatch: pytest.MonkeyPatch,
                                                 full_dictionary: bool) -> None:
    """Both kinds of espeak-ng install, whichever this machine has: with the full Mandarin
    dictionary characters go to `cmn`; without it, tone-numbered pinyin goes to `cmn-latn-pinyin`."""
    plan = choose_voice(synth._voices, "espeak", "zh", full_dictionary)
    assert "cmn" in plan.voice and plan.voice.endswith("+" + ESPEAK_VARIANT)
    assert plan.pinyin is not full_dictionary
    assert ("latn-pinyin" in plan.voice) is not full_dictionary
    monkeypatch.setitem(synth.plans, "zh", plan)
    expected = "资费是十元每月。" if full_dictionary else "zi1 fei4 shi4 shi2 yuan2 mei3 yue4。"
    assert synth.engine_texts("资费是10元/月。") == [(plan.voice, expected)]


@pytest.mark.engine
def test_english_line_uses_an_english_voice(synth: Pyttsx3Synthesizer) -> None:
    plan = synth.plan("en")
    assert "/en" in plan.voice and not plan.pinyin
    assert synth.voice_id("en") != synth.voice_id("zh")
    assert synth.engine_texts("I'm sorry to trouble you.", "en") == [(plan.voice, "I'm sorry to trouble you.")]
    samples = synth.synthesize("I'm sorry to trouble you.", "en")
    assert 0.8 < samples.size / SAMPLE_RATE < 5.0


@pytest.mark.engine
def test_english_words_in_a_mandarin_line_go_to_the_english_voice(synth: Pyttsx3Synthesizer,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On the pinyin voice (espeak-ng without the full Mandarin dictionary, whichever this machine has)."""
    plan = choose_voice(synth._voices, "espeak", "zh", full_mandarin_dict=False)
    monkeypatch.setitem(synth.plans, "zh", plan)
    texts = synth.engine_texts("sp商之间")
    assert texts == [(plan.english_voice, "S P"), (plan.voice, "shang1 zhi1 jian1")]
    assert synth.synthesize("sp商之间").size > 0


@pytest.mark.engine
def test_unknown_voice_is_a_one_line_tts_error() -> None:
    with pytest.raises(TtsError) as err:
        Pyttsx3Synthesizer(voice="sit/no-such-voice")
    message = str(err.value)
    assert "\n" not in message
    assert "sit/no-such-voice" in message and "cmn" in message


@pytest.mark.engine
def test_espeak_without_mandarin_voice_says_how_to_install(synth: Pyttsx3Synthesizer) -> None:
    voices = [v for v in synth._voices if "cmn" not in v.id]
    with pytest.raises(TtsError) as err:
        choose_voice(voices, "espeak", "zh", full_mandarin_dict=False)
    assert "\n" not in str(err.value)
    assert "apt-get install espeak-ng" in str(err.value)


@dataclass
class FakeVoice:
    """A pyttsx3 Voice as SAPI5 / NSSpeechSynthesizer list them (to test the choice alone)."""

    id: str
    name: str
    languages: list[str] = field(default_factory=list)


def test_windows_and_macos_pick_a_mainland_mandarin_voice() -> None:
    sapi = [FakeVoice(r"HKEY\Tokens\TTS_MS_EN-US_DAVID_11.0", "Microsoft David Desktop", ["en-US"]),
            FakeVoice(r"HKEY\Tokens\TTS_MS_ZH-TW_HANHAN_11.0", "Microsoft Hanhan Desktop", ["zh-TW"]),
            FakeVoice(r"HKEY\Tokens\TTS_MS_ZH-CN_HUIHUI_11.0", "Microsoft Huihui Desktop", ["zh-CN"])]
    assert choose_voice(sapi, "sapi5", "zh", False).voice.endswith("HUIHUI_11.0")
    assert choose_voice(sapi, "sapi5", "en", False).voice.endswith("DAVID_11.0")
    mac = [FakeVoice("com.apple.speech.synthesis.voice.Alex", "Alex", ["en_US"]),
           FakeVoice("com.apple.speech.synthesis.voice.mei-jia", "Mei-Jia", ["zh_TW"]),
           FakeVoice("com.apple.speech.synthesis.voice.ting-ting", "Ting-Ting", ["zh_CN"])]
    plan = choose_voice(mac, "nsss", "zh", False)
    assert plan.voice.endswith("ting-ting") and not plan.pinyin
    with pytest.raises(TtsError, match="Ting-Ting"):
        choose_voice(mac[:2], "nsss", "zh", False)


class CountingSynth:
    """Wraps the real engine and counts the lines it renders."""

    def __init__(self, inner: Pyttsx3Synthesizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.rate = inner.rate
        self.calls = 0

    def voice_id(self, language: Language = "zh") -> str:
        return self.inner.voice_id(language)

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        self.calls += 1
        return self.inner.synthesize(text, language)


@pytest.mark.engine
def test_cache_hit_returns_the_same_samples_without_the_engine(synth: Pyttsx3Synthesizer, tmp_path: Path) -> None:
    counting = CountingSynth(synth)
    cached = CachedSynthesizer(counting, tmp_path)
    first = cached.synthesize("请您稍等，我马上叫领导来接听")
    second = cached.synthesize("请您稍等，我马上叫领导来接听")
    assert counting.calls == 1
    assert np.array_equal(first, second) and first.size > SAMPLE_RATE
    assert (cached.hits, cached.misses) == (1, 1)
    assert len(list(tmp_path.glob("*.wav"))) == 1
    # another rate is another sound: a new rendering
    counting.rate = 120
    cached.synthesize("请您稍等，我马上叫领导来接听")
    assert counting.calls == 2


@pytest.mark.engine
def test_warm_renders_only_new_lines(synth: Pyttsx3Synthesizer, tmp_path: Path) -> None:
    counting = CountingSynth(synth)
    cached = CachedSynthesizer(counting, tmp_path)
    lines = ["是有录音的", "谢谢，这是我们应该做的。", "是有录音的"]
    assert cached.warm(lines) == 2
    assert cached.warm(lines) == 0
    assert counting.calls == 2
    cached.synthesize("谢谢，这是我们应该做的。")
    assert counting.calls == 2


@pytest.mark.engine
def test_broken_cache_file_is_rendered_again(synth: Pyttsx3Synthesizer, tmp_path: Path) -> None:
    counting = CountingSynth(synth)
    cached = CachedSynthesizer(counting, tmp_path)
    cached.path_for("再见").parent.mkdir(parents=True, exist_ok=True)
    cached.path_for("再见").write_bytes(b"RIFF\x00\x00")
    assert cached.synthesize("再见").size > 0
    assert counting.calls == 1
    assert cached.synthesize("再见").size > 0 and counting.calls == 1


@pytest.mark.engine
def test_load_synthesizer_gives_a_cached_synthesizer(tmp_path: Path) -> None:
    synth = load_synthesizer(rate=160, cache_dir=tmp_path)
    assert isinstance(synth, CachedSynthesizer) and isinstance(synth, Synthesizer)
    assert synth.rate == 160 and synth.cache_dir == tmp_path
    plain = load_synthesizer(cache=False)
    assert isinstance(plain, Pyttsx3Synthesizer) and isinstance(plain, Synthesizer)


class RecordingSink:
    """Stands in for the speaker (no sound device in CI): keeps what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[tuple[np.ndarray, int]] = []

    def play(self, samples: np.ndarray, rate: int = SAMPLE_RATE, blocking: bool = True) -> None:
        self.played.append((samples, rate))


@pytest.mark.engine
def test_speak_plays_the_synthesized_line(synth: Pyttsx3Synthesizer, tmp_path: Path) -> None:
    sink = RecordingSink()
    synth.speak("再见", sink=sink)  # type: ignore[arg-type]
    cached = CachedSynthesizer(synth, tmp_path)
    cached.speak("再见", sink=sink)  # type: ignore[arg-type]
    cached.speak("……", sink=sink)  # type: ignore[arg-type]  # nothing to say: nothing played
    assert [rate for _, rate in sink.played] == [SAMPLE_RATE, SAMPLE_RATE]
    assert np.array_equal(sink.played[1][0], cached.synthesize("再见"))
