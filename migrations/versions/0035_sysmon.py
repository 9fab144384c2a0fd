"""sysmon (issue 14): filled by its part.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 17:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
