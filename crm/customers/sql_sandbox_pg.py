"""自定义SQL on PostgreSQL: a separate connection logged in as the SELECT-only role (default
`ckb_sandbox`, created by migration 0005, README「自定义SQL 的只读账号」).

The role is the boundary, not the text: PostgreSQL checks privileges for the role that runs a
query, so `COMMIT; UPDATE …`, query_to_xml('select … from user_account'), COPY … TO PROGRAM or
pg_read_file find nothing they may touch. The connection never falls back to the application's
role: before each run it checks that it is not a superuser, holds none of the server-file roles
and can read nothing outside the customer-side tables, and refuses to run otherwise. The query is
DECLAREd as a server-side cursor over the extended protocol (one statement, SELECT only, checked
by the server again), its one column must be an integer type before any row is fetched, rows are
fetched in chunks up to the cap, and statement_timeout is the configured timeout.
"""
from __future__ import annotations

import threading

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from config.db import Database
from crm.customers.sql_sandbox_rules import READABLE_TABLES, integer_ids, one_column, timed_out
from crm.errors import CrmError

_INTEGER_TYPES = {20, 21, 23}  # int8, int2, int4
_SERVER_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program",
                 "pg_read_all_data", "pg_write_all_data")
_SELF_CHECK = """
SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls,
       (SELECT string_agg(m.rolname, ', ') FROM pg_roles m
         WHERE m.rolname = ANY(%(server_roles)s) AND pg_has_role(current_user, m.oid, 'USAGE')),
       (SELECT string_agg(c.relname, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY(current_schemas(false))
           AND (has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                OR (has_table_privilege(c.oid, 'SELECT') AND NOT c.relname = ANY(%(readable)s))))
FROM pg_roles r WHERE r.rolname = current_user
"""
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> Engine:
    # NullPool: each run gets a fresh session, so nothing one query set survives into the next.
    with _engines_lock:
        if url not in _engines:
            _engines[url] = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
        return _engines[url]


def _unavailable(role: str, reason: str) -> CrmError:
    return CrmError("自定义SQL 只读账号不可用", {"sql": (
        f"自定义SQL 须以只读数据库账号 {role} 运行：{reason}。请按 README「自定义SQL 的只读账号」配置"
        "（CKB_SQL_SANDBOX_DATABASE_URL）")})


def _check_role(cur, role: str) -> None:
    cur.execute(_SELF_CHECK, {"server_roles": list(_SERVER_ROLES), "readable": sorted(READABLE_TABLES)})
    row = cur.fetchone()
    if row is None:
        raise _unavailable(role, "账号不存在")
    privileged, server_roles, extra = row
    if privileged:
        raise _unavailable(role, "该账号是超级用户或可创建角色/数据库，权限过大")
    if server_roles:
        raise _unavailable(role, f"该账号属于 {server_roles}，权限过大")
    if extra:
        raise _unavailable(role, f"该账号能读写客户数据以外的表（{extra[:200]}），权限过大")


def _refusal(exc, timeout: float) -> CrmError:
    from psycopg import errors as pg

    message = str(exc).split("\n")[0]
    if isinstance(exc, pg.QueryCanceled):
        return timed_out(timeout)
    if isinstance(exc, pg.InsufficientPrivilege):
        return CrmError("SQL 被安全策略拒绝", {"sql": f"只读账号无权执行：{message}"})
    if isinstance(exc, pg.ReadOnlySqlTransaction):
        return CrmError("只允许查询语句", {"sql": "只允许查询（只读事务中不能修改数据）"})
    if isinstance(exc, (pg.ProgramLimitExceeded, pg.OutOfMemory, pg.DiskFull, pg.ConfigurationLimitExceeded)):
        return CrmError("SQL 结果过大", {"sql": f"查询超出资源限制：{message}"})
    return CrmError("SQL 有误", {"sql": f"SQL 有误：{message}"})


def run_postgres(db: Database, sql: str, timeout: float) -> list[int]:
    from psycopg import Error as PgError

    bounds = db.sandbox
    url = bounds.postgres_url(db.url)
    role = make_url(url).username or "?"
    try:
        raw = _engine(url).raw_connection()
    except Exception as exc:  # noqa: BLE001 - never fall back to the application's own role
        reason = str(getattr(exc, "orig", exc)).strip().split("\n")[-1][:200]
        raise _unavailable(role, f"无法连接（{reason}）") from None
    conn = raw.driver_connection
    ids: list[int] = []
    try:
        with conn.cursor() as cur:
            _check_role(cur, role)
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true)",
                        (f"{max(1, int(timeout * 1000))}ms", f"{bounds.work_mem_kb}kB"))
        with conn.cursor(name="ckb_sandbox_query") as cur:
            cur.execute(sql)
            one_column(len(cur.description or []))
            if cur.description[0].type_code not in _INTEGER_TYPES:
                raise CrmError("SQL 结果不是客户 ID", {"sql": "查询结果应为整数客户 ID（integer / bigint 列）"})
            while rows := cur.fetchmany(10_000):
                integer_ids(rows, bounds.max_rows, ids)
        return ids
    except PgError as exc:
        raise _refusal(exc, timeout) from None
    finally:
        try:
            conn.rollback()
        finally:
            raw.close()
