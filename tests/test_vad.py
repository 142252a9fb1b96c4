"""voicebot.vad on real speech (espeak-ng Mandarin) and generated noise, on the sample clock."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from voicebot.audio import SAMPLE_RATE, frames, read_audio
from voicebot.vad import (
    SpeechDetector,
    SpeechEnded,
    SpeechStarted,
    VadOptions,
    detect,
    level_dbfs,
    noise_floor_dbfs,
    segments,
)

TOLERANCE_S = 0.15


def espeak(text: str, path: Path) -> np.ndarray:
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(path), text], check=True, capture_output=True)
    return read_audio(path)


def active_span(x: np.ndarray) -> tuple[int, int]:
    """First and last sample of the clip that are not (near) digital silence."""
    loud = np.nonzero(np.abs(x) > 1e-3)[0]
    return int(loud[0]), int(loud[-1]) + 1


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """Two Mandarin utterances, trimmed to their speech."""
    tmp = tmp_path_factory.mktemp("espeak")
    out = {}
    for name, text in {"a": "您好，请问您的手机号码是多少", "b": "我想查询一下话费余额"}.items():
        x = espeak(text, tmp / f"{name}.wav")
        lo, hi = active_span(x)
        out[name] = x[lo:hi]
    return out


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), dtype=np.float32)


def white(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    n = int(round(seconds * SAMPLE_RATE))
    return (np.random.default_rng(seed).standard_normal(n) * 10 ** (dbfs / 20)).astype(np.float32)


def pink(seconds: float, dbfs: float, seed: int = 1) -> np.ndarray:
    n = int(round(seconds * SAMPLE_RATE))
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    k = np.arange(spec.size)
    k[0] = 1
    x = np.fft.irfft(spec / np.sqrt(k), n)
    return (x / np.std(x) * 10 ** (dbfs / 20)).astype(np.float32)


def scene(*parts: tuple[str, float | np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Concatenate silences and clips; return audio and the true (start, end) of each clip."""
    out, truth, t = [], [], 0
    for kind, value in parts:
        piece = silence(float(value)) if kind == "gap" else np.asarray(value, dtype=np.float32)
        if kind == "speech":
            truth.append((t / SAMPLE_RATE, (t + len(piece)) / SAMPLE_RATE))
        out.append(piece)
        t += len(piece)
    return np.concatenate(out), truth


def assert_matches(found: list, truth: list[tuple[float, float]], tol: float = TOLERANCE_S) -> None:
    assert len(found) == len(truth), f"{found} vs {truth}"
    for seg, (start, end) in zip(found, truth):
        assert abs(seg.start - start) <= tol, (seg, start)
        assert abs(seg.end - end) <= tol, (seg, end)


def test_silence_and_hiss_have_no_speech() -> None:
    assert segments(silence(5.0)) == []
    assert segments(white(5.0, -70.0)) == []
    assert detect(np.zeros(0, np.float32)) == []


@pytest.mark.engine
def test_one_utterance_boundaries(clips: dict[str, np.ndarray]) -> None:
    x, truth = scene(("gap", 1.0), ("speech", clips["a"]), ("gap", 1.5))
    found = segments(x)
    assert_matches(found, truth)
    assert -26 < found[0].level_dbfs < -14  # espeak-ng speaks at about -20 dBFS


@pytest.mark.engine
def test_two_utterances_one_second_apart(clips: dict[str, np.ndarray]) -> None:
    x, truth = scene(("gap", 0.8), ("speech", clips["a"]), ("gap", 1.0), ("speech", clips["b"]), ("gap", 1.2))
    assert_matches(segments(x), truth)


@pytest.mark.engine
def test_pause_shorter_than_endpoint_keeps_one_utterance(clips: dict[str, np.ndarray]) -> None:
    x, _ = scene(("gap", 0.5), ("speech", clips["a"]), ("gap", 0.3), ("speech", clips["b"]), ("gap", 1.0))
    assert len(segments(x)) == 1
    # ...and a shorter endpoint splits it.
    assert len(segments(x, VadOptions(end_silence_ms=240))) == 2


@pytest.mark.engine
@pytest.mark.parametrize("noise", [white, pink])
def test_speech_in_noise_at_20db_snr(clips: dict[str, np.ndarray], noise) -> None:
    x, truth = scene(("gap", 1.5), ("speech", clips["a"]), ("gap", 1.5))
    speech_db = level_dbfs(clips["a"])
    x = x + noise(len(x) / SAMPLE_RATE, speech_db - 20.0)
    found = segments(x)
    assert_matches(found, truth, tol=0.2)
    assert found[0].snr_db == pytest.approx(20.0, abs=6.0)
    assert found[0].level_dbfs == pytest.approx(speech_db, abs=4.0)


def test_steady_loud_noise_alone_is_not_speech() -> None:
    assert segments(white(10.0, -15.0)) == []
    assert segments(pink(10.0, -20.0)) == []
    hum = np.sin(2 * np.pi * 50 * np.arange(8 * SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32) * 0.3
    assert segments(hum) == []


@pytest.mark.engine
def test_noise_switched_on_mid_call_is_absorbed(clips: dict[str, np.ndarray]) -> None:
    x = np.concatenate([silence(2.0) + white(2.0, -80.0), white(10.0, -25.0, seed=5)])
    found = segments(x)
    assert len(found) <= 1 and all(s.duration < 1.5 for s in found)
    # Speech over that noise is still heard afterwards.
    y = x.copy()
    at = 7 * SAMPLE_RATE
    y[at : at + len(clips["b"])] += clips["b"]
    later = [s for s in segments(y) if s.start > 5.0]
    assert len(later) == 1 and abs(later[0].start - 7.0) <= TOLERANCE_S


@pytest.mark.engine
def test_quiet_speaker_is_detected(clips: dict[str, np.ndarray]) -> None:
    quiet = clips["a"] * np.float32(10 ** ((-40.0 - level_dbfs(clips["a"])) / 20))
    x, truth = scene(("gap", 1.0), ("speech", quiet), ("gap", 1.0))
    x = x + white(len(x) / SAMPLE_RATE, -75.0)
    found = segments(x)
    assert_matches(found, truth, tol=0.2)
    assert -45 < found[0].level_dbfs < -35
    assert found[0].snr_db > 25


@pytest.mark.engine
def test_streaming_events_and_sample_clock(clips: dict[str, np.ndarray]) -> None:
    det = SpeechDetector()
    for f in frames(silence(2.0)):
        assert det.push(f) == []
    assert det.t == pytest.approx(2.01, abs=0.011)  # 67 frames of 30 ms
    assert det.silence_s == pytest.approx(det.t)
    assert not det.in_speech

    events = []
    for f in frames(clips["a"]):
        events += det.push(f)
    assert [type(e) for e in events] == [SpeechStarted]
    assert abs(events[0].t - 2.01) <= TOLERANCE_S
    assert det.in_speech and det.silence_s == 0.0
    speech_end = 2.01 + len(clips["a"]) / SAMPLE_RATE

    tail = []
    for f in frames(silence(2.0)):
        tail += det.push(f)
    (ended,) = tail
    assert isinstance(ended, SpeechEnded)
    assert abs(ended.t - speech_end) <= TOLERANCE_S and ended.start == events[0].t
    # The utterance audio: ~200 ms pre-roll, speech, ~90 ms tail; trailing silence trimmed.
    assert len(ended.audio) / SAMPLE_RATE == pytest.approx(ended.duration + 0.21 + 0.09, abs=0.035)
    assert not det.in_speech
    assert det.silence_s == pytest.approx(det.t - ended.t, abs=1e-9)

    det.reset_silence()  # the bot finished its answer now
    assert det.silence_s == 0.0
    det.push(silence(1.5))
    assert det.silence_s == pytest.approx(1.5)


@pytest.mark.engine
def test_chunk_size_does_not_change_events(clips: dict[str, np.ndarray]) -> None:
    x, _ = scene(("gap", 0.7), ("speech", clips["b"]), ("gap", 1.0), ("speech", clips["a"]), ("gap", 0.9))
    whole = segments(x)
    det = SpeechDetector()
    events = []
    for i in range(0, len(x), 113):  # odd chunks, as a sound card might deliver
        events += det.push(x[i : i + 113])
    events += det.flush()
    streamed = [(e.start, e.t) for e in events if isinstance(e, SpeechEnded)]
    assert streamed == [(s.start, s.end) for s in whole] and len(whole) == 2


@pytest.mark.engine
def test_ignore_drops_the_bots_tail(clips: dict[str, np.ndarray]) -> None:
    tail = clips["a"][: int(0.3 * SAMPLE_RATE)]  # the last 300 ms of "bot speech" heard back
    x = np.concatenate([tail, silence(2.0)])

    heard = SpeechDetector()
    heard.push(silence(1.0))
    assert any(isinstance(e, SpeechStarted) for e in heard.push(x) + heard.flush())

    det = SpeechDetector()
    det.push(silence(1.0))
    det.ignore(0.3)
    assert det.push(x) + det.flush() == []
    assert det.t == pytest.approx(1.0 + len(x) / SAMPLE_RATE)


@pytest.mark.engine
def test_flush_ends_speech_cut_by_end_of_file(clips: dict[str, np.ndarray]) -> None:
    x = np.concatenate([silence(0.5), clips["a"]])
    det = SpeechDetector()
    events = det.push(x)
    assert [type(e) for e in events] == [SpeechStarted]
    (end,) = det.flush()
    assert isinstance(end, SpeechEnded) and abs(end.t - len(x) / SAMPLE_RATE) <= TOLERANCE_S


def test_end_now_ends_the_utterance_before_the_full_wait(clips: dict[str, np.ndarray]) -> None:
    det = SpeechDetector()
    assert det.end_now() == []  # no utterance in progress
    x = np.concatenate([silence(0.5), clips["a"], silence(0.3)])
    assert [type(e) for e in det.push(x)] == [SpeechStarted]
    assert det.in_speech and 0.2 <= det.trailing_silence_s < 0.6  # the 600 ms wait has not passed
    (end,) = det.end_now()
    assert isinstance(end, SpeechEnded) and not det.in_speech
    assert abs(end.t - (0.5 + clips["a"].size / SAMPLE_RATE)) <= TOLERANCE_S
    assert abs(end.audio.size - clips["a"].size) <= 0.4 * SAMPLE_RATE
    assert det.push(silence(1.0)) == [] and det.silence_s >= 1.0  # the line is quiet from there


@pytest.mark.engine
def test_max_speech_splits_long_talk(clips: dict[str, np.ndarray]) -> None:
    x, _ = scene(("gap", 0.5), ("speech", clips["a"]), ("gap", 1.0))
    found = segments(x, VadOptions(max_speech_s=2.0))
    assert len(found) >= 2 and all(s.duration <= 2.0 + 1e-9 for s in found)


def test_levels_and_floor() -> None:
    full_sine = np.sin(2 * np.pi * 1000 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    assert level_dbfs(full_sine) == pytest.approx(-3.01, abs=0.01)
    assert level_dbfs(silence(1.0)) == -120.0
    assert noise_floor_dbfs(white(3.0, -30.0)) == pytest.approx(-30.0, abs=1.0)
    assert noise_floor_dbfs(silence(1.0)) == -90.0


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        VadOptions(frame_ms=25)
    with pytest.raises(ValueError):
        VadOptions(aggressiveness=4)
