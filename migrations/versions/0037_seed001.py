"""seed001 (issue 14): message templates whose variables come from an event (变量来源事件) and tags
on products and companies (object_tag). Several rules per tag live in tag.rule (JSON): no column.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_template") as batch:
        batch.add_column(sa.Column("event_code", sa.String(length=64), nullable=False, server_default=""))
    op.create_table(
        "object_tag",
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"]),
        sa.PrimaryKeyConstraint("object_type", "object_id", "tag_id"),
    )
    op.create_index("ix_object_tag_tag", "object_tag", ["tag_id"])


def downgrade() -> None:
    op.drop_index("ix_object_tag_tag", table_name="object_tag")
    op.drop_table("object_tag")
    with op.batch_alter_table("message_template") as batch:
        batch.drop_column("event_code")
