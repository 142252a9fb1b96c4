"""voicebot.ringback on generated network tones (with noise) and espeak-ng Mandarin speech."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soxr

from voicebot.audio import SAMPLE_RATE, read_audio
from voicebot.ringback import RingbackResult, detect_ringback

R = SAMPLE_RATE


def tone(freqs: list[float], seconds: float, rate: int = R, dbfs: float = -20.0, seed: int = 0) -> np.ndarray:
    """Equal-level sum of sines (random phases) at `dbfs` RMS."""
    t = np.arange(int(round(seconds * rate))) / rate
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(freqs))
    x = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, phases))
    return x / np.sqrt(len(freqs) / 2) * 10 ** (dbfs / 20)


def cadence(freqs: list[float], on_off: list[float], seconds: float, rate: int = R) -> np.ndarray:
    """Repeat on/off/on/off... until `seconds`, starting with a tone."""
    parts, total, i = [], 0, 0
    while total < seconds * rate:
        d = on_off[i % len(on_off)]
        parts.append(tone(freqs, d, rate, seed=i) if i % 2 == 0 else np.zeros(int(round(d * rate))))
        total += len(parts[-1])
        i += 1
    return np.concatenate(parts)[: int(seconds * rate)]


def gap(seconds: float, rate: int = R) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)))


def with_noise(x: np.ndarray, snr_db: float, seed: int = 7, ref_dbfs: float = -20.0) -> np.ndarray:
    """White noise `snr_db` under the -20 dBFS tone level."""
    noise = np.random.default_rng(seed).standard_normal(len(x)) * 10 ** ((ref_dbfs - snr_db) / 20)
    return x + noise


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = tmp_path_factory.mktemp("espeak") / "hello.wav"
    subprocess.run(
        ["espeak-ng", "-v", "cmn", "-w", str(path), "喂，你好，哪位啊？我现在不太方便，你晚点再打吧"],
        check=True,
        capture_output=True,
    )
    x = read_audio(path).astype(np.float64)
    return x * 10 ** ((-20 - 10 * np.log10(np.mean(x**2))) / 20)


@pytest.mark.parametrize("snr", [20, 15, 10])
def test_domestic_ringback_in_noise(snr: float) -> None:
    x = with_noise(np.concatenate([gap(0.4), cadence([450], [1, 4], 16)]), snr)
    r = detect_ringback(x)
    assert r.kind == "domestic", r
    assert r.tones_hz == pytest.approx((450.0,), abs=2)
    assert r.on_s == pytest.approx(1.0, abs=0.1) and r.off_s == pytest.approx(4.0, abs=0.1)
    assert r.rings == 4


FOREIGN = {
    "north_america_440_480_2on_4off": ([440, 480], [2, 4]),
    "uk_400_450_double_ring": ([400, 450], [0.4, 0.2, 0.4, 2.0]),
    "europe_425_1.5on_3.5off": ([425], [1.5, 3.5]),
    "germany_425_1on_4off": ([425], [1, 4]),
    "france_440_1.5on_3.5off": ([440], [1.5, 3.5]),
    "japan_400_1on_2off": ([400], [1, 2]),
    "hong_kong_440_480_double": ([440, 480], [0.4, 0.2, 0.4, 3.0]),
    "450_at_a_foreign_cadence": ([450], [2, 4]),
}


@pytest.mark.parametrize("name", FOREIGN)
def test_foreign_ringback(name: str) -> None:
    freqs, on_off = FOREIGN[name]
    x = with_noise(np.concatenate([gap(0.3), cadence(freqs, on_off, 14)]), 12)
    r = detect_ringback(x)
    assert r.kind == "foreign", r
    assert r.tones_hz == pytest.approx(tuple(freqs), abs=3)
    on = sum(on_off[:-1])  # ring span: bursts and inner gaps
    assert r.on_s == pytest.approx(on, abs=0.1) and r.off_s == pytest.approx(on_off[-1], abs=0.1)


def test_uk_pattern_is_reported() -> None:
    r = detect_ringback(with_noise(cadence([400, 450], [0.4, 0.2, 0.4, 2.0], 9), 15))
    assert r.pattern == pytest.approx((0.4, 0.2, 0.4, 2.0), abs=0.06)


@pytest.mark.parametrize(("freqs", "on_off", "kind"), [([450], [1, 4], "domestic"), ([440, 480], [2, 4], "foreign")])
def test_telephone_rate_8k(freqs: list[float], on_off: list[float], kind: str) -> None:
    x = with_noise(cadence(freqs, on_off, 12, rate=8000), 15)
    assert detect_ringback(x, rate=8000).kind == kind
    up = soxr.resample(x, 8000, R)  # the same call after voicebot's own resampling
    assert detect_ringback(up).kind == kind


@pytest.mark.engine
def test_answer_during_a_ring_gives_ends_at_at_the_cut(speech: np.ndarray) -> None:
    rings = cadence([450], [1, 4], 10.6)  # rings at 0, 5 and 10 s; the third cut at 10.6 s
    x = with_noise(np.concatenate([rings, gap(0.3), speech, gap(0.5)]), 15)
    r = detect_ringback(x)
    assert r.kind == "domestic" and r.rings == 3
    assert r.ends_at == pytest.approx(10.6, abs=0.08)


@pytest.mark.engine
def test_answer_during_the_off_time(speech: np.ndarray) -> None:
    rings = cadence([440, 480], [2, 4], 8.5)  # rings 0-2 and 6-8, answered at 8.5 s
    x = with_noise(np.concatenate([gap(0.5), rings, speech]), 15)
    r = detect_ringback(x)
    assert r.kind == "foreign" and r.rings == 2
    assert r.ends_at == pytest.approx(8.5, abs=0.08)


@pytest.mark.engine
def test_single_ring_cut_short_is_still_domestic(speech: np.ndarray) -> None:
    x = with_noise(np.concatenate([gap(0.5), tone([450], 0.6), gap(0.3), speech]), 15)
    r = detect_ringback(x)
    assert r.kind == "domestic" and r.ends_at == pytest.approx(1.1, abs=0.08)


@pytest.mark.engine
def test_speech_noise_silence_are_none(speech: np.ndarray) -> None:
    none = RingbackResult("none")
    assert detect_ringback(speech) == none
    assert detect_ringback(with_noise(np.concatenate([gap(1), speech, gap(1), speech]), 10)) == none
    assert detect_ringback(with_noise(gap(10), 0)) == none  # white noise at -20 dBFS
    assert detect_ringback(gap(10)) == none
    assert detect_ringback(np.zeros(100)) == none


def test_other_tones_and_music_are_none() -> None:
    assert detect_ringback(with_noise(cadence([1000], [1, 4], 12), 15)).kind == "none"
    assert detect_ringback(with_noise(cadence([700], [2, 4], 12), 15)).kind == "none"
    assert detect_ringback(tone([700], 10)).kind == "none"
    assert detect_ringback(with_noise(tone([450], 10), 15)).kind == "none"  # dial tone: continuous
    assert detect_ringback(with_noise(cadence([450], [0.35, 0.35], 10), 15)).kind == "none"  # busy
    assert detect_ringback(with_noise(cadence([450], [0.7, 0.7], 10), 15)).kind == "none"  # congestion
    notes = [262, 294, 330, 349, 392, 440, 494, 523, 440, 392, 440, 440]
    melody = np.concatenate([tone([f], 0.5, seed=i) * np.hanning(int(0.5 * R)) for i, f in enumerate(notes * 3)])
    assert detect_ringback(melody).kind == "none"
    chords = np.concatenate([tone([f, f * 1.25, f * 1.5], 0.8, seed=i) for i, f in enumerate([330, 392, 440] * 4)])
    assert detect_ringback(chords).kind == "none"
    # A chord with two notes in the tone band, pulsed like a ring: its third note gives it away.
    pulsed = cadence([330, 412.5, 495], [1, 4], 12)
    assert detect_ringback(with_noise(pulsed, 20)).kind == "none"


@pytest.mark.engine
def test_ringing_after_speech_is_not_ringback(speech: np.ndarray) -> None:
    x = with_noise(np.concatenate([gap(0.5), speech, gap(0.5), cadence([440, 480], [2, 4], 12)]), 15)
    assert detect_ringback(x).kind == "none"


@pytest.mark.engine
def test_a_lone_short_tonal_burst_before_speech_is_no_ring(speech: np.ndarray) -> None:
    """A steady vowel of a few hundred ms in the ringback band is not a ring (the shortest ring anywhere
    is the UK's 0.4 s); the real telephone-band customer line that was taken for one is none too."""
    x = with_noise(np.concatenate([gap(0.3), tone([430, 455], 0.25), gap(0.1), speech]), 15)
    assert detect_ringback(x).kind == "none"
    from voicebot.audio import read_audio
    from helpers import customer_wav
    line = read_audio(customer_wav("q13_no_rebate_tel8k.wav"))
    assert detect_ringback(getattr(line, "samples", line)).kind == "none"
