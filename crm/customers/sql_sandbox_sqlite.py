"""自定义SQL on SQLite: a separate read-only connection (mode=ro) whose authorizer allows reading
only the customer-side tables and nothing but SELECT; a progress handler is the clock (the
configured timeout), SQLITE_LIMIT_LENGTH bounds every string or blob (randomblob(5e8) fails at
once instead of allocating), and rows are fetched in chunks up to the row cap."""
from __future__ import annotations

import sqlite3
import time

from config.db import Database
from crm.customers.sql_sandbox_rules import READABLE_TABLES, integer_ids, one_column, timed_out
from crm.errors import CrmError

_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                    getattr(sqlite3, "SQLITE_RECURSIVE", 33)}  # WITH RECURSIVE is still only a read
_FORBIDDEN_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_CACHE_KIB = 16_384  # page cache of the sandbox connection, so a big scan cannot grow it unbounded


def run_sqlite(db: Database, sql: str, timeout: float) -> list[int]:
    bounds = db.sandbox
    path = db.url.split("///", 1)[1]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    refused: list[str] = []
    # Real tables outside the allow-list are refused; names that are not tables are CTEs.
    hidden = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    hidden = (hidden - READABLE_TABLES) | {"sqlite_master", "sqlite_schema", "sqlite_temp_master"}
    conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, bounds.max_value_bytes)
    # LIKE/GLOB match inside one VM step, out of the progress handler's reach: keep patterns short.
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000)

    def authorizer(action, arg1, arg2, _db, _trigger):
        if action == sqlite3.SQLITE_READ and arg1 in hidden:
            refused.append(f"不允许读取表 {arg1}")
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _FORBIDDEN_FUNCTIONS:
            refused.append(f"不允许调用函数 {arg2}")
            return sqlite3.SQLITE_DENY
        if action not in _ALLOWED_ACTIONS:
            refused.append("只允许查询（不允许修改数据、PRAGMA、ATTACH 等）")
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    deadline = time.monotonic() + timeout
    ids: list[int] = []
    try:
        conn.set_authorizer(authorizer)
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        try:
            cur = conn.execute(sql)
            one_column(len(cur.description or []))
            while rows := cur.fetchmany(10_000):
                integer_ids(rows, bounds.max_rows, ids)
            return ids
        except sqlite3.ProgrammingError as exc:
            raise CrmError("只允许一条查询语句", {"sql": f"只允许一条 SELECT 语句：{exc}"}) from None
        except sqlite3.DataError as exc:
            raise _too_big(bounds.max_value_bytes, exc) from None
        except sqlite3.DatabaseError as exc:
            if refused:
                raise CrmError("SQL 被安全策略拒绝", {"sql": refused[0]}) from None
            if "interrupted" in str(exc):
                raise timed_out(timeout) from None
            if "too big" in str(exc):
                raise _too_big(bounds.max_value_bytes, exc) from None
            raise CrmError("SQL 有误", {"sql": f"SQL 有误：{exc}"}) from None
    finally:
        conn.close()


def _too_big(limit: int, exc: Exception) -> CrmError:
    return CrmError("SQL 结果过大", {"sql": f"查询中的值超过 {limit} 字节，已中止（{exc}）"})
