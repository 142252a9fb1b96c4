"""The class store: trainers, classes, trainees, the calls index, drill results, in one database.

SQLite by default (a file, nothing to set up); PostgreSQL when a class shares one server
(`--db postgresql://user:pass@host/db`). One schema for both, made and upgraded by the Alembic
migrations in `voicebot/migrations/` when a store is opened. Recordings stay files: a call row holds
the path of its record folder (events.jsonl + recording.wav).

`--db PATH|URL` and `$VOICEBOT_DB` mean the same in `serve`, `drill` and `progress`;
`$VOICEBOT_PROGRESS_DB` (the older name) still works.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (Column, Float, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        create_engine, event, select)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from .errors import VoicebotError

ENV_DB: Final = "VOICEBOT_DB"
LEGACY_ENV_DB: Final = "VOICEBOT_PROGRESS_DB"
DB_FILE: Final = "progress.sqlite3"

CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Class codes: capitals and digits without 0/O and 1/I, which trainees misread off a projector."""
CODE_LENGTH: Final = 6
"""32^6 ≈ 10^9 codes: short enough to read aloud, far too many to guess while the server refuses."""

SCRYPT: Final = {"n": 2 ** 14, "r": 8, "p": 1}
"""hashlib.scrypt cost: the interactive-login setting from the scrypt paper (≈ 50 ms, 16 MB)."""

metadata = MetaData()

trainers = Table(
    "trainers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("created", Float, nullable=False))

classes = Table(
    "classes", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("trainer_id", Integer, ForeignKey("trainers.id"), nullable=False),
    Column("created", Float, nullable=False))

trainees = Table(
    "trainees", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created", Float, nullable=False),
    UniqueConstraint("class_id", "name", name="trainees_class_name"))

calls = Table(
    "calls", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee_id", Integer, ForeignKey("trainees.id"), nullable=True),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("folder", Text, nullable=False),
    Column("started", Float, nullable=False),
    Column("ended", Float, nullable=True),
    Column("ended_reason", String(100), nullable=True),
    Column("turns", Integer, nullable=False, default=0),
    Column("entries", Text, nullable=False, default="[]"))

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("trainee", String(200), nullable=False),
    Column("entry_id", String(200), nullable=False),
    Column("category", String(200), nullable=False),
    Column("score", Float, nullable=False),
    Column("time", Float, nullable=False),
    Column("trainee_id", Integer, nullable=True),
    Column("points_made", Text, nullable=True),
    Column("points_missed", Text, nullable=True))

settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False))


class StoreError(VoicebotError):
    """The database cannot be opened, migrated or written."""


# ---------------------------------------------------------------- where the database is

def default_db_path() -> Path:
    """$VOICEBOT_DB (or $VOICEBOT_PROGRESS_DB) when it is a path, else the user data folder / voicebot."""
    env = os.environ.get(ENV_DB) or os.environ.get(LEGACY_ENV_DB)
    if env and "://" not in env:
        return Path(env).expanduser()
    from platformdirs import user_data_path
    return user_data_path("voicebot") / DB_FILE


def resolve_db(db: str | os.PathLike[str] | None = None) -> str:
    """A SQLAlchemy URL from `--db PATH|URL`, else $VOICEBOT_DB, $VOICEBOT_PROGRESS_DB, the default file."""
    if db is None:
        db = os.environ.get(ENV_DB) or os.environ.get(LEGACY_ENV_DB) or default_db_path()
    text = os.fspath(db)
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().absolute())
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]   # psycopg 3, the maintained driver
    return text


def shown(url: str) -> str:
    """The database as people see it: a path for SQLite, the URL without its password otherwise."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _one_line(err: BaseException) -> str:
    orig = getattr(err, "orig", None)
    return " ".join(str(orig if orig is not None else err).split())[:300]


# ---------------------------------------------------------------- passwords

def hash_password(password: str) -> str:
    """scrypt with a random salt, written as scrypt$n$r$p$salt$hash (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 2 ** 20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(digest)), maxmem=64 * 2 ** 20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


# ---------------------------------------------------------------- rows

@dataclass(frozen=True)
class ClassRow:
    """A class a trainer runs."""

    id: int
    """Database id."""
    code: str
    """The short code trainees join with."""
    name: str
    """What the trainer called it."""
    trainer_id: int
    """Who runs it."""


@dataclass(frozen=True)
class TraineeRow:
    """A trainee in a class."""

    id: int
    """Database id."""
    class_id: int
    """The class joined."""
    name: str
    """The name given when joining (unique in the class)."""

    @property
    def key(self) -> str:
        """The name drill results are filed under: one trainee per class, even where two share a name."""
        return f"{self.class_id}:{self.name}"


@dataclass(frozen=True)
class CallRow:
    """One call (or drill) in the index; its record is the folder."""

    id: int
    """Database id."""
    trainee_id: int | None
    """Whose call (None: a trainer's own)."""
    class_id: int | None
    """The class it belongs to."""
    kind: str
    """call or drill."""
    folder: str
    """The record folder (events.jsonl, recording.wav)."""
    started: float
    """Seconds since the epoch."""
    ended: float | None
    """None while the call runs."""
    ended_reason: str | None
    """The hangup reason."""
    turns: int
    """Customer turns heard."""
    entries: tuple[str, ...]
    """Book entries matched, in order."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "trainee_id": self.trainee_id, "class_id": self.class_id, "kind": self.kind,
                "started": self.started, "ended": self.ended, "ended_reason": self.ended_reason,
                "turns": self.turns, "entries": list(self.entries), "running": self.ended is None}


def _call_row(r: Any) -> CallRow:
    try:
        entries = tuple(json.loads(r.entries or "[]"))
    except ValueError:
        entries = ()
    return CallRow(r.id, r.trainee_id, r.class_id, r.kind, r.folder, r.started, r.ended, r.ended_reason,
                   r.turns or 0, entries)


# ---------------------------------------------------------------- the store

_MIGRATED: set[str] = set()
_MIGRATE_LOCK = threading.Lock()
MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"


def migrate(conn: Connection) -> None:
    """Bring the schema to the newest migration (Alembic; the same steps on SQLite and PostgreSQL)."""
    from alembic import command
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")   # a second writer (drill while serve runs) waits, not fails
    cur.close()


class Store:
    """One database of the class; each write is committed at once (a kill loses nothing)."""

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        self.url = resolve_db(db)
        self.where = shown(self.url)
        try:
            if self.url.startswith("sqlite:///"):
                Path(self.where).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            with _MIGRATE_LOCK:
                if self.url not in _MIGRATED:
                    with self.engine.begin() as conn:
                        migrate(conn)
                    _MIGRATED.add(self.url)
        except (OSError, SQLAlchemyError, ImportError) as err:
            raise StoreError(f"cannot open the database {self.where} ({_one_line(err)}): give a writable "
                             f"file or a reachable postgresql:// URL with --db or ${ENV_DB}") from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> Any:
        return _Guard(self, write=True)

    def _read(self) -> Any:
        return _Guard(self, write=False)

    # -- settings (the session secret, shared by every server process on one database)

    def secret(self, key: str = "session_secret") -> str:
        """A random secret kept in the database, made on first use."""
        with self._read() as conn:
            value = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        if value:
            return str(value)
        try:
            with self._write() as conn:
                conn.execute(settings.insert().values(key=key, value=secrets.token_urlsafe(48)))
        except StoreError:
            pass   # another process made it first
        with self._read() as conn:
            return str(conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar_one())

    # -- trainers

    def set_trainer_password(self, password: str, name: str = "trainer") -> int:
        if not password:
            raise StoreError("an empty trainer password: give a password of at least one character")
        hashed = hash_password(password)
        with self._write() as conn:
            row = conn.execute(select(trainers.c.id).where(trainers.c.name == name)).scalar()
            if row is None:
                return int(conn.execute(trainers.insert().values(name=name, password_hash=hashed,
                                                                 created=time.time())).inserted_primary_key[0])
            conn.execute(trainers.update().where(trainers.c.id == row).values(password_hash=hashed))
            return int(row)

    def has_trainer(self, name: str = "trainer") -> bool:
        with self._read() as conn:
            return conn.execute(select(trainers.c.id).where(trainers.c.name == name)).scalar() is not None

    def check_trainer(self, password: str, name: str = "trainer") -> int | None:
        """The trainer's id when the password is right, else None."""
        with self._read() as conn:
            row = conn.execute(select(trainers.c.id, trainers.c.password_hash)
                               .where(trainers.c.name == name)).first()
        if row is None or not check_password(password, row.password_hash):
            return None
        return int(row.id)

    # -- classes and trainees

    def create_class(self, trainer_id: int, name: str) -> ClassRow:
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._write() as conn:
                    new_id = conn.execute(classes.insert().values(code=code, name=name, trainer_id=trainer_id,
                                                                  created=time.time())).inserted_primary_key[0]
                return ClassRow(int(new_id), code, name, trainer_id)
            except StoreError:
                continue   # the code was taken: draw another
        raise StoreError("cannot make a class code: the database refuses new classes")

    def classes_of(self, trainer_id: int) -> list[ClassRow]:
        with self._read() as conn:
            rows = conn.execute(select(classes).where(classes.c.trainer_id == trainer_id).order_by(classes.c.id))
            return [ClassRow(r.id, r.code, r.name, r.trainer_id) for r in rows]

    def class_by_code(self, code: str) -> ClassRow | None:
        code = code.strip().upper()
        with self._read() as conn:
            r = conn.execute(select(classes).where(classes.c.code == code)).first()
        return ClassRow(r.id, r.code, r.name, r.trainer_id) if r else None

    def class_by_id(self, class_id: int) -> ClassRow | None:
        with self._read() as conn:
            r = conn.execute(select(classes).where(classes.c.id == class_id)).first()
        return ClassRow(r.id, r.code, r.name, r.trainer_id) if r else None

    def join(self, code: str, name: str) -> TraineeRow | None:
        """The trainee `name` in the class with this code (made on first join); None for a wrong code."""
        found = self.class_by_code(code)
        name = " ".join(name.split())
        if found is None or not name:
            return None
        with self._read() as conn:
            r = conn.execute(select(trainees).where(trainees.c.class_id == found.id,
                                                    trainees.c.name == name)).first()
        if r is None:
            try:
                with self._write() as conn:
                    conn.execute(trainees.insert().values(class_id=found.id, name=name, created=time.time()))
            except StoreError:
                pass   # joined at the same moment from another tab
            with self._read() as conn:
                r = conn.execute(select(trainees).where(trainees.c.class_id == found.id,
                                                        trainees.c.name == name)).first()
        return TraineeRow(r.id, r.class_id, r.name)

    def trainee(self, trainee_id: int) -> TraineeRow | None:
        with self._read() as conn:
            r = conn.execute(select(trainees).where(trainees.c.id == trainee_id)).first()
        return TraineeRow(r.id, r.class_id, r.name) if r else None

    def trainees_of(self, class_ids: list[int]) -> list[TraineeRow]:
        with self._read() as conn:
            rows = conn.execute(select(trainees).where(trainees.c.class_id.in_(class_ids))
                                .order_by(trainees.c.class_id, trainees.c.name))
            return [TraineeRow(r.id, r.class_id, r.name) for r in rows]

    # -- the calls index

    def start_call(self, folder: str | os.PathLike[str], trainee_id: int | None, class_id: int | None,
                   kind: str = "call", started: float | None = None) -> int:
        with self._write() as conn:
            return int(conn.execute(calls.insert().values(
                trainee_id=trainee_id, class_id=class_id, kind=kind, folder=os.fspath(folder),
                started=time.time() if started is None else started, turns=0, entries="[]")).inserted_primary_key[0])

    def end_call(self, call_id: int, reason: str | None, turns: int, entries: list[str],
                 ended: float | None = None) -> None:
        with self._write() as conn:
            conn.execute(calls.update().where(calls.c.id == call_id).values(
                ended=time.time() if ended is None else ended, ended_reason=reason, turns=turns,
                entries=json.dumps(entries, ensure_ascii=False)))

    def call(self, call_id: int) -> CallRow | None:
        with self._read() as conn:
            r = conn.execute(select(calls).where(calls.c.id == call_id)).first()
        return _call_row(r) if r else None

    def calls(self, trainee_id: int | None = None, class_ids: list[int] | None = None,
              running: bool | None = None, limit: int = 200) -> list[CallRow]:
        """Newest first: one trainee's, or every call of these classes."""
        q = select(calls)
        if trainee_id is not None:
            q = q.where(calls.c.trainee_id == trainee_id)
        if class_ids is not None:
            q = q.where(calls.c.class_id.in_(class_ids))
        if running is not None:
            q = q.where(calls.c.ended.is_(None) if running else calls.c.ended.is_not(None))
        with self._read() as conn:
            return [_call_row(r) for r in conn.execute(q.order_by(calls.c.id.desc()).limit(limit))]

    # -- drill results

    def record_attempt(self, trainee: str, entry_id: str, category: str, score: float, when: float | None = None,
                       trainee_id: int | None = None, points_made: list[str] | None = None,
                       points_missed: list[str] | None = None) -> float:
        when = time.time() if when is None else float(when)
        with self._write() as conn:
            conn.execute(attempts.insert().values(
                trainee=trainee, entry_id=entry_id, category=category, score=float(score), time=when,
                trainee_id=trainee_id,
                points_made=None if points_made is None else json.dumps(points_made, ensure_ascii=False),
                points_missed=None if points_missed is None else json.dumps(points_missed, ensure_ascii=False)))
        return when

    def attempt_rows(self, trainee: str, entry_id: str | None = None) -> list[Any]:
        q = select(attempts).where(attempts.c.trainee == trainee)
        if entry_id is not None:
            q = q.where(attempts.c.entry_id == entry_id)
        with self._read() as conn:
            return list(conn.execute(q.order_by(attempts.c.time, attempts.c.id)))

    def attempt_trainees(self) -> list[str]:
        with self._read() as conn:
            return [r[0] for r in conn.execute(select(attempts.c.trainee).distinct().order_by(attempts.c.trainee))]


class _Guard:
    """A connection (a transaction when writing) whose errors become one-line StoreErrors."""

    def __init__(self, store: Store, write: bool) -> None:
        self.store, self.write = store, write
        self._ctx: Any = None

    def __enter__(self) -> Connection:
        try:
            self._ctx = self.store.engine.begin() if self.write else self.store.engine.connect()
            return self._ctx.__enter__()
        except SQLAlchemyError as err:
            raise StoreError(f"cannot reach the database {self.store.where} ({_one_line(err)}): "
                             f"check --db / ${ENV_DB} and that the server runs") from None

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        try:
            self._ctx.__exit__(kind, err, tb)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the database {self.store.where} ({_one_line(exc)}): "
                             f"check the disk or the server, or give another --db") from None
        if isinstance(err, IntegrityError):
            raise StoreError(f"the database {self.store.where} refused a duplicate ({_one_line(err)})") from None
        if isinstance(err, SQLAlchemyError):
            raise StoreError(f"database error in {self.store.where} ({_one_line(err)}): "
                             f"check --db / ${ENV_DB}") from None
        return False
