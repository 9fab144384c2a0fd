"""登录日志 / 操作日志 / 异常日志 (系统管理 → 系统监控): filterable lists, the rows of one write
request, an error's stack under its 参考编号, and CSV / Excel export of whatever is filtered.
Admin-only (logs.view). Values were masked when recorded (crm.audit.masking)."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, abort, render_template, request
from sqlmodel import select

from config.clock import format_local
from crm.audit import queries
from crm.audit.logins import CHANNELS, RESULTS
from crm.audit.models import ErrorLog, OperationLog
from crm.people.models import User
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, parse_local, query_args
from web.console.logs_export import FORMATS, send_table
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("logs", __name__, url_prefix="/system/logs")
ACTIONS = {"insert": "新增", "update": "修改", "delete": "删除", "bulk_insert": "批量新增", "bulk_update": "批量修改",
           "bulk_delete": "批量删除", "request": "请求（无数据变更）"}
VIA = {"console": "控制台", "api": "API"}
LOGIN_FILTERS = ("user_id", "username", "result", "ip", "since", "until")
OPERATION_FILTERS = ("user_id", "table_name", "object_id", "endpoint", "action", "ip", "since", "until")
ERROR_FILTERS = ("user_id", "reference", "exc_type", "endpoint", "since", "until")


@bp.app_template_filter("log_value")
def log_value(value) -> str:
    """A logged before/after value as a reader wants it: times in the configured zone, ∅ for none."""
    if value is None:
        return "∅"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return _when(parsed)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _filter() -> queries.LogFilter:
    a = request.args
    action = a.get("action", "")
    return queries.LogFilter(
        since=parse_local(a.get("since", "")), until=parse_local(a.get("until", ""), end_of_day=True),
        user_id=optional_int(a.get("user_id")), username=a.get("username", "")[:100],
        result=a.get("result", "") if a.get("result", "") in RESULTS else "", ip=a.get("ip", "")[:64],
        table_name=a.get("table_name", "")[:100], object_id=a.get("object_id", "")[:100],
        endpoint=a.get("endpoint", "")[:200], action=action if action in ACTIONS else "",
        exc_type=a.get("exc_type", "")[:200], reference=a.get("reference", "")[:32])


def _users(session) -> list[tuple[int, str]]:
    return [(u.id, u.display_name or u.username) for u in session.exec(select(User).order_by(User.username))]


def _export_format() -> str:
    fmt = request.args.get("export", "")
    return fmt if fmt in FORMATS else ""


def _when(value) -> str:
    return format_local(value, "%Y-%m-%d %H:%M:%S", services().settings.timezone)


def _list(stmt, extra=None):
    svc = services()
    page = page_arg()
    with svc.db.read() as s:
        rows, total = queries.page(s, stmt, page, PER_PAGE)
        users = _users(s)
        more = extra(s) if extra else {}
    return rows, total, users, page, more


def _exported(stmt, title: str, headers: list[str], cells):
    """The filtered rows as CSV/Excel when ?export= asks for it, else None (the page renders)."""
    fmt = _export_format()
    if not fmt:
        return None
    with services().db.read() as s:
        rows = queries.everything(s, stmt)
    return send_table(title, fmt, headers, (cells(r) for r in rows))


@bp.get("/logins")
@permission_required("logs.view")
def logins():
    f = _filter()
    stmt = queries.login_query(f)
    export = _exported(stmt, "登录日志", ["时间", "用户名", "用户ID", "结果", "渠道", "IP", "User-Agent", "说明"],
                       lambda r: [_when(r.created_at), r.username, r.user_id or "", RESULTS.get(r.result, r.result),
                                  CHANNELS.get(r.channel, r.channel), r.ip, r.user_agent, r.detail])
    if export is not None:
        return export
    rows, total, users, page, _ = _list(stmt)
    return render_template("logs/logins.html", rows=rows, total=total, users=users, page=page, pages=pages(total),
                           f=f, results=RESULTS, channels=CHANNELS, args=query_args(*LOGIN_FILTERS))


@bp.get("/operations")
@permission_required("logs.view")
def operations():
    f = _filter()
    stmt = queries.operation_query(f)
    export = _exported(stmt, "操作日志", ["时间", "操作人", "来源", "请求", "路由", "IP", "动作", "对象类型", "对象ID",
                                        "变更（前 → 后）", "说明", "影响行数", "状态码", "请求编号"],
                       lambda r: [_when(r.created_at), r.username, VIA.get(r.via, r.via), f"{r.method} {r.path}",
                                  r.endpoint, r.ip, ACTIONS.get(r.action, r.action), r.table_name, r.object_id,
                                  json.dumps(r.changes, ensure_ascii=False) if r.changes else "", r.summary,
                                  "" if r.rowcount is None else r.rowcount, r.status_code or "", r.request_id])
    if export is not None:
        return export
    rows, total, users, page, more = _list(stmt, lambda s: {"tables": queries.object_tables(s)})
    return render_template("logs/operations.html", rows=rows, total=total, users=users, page=page, pages=pages(total),
                           f=f, actions=ACTIONS, via=VIA, tables=more["tables"], args=query_args(*OPERATION_FILTERS))


@bp.get("/operations/<request_id>")
@permission_required("logs.view")
def operation_request(request_id: str):
    with services().db.read() as s:
        rows = list(s.exec(select(OperationLog).where(OperationLog.request_id == request_id[:32])
                           .order_by(OperationLog.id)).all())
    if not rows:
        abort(404)
    return render_template("logs/operation_request.html", rows=rows, first=rows[0], actions=ACTIONS, via=VIA)


@bp.get("/errors")
@permission_required("logs.view")
def errors():
    f = _filter()
    stmt = queries.error_query(f)
    export = _exported(stmt, "异常日志", ["参考编号", "时间", "请求", "路由", "用户", "IP", "异常类型", "异常信息"],
                       lambda r: [r.reference, _when(r.created_at), f"{r.method} {r.path}", r.endpoint, r.username,
                                  r.ip, r.exc_type, r.message])
    if export is not None:
        return export
    rows, total, users, page, _ = _list(stmt)
    return render_template("logs/errors.html", rows=rows, total=total, users=users, page=page, pages=pages(total),
                           f=f, args=query_args(*ERROR_FILTERS))


@bp.get("/errors/<reference>")
@permission_required("logs.view")
def error_detail(reference: str):
    with services().db.read() as s:
        row = s.exec(select(ErrorLog).where(ErrorLog.reference == reference.strip().upper()[:32])).first()
    if row is None:
        abort(404)
    return render_template("logs/error_detail.html", row=row)
