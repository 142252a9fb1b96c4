"""Alembic migrations of the class store (voicebot/store.py): the same steps on SQLite and PostgreSQL."""
