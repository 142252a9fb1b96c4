"""What every recogniser gives back, and the two small protocols the rest of the program talks to.

The call runner never asks which engine runs: it opens an `Utterance`, feeds it frames as they
arrive, and asks for the `Transcript` when the customer stops. vosk decodes while the frames
arrive (its `finish` is cheap); whisper only buffers and decodes at `finish`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Word:
    """One recognised word (vosk: a vocabulary word; whisper: a token group, often one character)."""

    text: str
    """The word as the engine wrote it (vosk Mandarin: one segmented word, no spaces)."""
    start: float
    """Seconds from the first sample given to the utterance."""
    end: float
    """Seconds from the first sample given to the utterance."""
    conf: float
    """Engine's confidence 0–1 (vosk `conf` from the lattice, whisper word `probability`)."""


@dataclass(frozen=True)
class Transcript:
    """The final text of one utterance, with what the engine knows about how sure it is."""

    text: str
    """What was said. Mandarin comes without spaces between words; empty when nothing was heard."""
    confidence: float
    """Mean word confidence 0–1; 0.0 when no word was recognised."""
    words: tuple[Word, ...]
    """The words with times and confidences (vosk Mandarin keeps its word segmentation here)."""
    start: float
    """Start of the first word, seconds from the first sample; 0.0 when there are no words."""
    end: float
    """End of the last word, seconds from the first sample; 0.0 when there are no words."""
    language: str | None
    """Language code the text is in ("zh", "en", …); None when the engine cannot tell (vosk)."""
    language_prob: float | None
    """Probability of `language` when the engine detected it; None when it was imposed or unknown."""
    engine: str
    """Which engine produced this ("vosk", "whisper")."""

    @property
    def empty(self) -> bool:
        """True when nothing was recognised (silence, noise, or all words outside the grammar)."""
        return not self.text


@dataclass(frozen=True)
class Partial:
    """Text recognised so far while the customer is still speaking."""

    text: str
    """The running hypothesis (may still change); Mandarin without spaces."""
    endpoint: bool = False
    """True when the engine itself decided the customer stopped (vosk's Kaldi endpoint rules)."""


@runtime_checkable
class Utterance(Protocol):
    """One customer utterance being recognised: frames in, one transcript out."""

    def accept(self, frame: np.ndarray) -> Partial | None:
        """Take the next frame (float32 mono at the recogniser's rate); a Partial when the text moved."""
        ...

    def finish(self) -> Transcript:
        """No more audio: return the final transcript. Call once."""
        ...


@runtime_checkable
class Recognizer(Protocol):
    """A loaded speech recogniser; one model, many utterances."""

    name: str
    """Engine name as shown to people and written in records ("vosk", "whisper")."""
    sample_rate: int
    """Rate the frames must have (16 kHz for both engines)."""

    def start(self) -> Utterance:
        """Open a new utterance (streaming input)."""
        ...

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Recognise a whole utterance at once (float32 mono at `sample_rate`)."""
        ...


def mean_conf(words: tuple[Word, ...] | list[Word]) -> float:
    """Mean word confidence, 0.0 for no words: the one confidence both engines can give."""
    return float(sum(w.conf for w in words) / len(words)) if words else 0.0


def _is_han(ch: str) -> bool:
    """True for CJK ideographs (the characters Mandarin is written in), not Hangul or kana."""
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FFFF


def join_words(words: list[str] | tuple[str, ...]) -> str:
    """Join recognised words, without a space between two Chinese characters.

    vosk writes Mandarin as space-separated words; matching wants them joined (rapidfuzz ratio
    90.9 → 74.1 with the spaces left in). Latin words and Korean keep their spaces.
    """
    out = ""
    for word in (w.strip() for w in words):
        if not word:
            continue
        if out and not (_is_han(out[-1]) and _is_han(word[0])):
            out += " "
        out += word
    return out
