"""KOC and the knowledge base (slot of part 'koc'; empty until that part lands).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
