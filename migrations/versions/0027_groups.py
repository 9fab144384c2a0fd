"""group activity, alerts and the group broadcast API (slot of part 'groups'; empty until that part lands).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
