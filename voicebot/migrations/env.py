"""Alembic's entry point: runs on the connection `voicebot.store.migrate` hands over (no alembic.ini)."""
from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch: SQLite alters tables by copying them; PostgreSQL alters them in place.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
