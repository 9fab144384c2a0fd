"""操作日志: 分组日志 / 分配日志 / 回收历史 / 转移记录 as tabs, filterable by customer, salesperson,
group, operation and period; without a period, today in the configured time zone."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select

from crm.groups.logs import ACTIONS, KINDS, LogFilter, list_logs, period, transfer_records
from crm.groups.models import CustomerGroup
from crm.people.models import User
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import page_arg, pages, parse_local, query_args
from web.extensions import services

bp = Blueprint("crmlogs", __name__)
FILTERS = ("kind", "action", "customer", "user_id", "group_id", "since", "until")


@bp.get("/crm-logs")
@permission_required("crmlogs.view")
def index():
    svc = services()
    tz = svc.settings.timezone
    args = request.args
    kind = args.get("kind") if args.get("kind") in KINDS else "group"
    f = LogFilter(kind=kind, action=args.get("action") or "", customer=args.get("customer") or "",
                  user_id=args.get("user_id", type=int), group_id=args.get("group_id", type=int),
                  since=parse_local(args.get("since", "")), until=parse_local(args.get("until", ""), end_of_day=True),
                  page=page_arg(), viewer=current_viewer())
    with svc.db.read() as s:
        if kind == "transfer":
            rows, total = transfer_records(s, f, svc.now(), tz)
        else:
            rows, total = list_logs(s, f, svc.now(), tz)
        users = [(u.id, u.display_name or u.username) for u in s.scalars(select(User).order_by(User.username))]
        groups = list(s.execute(select(CustomerGroup.id, CustomerGroup.name).order_by(CustomerGroup.position)))
    start, end = period(f, svc.now(), tz)
    return render_template("crmlogs/index.html", rows=rows, total=total, f=f, kinds=KINDS,
                           actions=ACTIONS.get(kind, {}), users=users, groups=groups, pages=pages(total),
                           args=query_args(*FILTERS), default_today=not args.get("since") and not args.get("until"))
