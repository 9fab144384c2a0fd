"""message full-text search (chat_message.text and a link's title, Chinese included).

Both dialects index character BIGRAMS, because the words people look for in a chat are mostly two
characters (价格, 发货, 退款) and a trigram index (catalogue search, migration 0015) cannot answer
them: FTS5 trigram returns nothing under three characters and pg_trgm falls back to reading the
whole index. A query of n ≥ 2 characters asks for messages holding all of its n-1 bigrams, and the
candidates are then checked with LIKE (conversations/search.py), so the answer is exact.

SQLite: a contentless FTS5 table (unicode61 over the bigrams written out with spaces; ASCII is
folded to lower case) kept current by triggers on chat_message — every writer and every deletion
(retention) is covered. The bigrams are spelled out in the trigger with a numbers table
(chat_message_search_seq), as triggers may not use WITH RECURSIVE.
PostgreSQL: an IMMUTABLE function ckb_bigrams(text) -> text[] and a GIN (array_ops) expression
index over it; `ckb_bigrams(doc) @> ckb_bigrams(q)` uses the index. pg_trgm is not needed.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa  # noqa: F401

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

# What is searchable in a message; conversations/search.py builds the same expression.
# Only the first INDEXED characters of a document are indexed: spelling the bigrams out costs
# O(n²) in both databases (substr walks UTF-8 from the start), and a 20,000-character message took
# 1.4 s under the write lock; 2,000 take ~15 ms. Chat messages are far shorter; a word further into
# an oversized one is not found (the LIKE check alone would find it, but only a scan gets there).
INDEXED = 2000
SQLITE_DOC = ("(substr(coalesce({r}.text, '') || ' ' || coalesce(json_extract({r}.payload, '$.title'), ''), 1, "
              f"{INDEXED}))")
PG_DOC = "(coalesce(text, '') || ' ' || coalesce(payload ->> 'title', ''))"
SEQ_MAX = INDEXED


def _bigrams(row: str) -> str:
    """The bigrams of a row's document, space-separated. The document is computed once in a
    subquery that LIMIT keeps from being flattened into the join (else every bigram re-reads the
    JSON payload: measured 40 % slower)."""
    doc = SQLITE_DOC.format(r=row)
    return (f"(SELECT group_concat(substr(d.doc, n, 2), ' ') FROM (SELECT {doc} AS doc LIMIT 1) AS d, "
            f"chat_message_search_seq WHERE n < length(d.doc))")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE TABLE chat_message_search_seq (n INTEGER PRIMARY KEY)")
        op.execute(f"INSERT INTO chat_message_search_seq(n) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
                   f"SELECT n + 1 FROM s WHERE n < {SEQ_MAX}) SELECT n FROM s")
        op.execute("CREATE VIRTUAL TABLE chat_message_search USING fts5(body, content='', "
                   "tokenize='unicode61 remove_diacritics 0')")
        insert = f"INSERT INTO chat_message_search(rowid, body) VALUES (new.id, {_bigrams('new')});"
        delete = (f"INSERT INTO chat_message_search(chat_message_search, rowid, body) "
                  f"VALUES ('delete', old.id, {_bigrams('old')});")
        op.execute(f"CREATE TRIGGER chat_message_search_ai AFTER INSERT ON chat_message BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER chat_message_search_ad AFTER DELETE ON chat_message BEGIN {delete} END")
        op.execute(f"CREATE TRIGGER chat_message_search_au AFTER UPDATE OF text, payload ON chat_message "
                   f"BEGIN {delete} {insert} END")
        op.execute(f"INSERT INTO chat_message_search(rowid, body) SELECT id, {_bigrams('chat_message')} "
                   f"FROM chat_message")
    elif dialect == "postgresql":
        op.execute("""CREATE OR REPLACE FUNCTION ckb_bigrams(doc text) RETURNS text[]
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT coalesce(array_agg(DISTINCT lower(substr(doc, i, 2))), '{}')
            FROM generate_series(1, least(length(doc), %d) - 1) AS i $$""" % INDEXED)
        op.execute(f"CREATE INDEX ix_chat_message_search_bigrams ON chat_message USING gin (ckb_bigrams({PG_DOC}))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS chat_message_search_{suffix}")
        op.execute("DROP TABLE IF EXISTS chat_message_search")
        op.execute("DROP TABLE IF EXISTS chat_message_search_seq")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_chat_message_search_bigrams")
        op.execute("DROP FUNCTION IF EXISTS ckb_bigrams(text)")
