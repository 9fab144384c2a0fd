"""What the 自定义SQL sandbox accepts and returns, shared by its SQLite and PostgreSQL runners:
one SELECT (parsed by sqlglot, a real SQL parser) over the customer-side tables, one integer column
of customer ids, bounded in rows. Refusals are CrmError(errors={"sql": reason in Chinese})."""
from __future__ import annotations

from typing import Iterable

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from crm.errors import CrmError

READABLE_TABLES = frozenset({
    "customer", "company", "customer_tag", "tag", "tag_category", "group_link", "customer_group",
    "group_member", "follow_up", "sales_task", "growth_record", "custom_field", "enum_type",
})
MAX_SQL_CHARS = 10_000
# Functions a customer query never needs, refused by name as an early, readable answer (the
# database role is what actually stops them reading or changing anything): session settings,
# locks and notifications shared with the application, server files, dynamic SQL, extensions.
FORBIDDEN_FUNCTIONS = frozenset({
    "set_config", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "pg_notify",
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_read_file", "pg_read_binary_file",
    "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export", "lo_get", "lo_open", "dblink", "dblink_exec",
    "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "table_to_xml",
    "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml", "database_to_xml",
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
})
# Nodes that make a statement more than a read (sqlglot parses them inside a SELECT too).
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Into, exp.Lock, exp.Create, exp.Drop,
           exp.Alter, exp.Command, exp.Set, exp.Transaction, exp.Commit, exp.Rollback)


def check_select(sql: str, dialect: str) -> str:
    """The statement text when it is exactly one SELECT over readable tables; CrmError otherwise."""
    sql = (sql or "").strip()
    if not sql:
        raise CrmError("SQL 不能为空", {"sql": "请填写一条 SELECT 语句"})
    if len(sql) > MAX_SQL_CHARS:
        raise CrmError("SQL 过长", {"sql": f"SQL 最多 {MAX_SQL_CHARS} 个字符"})
    try:
        # Tokens first (the dialect's own quoting rules, E'\'' included), so a second statement
        # or a non-SELECT is named even when the parser would not understand it.
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
        ends = [i for i, t in enumerate(tokens) if t.token_type == TokenType.SEMICOLON]
        if any(i < len(tokens) - 1 for i in ends):
            raise CrmError("只允许一条查询语句", {"sql": "只允许一条 SELECT 语句（不能用分号连接多条语句）"})
        if tokens and tokens[0].token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN):
            raise CrmError("只允许查询语句", {"sql": "只允许 SELECT（或 WITH … SELECT）语句"})
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        reason = str(exc).split("\n")[0][:200]
        raise CrmError("SQL 有误", {"sql": f"SQL 无法解析：{reason}"}) from None
    if len(statements) > 1:
        raise CrmError("只允许一条查询语句", {"sql": "只允许一条 SELECT 语句（不能用分号连接多条语句）"})
    if not statements or not isinstance(statements[0], (exp.Select, exp.SetOperation)):
        raise CrmError("只允许查询语句", {"sql": "只允许 SELECT（或 WITH … SELECT）语句"})
    tree = statements[0]
    if next(tree.find_all(*_WRITES), None) is not None:
        raise CrmError("只允许查询语句", {"sql": "只允许 SELECT：不能包含修改数据、SELECT INTO 或 FOR UPDATE 等加锁写法"})
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() in FORBIDDEN_FUNCTIONS:
            raise CrmError("SQL 被安全策略拒绝", {"sql": f"不允许调用函数 {call.name}"})
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name and name not in ctes and name not in READABLE_TABLES:
            raise CrmError("SQL 被安全策略拒绝", {"sql": f"不允许读取表 {table.name}"})
    return sql.rstrip(";").strip()


def integer_ids(rows: Iterable[tuple], max_rows: int, out: list[int]) -> None:
    """Appends the integer ids of `rows` to `out`; refuses other values and more than max_rows."""
    for (value,) in rows:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CrmError("SQL 结果不是客户 ID", {"sql": f"查询结果应为整数客户 ID，遇到「{str(value)[:50]}」"})
        out.append(value)
        if len(out) > max_rows:
            raise CrmError("SQL 结果过多", {"sql": f"查询结果超过 {max_rows} 行"})


def one_column(ncols: int) -> None:
    if ncols != 1:
        raise CrmError("SQL 结果应只有一列", {"sql": f"查询应只返回一列客户 ID，实际返回 {ncols} 列"})


def timed_out(timeout: float) -> CrmError:
    return CrmError("SQL 执行超时", {"sql": f"查询超过 {timeout:g} 秒，已中止"})
