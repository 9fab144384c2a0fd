"""fission campaigns and rewards (slot of part 'fission'; empty until that part lands).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 14:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
