"""The class store: trainers, classes, trainees, the calls index, drill results (attempts), settings.

A progress file from before the store (a bare `attempts` table, no alembic_version) is taken over:
its rows stay, the new columns are added.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    op.create_table(
        "trainers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created", sa.Float, nullable=False))
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("trainer_id", sa.Integer, sa.ForeignKey("trainers.id"), nullable=False),
        sa.Column("created", sa.Float, nullable=False))
    op.create_table(
        "trainees",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.UniqueConstraint("class_id", "name", name="trainees_class_name"))
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trainee_id", sa.Integer, sa.ForeignKey("trainees.id"), nullable=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("ended", sa.Float, nullable=True),
        sa.Column("ended_reason", sa.String(100), nullable=True),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("entries", sa.Text, nullable=False, server_default="[]"))
    op.create_index("calls_by_trainee", "calls", ["trainee_id", "started"])
    op.create_index("calls_by_class", "calls", ["class_id", "ended"])
    new_columns = [sa.Column("trainee_id", sa.Integer, nullable=True),
                   sa.Column("points_made", sa.Text, nullable=True),
                   sa.Column("points_missed", sa.Text, nullable=True)]
    if "attempts" in existing:   # a progress file written before the store
        with op.batch_alter_table("attempts") as batch:
            for column in new_columns:
                batch.add_column(column)
    else:
        op.create_table(
            "attempts",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("trainee", sa.String(200), nullable=False),
            sa.Column("entry_id", sa.String(200), nullable=False),
            sa.Column("category", sa.String(200), nullable=False),
            sa.Column("score", sa.Float, nullable=False),
            sa.Column("time", sa.Float, nullable=False),
            *new_columns)
        op.create_index("attempts_by_trainee", "attempts", ["trainee", "entry_id", "time"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False))


def downgrade() -> None:
    for table in ("settings", "calls", "trainees", "classes", "trainers"):
        op.drop_table(table)
    with op.batch_alter_table("attempts") as batch:
        for column in ("points_missed", "points_made", "trainee_id"):
            batch.drop_column(column)
