"""社群列表: every group the viewer may see with account, 群主 and 负责人 by name, members, today's and
7-day messages, speakers, 潜水率, last message and tags; filters (微信号, 负责人, 7-day activity
range, tag, name) and paging; a group's page has its 30-day trend, top speakers and tags. A 业务员
sees the groups of the accounts assigned to them; another's group is 404 like an unknown id.
群活监控 (alerts and rules) is in community_alerts.py on the same blueprint."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlmodel import col, select

from community.activity.days import day_of
from community.activity.figures import top_speakers, trend
from community.errors import CommunityError, CommunityNotFound
from community.groups.listing import SORTS, GroupFilter, describe, list_groups
from community.groups.models import GroupTag
from community.groups.scope import groups_clause, load_group
from crm.people.models import User
from devices.models import ChatGroup, WechatAccount
from web.auth.guards import current_viewer, has_permission, permission_required
from web.console.forms_common import page_arg, read, write
from web.extensions import services

bp = Blueprint("community", __name__)
PER_PAGE = 20
MAX_TAGS = 10


def _today():
    svc = services()
    return day_of(svc.now(), svc.settings.timezone)


def _int(name: str):
    raw = (request.args.get(name) or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _filter() -> GroupFilter:
    sort = request.args.get("sort") or "messages"
    return GroupFilter(account_id=_int("account"), owner_user_id=_int("owner"), tag=(request.args.get("tag") or "").strip()[:32],
                       min_messages=_int("min_messages"), max_messages=_int("max_messages"),
                       q=(request.args.get("q") or "").strip()[:64], sort=sort if sort in SORTS else "messages")


def _choices(session, viewer):
    accounts = session.exec(select(WechatAccount).where(col(WechatAccount.id).in_(
        select(ChatGroup.account_id).where(groups_clause(viewer)))).order_by(WechatAccount.id)).all()
    owner_ids = {a.owner_user_id for a in accounts if a.owner_user_id}
    owners = session.exec(select(User).where(col(User.id).in_(owner_ids)).order_by(User.id)).all() if owner_ids else []
    tags = session.exec(select(GroupTag.name).where(col(GroupTag.group_id).in_(
        select(ChatGroup.id).where(groups_clause(viewer)))).distinct().order_by(GroupTag.name)).all()
    return ([(a.id, a.nickname or a.alias or f"微信号 #{a.id}") for a in accounts],
            [(u.id, u.display_name or u.username) for u in owners], [(t, t) for t in tags])


@bp.get("/community/groups")
@permission_required("community.view")
def groups():
    viewer, flt, page = current_viewer(), _filter(), page_arg()
    low, high = flt.min_messages, flt.max_messages
    error = "近7天消息数的下限不能大于上限" if low is not None and high is not None and low > high else ""

    def load(s):
        rows, total = ([], 0) if error else list_groups(s, viewer, flt, _today(), page, PER_PAGE)
        return rows, total, _choices(s, viewer)

    rows, total, (accounts, owners, tags) = read(load)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("community/groups.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), args=args, accounts=accounts, owners=owners,
                           tags=tags, sorts=SORTS, error=error)


def _trend_chart(days: list[dict]) -> dict:
    labels = [d["day"][5:] for d in days]
    return {"tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "grid": {"left": 48, "right": 48, "top": 36, "bottom": 28},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": [{"type": "value", "name": "消息"}, {"type": "value", "name": "人数"}],
            "series": [{"name": "消息数", "type": "bar", "data": [d["messages"] for d in days]},
                       {"name": "发言人数", "type": "line", "yAxisIndex": 1, "data": [d["speakers"] for d in days]},
                       {"name": "入群", "type": "line", "yAxisIndex": 1, "data": [d["joins"] for d in days]},
                       {"name": "退群", "type": "line", "yAxisIndex": 1, "data": [d["quits"] for d in days]}]}


@bp.get("/community/groups/<int:group_id>")
@permission_required("community.view")
def group(group_id: int):
    viewer, today = current_viewer(), _today()

    def load(s):
        g = load_group(s, viewer, group_id)
        return describe(s, [g.id], today)[0], trend(s, g.id, today, 30), top_speakers(s, g.id, today, 7)

    try:
        row, days, top = read(load)
    except CommunityNotFound:
        abort(404)
    return render_template("community/group.html", g=row, chart=_trend_chart(days), top=top,
                           can_manage=has_permission("community.manage"))


@bp.post("/community/groups/<int:group_id>/tags")
@permission_required("community.manage")
def group_tags(group_id: int):
    names = []
    for part in (request.form.get("tags") or "").replace("，", ",").split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    viewer = current_viewer()

    def save(s):
        g = load_group(s, viewer, group_id)
        if len(names) > MAX_TAGS or any(len(n) > 32 for n in names):
            raise CommunityError(f"每个群最多 {MAX_TAGS} 个标签，每个标签最多 32 个字")
        for tag in s.exec(select(GroupTag).where(GroupTag.group_id == g.id)):
            if tag.name not in names:
                s.delete(tag)
        have = set(s.exec(select(GroupTag.name).where(GroupTag.group_id == g.id)).all())
        s.add_all([GroupTag(group_id=g.id, name=n) for n in names if n not in have])

    try:
        write(save)
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        flash(exc.message, "error")
        return redirect(url_for("community.group", group_id=group_id))
    flash("已保存群标签" if names else "已清空群标签", "success")
    return redirect(url_for("community.group", group_id=group_id))


from web.console import community_alerts  # noqa: E402,F401 - 群活监控 routes on this blueprint
