"""Which entry of the book is the customer asking? Fuzzy matching on characters and on pinyin.

Every customer phrasing of the book is indexed twice: as normalised characters and as a pinyin key
(one code point per toneless, folded syllable). A query scores against each phrasing as the best of
the character ratio, the pinyin ratio (absorbs homophone ASR errors: 手机号 → 手机好) and a
length-guarded partial ratio (absorbs padding: 喂你好我想问一下……). An entry's score is its best
phrasing's. As in hassil, the best entry is accepted only if it clears a threshold and beats the
runner-up (an entry with a different answer) by a margin.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from .kb import Entry, KnowledgeBase
from .text import normalize, pinyin_key

TOP_K: Final = 40
"""Phrasings rescored with partial_ratio (the expensive scorer) after the cheap ratio pass."""


@dataclass(frozen=True)
class MatcherOptions:
    """Tuning, each default measured on tests/data/heldout.yaml (see benchmarks/bench_matcher.py)."""

    threshold: float = 62.0
    """Below this an utterance is out of scope (→ off-topic protocol)."""
    margin: float = 2.0
    """The best entry must beat the runner-up (with a different answer) by this much, else ambiguous."""
    partial_min_len: int = 4
    """Partial matching only for phrasings of at least this many syllables (short ones match anything)."""
    partial_weight: float = 0.92
    """Partial scores count a little less than whole-line scores: padding is likely, not certain."""
    partial_max_ratio: float = 4.0
    """Partial matching only when the query is at most this many times longer than the phrasing."""
    pinyin_weight: float = 0.97
    """Pinyin ratio counts slightly less than characters: same sound, not necessarily same word."""


@dataclass(frozen=True)
class Candidate:
    """One scored entry."""

    entry_id: str
    """The entry's id."""
    score: float
    """0–100, its best phrasing's score."""
    phrase: str
    """The phrasing that scored best."""


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one customer line."""

    text: str
    """What was heard."""
    normalized: str
    """What was compared."""
    entry: Entry | None
    """The entry chosen, None when out of scope or ambiguous."""
    score: float
    """Best score, 0–100."""
    phrase: str | None
    """The book phrasing it matched."""
    runner_up: Candidate | None
    """Best entry with a different answer."""
    top: tuple[Candidate, ...] = field(default=())
    """The three best entries, for trainers who want to see why."""
    reason: str = "matched"
    """matched, no_match (below threshold), ambiguous (within margin of the runner-up) or empty."""

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "normalized": self.normalized,
                "entry": self.entry.id if self.entry else None, "score": round(self.score, 1),
                "phrase": self.phrase, "reason": self.reason,
                "runner_up": None if self.runner_up is None else
                {"entry": self.runner_up.entry_id, "score": round(self.runner_up.score, 1)},
                "top": [{"entry": c.entry_id, "score": round(c.score, 1), "phrase": c.phrase} for c in self.top]}


class Matcher:
    """Index of the book's customer phrasings; `match(text)` picks the entry."""

    def __init__(self, entries: KnowledgeBase | Iterable[Entry], options: MatcherOptions | None = None) -> None:
        self.options = options or MatcherOptions()
        self.entries: list[Entry] = list(entries)
        self._by_id = {e.id: e for e in self.entries}
        self._index = {e.id: i for i, e in enumerate(self.entries)}
        phrases: list[str] = []
        owners: list[int] = []
        for index, entry in enumerate(self.entries):
            for phrase in entry.customer:
                if normalize(phrase):
                    phrases.append(phrase)
                    owners.append(index)
        self._phrases = phrases
        self._owners = np.asarray(owners, dtype=np.int64)
        self._chars = [normalize(p) for p in phrases]
        self._keys = [pinyin_key(p) for p in phrases]
        self._key_lens = np.asarray([len(k) for k in self._keys], dtype=np.float64)
        # Entries whose answers are identical are one answer asked twice in the book: no margin between them.
        answer_group: dict[tuple[str, ...], int] = {}
        self._group = np.asarray([answer_group.setdefault(e.answer or (e.id,), i)
                                  for i, e in enumerate(self.entries)], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.entries)

    def phrase_scores(self, text: str) -> np.ndarray:
        """Score of `text` against every indexed phrasing (0–100)."""
        opts = self.options
        query = normalize(text)
        qkey = pinyin_key(text)
        if not query or not self._phrases:
            return np.zeros(len(self._phrases))
        chars = process.cdist([query], self._chars, scorer=fuzz.ratio, workers=1)[0].astype(np.float64)
        sound = process.cdist([qkey], self._keys, scorer=fuzz.ratio, workers=1)[0].astype(np.float64)
        scores = np.maximum(chars, sound * opts.pinyin_weight)
        # Padding: the phrasing inside a longer query. Rescore the best few by partial ratio.
        qlen = len(qkey)
        eligible = (self._key_lens >= opts.partial_min_len) & (self._key_lens < qlen) & (
            qlen <= self._key_lens * opts.partial_max_ratio)
        if eligible.any():
            pool = np.flatnonzero(eligible)
            if len(pool) > TOP_K:
                pool = pool[np.argsort(-scores[pool])[:TOP_K]]
            for i in pool:
                partial = fuzz.partial_ratio(self._keys[i], qkey) * opts.partial_weight
                if partial > scores[i]:
                    scores[i] = partial
        return scores

    def rank(self, text: str) -> list[Candidate]:
        """All entries, best first."""
        scores = self.phrase_scores(text)
        best: dict[int, tuple[float, int]] = {}
        for i in np.argsort(-scores, kind="stable"):
            owner = int(self._owners[i])
            if owner not in best:
                best[owner] = (float(scores[i]), int(i))
        return [Candidate(self.entries[o].id, s, self._phrases[i]) for o, (s, i) in best.items()]

    def match(self, text: str, among: Sequence[str] | None = None) -> Match:
        """The entry the customer is asking, or a no-match with the reason.

        `among` restricts the choice to some entry ids (used by drill and tests).
        """
        norm = normalize(text)
        if not norm:
            return Match(text, norm, None, 0.0, None, None, (), "empty")
        ranked = self.rank(text)
        if among is not None:
            allowed = set(among)
            ranked = [c for c in ranked if c.entry_id in allowed]
        if not ranked:
            return Match(text, norm, None, 0.0, None, None, (), "no_match")
        best = ranked[0]
        best_group = self._group[self._index[best.entry_id]]
        runner = next((c for c in ranked[1:]
                       if self._group[self._index[c.entry_id]] != best_group), None)
        top = tuple(ranked[:3])
        if best.score < self.options.threshold:
            return Match(text, norm, None, best.score, best.phrase, runner, top, "no_match")
        if runner is not None and best.score - runner.score < self.options.margin:
            return Match(text, norm, None, best.score, best.phrase, runner, top, "ambiguous")
        return Match(text, norm, self._by_id[best.entry_id], best.score, best.phrase, runner, top, "matched")

    def similarity(self, text: str, phrases: Iterable[str]) -> float:
        """Best score of `text` against a few phrases (branch replies, drill key points)."""
        query, qkey = normalize(text), pinyin_key(text)
        best = 0.0
        for phrase in phrases:
            pn, pk = normalize(phrase), pinyin_key(phrase)
            if not pn or not query:
                continue
            score = max(fuzz.ratio(query, pn), fuzz.ratio(qkey, pk) * self.options.pinyin_weight)
            if len(pk) >= self.options.partial_min_len and len(pk) < len(qkey):
                score = max(score, fuzz.partial_ratio(pk, qkey) * self.options.partial_weight)
            best = max(best, score)
        return best
