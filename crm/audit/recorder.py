"""操作日志 without per-view calls: SQLAlchemy events record every object a write request changes,
in the same transaction as the change (a rollback takes its log rows with it).

The web layer opens an `AuditContext` for each write request (`activate`) and closes it after;
outside one (cron jobs, the dispatcher, public forms, sign-in) nothing is recorded. Per flush,
`after_flush` reads each new / changed / deleted object's column history and inserts one
operation_log row per object through the flushing connection. Every other write statement — an
ORM bulk UPDATE/DELETE, a Core statement on the session's connection, text() SQL — is caught by
the engine's `after_execute` and logged on the same connection with its table, condition,
values and rowcount. Log rows are counted when their connection commits (`committed`), so the
web layer can add one request-level row for a write that changed nothing.
"""
from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from sqlalchemy import Delete, Insert, Update, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from config.clock import utcnow
from config.pii import mask_text
from config.raw_writes import on_raw_write
from crm.audit.masking import REDACTED, loggable, sensitive_column, sensitive_name
from crm.audit.models import ErrorLog, LoginLog, OperationLog

AUDIT_TABLES = frozenset({OperationLog.__tablename__, LoginLog.__tablename__, ErrorLog.__tablename__})
# Bookkeeping columns that every authenticated request may touch (when a token or session was
# last used): an update of only these is not an operation anyone asked for.
QUIET_COLUMNS = {"api_token": frozenset({"last_used_at"}), "auth_session": frozenset({"last_seen_at"})}
_OPS = OperationLog.__table__
_current: contextvars.ContextVar[Optional["AuditContext"]] = contextvars.ContextVar("ckb_audit", default=None)


@dataclass
class AuditContext:
    request_id: str
    method: str
    endpoint: str
    path: str
    ip: str
    via: str
    # (user_id, username) of whoever acts, read at flush time: a bearer token is resolved inside
    # the view, after the context opened. None: nobody signed in, nothing is recorded.
    actor: Callable[[], Optional[tuple[int, str]]]
    flushing: int = 0  # inside a unit-of-work flush (or our own insert): statements are not re-logged
    committed: int = 0  # log rows whose transaction committed
    pending: dict = field(default_factory=dict)  # id(connection) → log rows not yet committed

    def row(self, actor: tuple[int, str], **values) -> dict:
        return {"request_id": self.request_id, "created_at": utcnow(), "user_id": actor[0], "username": actor[1],
                "via": self.via, "method": self.method, "endpoint": self.endpoint[:200], "path": self.path[:500],
                "ip": self.ip[:64], "changes": {}, "summary": "", "object_id": "", "table_name": "",
                "rowcount": None, "status_code": None, **values}


def activate(ctx: AuditContext):
    return _current.set(ctx)


def deactivate(token) -> None:
    _current.reset(token)


def current() -> Optional[AuditContext]:
    return _current.get()


_columns_of: dict = {}


def _columns(mapper) -> dict:
    """attribute key → (column, sensitive) of a mapper, worked out once per class."""
    found = _columns_of.get(mapper)
    if found is None:
        found = _columns_of[mapper] = {prop.key: (prop.columns[0], sensitive_column(prop.columns[0]))
                                       for prop in mapper.column_attrs}
    return found


def _value(column, sensitive: bool, value):
    return REDACTED if sensitive and value is not None else loggable(value)


def _object_row(ctx, actor, obj, action: str) -> Optional[dict]:
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.persist_selectable
    if getattr(table, "name", None) in AUDIT_TABLES:
        return None
    columns = _columns(mapper)
    changes = {}
    if action == "update":
        # Only attributes the unit of work saw modified carry history worth reading.
        for key in state.committed_state:
            if key not in columns:
                continue
            column, sensitive = columns[key]
            hist = state.attrs[key].history
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else (hist.unchanged[0] if hist.unchanged else None)
            if before == after or not (hist.added or hist.deleted):
                continue
            changes[column.key] = [_value(column, sensitive, before), _value(column, sensitive, after)]
        if not changes or set(changes) <= QUIET_COLUMNS.get(table.name, frozenset()):
            return None
    else:
        values = state.dict
        for key, (column, sensitive) in columns.items():
            value = values.get(key)
            if value is None:
                continue
            shown = _value(column, sensitive, value)
            changes[column.key] = [None, shown] if action == "insert" else [shown, None]
    ident = mapper.primary_key_from_instance(obj)
    return ctx.row(actor, action=action, table_name=table.name, object_id=",".join(str(v) for v in ident)[:100],
                   changes=changes)


def _after_flush(session, _flush_context) -> None:
    ctx = _current.get()
    if ctx is None:
        return
    actor = ctx.actor()
    if actor is None:
        return
    rows = []
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            row = _object_row(ctx, actor, obj, action)
            if row is not None:
                rows.append(row)
    if rows:
        _write(session.connection(), ctx, rows)


def _write(conn, ctx, rows) -> None:
    conn.execute(_OPS.insert(), rows).close()
    ctx.pending[id(conn)] = ctx.pending.get(id(conn), 0) + len(rows)


def _on_commit(conn) -> None:
    ctx = _current.get()
    if ctx is not None and ctx.pending:
        ctx.committed += ctx.pending.pop(id(conn), 0)


def _on_rollback(conn) -> None:
    ctx = _current.get()
    if ctx is not None and ctx.pending:
        ctx.pending.pop(id(conn), None)


_TEXT_WRITE = re.compile(r"^\s*(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.I)


def _shown(name: str, value):
    return REDACTED if sensitive_name(name) else loggable(value)


def _statement_summary(result, statement, params) -> str:
    """The SQL as executed (the statement compiled once already, placeholders kept) and its
    parameters, masked; compiling again just to log it would double the statement's cost."""
    context = getattr(result, "context", None)
    sql = getattr(context, "statement", None) or (statement.text if isinstance(statement, TextClause) else "")
    sql = " ".join(str(sql).split())[:800]
    # Compiled SQL carries placeholders, not values; only hand-written text() SQL may quote one.
    parts = ["语句: " + (mask_text(sql) if isinstance(statement, TextClause) else sql)] if sql else []
    compiled = getattr(context, "compiled_parameters", None)
    if compiled:
        first = compiled[0]
        parts.append("参数: " + str({k: _shown(k, v) for k, v in list(first.items())[:30]}))
        if len(compiled) > 1:
            parts.append(f"共 {len(compiled)} 组参数")
    elif isinstance(params, dict) and params:
        parts.append("参数: " + str({k: _shown(k, v) for k, v in list(params.items())[:30]}))
    return "；".join(parts)[:2000]


def _quiet(table_name: str, statement) -> bool:
    quiet = QUIET_COLUMNS.get(table_name)
    values = getattr(statement, "_values", None)
    return bool(quiet and values and {getattr(k, "key", str(k)) for k in values} <= quiet)


def _target(statement) -> tuple[str, str]:
    """(action, table) of a write statement; ("", "") for anything else."""
    if isinstance(statement, (Insert, Update, Delete)):
        action = "bulk_insert" if isinstance(statement, Insert) else (
            "bulk_update" if isinstance(statement, Update) else "bulk_delete")
        return action, getattr(statement.table, "name", "") or ""
    if isinstance(statement, TextClause):
        match = _TEXT_WRITE.match(statement.text)
        if match:
            verb = match.group(1).split()[0].upper()
            return {"INSERT": "bulk_insert", "UPDATE": "bulk_update", "DELETE": "bulk_delete"}[verb], match.group(2)
    return "", ""


def _before_flush(session, _flush_context, _instances) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.flushing += 1


def _reset(session, _previous_transaction) -> None:
    # A flush that raised never reaches after_flush_postexec; its rollback ends it instead.
    ctx = _current.get()
    if ctx is not None:
        ctx.flushing = 0


def _after_flush_postexec(session, _flush_context) -> None:
    ctx = _current.get()
    if ctx is not None and ctx.flushing:
        ctx.flushing -= 1


def _after_execute(conn, clauseelement, multiparams, params, _options, result) -> None:
    """Statements that are not a unit-of-work flush: ORM bulk UPDATE/DELETE, Core statements on
    the session's connection, text() SQL. Logged on the same connection, so in the same
    transaction."""
    ctx = _current.get()
    if ctx is None or ctx.flushing:
        return
    action, name = _target(clauseelement)
    if not action or name in AUDIT_TABLES:
        return
    actor = ctx.actor()
    if actor is None or (action == "bulk_update" and _quiet(name, clauseelement)):
        return
    try:
        # With RETURNING the rows are still unread and SQLite's count is 0 until they are.
        rowcount = None if result.returns_rows else result.rowcount
    except Exception:  # noqa: BLE001 - a closed cursor cannot tell
        rowcount = None
    if rowcount is not None and rowcount < 0:
        rowcount = None
    if rowcount == 0:
        return  # matched nothing: not a change (the request-level row still records the attempt)
    _log_statement(conn, ctx, actor, action, name, rowcount, _statement_summary(result, clauseelement, params))


def _after_raw_write(conn, action: str, name: str, rowcount: int, sql: str) -> None:
    """Rows the hot paths wrote through the DBAPI cursor (config/raw_writes.py): logged as a
    Core statement on the same connection would be."""
    ctx = _current.get()
    if ctx is None or ctx.flushing or name in AUDIT_TABLES:
        return
    actor = ctx.actor()
    if actor is None:
        return
    _log_statement(conn, ctx, actor, action, name, rowcount, "语句: " + " ".join(sql.split())[:800])


def _log_statement(conn, ctx, actor, action: str, name: str, rowcount, summary: str) -> None:
    rows = [ctx.row(actor, action=action, table_name=name[:100], rowcount=rowcount, summary=summary)]
    ctx.flushing += 1  # our own insert below must not log itself
    try:
        _write(conn, ctx, rows)
    finally:
        ctx.flushing -= 1


_installed = False


def install() -> None:
    """Listens on every Session (idempotent). Costs one context-variable read per flush outside
    an audited request."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "after_soft_rollback", _reset)
    event.listen(Engine, "after_execute", _after_execute)
    event.listen(Engine, "commit", _on_commit)
    event.listen(Engine, "rollback", _on_rollback)
    on_raw_write(_after_raw_write)
    _installed = True
