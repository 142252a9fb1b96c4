"""Ringback detection: what the line plays before the call connects.

The book (特殊问题 1): "电话接通前声音有异于平时的嘟嘟声时（在国外的那种）直接挂断就可以" — when the
ringing before the answer is not the usual one, the customer is abroad: hang up before greeting.

Domestic (China) ringback is one 450 Hz tone, 1 s on / 4 s off. Abroad it differs in tone or
cadence: 440+480 Hz 2 s on / 4 s off (North America), 400+450 Hz double ring 0.4-0.2-0.4 on,
2 s off (UK), 425 Hz in much of Europe, 400 Hz in Japan...

How it works, on real DSP:
  1. 50 ms frames (hop 25 ms): a frame is tonal when most of its power (above 100 Hz) lies in
     the 350-520 Hz band where every ringback tone lives.
  2. Runs of tonal frames are bursts. Each burst is checked on one long, high-resolution
     spectrum: one to three steady peaks between 380 and 500 Hz must hold most of its power.
     A sung or spoken vowel drifts in pitch and has other harmonics, so it fails here.
  3. Bursts within 0.6 s of each other form one ring (the UK double ring); rings are separated
     by the long off time. Busy and congestion tones (on/off under a second, evenly) and the
     continuous dial tone are not ringing.
  4. The pattern must come first: anything else loud before the first ring (speech, music)
     means the line was answered, so there is no ringback. The ringing ends at the last ring
     before anything else is heard: `ends_at`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from voicebot.audio import SAMPLE_RATE

FRAME_S: Final = 0.05
"""Analysis frame: long enough to separate the tone band from speech, short enough for cadence."""
HOP_S: Final = 0.025
"""Frame step: on/off edges are placed within about 25 ms."""
CHUNK_FRAMES: Final = 1000
"""Frames analysed per FFT batch (about 6 MB at 16 kHz)."""
HIGHPASS_HZ: Final = 100.0
"""Power below this (hum, DC, rumble) is left out of every ratio."""
BAND_HZ: Final = (350.0, 520.0)
"""Band holding every ringback tone in use (400, 425, 440, 450, 480 Hz) with a 50 ms window's spread."""
TONE_RANGE_HZ: Final = (380.0, 500.0)
"""Where a burst's spectral peaks must lie to count as ringback."""
TONAL_RATIO: Final = 0.6
"""Share of a frame's power in BAND_HZ for it to be tonal. A ringback tone at 10 dB SNR in white
noise gives ~0.9; speech puts one or two harmonics there and stays mostly below."""
MIN_TONE_DBFS: Final = -50.0
"""Quieter frames are not tone (networks send ringback at about -20 to -10 dBFS)."""
MERGE_GAP_S: Final = 0.075
"""Tonal runs closer than this are one burst (a frame lost to a noise spike)."""
MIN_BURST_S: Final = 0.2
"""Shortest burst: the UK/HK double ring's 0.4 s halves, with margin."""
MAX_BURST_S: Final = 3.5
"""Longer tones are a dial tone or a test tone, not ringing (the longest ring, North America's, is 2 s)."""
RING_GAP_S: Final = 0.6
"""Bursts closer than this belong to one ring (UK 0.2 s inner gap vs. 2 s off)."""
MAX_RING_S: Final = 3.0
"""Longest ring from first burst start to last burst end."""
MAX_BURSTS_PER_RING: Final = 2
"""A ring is one or two bursts; more, evenly spaced, is a busy or congestion tone."""
MIN_OFF_S: Final = 1.0
MIN_SINGLE_RING_S: Final = 0.4
"""A lone ring (no second one heard) must last this long to count: the shortest ring of any country is
the UK's 0.4 s burst. A shorter lone tonal burst before speech is a steady vowel (measured: a 0.22 s
vowel of a telephone-band customer line, q13_no_rebate_tel8k.wav, read as a foreign ring)."""
"""Shortest off time between rings (busy 0.35 s, congestion 0.7 s; ringing 2-4 s)."""
PURITY: Final = 0.7
"""Share of a burst's power within a few Hz of its peaks: ~0.9 for a network tone at 10 dB SNR
(0.8 at 6 dB), well under 0.3 for a vowel, whose pitch drifts and whose harmonics spread up to
4 kHz; a chord with a note outside the band stays under it too."""
PEAK_DROP_DB: Final = 15.0
"""Peaks this far under the strongest are ignored (dual tones are sent at equal level)."""
MAX_TONES: Final = 3
"""More peaks than this in the band is not a ringback (three allows a 16 Hz-modulated 400 Hz)."""
SAME_TONE_HZ: Final = 8.0
"""Bursts whose peaks agree within this are the same ringback."""
ACTIVITY_DB: Final = 10.0
"""Non-tone frames this far over the line's floor are something else (speech, music): activity."""
ACTIVITY_S: Final = 0.3
"""This much activity before or between rings ends the ringing (the line was answered)."""
DOMESTIC_HZ: Final = 450.0
"""China's ringback tone (YD/T signal tones: 450 Hz, 1 s on, 4 s off)."""
DOMESTIC_TOLERANCE_HZ: Final = 15.0
"""How far a single tone may be from 450 Hz and still be domestic. A burst of 0.4 s or more is
measured to a few Hz, so 425 Hz (Europe) is told apart; a hang-up on a home customer costs a call,
so the 450 Hz tone itself gets generous room."""
DOMESTIC_ON_S: Final = (0.7, 1.4)
"""Accepted on-time of the domestic ring (1 s nominal). With a single ring heard, any shorter
ring passes too: the answer may have cut it."""
DOMESTIC_OFF_S: Final = (3.0, 5.0)
"""Accepted off-time of the domestic ring (4 s nominal), when two rings were heard."""

Kind = Literal["domestic", "foreign", "none"]


@dataclass(frozen=True)
class RingbackResult:
    """What rang before the call connected."""

    kind: Kind
    """"domestic" (wait for the customer), "foreign" (hang up before greeting) or "none"."""
    tones_hz: tuple[float, ...] = ()
    """Measured tone frequencies of the ringing, ascending (() when none)."""
    on_s: float = 0.0
    """Ring length: first burst start to last burst end of one ring (median over rings)."""
    off_s: float = 0.0
    """Silence between rings (median); 0.0 when fewer than two rings were heard."""
    ends_at: float = 0.0
    """Seconds where the last ring ended: from here on the line is connected. 0.0 when none."""
    rings: int = 0
    """Rings heard."""
    pattern: tuple[float, ...] = ()
    """One ring's cadence: on, off, on, ..., ending with the off time when known (e.g. UK 0.4, 0.2, 0.4, 2.0)."""


@dataclass(frozen=True)
class _Burst:
    start: float
    end: float
    tones: tuple[float, ...]

    @property
    def length(self) -> float:
        return self.end - self.start


def _frame_analysis(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per frame: tonal flag and band-limited level (dBFS). Also frame and hop sizes."""
    win = int(round(FRAME_S * rate))
    hop = int(round(HOP_S * rate))
    if len(x) < win:
        return np.zeros(0, bool), np.zeros(0), win, hop
    n = 1 + (len(x) - win) // hop
    window = np.hanning(win)
    freqs = np.fft.rfftfreq(win, 1.0 / rate)
    above = freqs >= HIGHPASS_HZ
    in_band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    total = np.empty(n)
    band = np.empty(n)
    for first in range(0, n, CHUNK_FRAMES):  # chunks keep memory flat on long recordings
        count = min(CHUNK_FRAMES, n - first)
        idx = np.arange(win)[None, :] + hop * (first + np.arange(count))[:, None]
        spec = np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2
        total[first : first + count] = spec[:, above].sum(axis=1)
        band[first : first + count] = spec[:, in_band].sum(axis=1)
    # Mean-square level of the windowed frame above the high-pass, in dBFS.
    power = 2.0 * total / (win * np.sum(window**2))
    level = 10.0 * np.log10(np.maximum(power, 1e-12))
    ratio = np.divide(band, total, out=np.zeros_like(band), where=total > 0)
    tonal = (ratio >= TONAL_RATIO) & (level >= MIN_TONE_DBFS)
    return tonal, level, win, hop


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of each run of True."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, f in enumerate(flags):
        if f and start < 0:
            start = i
        elif not f and start >= 0:
            out.append((start, i - 1))
            start = -1
    if start >= 0:
        out.append((start, len(flags) - 1))
    return out


def _tones(segment: np.ndarray, rate: int) -> tuple[tuple[float, ...], float]:
    """Steady tone frequencies in a burst and the share of its power they hold."""
    n = len(segment)
    nfft = 1 << int(np.ceil(np.log2(max(n, rate) * 4)))
    spec = np.abs(np.fft.rfft(segment * np.hanning(n), nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate)
    total = spec[freqs >= HIGHPASS_HZ].sum()
    if total <= 0:
        return (), 0.0
    lo, hi = np.searchsorted(freqs, [BAND_HZ[0], BAND_HZ[1]])
    band = spec[lo:hi]
    if band.size < 3:
        return (), 0.0
    floor = band.max() * 10 ** (-PEAK_DROP_DB / 10)
    is_peak = (band[1:-1] > band[:-2]) & (band[1:-1] >= band[2:]) & (band[1:-1] >= floor)
    cand = np.nonzero(is_peak)[0] + 1 + lo
    cand = sorted(cand, key=lambda k: -spec[k])
    df = freqs[1]
    spacing = 12.0
    chosen: list[float] = []
    for k in cand:
        a, b, c = np.log(spec[k - 1] + 1e-30), np.log(spec[k] + 1e-30), np.log(spec[k + 1] + 1e-30)
        denom = a - 2 * b + c
        f = freqs[k] + (0.5 * (a - c) / denom * df if denom else 0.0)
        if all(abs(f - g) >= spacing for g in chosen):
            chosen.append(float(f))
    half = 3.0 * rate / n + 2.0
    near = np.zeros_like(freqs, dtype=bool)
    for f in chosen:
        near |= np.abs(freqs - f) <= half
    purity = float(spec[near & (freqs >= HIGHPASS_HZ)].sum() / total)
    return tuple(sorted(chosen)), purity


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= SAME_TONE_HZ for x, y in zip(a, b))


def detect_ringback(samples: np.ndarray, rate: int = SAMPLE_RATE) -> RingbackResult:
    """Classify the ringing at the start of a call recording (mono float samples)."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    tonal, level, win, hop = _frame_analysis(x, rate)
    if tonal.size == 0:
        return RingbackResult("none")
    centre = (np.arange(tonal.size) * hop + win / 2) / rate

    # Tonal runs, merging tiny gaps.
    merge = int(round(MERGE_GAP_S / HOP_S))
    runs: list[list[int]] = []
    for a, b in _runs(tonal):
        if runs and a - runs[-1][1] - 1 <= merge:
            runs[-1][1] = b
        else:
            runs.append([a, b])

    bursts: list[_Burst] = []
    burst_frames = np.zeros(tonal.size, dtype=bool)
    for a, b in runs:
        start, end = centre[a], centre[b]
        if end - start < MIN_BURST_S:
            continue
        burst_frames[max(0, a - 2) : b + 3] = True
        if end - start > MAX_BURST_S:  # a dial or test tone: no need for its exact pitch
            bursts.append(_Burst(float(start), float(end), ()))
            continue
        lo = int((start + HOP_S) * rate)
        hi = int((end - HOP_S) * rate)
        tones, purity = _tones(x[lo:hi], rate)
        if (
            not tones
            or len(tones) > MAX_TONES
            or purity < PURITY
            or not all(TONE_RANGE_HZ[0] <= f <= TONE_RANGE_HZ[1] for f in tones)
        ):
            continue
        bursts.append(_Burst(float(start), float(end), tones))
    if not bursts:
        return RingbackResult("none")

    # Activity: loud frames that are not part of (or next to) a tone burst.
    floor = float(np.percentile(level, 10))
    active = (level >= floor + ACTIVITY_DB) & (level >= MIN_TONE_DBFS) & ~burst_frames

    def activity(t0: float, t1: float) -> float:
        return float(np.count_nonzero(active & (centre >= t0) & (centre < t1)) * HOP_S)

    first = bursts[0]
    if activity(0.0, first.start) >= ACTIVITY_S or not first.tones:
        return RingbackResult("none")
    seq = [first]
    for burst in bursts[1:]:
        if not _same(burst.tones, first.tones):
            break
        if activity(seq[-1].end, burst.start) >= ACTIVITY_S:
            break
        seq.append(burst)

    rings: list[list[_Burst]] = [[seq[0]]]
    for burst in seq[1:]:
        if burst.start - rings[-1][-1].end < RING_GAP_S:
            rings[-1].append(burst)
        else:
            rings.append([burst])
    spans = [r[-1].end - r[0].start for r in rings]
    offs = [rings[i + 1][0].start - rings[i][-1].end for i in range(len(rings) - 1)]
    if any(len(r) > MAX_BURSTS_PER_RING for r in rings) or any(s > MAX_RING_S for s in spans):
        return RingbackResult("none")
    if any(o < MIN_OFF_S for o in offs):
        return RingbackResult("none")
    if len(rings) == 1 and spans[0] < MIN_SINGLE_RING_S:
        return RingbackResult("none")

    # The last ring may be cut short by the answer: measure on the others when there are any.
    measured = rings[:-1] if len(rings) > 1 else rings
    on_s = float(np.median([r[-1].end - r[0].start for r in measured]))
    off_s = float(np.median(offs)) if offs else 0.0
    tones = tuple(round(float(np.mean([b.tones[i] for b in seq])), 1) for i in range(len(first.tones)))
    model = measured[0]
    pattern: list[float] = []
    for i, burst in enumerate(model):
        pattern.append(round(burst.length, 2))
        if i + 1 < len(model):
            pattern.append(round(model[i + 1].start - burst.end, 2))
    if offs:
        pattern.append(round(off_s, 2))

    domestic = (
        len(tones) == 1
        and abs(tones[0] - DOMESTIC_HZ) <= DOMESTIC_TOLERANCE_HZ
        and all(len(r) == 1 for r in rings)
        and (DOMESTIC_ON_S[0] if len(rings) > 1 else MIN_BURST_S) <= on_s <= DOMESTIC_ON_S[1]
        and (not offs or DOMESTIC_OFF_S[0] <= off_s <= DOMESTIC_OFF_S[1])
    )
    return RingbackResult(
        kind="domestic" if domestic else "foreign",
        tones_hz=tones,
        on_s=round(on_s, 3),
        off_s=round(off_s, 3),
        ends_at=round(float(seq[-1].end), 3),
        rings=len(rings),
        pattern=tuple(pattern),
    )
