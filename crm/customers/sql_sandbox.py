"""自定义SQL: a marketer's SELECT returning customer ids, run read-only with a timeout.

SQLite: a separate read-only connection (mode=ro) with an authorizer that allows reading only
the customer-side tables and nothing but SELECT, and a progress handler as the clock.
PostgreSQL: a READ ONLY transaction with statement_timeout, and the tables the plan touches
checked against the same allow-list (EXPLAIN), so staff passwords or app secrets are never
readable. Anything else is refused with the reason in Chinese.
"""
from __future__ import annotations

import json
import sqlite3
import time

from sqlalchemy import text

from config.db import Database
from crm.errors import CrmError

READABLE_TABLES = frozenset({
    "customer", "company", "customer_tag", "tag", "tag_category", "group_link", "customer_group",
    "group_member", "follow_up", "sales_task", "growth_record", "custom_field", "enum_type",
})
MAX_ROWS = 5_000_000
_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                    getattr(sqlite3, "SQLITE_RECURSIVE", 33)}  # WITH RECURSIVE is still only a read
_FORBIDDEN_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


def _statement_count(sql: str) -> int:
    """Statements in `sql`, counting `;` outside quotes and comments (PostgreSQL's simple-query
    protocol would run them all; SQLite's driver refuses them by itself)."""
    count, i, n, quote = 1, 0, len(sql), None
    while i < n:
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif sql.startswith("--", i):
            i = sql.find("\n", i)
            i = n if i < 0 else i
        elif sql.startswith("/*", i):
            i = sql.find("*/", i + 2)
            i = n if i < 0 else i + 1
        elif ch == "$":  # PostgreSQL dollar quoting is not needed for a SELECT of ids
            raise CrmError("不支持的写法", {"sql": "不支持 $ 引号写法"})
        elif ch == ";" and sql[i + 1:].strip():
            count += 1
        i += 1
    return count


def _check_text(sql: str) -> str:
    sql = (sql or "").strip().rstrip(";").strip()
    if not sql:
        raise CrmError("SQL 不能为空", {"sql": "请填写一条 SELECT 语句"})
    if len(sql) > 10_000:
        raise CrmError("SQL 过长", {"sql": "SQL 最多 10000 个字符"})
    if _statement_count(sql) > 1:
        raise CrmError("只允许一条查询语句", {"sql": "只允许一条 SELECT 语句（不能用分号连接多条语句）"})
    head = sql.split(None, 1)[0].lower()
    if head not in ("select", "with"):
        raise CrmError("只允许查询语句", {"sql": "只允许 SELECT（或 WITH … SELECT）语句"})
    return sql


def _ids(rows, ncols: int) -> list[int]:
    if ncols != 1:
        raise CrmError("SQL 结果应只有一列", {"sql": f"查询应只返回一列客户 ID，实际返回 {ncols} 列"})
    out = []
    for (value,) in rows:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CrmError("SQL 结果不是客户 ID", {"sql": f"查询结果应为整数客户 ID，遇到「{value}」"})
        out.append(value)
        if len(out) > MAX_ROWS:
            raise CrmError("SQL 结果过多", {"sql": f"查询结果超过 {MAX_ROWS} 行"})
    return out


def _sqlite(db: Database, sql: str, timeout: float) -> list[int]:
    path = db.url.split("///", 1)[1]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    refused: list[str] = []
    # Real tables outside the allow-list are refused; names that are not tables are CTEs.
    hidden = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    hidden = (hidden - READABLE_TABLES) | {"sqlite_master", "sqlite_schema", "sqlite_temp_master"}

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
    try:
        conn.set_authorizer(authorizer)
        conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        try:
            cur = conn.execute(sql)
            return _ids(cur.fetchall(), len(cur.description or []))
        except sqlite3.ProgrammingError as exc:
            raise CrmError("只允许一条查询语句", {"sql": f"只允许一条 SELECT 语句：{exc}"}) from None
        except sqlite3.DatabaseError as exc:
            if refused:
                raise CrmError("SQL 被安全策略拒绝", {"sql": refused[0]}) from None
            if "interrupted" in str(exc):
                raise CrmError("SQL 执行超时", {"sql": f"查询超过 {timeout:g} 秒，已中止"}) from None
            raise CrmError("SQL 有误", {"sql": f"SQL 有误：{exc}"}) from None
    finally:
        conn.close()


def _tables_in_plan(plan) -> set[str]:
    found, stack = set(), [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "Relation Name" in node:
                found.add(node["Relation Name"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _postgres(db: Database, sql: str, timeout: float) -> list[int]:
    with db.engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
            try:
                plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).scalar()
                plan = json.loads(plan) if isinstance(plan, str) else plan
                bad = sorted(_tables_in_plan(plan) - READABLE_TABLES)
                if bad:
                    raise CrmError("SQL 被安全策略拒绝", {"sql": f"不允许读取表 {', '.join(bad)}"})
                result = conn.exec_driver_sql(sql)
                return _ids(result.fetchall(), len(result.keys()))
            except CrmError:
                raise
            except Exception as exc:  # noqa: BLE001 - any database refusal is reported to the marketer
                message = str(getattr(exc, "orig", exc)).split("\n")[0]
                if "statement timeout" in message:
                    raise CrmError("SQL 执行超时", {"sql": f"查询超过 {timeout:g} 秒，已中止"}) from None
                if "read-only" in message:
                    raise CrmError("只允许查询", {"sql": "只允许查询（只读事务中不能修改数据）"}) from None
                raise CrmError("SQL 有误", {"sql": f"SQL 有误：{message}"}) from None
        finally:
            trans.rollback()


def run_readonly_select(db: Database, sql: str, timeout_seconds: float = 10) -> list[int]:
    """Customer ids returned by one read-only SELECT; CrmError(errors={"sql": reason}) otherwise."""
    sql = _check_text(sql)
    if db.is_postgres:
        return _postgres(db, sql, timeout_seconds)
    return _sqlite(db, sql, timeout_seconds)
