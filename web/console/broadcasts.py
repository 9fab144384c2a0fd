"""消息群发 (1:1): the list, a new 群发 (target by tag / 客户群 / 微信号 with a live recipient count,
content, now or scheduled, gaps), the per-recipient delivery report with filters, and cancel.
A 业务员 holding broadcasts.manage reaches only their own accounts' friends and sees their own 群发."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import or_
from sqlmodel import col, func, select

from config.clock import as_utc
from conversations.broadcast import content as contents, runner, service
from conversations.broadcast.models import (BROADCAST_STATES, RECIPIENT_STATES, SCENE_GAPS, SCENES, TARGET_MODES,
                                            BroadcastRecipient)
from conversations.errors import ConversationError, ConversationNotFound
from conversations.quick_replies import service as replies
from conversations.quick_replies.access import own_accounts
from crm.tags.models import Tag
from devices.models import ContentItem, Material, WechatAccount
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, json_error, page_arg, pages, parse_local, query_args, read
from web.extensions import services

bp = Blueprint("broadcasts", __name__)
MANAGE = "broadcasts.manage"
PER_PAGE = 50


@bp.get("/broadcasts")
@permission_required(MANAGE)
def index():
    status = request.args.get("status") or None
    page, viewer = page_arg(), current_viewer()

    def load(s):
        rows, total = service.list_broadcasts(s, viewer, status, page, 20)
        return rows, total, {r.id: service.counts(s, r.id) for r in rows}, {r.id: contents.summary(s, r.content) for r in rows}
    rows, total, counts, summaries = read(load)
    return render_template("broadcasts/list.html", rows=rows, total=total, counts=counts, summaries=summaries,
                           status=status, states=BROADCAST_STATES, scenes=SCENES, page=page, pages=pages(total))


def _ints(name: str) -> list:
    return [v for v in request.form.getlist(name) if v.strip()]


def _form() -> dict:
    f = request.form
    mode = f.get("mode", "tags")
    target = {"mode": mode, "tag_ids": _ints("tag_ids"), "labels": f.get("labels", ""),
              "audience": {"include_tags": _ints("include_tags"), "exclude_tags": _ints("exclude_tags")},
              "account_ids": _ints("account_ids")}
    content = {k: f.get(k, "") for k in ("msg_type", "text", "material_id", "url", "title", "description", "appid",
                                          "pagepath", "content_item_id", "quick_reply_id")}
    when = f.get("scheduled_at", "").strip() if f.get("send_mode") == "later" else ""
    scheduled = parse_local(when) if when else None
    data = {"name": f.get("name", ""), "scene": f.get("scene", "activity"), "target": target, "content": content,
            "gap_min_seconds": f.get("gap_min_seconds", ""), "gap_max_seconds": f.get("gap_max_seconds", ""),
            "scheduled_at": scheduled}
    if when and scheduled is None:
        data["scheduled_at"] = "bad"
    return data


def _choices(s, viewer):
    tags = list(s.exec(select(Tag).where(Tag.enabled == True, or_(col(Tag.owner_id).is_(None),  # noqa: E712
                                                                   Tag.owner_id == viewer.user_id)).order_by(Tag.name)))
    accounts = list(s.exec(select(WechatAccount).where(own_accounts(viewer)).order_by(WechatAccount.id)))
    materials = list(s.exec(select(Material).order_by(col(Material.id).desc()).limit(200)))
    items = list(s.exec(select(ContentItem).where(ContentItem.enabled == True, ContentItem.kind != "moment")  # noqa: E712
                        .order_by(col(ContentItem.id).desc()).limit(200)))
    quick = replies.search(s, viewer, replies.ReplyFilter(), 200)
    return {"tags": tags, "accounts": accounts, "materials": materials, "items": items, "quick": quick}


def _page(values, errors, status=200):
    viewer = current_viewer()
    choices = read(lambda s: _choices(s, viewer))
    return render_template("broadcasts/form.html", values=values, errors=errors, scenes=SCENES, modes=TARGET_MODES,
                           types=contents.CONTENT_TYPES, scene_gaps=SCENE_GAPS, **choices), status


@bp.route("/broadcasts/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def new():
    if request.method != "POST":
        return _page({"scene": "activity", "mode": "tags", "msg_type": "text", "send_mode": "now"}, {})
    data, svc, viewer = _form(), services(), current_viewer()
    try:
        with svc.db.write() as s:
            row = service.create(s, data, viewer, svc.now(), svc.settings.timezone)
            bid, due = row.id, as_utc(row.scheduled_at) <= as_utc(svc.now())
    except ConversationError as exc:
        values = {**request.form.to_dict(), "tag_ids": _ints("tag_ids"), "account_ids": _ints("account_ids"),
                  "include_tags": _ints("include_tags"), "exclude_tags": _ints("exclude_tags")}
        return _page(values, error_map(exc), 400)
    if due:  # 立即发送: plan the sends now (the minute's cron job would resume an interrupted run)
        runner.run(svc, bid, runner.INLINE_SECONDS)
    flash("群发已创建" + ("，正在按间隔发送" if due else "，将在设定时间发送"), "success")
    return redirect(url_for("broadcasts.detail", broadcast_id=bid))


@bp.post("/broadcasts/preview")
@permission_required(MANAGE)
def preview():
    """JSON {"count", "accounts"}: how many friends the form's target reaches now."""
    svc = services()
    try:
        out = read(lambda s: service.preview_count(s, _form()["target"], current_viewer(), svc.now(),
                                                   svc.settings.timezone))
    except ConversationError as exc:
        return json_error(exc)
    return jsonify(out)


@bp.get("/broadcasts/<int:broadcast_id>")
@permission_required(MANAGE)
def detail(broadcast_id: int):
    viewer, page = current_viewer(), page_arg()
    state = request.args.get("state") or None
    q = (request.args.get("q") or "").strip()[:50]

    svc = services()
    try:  # the report reads each send's present state from its command first (exact, not a cache)
        with svc.db.write() as s:
            runner.refresh(s, service.get_broadcast(s, broadcast_id, viewer).id, as_utc(svc.now()))
    except ConversationNotFound:
        abort(404)

    def load(s):
        row = service.get_broadcast(s, broadcast_id, viewer)
        stmt = select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == row.id)
        if state in RECIPIENT_STATES:
            stmt = stmt.where(BroadcastRecipient.status == state)
        if q:
            stmt = stmt.where(or_(col(BroadcastRecipient.nickname).contains(q), col(BroadcastRecipient.wxid).contains(q),
                                  col(BroadcastRecipient.reason).contains(q)))
        total = s.exec(select(func.count()).select_from(stmt.subquery())).one()
        recs = list(s.exec(stmt.order_by(BroadcastRecipient.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
        accounts = {a.id: a.nickname or a.wxid for a in s.exec(select(WechatAccount).where(
            col(WechatAccount.id).in_({r.account_id for r in recs})))} if recs else {}
        return row, service.counts(s, row.id), recs, int(total), accounts, contents.summary(s, row.content)
    row, counts, recs, total, accounts, summary = read(load)
    return render_template("broadcasts/detail.html", row=row, counts=counts, recs=recs, total=total, accounts=accounts,
                           summary=summary, state=state, q=q, page=page, pages=pages(total, PER_PAGE),
                           states=BROADCAST_STATES, recipient_states=RECIPIENT_STATES, scenes=SCENES, modes=TARGET_MODES,
                           args=query_args("state", "q"))


@bp.post("/broadcasts/<int:broadcast_id>/cancel")
@permission_required(MANAGE)
def cancel(broadcast_id: int):
    svc = services()
    try:
        with svc.db.write() as s:
            stopped = service.cancel(s, broadcast_id, current_viewer(), svc.now())
    except ConversationNotFound:
        abort(404)
    except ConversationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("broadcasts.detail", broadcast_id=broadcast_id))
    flash(f"群发已取消，{stopped} 位好友不再发送", "success")
    return redirect(url_for("broadcasts.detail", broadcast_id=broadcast_id))
