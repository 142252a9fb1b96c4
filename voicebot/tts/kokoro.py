"""A natural Mandarin voice: Kokoro-82M (int8 ONNX) on onnxruntime, with misaki's Mandarin G2P.

    synth = KokoroSynthesizer("zf_xiaoyi", speed=1.0)
    for chunk in synth.stream("您好，这里是北京移动10086客服。"):   # clause by clause, 16 kHz
        play(chunk)
    samples = synth.synthesize("请您稍等。")                        # the whole line

A line goes: the reading step (`reading.to_spoken`: 10086 → 幺零零八六, 10元/月 → 十元每月, stage
directions dropped) → clauses cut at ，。？！； → `kokoro_g2p` (misaki's reading: jieba + pypinyin,
with digit strings said digit by digit, 一/不 tone changes and the particle 地) → Kokoro's phoneme ids → the model (24 kHz) → silence trimmed, the clause's pause added → soxr to
16 kHz. Each clause is rendered on its own, so the first one can play while the rest render
(about a second for a short clause here instead of several for a long line), and `synthesize` is
exactly the concatenation of `stream`, so a cached line sounds like the streamed one.

English lines (the foreign caller) go to the espeak-ng English voice through pyttsx3: Kokoro's
English G2P needs a spaCy model that no registry ships. Latin letters inside a Mandarin line (sp,
VIP) are spelled with English letter names in Kokoro's own phoneme set.

The model, the voices and the vocabulary: see `kokoro_assets`.
"""
from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Iterator

import numpy as np

from voicebot.audio import SAMPLE_RATE, SpeakerSink
from voicebot.errors import TtsError
from voicebot.tts import kokoro_assets as assets
from voicebot.tts.kokoro_g2p import G2P_RULES
from voicebot.tts.pyttsx3_engine import DEFAULT_RATE
from voicebot.tts.reading import Language, split_languages, to_spoken

KOKORO_RATE: Final = 24_000
"""The model's output sample rate (resampled to 16 kHz with soxr)."""
DEFAULT_VOICE: Final = "zf_xiaoyi"
"""Female, as on most 10086 lines; the Mandarin voice whisper hears best (4.5 % character errors)."""
MALE_VOICE: Final = "zm_yunxi"
VOICE_WORDS: Final = {
    "女": DEFAULT_VOICE, "女声": DEFAULT_VOICE, "female": DEFAULT_VOICE, "f": DEFAULT_VOICE,
    "男": MALE_VOICE, "男声": MALE_VOICE, "male": MALE_VOICE, "m": MALE_VOICE,
}
"""What a trainer may write for the voice (settings.yaml `声音`, `--voice`)."""
THREADS: Final = 2
"""onnxruntime intra-op threads: this machine (and CI) has 2 cores. RTF ≈ 0.3 on 2 idle cores,
≈ 0.43 on one."""
GROUP_IDS: Final = 0
"""After the first clause, join clauses into one model call up to this many phoneme ids (0: each
clause alone). Every call renders ~1.4 s of silence that is trimmed away, so fewer calls is less
work; see benchmarks/bench_tts.py --group."""
MIN_SPEED: Final = 0.5
MAX_SPEED: Final = 2.0
MAX_IDS: Final = 500
"""Kokoro takes at most 510 phoneme ids (the style table has 510 rows); clauses stay far below."""
MIN_CLAUSE: Final = 4
"""A clause shorter than this many characters is rendered with the next one: the model speaks
one- or two-syllable inputs oddly, and 好的， alone would save no time."""
MAX_CLAUSE: Final = 60
"""A clause longer than this (characters) is cut again at 、 or ：: the first audio comes sooner
and no input nears MAX_IDS."""
PAUSE_S: Final = {"，": 0.16, "、": 0.12, "：": 0.2, "；": 0.25, "。": 0.32, "？": 0.32, "！": 0.32}
"""Silence after a clause, by its closing mark (the model's own trailing silence, ~1 s, is
trimmed). Roughly an agent's pauses: a breath at a comma, a beat at a full stop."""
SILENCE_LEVEL: Final = 0.006
"""Samples below this (about -44 dBFS) at the ends of a clause count as silence."""
EDGE_S: Final = 0.04
"""Kept before the first and after the last audible sample of a clause (soft onsets and releases)."""
MAX_PEAK: Final = 0.98
G2P_NAME: Final = f"misaki-0.9.4-zh+rules{G2P_RULES}"
"""Part of the cache key: another G2P reads lines differently."""
CLAUSE_RULES: Final = "1"
"""Bump when the clause cutting, trimming or pauses change: part of the cache key."""

LETTERS: Final = {
    "A": "ˈA", "B": "bˈi", "C": "sˈi", "D": "dˈi", "E": "ˈi", "F": "ˈɛf", "G": "ʤˈi", "H": "ˈAʧ",
    "I": "ˈI", "J": "ʤˈA", "K": "kˈA", "L": "ˈɛl", "M": "ˈɛm", "N": "ˈɛn", "O": "ˈO", "P": "pˈi",
    "Q": "kjˈu", "R": "ˈɑɹ", "S": "ˈɛs", "T": "tˈi", "U": "jˈu", "V": "vˈi", "W": "dˈʌbəlju",
    "X": "ˈɛks", "Y": "wˈI", "Z": "zˈi",
}
"""English letter names in Kokoro's (misaki's American) phoneme set: A = eɪ, I = aɪ, O = oʊ."""

_CLAUSE_END: Final = re.compile(r"(?<=[，。？！；])")
_SUB_END: Final = re.compile(r"(?<=[、：])")
_HAN: Final = re.compile(r"[\u3400-\u9fff]")


def resolve_voice(name: str | None) -> str | None:
    """The Kokoro voice a trainer's word names (女 → zf_xiaoyi, male → zm_yunxi, zf_xiaobei as
    is), or None when `name` is no Kokoro voice (a pyttsx3 voice id, say)."""
    if name is None:
        return None
    key = name.strip()
    if key in assets.VOICE_SHA256:
        return key
    return VOICE_WORDS.get(key.lower())


def _clauses(spoken: str) -> list[str]:
    """Cut a spoken line at ，。？！； (marks kept), short pieces joined to the next, long ones cut
    again at 、：."""
    pieces: list[str] = []
    for part in (p for p in _CLAUSE_END.split(spoken) if p.strip()):
        if len(part) > MAX_CLAUSE:
            pieces.extend(p for p in _SUB_END.split(part) if p.strip())
        else:
            pieces.append(part)
    out: list[str] = []
    carry = ""
    for piece in pieces:
        piece = carry + piece
        if len(_HAN.findall(piece)) + len(re.findall(r"[A-Za-z]", piece)) < MIN_CLAUSE:
            carry = piece
            continue
        out.append(piece)
        carry = ""
    if carry:
        if out:
            out[-1] += carry
        else:
            out.append(carry)
    return out


def _spell(run: str) -> str:
    return " ".join(LETTERS[c] for c in run.upper() if c in LETTERS)


class _Runtime:
    """The loaded model, vocabulary and G2P: one per process (loading costs seconds and ~300 MB)."""

    def __init__(self, model: Path, threads: int) -> None:
        try:
            import onnxruntime as ort
            from voicebot.tts.kokoro_g2p import MandarinG2P
            g2p = MandarinG2P()
        except ImportError as err:
            raise TtsError(f"the Kokoro voice needs {err.name}: pip install -e '.[voice]' "
                           "or run `bash install.sh`") from err
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Worker threads that spin while waiting burn the cores the recogniser needs (and, on a
        # busy machine, slowed rendering: RTF 2.9 spinning vs 2.3 not, measured under load 6).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), sess_options=options,
                                            providers=["CPUExecutionProvider"])
        vocab_file = Path(__file__).with_name("kokoro_vocab.json")
        self.vocab: dict[str, int] = json.loads(vocab_file.read_text(encoding="utf-8"))["vocab"]
        self.g2p = g2p
        self.lock = threading.Lock()
        """jieba's part-of-speech tagger keeps state between calls: one line at a time through it."""

    def phonemes(self, clause: str) -> str:
        parts = []
        for lang, chunk in split_languages(clause):
            if lang == "en":
                parts.append(_spell(chunk))
            else:
                with self.lock:
                    parts.append(self.g2p(chunk))
        return " ".join(p.strip() for p in parts if p.strip())

    def ids(self, phonemes: str) -> list[int]:
        return [self.vocab[c] for c in phonemes if c in self.vocab][:MAX_IDS]

    def infer(self, ids: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        ref = style[min(len(ids), len(style)) - 1].reshape(1, -1)
        audio = self.session.run(None, {
            "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
            "style": np.ascontiguousarray(ref, dtype=np.float32),
            "speed": np.array([speed], dtype=np.float32),
        })[0]
        return np.asarray(audio, dtype=np.float32).ravel()


_LOADING: Final = threading.Lock()


@lru_cache(maxsize=2)
def _load_runtime(model: Path, threads: int) -> _Runtime:
    return _Runtime(model, threads)


def _runtime(model: Path, threads: int) -> _Runtime:
    """The one runtime for `model`, loaded once even when two threads ask at the same moment."""
    with _LOADING:
        return _load_runtime(model, threads)


@lru_cache(maxsize=8)
def _style(path: Path) -> np.ndarray:
    data = np.fromfile(path, dtype=np.float32)
    if data.size != assets.VOICE_BYTES // 4:
        raise TtsError(f"{path} is not a Kokoro voice ({data.size * 4} bytes): run `bash install.sh`")
    return data.reshape(-1, 256)


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    if loud.size == 0:
        return audio[:0]
    edge = int(EDGE_S * KOKORO_RATE)
    return audio[max(0, loud[0] - edge): loud[-1] + edge]


class KokoroSynthesizer:
    """Mandarin lines through Kokoro-82M, English lines through pyttsx3; 16 kHz mono float32."""

    def __init__(self, voice: str = DEFAULT_VOICE, speed: float = 1.0, volume: float = 1.0,
                 assets_dir: str | Path | None = None, threads: int = THREADS) -> None:
        resolved = resolve_voice(voice)
        if resolved is None:
            raise TtsError(f"{voice!r} is not a Kokoro voice: use 女 or 男, or one of "
                           f"{', '.join(assets.VOICE_SHA256)}")
        if not MIN_SPEED <= float(speed) <= MAX_SPEED:
            raise TtsError(f"speed {speed:g} is out of range: use {MIN_SPEED:g} (slow) to "
                           f"{MAX_SPEED:g} (fast); 1.0 is natural")
        root = Path(assets_dir) if assets_dir is not None else None
        reason = assets.missing(resolved, root)
        if reason is not None:
            raise TtsError(f"{reason}: run `bash install.sh`")
        self.voice: str = resolved
        self.speed: float = float(speed)
        self.volume: float = float(volume)
        self.name: str = "kokoro"
        self.rate: int = int(round(DEFAULT_RATE * self.speed))
        """pyttsx3's words-per-minute scale (150 = Kokoro's natural pace): the protocol's rate."""
        self._model = assets.assemble_model(root)
        self._style_path = assets.voice_path(resolved, root)
        self._runtime: _Runtime | None = None
        self._english: Any = None
        self.thread_safe: bool = True
        """Mandarin lines may render in two threads at once (the call and the background renderer):
        onnxruntime sessions are thread-safe and the G2P has its own lock."""
        self.group_ids: int = GROUP_IDS
        """After the first clause, clauses are rendered together up to this many phoneme ids."""

    @property
    def runtime(self) -> _Runtime:
        """The model and G2P, loaded on first use (a cached line needs neither)."""
        if self._runtime is None:
            self._runtime = _runtime(self._model, THREADS)
        return self._runtime

    def load(self) -> "KokoroSynthesizer":
        """Load the model now (before a call starts, not at its first uncached line)."""
        _ = self.runtime
        _style(self._style_path)
        return self

    def voice_id(self, language: Language = "zh") -> str:
        """Engine, voice, speed and rules: the cache key's voice part."""
        if language == "en":
            return self.english.voice_id("en")
        return (f"kokoro-82m-int8:{self.voice}:speed={self.speed:g}:vol={self.volume:g}:"
                f"{G2P_NAME}:clauses={CLAUSE_RULES}")

    @property
    def english(self) -> Any:
        """The espeak-ng English voice (pyttsx3), made on first use."""
        if self._english is None:
            from voicebot.tts.pyttsx3_engine import Pyttsx3Synthesizer
            self._english = Pyttsx3Synthesizer(volume=self.volume)
        return self._english

    def clauses(self, text: str) -> list[str]:
        """The spoken clauses of a line, in the order they are rendered."""
        return _clauses(to_spoken(text, "zh"))

    def phonemes(self, text: str) -> list[str]:
        """Kokoro's phoneme string of each clause (for checks and debugging)."""
        return [self.runtime.phonemes(c) for c in self.clauses(text)]

    def stream(self, text: str, language: Language = "zh") -> Iterator[np.ndarray]:
        """Render a line clause by clause; each chunk is 16 kHz float32 ending in its pause."""
        if language == "en":
            samples = self.english.synthesize(text, "en")
            if samples.size:
                yield samples
            return
        import soxr
        runtime = self.runtime
        style = _style(self._style_path)
        clauses = self.clauses(text)
        for last, phonemes, mark in self._groups(runtime, clauses):
            ids = runtime.ids(phonemes)
            if not ids:
                continue
            audio = _trim(runtime.infer(ids, style, self.speed))
            if audio.size == 0:
                continue
            if not last:
                pause = PAUSE_S.get(mark, PAUSE_S["，"])
                audio = np.concatenate([audio, np.zeros(int(pause * KOKORO_RATE), np.float32)])
            out = soxr.resample(audio, KOKORO_RATE, SAMPLE_RATE).astype(np.float32)
            out *= np.float32(self.volume)
            peak = float(np.max(np.abs(out)))
            if peak > MAX_PEAK:
                out *= np.float32(MAX_PEAK / peak)
            yield out

    def _groups(self, runtime: _Runtime, clauses: list[str]) -> Iterator[tuple[bool, str, str]]:
        """(is the last group, phonemes, closing mark) per model call: the first clause alone
        (it plays while the rest renders), then clauses joined up to `group_ids` phoneme ids
        (0: every clause alone)."""
        pending: list[str] = []
        mark = ""
        for i, clause in enumerate(clauses):
            phonemes = runtime.phonemes(clause)
            if pending and (i == 1 or len(" ".join(pending + [phonemes])) > self.group_ids):
                yield False, " ".join(pending), mark
                pending = []
            pending.append(phonemes)
            mark = clause[-1]
        if pending:
            yield True, " ".join(pending), mark

    def synthesize(self, text: str, language: Language = "zh") -> np.ndarray:
        """The whole line: the chunks of `stream` joined (empty for a symbol-only line)."""
        chunks = list(self.stream(text, language))
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)

    def speak(self, text: str, language: Language = "zh", sink: SpeakerSink | None = None) -> None:
        """Say a line on the speaker now (blocking)."""
        samples = self.synthesize(text, language)
        if samples.size:
            (sink or SpeakerSink()).play(samples, SAMPLE_RATE)
