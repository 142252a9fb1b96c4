"""A trainee's drill results, kept in a local SQLite file, and the mastery they add up to.

One table of attempts (trainee, entry, category, score, time). Mastery of an entry is the mean of
its scores weighted toward recent attempts, as role-play trainers do (FIELD-NOTES, "What role-play
trainers offer"): a trainee who failed an answer twice and then got it right three times has
mostly learned it. A category's mastery is the mean over the entries tried in it.
"""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Iterable

from .errors import VoicebotError

ENV_DB: Final = "VOICEBOT_PROGRESS_DB"
DB_FILE: Final = "progress.sqlite3"

RECENCY_DECAY: Final = 0.6
"""Weight of each older attempt relative to the next newer one (newest 1, then 0.6, 0.36, …).
After two newer attempts an old score counts about a third as much as the newest: a bad start
fades once the trainee answers well, yet one lucky answer does not erase a history of misses."""

RECENT_ATTEMPTS: Final = 10
"""Attempts per entry that count toward mastery; older ones weigh < 1 % of the newest anyway."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trainee TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    category TEXT NOT NULL,
    score REAL NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_trainee ON attempts (trainee, entry_id, time);
"""


class ProgressError(VoicebotError):
    """The progress database cannot be opened or written."""


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


def default_db_path() -> Path:
    """$VOICEBOT_PROGRESS_DB, else the user data folder (platformdirs) / voicebot / progress.sqlite3."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path
    return user_data_path("voicebot") / DB_FILE


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
    """The attempts table of one SQLite file; each `record` is committed at once (a kill loses nothing)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path)
            self._conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise ProgressError(f"cannot open the progress database {self.path} ({err}): "
                                f"give a writable file with --db PATH or ${ENV_DB}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ProgressDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, trainee: str, entry_id: str, category: str, score: float, when: float | None = None) -> Attempt:
        """Store one scored answer and commit it."""
        attempt = Attempt(trainee, entry_id, category, float(score), time.time() if when is None else float(when))
        try:
            with self._conn:
                self._conn.execute("INSERT INTO attempts (trainee, entry_id, category, score, time) "
                                   "VALUES (?, ?, ?, ?, ?)",
                                   (attempt.trainee, attempt.entry_id, attempt.category, attempt.score, attempt.time))
        except sqlite3.Error as err:
            raise ProgressError(f"cannot write to the progress database {self.path} ({err}): "
                                f"check the disk, or give another file with --db PATH") from None
        return attempt

    def attempts(self, trainee: str, entry_id: str | None = None) -> list[Attempt]:
        """A trainee's attempts, oldest first (one entry's when `entry_id` is given)."""
        sql = "SELECT trainee, entry_id, category, score, time FROM attempts WHERE trainee = ?"
        params: tuple[str, ...] = (trainee,)
        if entry_id is not None:
            sql += " AND entry_id = ?"
            params += (entry_id,)
        rows = self._conn.execute(sql + " ORDER BY time, id", params).fetchall()
        return [Attempt(*row) for row in rows]

    def trainees(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT trainee FROM attempts ORDER BY trainee")]

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
