"""params (issue 14): filled by its part.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 17:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
