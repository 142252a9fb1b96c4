"""The class store under test: a SQLite file and a real PostgreSQL server (`.ci/postgres` starts it).

`db_url` is parametrized over both, so every store and web test runs against each. The PostgreSQL
side makes a fresh database per test and drops it afterwards; an unreachable server is a failure
naming the fix, never a skip.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("VOICEBOT_TEST_PG", "postgresql://voicebot:voicebot@127.0.0.1:5432/voicebot_test")
"""A role that may create databases; `.ci/postgres` makes it (install.sh installs PostgreSQL)."""


def _pg_database() -> Iterator[str]:
    import psycopg
    name = f"vb_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=30)
    except psycopg.OperationalError as err:
        pytest.fail(f"PostgreSQL is not reachable at {admin} ({str(err).strip().splitlines()[0]}): "
                    "run `bash .ci/postgres` (after install.sh) or set VOICEBOT_TEST_PG")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from voicebot import store
        store._MIGRATED.discard(store.resolve_db(url))
        for attempt in range(3):      # a loaded machine: a slow server is retried, not a failed test
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=30) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg.OperationalError:
                if attempt == 2:
                    raise


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty class store: a SQLite path, or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "class.sqlite3")
    else:
        yield from _pg_database()
