"""操作日志 without per-view calls: SQLAlchemy events record every object a write request changes,
in the same transaction as the change (a rollback takes its log rows with it).

The web layer opens an `AuditContext` for each write request (`activate`) and closes it after;
outside one (cron jobs, the dispatcher, public forms, sign-in) nothing is recorded. Per flush,
`after_flush` reads each new / changed / deleted object's column history and inserts one
operation_log row per object through the flushing connection. Every other write statement — an
ORM bulk UPDATE/DELETE, a Core statement on the session's connection, text() SQL — is caught by
the engine's `after_execute` and logged on the same connection with its table, condition,
values and rowcount. `logged(session, request_id)` tells the web layer whether anything
committed, so a write that changed nothing still leaves one request-level row.
"""
from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy import Delete, Insert, Update, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from config.clock import utcnow
from config.pii import mask_text
from crm.audit.masking import REDACTED, column_value, loggable, sensitive_name
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


def _object_row(ctx, actor, obj, action: str) -> Optional[dict]:
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.persist_selectable
    if getattr(table, "name", None) in AUDIT_TABLES:
        return None
    changes = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        hist = state.attrs[prop.key].history
        if action == "update":
            if not hist.has_changes():
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
        elif action == "insert":
            before, after = None, state.dict.get(prop.key)
            if after is None:
                continue
        else:
            before, after = state.dict.get(prop.key, hist.deleted[0] if hist.deleted else None), None
        changes[column.key] = [column_value(column, before), column_value(column, after)]
    if action == "update" and (not changes or set(changes) <= QUIET_COLUMNS.get(table.name, frozenset())):
        return None
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
    _write(session, ctx, rows)


def _write(session, ctx, rows) -> None:
    if rows:
        session.connection().execute(_OPS.insert(), rows).close()


_TEXT_WRITE = re.compile(r"^\s*(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.I)


def _shown(name: str, value):
    return REDACTED if sensitive_name(name) else loggable(value)


def _statement_summary(statement, params) -> str:
    parts = []
    where = getattr(statement, "whereclause", None)
    if where is not None:
        compiled = where.compile()
        parts.append("条件: " + str(compiled))
        if compiled.params:
            parts.append("参数: " + str({k: _shown(k, v) for k, v in compiled.params.items()}))
    elif isinstance(statement, TextClause):
        parts.append("语句: " + " ".join(statement.text.split())[:600])
    values = getattr(statement, "_values", None)
    if values:
        parts.append("值: " + str({getattr(k, "key", str(k)): _shown(getattr(k, "key", str(k)),
                                                                     getattr(v, "value", "<表达式>"))
                                   for k, v in values.items()}))
    if isinstance(params, dict) and params:
        parts.append("参数: " + str({k: _shown(k, v) for k, v in params.items()}))
    elif isinstance(params, (list, tuple)) and params:
        parts.append(f"{len(params)} 组参数")
    return mask_text("；".join(parts))[:2000]


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


def logged(session, request_id: str) -> bool:
    """Whether any operation_log row of the request was committed."""
    return session.execute(select(_OPS.c.id).where(_OPS.c.request_id == request_id).limit(1)).first() is not None


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
    rows = [ctx.row(actor, action=action, table_name=name[:100], rowcount=rowcount,
                    summary=_statement_summary(clauseelement, multiparams or params))]
    ctx.flushing += 1  # our own insert below must not log itself
    try:
        conn.execute(_OPS.insert(), rows).close()
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
    _installed = True
