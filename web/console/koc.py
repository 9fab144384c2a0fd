"""KOC 管理 (koc.manage): mark customers or staff KOC, link the groups they lead, give tasks
(发起话题 / 组织活动 / 发起打卡) and check them against the group's messages, see each KOC's
earnings board, and hand out (or reset) their signed H5 link."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from community.errors import CommunityError, CommunityNotFound
from community.koc import board as koc_board
from community.koc import checkins, links, roster, tasks
from community.koc.models import TASK_KINDS, TASK_STATES, KocTask
from crm.people.models import User
from devices.models import ChatGroup
from web.auth.guards import permission_required
from web.console.forms_common import error_map, parse_local, read, selected_ids, write
from web.console.lead_posters import public_base_url
from web.extensions import runtime
from web.input_limits import optional_int

bp = Blueprint("koc", __name__)
WINDOWS = {7: "近 7 天", 30: "近 30 天", 90: "近 90 天"}


def h5_url(koc) -> str:
    return f"{public_base_url()}/k/{links.token_for(current_app.secret_key, koc)}"


def _page(errors=None, values=None, status=200, koc_id=None):
    rt = runtime()
    now = rt.services.now()
    days = optional_int(request.args.get("days")) or 30
    days = days if days in WINDOWS else 30
    koc_id = koc_id or optional_int(request.args.get("koc"))

    def load(s):
        rows = roster.listing(s)
        chosen = next((r for r in rows if r["koc"].id == koc_id), None) if koc_id else None
        detail = None
        if chosen:
            k = chosen["koc"]
            detail = {"board": koc_board.board(s, k, now - timedelta(days=days), now), "tasks": tasks.list_for(s, k.id),
                      "checkins": checkins.started_in(s, k.id), "url": h5_url(k) if k.active else ""}
        groups = s.exec(select(ChatGroup).order_by(ChatGroup.name)).all()
        users = s.exec(select(User).where(User.enabled == True).order_by(User.username)).all()  # noqa: E712
        return rows, chosen, detail, groups, users

    write(lambda s: tasks.check(s, now))  # open tasks are checked against the latest messages on every view
    rows, chosen, detail, groups, users = read(load)
    if koc_id and chosen is None:
        abort(404)
    return render_template("koc/index.html", rows=rows, chosen=chosen, detail=detail,
                           group_choices=[(grp.id, grp.name or grp.chatroom_id) for grp in groups],
                           user_choices=[(u.id, u.display_name or u.username) for u in users],
                           kinds=TASK_KINDS, states=TASK_STATES, windows=WINDOWS, days=days, errors=errors or {},
                           values=values or {}), status


@bp.get("/koc")
@permission_required("koc.manage")
def index():
    return _page()


@bp.post("/koc/mark")
@permission_required("koc.manage")
def mark():
    values = {k: request.form.get(k, "").strip() for k in ("customer_id", "user_id", "wxid")}
    rt = runtime()
    try:
        koc = write(lambda s: roster.mark(s, customer_id=optional_int(values["customer_id"]),
                                          user_id=optional_int(values["user_id"]), wxid=values["wxid"],
                                          operator_id=g.user.id, now=rt.services.now(), tz=rt.settings.timezone))
    except CommunityError as exc:
        return _page(error_map(exc), values, 400)
    flash(f"已将 {koc.name} 设为 KOC" + ("，并打上客户标签「KOC」" if koc.customer_id else ""), "success")
    return redirect(url_for("koc.index", koc=koc.id))


@bp.post("/koc/<int:koc_id>/unmark")
@permission_required("koc.manage")
def unmark(koc_id: int):
    rt = runtime()
    try:
        koc = write(lambda s: roster.unmark(s, koc_id, g.user.id, rt.services.now(), rt.settings.timezone))
    except CommunityNotFound:
        abort(404)
    flash(f"已取消 {koc.name} 的 KOC 身份，H5 链接已失效", "success")
    return redirect(url_for("koc.index"))


@bp.post("/koc/<int:koc_id>/groups")
@permission_required("koc.manage")
def set_groups(koc_id: int):
    ids = selected_ids("group_ids")
    try:
        write(lambda s: roster.set_groups(s, koc_id, ids, runtime().services.now()))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _page(error_map(exc), {"group_ids": ids}, 400, koc_id=koc_id)
    flash(f"已关联 {len(ids)} 个群", "success")
    return redirect(url_for("koc.index", koc=koc_id))


@bp.post("/koc/<int:koc_id>/link")
@permission_required("koc.manage")
def reset_link(koc_id: int):
    import secrets

    def reset(s):
        koc = roster.get(s, koc_id)
        koc.link_nonce = secrets.token_hex(8)
        s.add(koc)
    try:
        write(reset)
    except CommunityNotFound:
        abort(404)
    flash("已重置 H5 链接，旧链接不再可用", "success")
    return redirect(url_for("koc.index", koc=koc_id))


@bp.post("/koc/<int:koc_id>/tasks")
@permission_required("koc.manage")
def new_task(koc_id: int):
    f = request.form
    values = {k: f.get(k, "").strip() for k in ("kind", "title", "group_id", "keyword", "min_chars", "min_replies",
                                               "due_at", "note")}
    data = {**values, "group_id": optional_int(values["group_id"]), "due_at": parse_local(values["due_at"])}
    now = runtime().services.now()
    try:
        task = write(lambda s: tasks.create(s, roster.get(s, koc_id), data, operator_id=g.user.id, now=now))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _page(error_map(exc), values, 400, koc_id=koc_id)
    flash(f"已下发任务「{task.title}」", "success")
    return redirect(url_for("koc.index", koc=koc_id))


@bp.post("/koc/tasks/<int:task_id>/done")
@permission_required("koc.manage")
def task_done(task_id: int):
    now = runtime().services.now()
    try:
        task = write(lambda s: tasks.mark_done(s, task_id, g.user.id, request.form.get("note", "")[:200], now))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        flash(exc.message, "error")
        return redirect(url_for("koc.index", koc=read(lambda s: s.get(KocTask, task_id)).koc_id))
    flash("已人工确认完成", "success")
    return redirect(url_for("koc.index", koc=task.koc_id))
