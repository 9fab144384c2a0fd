"""好友详情 (/friends/<id>): profile, labels, linked customer and its tags, groups in common, the
conversation, 朋友圈; link the friend to a customer (picked by name / 微信号), unlink, or match
automatically by phone / 微信号 as 微信号管理's 关联客户档案 does. Object scope lives in
conversations.friend_profile: another's friend is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from conversations import friend_profile as service
from conversations.errors import ConversationError
from devices.friend_requests_admin import SOURCE_LABELS
from engine.friend_links import link_friends_to_customers
from web.auth.guards import current_viewer, permission_required
from web.console.devices_common import read, write

bp = Blueprint("friends", __name__)


def _chat_url(conversation_id):
    if conversation_id is None or "chat.index" not in current_app.view_functions:
        return None
    return url_for("chat.index", conversation=conversation_id)


@bp.get("/friends/<int:friend_id>")
@permission_required("accounts.view")
def detail(friend_id: int):
    viewer = current_viewer()
    keyword = request.args.get("customer_q", "").strip()
    try:
        profile, choices = read(lambda s: (service.friend_profile(s, viewer, friend_id),
                                           service.customer_choices(s, viewer, keyword)))
    except service.FriendNotFound:
        abort(404)
    conversation = profile.conversation
    return render_template("friends/detail.html", p=profile, f=profile.friend, choices=choices, keyword=keyword,
                           chat_url=_chat_url(conversation.id if conversation else None),
                           source_labels=SOURCE_LABELS)


def _back(friend_id: int):
    return redirect(url_for("friends.detail", friend_id=friend_id))


@bp.post("/friends/<int:friend_id>/link")
@permission_required("accounts.view", "customers.manage")
def link(friend_id: int):
    viewer = current_viewer()
    try:
        write(lambda s: service.link_customer(s, viewer, friend_id, request.form.get("customer_id", "").strip()))
    except service.FriendNotFound:
        abort(404)
    except ConversationError as exc:
        flash(f"关联失败：{exc.message}", "error")
        return _back(friend_id)
    flash("已关联客户档案", "success")
    return _back(friend_id)


@bp.post("/friends/<int:friend_id>/unlink")
@permission_required("accounts.view", "customers.manage")
def unlink(friend_id: int):
    viewer = current_viewer()
    try:
        write(lambda s: service.unlink_customer(s, viewer, friend_id))
    except service.FriendNotFound:
        abort(404)
    flash("已解除与客户档案的关联", "success")
    return _back(friend_id)


@bp.post("/friends/<int:friend_id>/match")
@permission_required("accounts.manage")
def match(friend_id: int):
    """The automatic match (phone, then 微信号) for this one friend — the bulk 关联客户档案's rule."""
    viewer = current_viewer()

    def run(s):
        friend = service.load_friend(s, viewer, friend_id)
        linked = link_friends_to_customers(s, friend_ids=[friend.id])
        service.follow_links(s, friend.id)
        return linked

    try:
        linked = write(run)
    except service.FriendNotFound:
        abort(404)
    flash("已按手机号/微信号关联到客户档案" if linked else "没有找到手机号或微信号相同的客户", "success" if linked else "info")
    return _back(friend_id)
