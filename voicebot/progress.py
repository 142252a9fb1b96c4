"""A trainee's drill results, kept in the class store (voicebot/store.py), and the mastery they add up to.

The store is a SQLite file by default, or the class's PostgreSQL server (`--db URL`). One table of attempts (trainee, entry, category, score, time). Mastery of an entry is the mean of
its scores weighted toward recent attempts, as role-play trainers do (FIELD-NOTES, "What role-play
trainers offer"): a trainee who failed an answer twice and then got it right three times has
mostly learned it. A category's mastery is the mean over the entries tried in it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Iterable

from .store import DB_FILE, ENV_DB, LEGACY_ENV_DB, Store, StoreError, default_db_path  # noqa: F401

ProgressError = StoreError
"""The progress database cannot be opened or written (the store's error)."""

RECENCY_DECAY: Final = 0.6
"""Weight of each older attempt relative to the next newer one (newest 1, then 0.6, 0.36, …).
After two newer attempts an old score counts about a third as much as the newest: a bad start
fades once the trainee answers well, yet one lucky answer does not erase a history of misses."""

RECENT_ATTEMPTS: Final = 10
"""Attempts per entry that count toward mastery; older ones weigh < 1 % of the newest anyway."""

@dataclass(frozen=True)
class Attempt:
    """One scored answer."""

    trainee: str
    """Who answered."""
    entry_id: str
    """The book entry drilled."""
    category: str
    """The entry's category when it was drilled."""
    score: float
    """Total score 0–100."""
    time: float
    """When, in seconds since the epoch."""


@dataclass(frozen=True)
class Mastery:
    """How well a trainee knows one entry."""

    entry_id: str
    """The book entry."""
    category: str
    """Its category at the latest attempt."""
    mastery: float
    """Recency-weighted mean score 0–100 (RECENCY_DECAY)."""
    attempts: int
    """How many times it was drilled."""
    last_score: float
    """The newest score."""
    last_seen: float
    """Time of the newest attempt (seconds since the epoch)."""


@dataclass(frozen=True)
class CategorySummary:
    """A trainee's standing in one category of the book."""

    category: str
    """The book's category."""
    mastery: float
    """Mean mastery over the entries tried in it (0–100)."""
    entries_tried: int
    """Distinct entries drilled at least once."""
    attempts: int
    """All attempts in it."""
    last_seen: float
    """Time of the newest attempt."""

    def to_dict(self) -> dict[str, object]:
        return {"category": self.category, "mastery": round(self.mastery, 1), "entries_tried": self.entries_tried,
                "attempts": self.attempts, "last_seen": self.last_seen}


def weighted_mastery(scores_newest_first: Iterable[float]) -> float:
    """Recency-weighted mean of scores given newest first (0.0 for none)."""
    total = weight_sum = 0.0
    weight = 1.0
    for score in list(scores_newest_first)[:RECENT_ATTEMPTS]:
        total += weight * score
        weight_sum += weight
        weight *= RECENCY_DECAY
    return total / weight_sum if weight_sum else 0.0


class ProgressDB:
    """A trainee's attempts in the class store; each `record` is committed at once (a kill loses nothing).

    `path` is a file path or a database URL (`--db`); None means $VOICEBOT_DB, $VOICEBOT_PROGRESS_DB,
    else the user data folder. `self.path` is what to show people (the file, or the URL without password).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, store: Store | None = None) -> None:
        self.store = store if store is not None else Store(path)
        self._owned = store is None
        where = self.store.where
        self.path: Path | str = Path(where) if self.store.url.startswith("sqlite:") else where

    def close(self) -> None:
        if self._owned:
            self.store.close()

    def __enter__(self) -> ProgressDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, trainee: str, entry_id: str, category: str, score: float, when: float | None = None,
               points_made: list[str] | None = None, points_missed: list[str] | None = None,
               trainee_id: int | None = None) -> Attempt:
        """Store one scored answer and commit it."""
        when = self.store.record_attempt(trainee, entry_id, category, score, when, trainee_id=trainee_id,
                                         points_made=points_made, points_missed=points_missed)
        return Attempt(trainee, entry_id, category, float(score), when)

    def attempts(self, trainee: str, entry_id: str | None = None) -> list[Attempt]:
        """A trainee's attempts, oldest first (one entry's when `entry_id` is given)."""
        return [Attempt(r.trainee, r.entry_id, r.category, r.score, r.time)
                for r in self.store.attempt_rows(trainee, entry_id)]

    def trainees(self) -> list[str]:
        return self.store.attempt_trainees()

    def mastery(self, trainee: str) -> dict[str, Mastery]:
        """Mastery of every entry the trainee has drilled, by entry id."""
        by_entry: dict[str, list[Attempt]] = {}
        for attempt in self.attempts(trainee):
            by_entry.setdefault(attempt.entry_id, []).append(attempt)
        out: dict[str, Mastery] = {}
        for entry_id, tries in by_entry.items():
            newest_first = tries[::-1]
            out[entry_id] = Mastery(entry_id=entry_id, category=newest_first[0].category,
                                    mastery=weighted_mastery(a.score for a in newest_first), attempts=len(tries),
                                    last_score=newest_first[0].score, last_seen=newest_first[0].time)
        return out

    def categories(self, trainee: str) -> list[CategorySummary]:
        """Per-category summary, weakest category first."""
        groups: dict[str, list[Mastery]] = {}
        for m in self.mastery(trainee).values():
            groups.setdefault(m.category, []).append(m)
        out = [CategorySummary(category=c, mastery=sum(m.mastery for m in ms) / len(ms), entries_tried=len(ms),
                               attempts=sum(m.attempts for m in ms), last_seen=max(m.last_seen for m in ms))
               for c, ms in groups.items()]
        return sorted(out, key=lambda s: (s.mastery, s.category))

    def history(self, trainee: str) -> list[dict[str, object]]:
        """Mastery per category after each attempt, oldest first: the points of a chart over time."""
        seen: dict[str, list[Attempt]] = {}
        points: list[dict[str, object]] = []
        for attempt in self.attempts(trainee):
            seen.setdefault(attempt.entry_id, []).append(attempt)
            in_category = [tries for tries in seen.values() if tries[-1].category == attempt.category]
            value = sum(weighted_mastery(a.score for a in tries[::-1]) for tries in in_category) / len(in_category)
            points.append({"time": attempt.time, "category": attempt.category, "mastery": round(value, 1)})
        return points
