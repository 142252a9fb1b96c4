"""The class store on SQLite and on a real PostgreSQL server: schema by migration, passwords hashed,
class codes, trainees, the calls index, drill results; `--db` / $VOICEBOT_DB / $VOICEBOT_PROGRESS_DB."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from helpers import FIXTURE_BOOK
from store_fixtures import db_url  # noqa: F401  (the parametrized SQLite / PostgreSQL fixture)
from voicebot.progress import ProgressDB
from voicebot.store import (CODE_ALPHABET, CODE_LENGTH, ENV_DB, LEGACY_ENV_DB, Store, StoreError, check_password,
                            hash_password, resolve_db)

T0 = 1_700_000_000.0


def test_migrations_make_the_same_schema_on_both(db_url: str) -> None:
    with Store(db_url) as store:
        names = set(inspect(store.engine).get_table_names())
        with store.engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert {"trainers", "classes", "trainees", "calls", "attempts", "settings", "alembic_version"} <= names
    assert head == "0001"
    with Store(db_url) as again:   # opening again migrates nothing and keeps the data
        assert again.secret() == again.secret()


def test_trainer_password_is_stored_hashed(db_url: str) -> None:
    with Store(db_url) as store:
        assert not store.has_trainer()
        tid = store.set_trainer_password("correct horse")
        assert store.check_trainer("correct horse") == tid
        assert store.check_trainer("wrong horse") is None
        assert store.check_trainer("") is None
        with store.engine.connect() as conn:
            stored = conn.execute(text("SELECT password_hash FROM trainers")).scalar()
        assert "correct horse" not in stored and stored.startswith("scrypt$")
        store.set_trainer_password("new one")                      # changing it replaces the hash
        assert store.check_trainer("correct horse") is None and store.check_trainer("new one") == tid


def test_hash_is_salted_and_checks() -> None:
    a, b = hash_password("pw"), hash_password("pw")
    assert a != b and check_password("pw", a) and check_password("pw", b)
    assert not check_password("pW", a) and not check_password("pw", "garbage")


def test_classes_codes_and_trainees(db_url: str) -> None:
    with Store(db_url) as store:
        tid = store.set_trainer_password("pw")
        first, second = store.create_class(tid, "早班"), store.create_class(tid, "晚班")
        assert first.code != second.code
        for code in (first.code, second.code):
            assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert [c.name for c in store.classes_of(tid)] == ["早班", "晚班"]
        wang = store.join(first.code.lower(), " 小王 ")              # codes read off a projector: any case
        assert wang is not None and wang.name == "小王" and wang.class_id == first.id
        assert store.join(first.code, "小王") == wang                 # joining again: the same trainee
        other_wang = store.join(second.code, "小王")                 # same name, other class: someone else
        assert other_wang is not None and other_wang.id != wang.id and other_wang.key != wang.key
        assert store.join("ZZZZZZ", "小李") is None                   # a wrong code is refused
        assert store.join(first.code, "   ") is None                 # so is an empty name
        assert [t.name for t in store.trainees_of([first.id])] == ["小王"]


def test_calls_index_per_trainee(db_url: str, tmp_path: Path) -> None:
    with Store(db_url) as store:
        tid = store.set_trainer_password("pw")
        cls = store.create_class(tid, "A")
        wang, li = store.join(cls.code, "小王"), store.join(cls.code, "小李")
        assert wang and li
        a = store.start_call(tmp_path / "a", wang.id, cls.id, started=T0)
        b = store.start_call(tmp_path / "b", li.id, cls.id, started=T0 + 1)
        assert [c.id for c in store.calls(running=True, class_ids=[cls.id])] == [b, a]
        store.end_call(a, "customer_hangup", 2, ["q24_recording", "s_thanks"], ended=T0 + 30)
        assert [c.id for c in store.calls(trainee_id=wang.id)] == [a]
        assert [c.id for c in store.calls(trainee_id=li.id)] == [b]
        done = store.call(a)
        assert done is not None and done.entries == ("q24_recording", "s_thanks") and done.ended == T0 + 30
        assert done.folder == str(tmp_path / "a") and done.to_dict()["running"] is False
        assert [c.id for c in store.calls(running=True, class_ids=[cls.id])] == [b]
        assert store.call(9999) is None


def test_drill_results_with_points_through_progress(db_url: str) -> None:
    with ProgressDB(db_url) as db:
        db.record("小王", "q24_recording", "资料与隐私", 40.0, when=T0, points_made=["录音"], points_missed=["保密"])
        db.record("小王", "q24_recording", "资料与隐私", 90.0, when=T0 + 60)
        db.record("小李", "q17_signal", "投诉与建议", 70.0, when=T0)
    with ProgressDB(db_url) as db:    # another connection, another day
        assert [a.score for a in db.attempts("小王")] == [40.0, 90.0]
        assert db.trainees() == ["小李", "小王"]
        assert db.mastery("小王")["q24_recording"].attempts == 2
        assert [c.category for c in db.categories("小王")] == ["资料与隐私"]
        history = db.history("小王")
        assert [p["mastery"] for p in history] == [40.0, pytest.approx(71.2, abs=0.1)]
        row = db.store.attempt_rows("小王")[0]
        assert json.loads(row.points_made) == ["录音"] and json.loads(row.points_missed) == ["保密"]


def test_an_old_progress_file_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)     # the schema progress.py wrote before the store
    old.executescript("CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, trainee TEXT NOT NULL, "
                      "entry_id TEXT NOT NULL, category TEXT NOT NULL, score REAL NOT NULL, time REAL NOT NULL);"
                      "CREATE INDEX attempts_by_trainee ON attempts (trainee, entry_id, time);")
    old.execute("INSERT INTO attempts (trainee, entry_id, category, score, time) VALUES ('t', 's_thanks', '服务用语', 55, 1)")
    old.commit()
    old.close()
    with ProgressDB(path) as db:
        assert [(a.entry_id, a.score) for a in db.attempts("t")] == [("s_thanks", 55.0)]
        db.record("t", "s_thanks", "服务用语", 80.0, when=2, points_made=["谢谢"])
        assert len(db.attempts("t")) == 2


def test_db_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DB, raising=False)
    monkeypatch.setenv(LEGACY_ENV_DB, str(tmp_path / "legacy.sqlite3"))
    assert resolve_db(None) == f"sqlite:///{tmp_path / 'legacy.sqlite3'}"     # the old name keeps working
    monkeypatch.setenv(ENV_DB, "postgresql://u:p@127.0.0.1/x")
    assert resolve_db(None) == "postgresql+psycopg://u:p@127.0.0.1/x"        # the new one wins
    assert resolve_db(tmp_path / "given.sqlite3") == f"sqlite:///{tmp_path / 'given.sqlite3'}"  # --db wins
    monkeypatch.setenv(ENV_DB, str(tmp_path / "new.sqlite3"))
    with ProgressDB() as db:
        db.record("t", "s_thanks", "服务用语", 100.0)
        assert db.path == tmp_path / "new.sqlite3"
    assert (tmp_path / "new.sqlite3").exists() and not (tmp_path / "legacy.sqlite3").exists()


def test_unreachable_server_is_one_line_error() -> None:
    with pytest.raises(StoreError) as err:
        Store("postgresql://voicebot:wrong@127.0.0.1:1/nowhere")
    message = str(err.value)
    assert "\n" not in message and "--db" in message and "wrong" not in message   # the password is not shown


def test_progress_command_reads_a_url(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from voicebot.cli import main
    with ProgressDB(db_url) as db:
        db.record("小王", "q24_recording", "资料与隐私", 88.0)
    assert main(["progress", "--kb", str(FIXTURE_BOOK), "--trainee", "小王", "--db", db_url, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [r for r in rows if r["category"] == "资料与隐私"]
    assert mine and mine[0]["mastery"] == 88.0 and mine[0]["weakest_entry"] == "q24_recording"
