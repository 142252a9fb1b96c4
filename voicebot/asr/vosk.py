"""vosk: the low-latency engine. It decodes while the customer speaks, so `finish()` is cheap.

A phrase list biases recognition through vosk's runtime grammar (small models only: they ship
`graph/HCLr.fst` + `Gr.fst`). vosk silently drops grammar words missing from the model's
vocabulary, so each phrase is split here into vocabulary words first (`find_word`; Chinese and
Korean by greedy longest match, since their vocabularies hold words, not whole phrases) and
what cannot be placed is counted in `grammar_report`.

Mandarin output is space-separated words: `Transcript.text` joins them without spaces (matching
on spaced text scored 74.1 instead of 90.9); `Transcript.words` keeps the segmentation.
"""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from voicebot.asr.base import Partial, Transcript, Word, join_words, mean_conf
from voicebot.asr.models import find_vosk_model
from voicebot.audio import SAMPLE_RATE, to_pcm16
from voicebot.errors import ModelError

UNK: Final = "[unk]"
"""vosk's garbage word: in a grammar it soaks up speech outside the phrases; never shown."""
MAX_WORD_CHARS: Final = 8
"""Longest vocabulary word tried by the greedy segmentation (Chinese words are 1–4 characters,
Korean eojeol pieces rarely longer)."""
LOG_LEVEL: Final = -1
"""Kaldi log level: -1 hides vosk's info lines (model loading chatter) but keeps warnings and errors."""


@dataclass(frozen=True)
class GrammarReport:
    """How the phrase list became a vosk grammar."""

    phrases: int
    """Phrases given."""
    kept_phrases: int
    """Phrases with at least one vocabulary word (the rest cannot be recognised at all)."""
    words: int
    """Distinct vocabulary words in the grammar."""
    dropped: tuple[str, ...]
    """Pieces outside the vocabulary (words, or single characters for Chinese), in order met."""
    supported: bool
    """False when the model has no runtime grammar (big models): the phrase list was ignored."""

    @property
    def dropped_count(self) -> int:
        """How many phrase pieces were outside the vocabulary."""
        return len(self.dropped)

    def summary(self) -> str:
        """One line for the "using …" note."""
        if not self.supported:
            return f"phrase list of {self.phrases} ignored (this model has no runtime grammar)"
        if not self.kept_phrases:
            return f"no word of the {self.phrases} phrases is in the vocabulary: free recognition"
        text = f"grammar of {self.kept_phrases}/{self.phrases} phrases, {self.words} words"
        return text + (f", {self.dropped_count} pieces outside the vocabulary dropped"
                       if self.dropped else "")


def _segmented_script(ch: str) -> bool:
    """Characters of scripts whose vosk vocabulary splits inside a space-free run (Han, Hangul)."""
    code = ord(ch)
    return (0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xAC00 <= code <= 0xD7AF
            or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F)


def segment(phrase: str, in_vocab: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """Split a phrase into vocabulary words; return (words, pieces outside the vocabulary).

    Space-separated tokens found whole are kept. A token in Chinese or Korean script that is not
    found is cut by greedy longest match (longest vocabulary word from the left); a character
    that starts no vocabulary word is dropped. Other tokens are kept or dropped whole.
    """
    words: list[str] = []
    dropped: list[str] = []
    for token in phrase.split():
        if in_vocab(token):
            words.append(token)
        elif not any(_segmented_script(ch) for ch in token):
            dropped.append(token)
        else:
            i = 0
            while i < len(token):
                for j in range(min(len(token), i + MAX_WORD_CHARS), i, -1):
                    if in_vocab(token[i:j]):
                        words.append(token[i:j])
                        i = j
                        break
                else:
                    dropped.append(token[i])
                    i += 1
    return words, dropped


def build_grammar(phrases: Iterable[str], in_vocab: Callable[[str], bool],
                  supported: bool = True) -> tuple[list[str], GrammarReport]:
    """vosk grammar (phrases as space-joined vocabulary words, plus [unk] if the model has it)."""
    phrases = [p for p in phrases if p and p.strip()]
    grammar: list[str] = []
    vocab: set[str] = set()
    dropped: list[str] = []
    kept = 0
    for phrase in phrases:
        words, lost = segment(phrase, in_vocab)
        dropped += lost
        if words:
            kept += 1
            vocab.update(words)
            line = " ".join(words)
            if line not in grammar:
                grammar.append(line)
    if in_vocab(UNK):
        grammar.append(UNK)
    report = GrammarReport(len(phrases), kept, len(vocab), tuple(dropped), supported)
    return grammar, report


class VoskRecognizer:
    """A loaded vosk model, optionally restricted to a phrase list."""

    name: str = "vosk"

    def __init__(self, model_path: str | Path | None = None, phrases: list[str] | None = None,
                 words: bool = True) -> None:
        from vosk import KaldiRecognizer, Model, SetLogLevel

        self.sample_rate: int = SAMPLE_RATE
        self.model_path = find_vosk_model(model_path)
        SetLogLevel(LOG_LEVEL)
        started = time.perf_counter()
        try:
            self._model = Model(str(self.model_path))
        except Exception as err:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelError(f"vosk cannot load the model in {self.model_path} ({err}): unpack the "
                             f"model's zip again, or run `voicebot models download small-cn`") from err
        self.load_seconds: float = time.perf_counter() - started
        """Time the model took to load (for benchmarks and the "using …" note)."""
        self._kaldi = KaldiRecognizer
        self.words = words
        self._set_phrases(phrases)

    def _set_phrases(self, phrases: list[str] | None) -> None:
        self.grammar: list[str] | None = None
        """The grammar handed to vosk (None: free recognition)."""
        self.grammar_report: GrammarReport | None = None
        """How the phrase list was turned into the grammar (None without phrases)."""
        if phrases:
            supported = self.supports_grammar
            grammar, self.grammar_report = build_grammar(phrases, self.in_vocabulary, supported)
            if supported and self.grammar_report.kept_phrases:
                self.grammar = grammar
        self._grammar_json = (json.dumps(self.grammar, ensure_ascii=False)
                              if self.grammar is not None else None)

    def with_phrases(self, phrases: list[str] | None) -> VoskRecognizer:
        """The same loaded model with another phrase list (None: free recognition), no reload."""
        other = copy.copy(self)
        other._set_phrases(phrases)
        return other

    @property
    def supports_grammar(self) -> bool:
        """Small vosk models (lookahead graph HCLr.fst + Gr.fst) accept a runtime grammar."""
        graph = self.model_path / "graph"
        return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()

    def in_vocabulary(self, word: str) -> bool:
        """True when the model can output this word."""
        find = getattr(self._model, "find_word", None) or self._model.vosk_model_find_word
        return find(word) >= 0

    def start(self) -> VoskUtterance:
        """Open an utterance; a fresh Kaldi recognizer, so word times start at 0."""
        if self._grammar_json is not None:
            rec = self._kaldi(self._model, float(self.sample_rate), self._grammar_json)
        else:
            rec = self._kaldi(self._model, float(self.sample_rate))
        rec.SetWords(self.words)
        return VoskUtterance(rec, self.words, self.sample_rate)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """Recognise a whole buffer (fed in 0.2 s pieces, as a stream would be)."""
        utt = self.start()
        step = self.sample_rate // 5
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        for i in range(0, samples.size, step):
            utt.accept(samples[i:i + step])
        return utt.finish()


class VoskUtterance:
    """One utterance being decoded while it is spoken."""

    def __init__(self, rec: object, words: bool, sample_rate: int) -> None:
        self._rec = rec
        self._with_words = words
        self._rate = sample_rate
        self._segments: list[dict] = []
        """Results vosk closed at its own endpoints before `finish()`."""
        self._last = ""
        self._finished = False

    def _done_text(self) -> str:
        return join_words([w for seg in self._segments for w in _seg_words(seg)])

    def accept(self, frame: np.ndarray) -> Partial | None:
        """Decode one frame. Returns a Partial when the running text changed, or with
        `endpoint=True` when vosk's own endpoint rules closed a segment (its text may be empty)."""
        if self._rec.AcceptWaveform(to_pcm16(frame)):
            self._segments.append(json.loads(self._rec.Result()))
            self._last = self._done_text()
            return Partial(self._last, endpoint=True)
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        text = join_words([*(w for s in self._segments for w in _seg_words(s)),
                           *(w for w in partial.split() if w != UNK)])
        if text != self._last:
            self._last = text
            return Partial(text)
        return None

    def finish(self) -> Transcript:
        """Flush vosk and return everything heard since `start()`."""
        if self._finished:
            raise RuntimeError("VoskUtterance.finish() called twice")
        self._finished = True
        self._segments.append(json.loads(self._rec.FinalResult()))
        if self._with_words:
            words = tuple(Word(r["word"], float(r["start"]), float(r["end"]), float(r["conf"]))
                          for seg in self._segments for r in seg.get("result", ())
                          if r["word"] != UNK)
            conf = mean_conf(words)
        else:  # no per-word output: confidence unknown, reported as sure when there is text
            words = ()
            conf = 1.0 if self._done_text() else 0.0
        return Transcript(
            text=self._done_text(), confidence=conf, words=words,
            start=words[0].start if words else 0.0, end=words[-1].end if words else 0.0,
            language=None, language_prob=None, engine="vosk")


def _seg_words(segment: dict) -> list[str]:
    """The words of one vosk result, without [unk]."""
    return [w for w in segment.get("text", "").split() if w != UNK]
