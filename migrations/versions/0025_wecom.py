"""企业微信 integration (slot of part 'wecom'; empty until that part lands).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 14:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
