"""seed001 (issue 14): filled by its part.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 17:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
