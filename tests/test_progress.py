"""Drill progress in SQLite: attempts persist, mastery weighs recent attempts more, categories sum up."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voicebot.progress import (ENV_DB, RECENCY_DECAY, ProgressDB, ProgressError, default_db_path,
                               weighted_mastery)

T0 = 1_700_000_000.0


def test_progress_persists_across_two_connections(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    with ProgressDB(path) as db:
        db.record("小王", "q24_recording", "资料与隐私", 40.0, when=T0)
        db.record("小王", "q24_recording", "资料与隐私", 90.0, when=T0 + 60)
        db.record("小李", "q17_signal", "投诉与建议", 70.0, when=T0)
    with ProgressDB(path) as db:          # a new connection: a later drill, another day
        tries = db.attempts("小王")
        assert [(a.entry_id, a.score) for a in tries] == [("q24_recording", 40.0), ("q24_recording", 90.0)]
        assert db.trainees() == ["小李", "小王"]
        assert db.attempts("小李", "q17_signal")[0].category == "投诉与建议"
        assert db.attempts("nobody") == []


def test_mastery_weighs_recent_attempts_more(tmp_path: Path) -> None:
    with ProgressDB(tmp_path / "p.sqlite3") as db:
        for i, score in enumerate([20.0, 20.0, 100.0]):          # two misses, then a good answer
            db.record("t", "q24_recording", "资料与隐私", score, when=T0 + i)
        for i, score in enumerate([100.0, 20.0, 20.0]):          # a good answer, then two misses
            db.record("t", "q17_signal", "投诉与建议", score, when=T0 + i)
        m = db.mastery("t")
    learned, forgotten = m["q24_recording"], m["q17_signal"]
    plain_mean = (20 + 20 + 100) / 3
    assert learned.mastery > plain_mean > forgotten.mastery
    weights = [1.0, RECENCY_DECAY, RECENCY_DECAY ** 2]
    assert learned.mastery == pytest.approx((100 * weights[0] + 20 * weights[1] + 20 * weights[2]) / sum(weights))
    assert learned.attempts == 3 and learned.last_score == 100.0 and learned.last_seen == T0 + 2


def test_weighted_mastery_of_nothing_is_zero() -> None:
    assert weighted_mastery([]) == 0.0
    assert weighted_mastery([80.0]) == 80.0


def test_categories_summarise_entries_weakest_first(tmp_path: Path) -> None:
    with ProgressDB(tmp_path / "p.sqlite3") as db:
        db.record("t", "q24_recording", "资料与隐私", 90.0, when=T0)
        db.record("t", "q02_why_my_data", "资料与隐私", 70.0, when=T0 + 5)
        db.record("t", "q17_signal", "投诉与建议", 30.0, when=T0)
        db.record("t", "q17_signal", "投诉与建议", 30.0, when=T0 + 1)
        cats = db.categories("t")
    assert [c.category for c in cats] == ["投诉与建议", "资料与隐私"]
    privacy = cats[1]
    assert privacy.mastery == pytest.approx(80.0)
    assert (privacy.entries_tried, privacy.attempts, privacy.last_seen) == (2, 2, T0 + 5)
    assert cats[0].attempts == 2 and cats[0].entries_tried == 1


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_DB, str(tmp_path / "mine.sqlite3"))
    assert default_db_path() == tmp_path / "mine.sqlite3"
    with ProgressDB() as db:
        db.record("t", "s_thanks", "服务用语", 100.0)
    assert (tmp_path / "mine.sqlite3").exists()
    monkeypatch.delenv(ENV_DB)
    assert default_db_path().name == "progress.sqlite3"
    assert "voicebot" in default_db_path().parts


def test_an_unusable_database_is_one_line_error(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("this is not a database, " * 100)
    with pytest.raises(ProgressError) as err:
        ProgressDB(not_a_db)
    message = str(err.value)
    assert "\n" not in message and "--db" in message and str(not_a_db) in message


def test_attempts_are_committed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite3"
    db = ProgressDB(path)
    db.record("t", "s_thanks", "服务用语", 55.0, when=T0)
    # Another reader sees the row before the writer closes: a killed drill keeps its answers.
    rows = sqlite3.connect(path).execute("SELECT trainee, entry_id, score FROM attempts").fetchall()
    db.close()
    assert rows == [("t", "s_thanks", 55.0)]
