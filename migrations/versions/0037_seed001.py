"""seed001 (issue 14): message templates whose variables come from an event (变量来源事件) and tags
on products and companies (object_tag), UI 模板管理 (ui_template). Several rules per tag live in
tag.rule (JSON): no column.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


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
    op.create_table(
        "ui_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("columns", JSON, nullable=False),
        sa.Column("form_fields", JSON, nullable=False),
        sa.Column("query_fields", JSON, nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("ui_template")
    op.drop_index("ix_object_tag_tag", table_name="object_tag")
    op.drop_table("object_tag")
    with op.batch_alter_table("message_template") as batch:
        batch.drop_column("event_code")
