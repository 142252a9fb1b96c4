"""Which entry of the book is the customer asking? Fuzzy matching on characters and on pinyin.

Every customer phrasing of the book is indexed twice: as normalised characters and as a pinyin key
(one code point per toneless, folded syllable). A query scores against each phrasing as the best of
the character ratio, the pinyin ratio (absorbs homophone ASR errors: 手机号 → 手机好) and a
length-guarded partial ratio (absorbs padding: 喂你好我想问一下……). Edit distance alone misses
paraphrases that share the key words but not the wording, so each entry also gets a TF-IDF cosine
between the query's pinyin syllables and bigrams and all its phrasings together (录音, 垄断, 机主
weigh much; 你们, 吗 weigh nothing). An entry's score blends its best fuzzy score with that cosine.
`scripts_kb/out_of_scope.yaml` is a no-match class scored the same way: a line closer to small talk
than to any entry is off-topic. As in hassil, the best entry is accepted only if it clears a
threshold and beats the runner-up (an entry with a different answer) by a margin.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Iterable, Sequence

import math
from collections import Counter

import numpy as np
from rapidfuzz import fuzz, process

from .kb import Entry, KnowledgeBase
from .text import as_text, normalize, pinyin_key, pinyin_syllables

RANK_LIMIT: Final = 12
"""Candidates `match` looks at: the best, the no-match class and a runner-up with a different answer."""
OUT_OF_SCOPE: Final = "__out_of_scope__"
"""Id of the no-match class built from scripts_kb/out_of_scope.yaml."""

MAX_TEXT_CHARS: Final = 500
"""Longest customer line matched: a spoken turn is at most a few dozen characters (whisper hears 30 s
at once, ~180 characters); the rest of a longer line is ignored (`voicebot match` warns), so a pasted
1 MB line costs milliseconds, not a minute."""

TOP_K: Final = 40
"""Phrasings rescored with partial_ratio (the expensive scorer) after the cheap ratio pass."""


def clip(text: str) -> str:
    """The part of a line the matcher looks at (the first MAX_TEXT_CHARS characters)."""
    return (text if isinstance(text, str) else as_text(text))[:MAX_TEXT_CHARS]


@dataclass(frozen=True)
class MatcherOptions:
    """Tuning, each default measured on tests/data/heldout.yaml (see benchmarks/bench_matcher.py)."""

    threshold: float = 20.0
    """Below this blended score nothing in the book is close (the no-match class does most rejecting)."""
    fuzzy_weight: float = 0.3
    """Share of the fuzzy (edit-distance) score in the blend; the rest is the TF-IDF cosine × 100.
    Key words matter more than wording: 5-fold cross-validation on the book's paraphrases chose 0.3."""
    margin: float = 2.0
    """The best entry must beat the runner-up (with a different answer) by this much, else ambiguous
    (hassil's rule: a near tie is a 'please repeat', not a guess)."""
    partial_min_len: int = 4
    """Partial matching only for phrasings of at least this many syllables (short ones match anything)."""
    partial_weight: float = 0.92
    """Partial scores count a little less than whole-line scores: padding is likely, not certain."""
    partial_max_ratio: float = 4.0
    """Partial matching only when the query is at most this many times longer than the phrasing."""
    pinyin_weight: float = 0.97
    """Pinyin ratio counts slightly less than characters: same sound, not necessarily same word."""
    out_of_scope_weight: float = 0.95
    """Scale of the no-match class's score: above 1 rejects more, below 1 accepts more (cross-validated)."""


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
    """matched, no_match (below threshold), out_of_scope (closer to small talk than to the book),
    ambiguous (within margin of the runner-up) or empty."""

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "normalized": self.normalized,
                "entry": self.entry.id if self.entry else None, "score": round(self.score, 1),
                "phrase": self.phrase, "reason": self.reason,
                "runner_up": None if self.runner_up is None else
                {"entry": self.runner_up.entry_id, "score": round(self.runner_up.score, 1)},
                "top": [{"entry": c.entry_id, "score": round(c.score, 1), "phrase": c.phrase} for c in self.top]}


class _TfIdf:
    """Sparse TF-IDF over pinyin unigrams (half weight) and bigrams, one document per entry."""

    def __init__(self, docs: list[list[str]]) -> None:
        counts = [Counter() for _ in docs]
        for counter, phrases in zip(counts, docs):
            for phrase in phrases:
                counter.update(self.features(phrase))
        n = len(docs)
        df = Counter(k for c in counts for k in c)
        self.idf = {k: math.log((n + 1) / (d + 0.5)) for k, d in df.items()}
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, counter in enumerate(counts):
            for k, w in self._unit(counter).items():
                rows, weights = postings.setdefault(k, ([], []))
                rows.append(doc)
                weights.append(w)
        self.postings = {k: (np.asarray(r, dtype=np.int64), np.asarray(w)) for k, (r, w) in postings.items()}
        self.n = n

    @staticmethod
    def features(text: str) -> Counter:
        syl = pinyin_syllables(text)
        out: Counter = Counter()
        for s in syl:
            out["u" + s] += 0.5
        for a, b in zip(syl, syl[1:]):
            out["b" + a + " " + b] += 1.0
        return out

    def _unit(self, counter: Counter) -> dict[str, float]:
        vec = {k: (1 + math.log(x)) * self.idf[k] for k, x in counter.items() if x > 0 and k in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {k: v / norm for k, v in vec.items()}

    def cosine(self, text: str) -> np.ndarray:
        scores = np.zeros(self.n)
        for k, w in self._unit(self.features(text)).items():
            rows, weights = self.postings[k]
            scores[rows] += w * weights
        return scores

    def phrase_index(self, phrases: Sequence[str]) -> tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Postings of single phrasings (same IDF), for `nearest`."""
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, phrase in enumerate(phrases):
            for k, w in self._unit(self.features(phrase)).items():
                rows, weights = postings.setdefault(k, ([], []))
                rows.append(i)
                weights.append(w)
        return len(phrases), {k: (np.asarray(r, dtype=np.int64), np.asarray(w)) for k, (r, w) in postings.items()}

    def nearest(self, text: str, index: tuple[int, dict[str, tuple[np.ndarray, np.ndarray]]]) -> float:
        """Best cosine against single phrasings (for a heterogeneous class, whose centroid means little)."""
        n, postings = index
        scores = np.zeros(n)
        for k, w in self._unit(self.features(text)).items():
            if k in postings:
                rows, weights = postings[k]
                scores[rows] += w * weights
        return float(scores.max()) if n else 0.0


class Matcher:
    """Index of the book's customer phrasings; `match(text)` picks the entry."""

    def __init__(self, entries: KnowledgeBase | Iterable[Entry], options: MatcherOptions | None = None,
                 out_of_scope: Sequence[str] | None = None) -> None:
        if options is None:
            options = entries.options("matcher", MatcherOptions) if isinstance(entries, KnowledgeBase) \
                else MatcherOptions()
        self.options = options
        if out_of_scope is None:
            out_of_scope = entries.out_of_scope if isinstance(entries, KnowledgeBase) else ()
        self.entries: list[Entry] = list(entries)
        self._by_id = {e.id: e for e in self.entries}
        # Only entries with at least one usable phrasing are documents (`kb check` reports the others:
        # a line that normalises to nothing, or no `customer` at all); the matcher never picks them.
        usable = [e for e in self.entries if any(normalize(clip(p)) for p in e.customer)]
        self._index = {e.id: i for i, e in enumerate(usable)}
        # Document i < len(usable) is usable entry i; the last one (if any examples) is the no-match class.
        docs = [[clip(p) for p in e.customer] for e in usable]
        self._ids = [e.id for e in usable]
        oos = [clip(p) for p in (out_of_scope or ()) if normalize(clip(p))]
        if oos:
            docs.append(oos)
            self._ids.append(OUT_OF_SCOPE)
        phrases: list[str] = []
        owners: list[int] = []
        for index, doc in enumerate(docs):
            for phrase in doc:
                if normalize(phrase):
                    phrases.append(phrase)
                    owners.append(index)
        self._phrases = phrases
        self._owners = np.asarray(owners, dtype=np.int64)
        self._starts = np.flatnonzero(np.r_[True, self._owners[1:] != self._owners[:-1]]) if owners else \
            np.zeros(0, dtype=np.int64)
        self._chars = [normalize(p) for p in phrases]
        self._keys = [pinyin_key(p) for p in phrases]
        self._key_lens = np.asarray([len(k) for k in self._keys], dtype=np.float64)
        self._tfidf = _TfIdf(docs)
        # Small talk has no common vocabulary: compare it phrase by phrase, not with its centroid.
        self._oos_index = self._tfidf.phrase_index(oos) if oos else None
        # Entries whose answers are identical are one answer asked twice in the book: no margin between them.
        answer_group: dict[tuple[str, ...], int] = {}
        groups = [answer_group.setdefault(e.answer or (e.id,), i) for i, e in enumerate(usable)]
        self._group = np.asarray(groups + [-1] * (len(docs) - len(usable)), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.entries)

    def phrase_scores(self, text: str) -> np.ndarray:
        """Fuzzy score of `text` against every indexed phrasing (0–100)."""
        opts = self.options
        text = clip(text)
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
                pool = pool[np.argpartition(-scores[pool], TOP_K)[:TOP_K]]
            for i in pool:
                partial = fuzz.partial_ratio(self._keys[i], qkey) * opts.partial_weight
                if partial > scores[i]:
                    scores[i] = partial
        return scores

    def doc_scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Blended score per document (entries, then the no-match class) and the phrasing scores."""
        text = clip(text)
        scores = self.phrase_scores(text)
        fuzzy = np.maximum.reduceat(scores, self._starts) if len(scores) else np.zeros(len(self._ids))
        w = self.options.fuzzy_weight
        cosine = self._tfidf.cosine(text)
        if self._oos_index is not None:
            cosine[-1] = self._tfidf.nearest(text, self._oos_index)
        blended = w * fuzzy + (1 - w) * 100.0 * cosine
        if self._oos_index is not None:
            blended[-1] *= self.options.out_of_scope_weight
        return blended, scores

    def _best_phrase(self, doc: int, scores: np.ndarray) -> str:
        a = int(self._starts[doc])
        b = int(self._starts[doc + 1]) if doc + 1 < len(self._starts) else len(scores)
        return self._phrases[a + int(np.argmax(scores[a:b]))]

    def rank(self, text: str, limit: int | None = None) -> list[Candidate]:
        """Documents (entries and the no-match class), best first; all of them unless `limit`."""
        text = clip(text)
        if not normalize(text) or not self._phrases:
            return []
        blended, scores = self.doc_scores(text)
        if limit is not None and limit < len(blended):
            top = np.argpartition(-blended, limit)[:limit]
            order = top[np.argsort(-blended[top], kind="stable")]
        else:
            order = np.argsort(-blended, kind="stable")
        return [Candidate(self._ids[d], float(blended[d]), self._best_phrase(int(d), scores)) for d in order]

    def match(self, text: str, among: Sequence[str] | None = None) -> Match:
        """The entry the customer is asking, or a no-match with the reason.

        `among` restricts the choice to some entry ids (used by drill and tests).
        """
        norm = normalize(clip(text))
        if not norm:
            return Match(text, norm, None, 0.0, None, None, (), "empty")
        ranked = self.rank(clip(text), limit=None if among is not None else RANK_LIMIT)
        if among is not None:
            allowed = set(among)
            ranked = [c for c in ranked if c.entry_id in allowed]
        if not ranked:
            return Match(text, norm, None, 0.0, None, None, (), "no_match")
        best = ranked[0]
        if best.entry_id == OUT_OF_SCOPE:
            entries_only = [c for c in ranked if c.entry_id != OUT_OF_SCOPE]
            return Match(text, norm, None, best.score, best.phrase, entries_only[0] if entries_only else None,
                         tuple(ranked[:3]), "out_of_scope")
        ranked = [c for c in ranked if c.entry_id != OUT_OF_SCOPE]
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
        text = clip(text)
        query, qkey = normalize(text), pinyin_key(text)
        best = 0.0
        for phrase in phrases:
            phrase = clip(phrase)
            pn, pk = normalize(phrase), pinyin_key(phrase)
            if not pn or not query:
                continue
            score = max(fuzz.ratio(query, pn), fuzz.ratio(qkey, pk) * self.options.pinyin_weight)
            if len(pk) >= self.options.partial_min_len and len(pk) < len(qkey):
                score = max(score, fuzz.partial_ratio(pk, qkey) * self.options.partial_weight)
            best = max(best, score)
        return best
