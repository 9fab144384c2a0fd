"""自定义SQL: a marketer's SELECT returning customer ids, run where it can only read.

Three layers, each enough on its own for what it guards:
1. a real SQL parser (sqlglot) accepts exactly one SELECT (no second statement, no data-modifying
   CTE, no SELECT INTO, no locking clause) reading only the customer-side tables;
2. the database itself: PostgreSQL runs it over a separate connection logged in as the SELECT-only
   role `ckb_sandbox` (sql_sandbox_pg), so COMMIT tricks, query_to_xml or COPY find no privilege;
   SQLite opens the file read-only with an authorizer (sql_sandbox_sqlite);
3. bounds: the configured timeout, a row cap, integer results only, a size cap on values.
Anything else is refused with the reason in Chinese (CrmError, errors={"sql": reason}).
"""
from __future__ import annotations

from typing import Optional

from config.db import Database
from crm.customers.sql_sandbox_pg import run_postgres
from crm.customers.sql_sandbox_rules import READABLE_TABLES, check_select
from crm.customers.sql_sandbox_sqlite import run_sqlite

__all__ = ["READABLE_TABLES", "run_readonly_select"]


def run_readonly_select(db: Database, sql: str, timeout_seconds: Optional[float] = None) -> list[int]:
    """Customer ids returned by one read-only SELECT (timeout: the configured
    CKB_SQL_SANDBOX_TIMEOUT_SECONDS unless given); CrmError(errors={"sql": reason}) otherwise."""
    timeout = float(timeout_seconds if timeout_seconds is not None else db.sandbox.timeout_seconds)
    if db.is_postgres:
        return run_postgres(db, check_select(sql, "postgres"), timeout)
    return run_sqlite(db, check_select(sql, "sqlite"), timeout)
