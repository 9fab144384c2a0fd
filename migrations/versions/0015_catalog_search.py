"""catalog search: Chinese substring search over product names and SPU/SKU codes that stays fast at
100k SKUs. SQLite: FTS5 trigram tables over product_spu (name, code) and product_sku (code), kept in
sync by triggers (external content, so nothing is stored twice). PostgreSQL: pg_trgm GIN indexes
that ILIKE '%…%' uses. (A later batch_alter_table of product_spu/product_sku on SQLite recreates the
table and drops its triggers: re-create them there, see _sqlite_triggers.)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# (fts table, content table, indexed columns)
FTS = (("product_spu_search", "product_spu", ("name", "code")),
       ("product_sku_search", "product_sku", ("code",)))
TRGM = (("ix_product_spu_name_trgm", "product_spu", "name"), ("ix_product_spu_code_trgm", "product_spu", "code"),
        ("ix_product_sku_code_trgm", "product_sku", "code"))


def _sqlite_triggers(fts: str, table: str, cols: tuple) -> list[str]:
    names, new, old = ", ".join(cols), ", ".join(f"new.{c}" for c in cols), ", ".join(f"old.{c}" for c in cols)
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} BEGIN {delete} {insert} END",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, table, cols in FTS:
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(cols)}, content='{table}', "
                       f"content_rowid='id', tokenize='trigram')")
            for statement in _sqlite_triggers(fts, table, cols):
                op.execute(statement)
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRGM:
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for fts, _table, _cols in FTS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    elif dialect == "postgresql":
        for name, _table, _column in TRGM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
