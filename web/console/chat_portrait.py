"""The portrait panel's actions in 触客宝 (打标签, 记跟进, 建任务, 关联客户): forms posted from the
right-hand panel, handled by conversations.portrait through the crm services; back to the chat."""
from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, redirect, request, url_for

from conversations import portrait
from conversations.errors import ConversationNotFound
from crm.errors import CrmError
from engine.friend_links import link_friends_to_customers
from web.auth.guards import current_viewer, permission_required
from web.console.chat import bp
from web.console.devices_common import write
from web.extensions import services


def back(conversation_id: int, message: str, tone: str):
    flash(message, tone)
    return redirect(url_for("chat.index", conversation=conversation_id))


def _act(conversation_id: int, fn, done: str):
    try:
        write(fn)
    except ConversationNotFound:
        abort(404)
    except CrmError as exc:
        details = "；".join(str(v) for v in (exc.errors or {}).values() if str(v) not in exc.message)
        return back(conversation_id, exc.message + (f"：{details}" if details else ""), "error")
    return back(conversation_id, done, "success")


def _date(raw):
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return "bad"


@bp.post("/chat/<int:conversation_id>/tags")
@permission_required("conversations.view", "tags.apply")
def tag(conversation_id: int):
    viewer, svc = current_viewer(), services()
    remove = request.form.get("action") == "remove"
    return _act(conversation_id, lambda s: portrait.tag(s, viewer, conversation_id, request.form.getlist("tag_ids"),
                                                        remove=remove, now=svc.now(), tz=svc.settings.timezone),
                "已移除标签" if remove else "已打标签")


@bp.post("/chat/<int:conversation_id>/follow-up")
@permission_required("conversations.view", "worktasks.manage")
def follow_up(conversation_id: int):
    viewer, svc = current_viewer(), services()
    data = request.form.to_dict()
    data["next_follow_on"] = _date(data.get("next_follow_on"))
    return _act(conversation_id, lambda s: portrait.follow_up(s, viewer, conversation_id, data, now=svc.now(),
                                                              tz=svc.settings.timezone), "跟进记录已保存")


@bp.post("/chat/<int:conversation_id>/task")
@permission_required("conversations.view", "worktasks.manage")
def task(conversation_id: int):
    viewer, svc = current_viewer(), services()
    data = request.form.to_dict()
    raw = data.get("deadline") or ""
    try:
        data["deadline"] = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        data["deadline"] = raw  # crm.sales.tasks names it: 截止时间无效
    return _act(conversation_id, lambda s: portrait.new_task(s, viewer, conversation_id, data, now=svc.now()),
                "任务已创建")


@bp.post("/chat/<int:conversation_id>/link")
@permission_required("conversations.view", "customers.manage")
def link(conversation_id: int):
    viewer = current_viewer()
    if request.form.get("mode") == "auto":  # 按手机号/微信号自动关联 (the 好友 page's matcher)
        def auto(s):
            portrait.get_conversation(s, viewer, conversation_id)
            linked = link_friends_to_customers(s)
            return linked
        try:
            linked = write(auto)
        except ConversationNotFound:
            abort(404)
        return back(conversation_id, f"已按手机号/微信号关联 {linked} 位好友" if linked else "没有找到手机号或微信号匹配的客户",
                    "success" if linked else "warning")
    customer_id = request.form.get("customer_id")
    if not (customer_id or "").strip().isdigit():
        return back(conversation_id, "请填写客户编号", "error")
    return _act(conversation_id, lambda s: portrait.link_customer(s, viewer, conversation_id, customer_id),
                "已关联客户")
