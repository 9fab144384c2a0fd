"""触客宝 (chat console): the user's conversations on the left, the open thread in the middle, the
customer's portrait on the right. `?conversation=<id>` opens one. Messages load and update as
JSON (the thread pages back with `before`), live through web/console/chat_live.py; sending goes
through conversations.chat_send inside the risk budget's write_with_budget."""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, g, render_template, request

from conversations import chat_list, chat_send, chat_thread, portrait as portrait_service, transfer as transfer_service
from conversations.chat_list import FILTERS, ListFilter
from conversations.chat_scope import account_ids_of, sees_all
from conversations.errors import ConversationError, ConversationNotFound
from conversations.models import CHANNELS
from crm.people.masking import lists_show_full
from crm.people.notifications import users_with_permission
from crm.tags.service import choices as tag_choices
from devices.budget_plan import BudgetUnavailable, write_with_budget
from web.auth.guards import current_viewer, permission_required
from web.console import chat_live
from web.console.devices_common import int_arg, read, write
from web.console.masking_filters import current_mode
from web.extensions import services

bp = Blueprint("chat", __name__)
chat_live.register(bp)


def _full() -> bool:
    return lists_show_full(current_mode())


def _json(payload, status: int = 200):
    return current_app.response_class(json.dumps(payload, ensure_ascii=False, default=chat_live._json_default),
                                      status=status, mimetype="application/json")


def _error(exc: ConversationError, status: int = 422):
    return _json({"error": "invalid", "message": exc.message, "fields": exc.errors or {}}, status)


def _filter() -> ListFilter:
    show = request.args.get("show", "")
    return ListFilter(show=show if show in FILTERS else "", account_id=int_arg(request.args.get("account")),
                      tag_id=int_arg(request.args.get("tag")), channel=request.args.get("channel", ""),
                      q=request.args.get("q", "").strip()[:50], limit=chat_list.PAGE + 1,
                      offset=max(0, (int_arg(request.args.get("page")) or 1) - 1) * chat_list.PAGE)


def colleagues() -> list[int]:
    """Who a conversation may be transferred to: users who may chat."""
    db = services().db
    return sorted(set(users_with_permission(db, "conversations.view")) | set(users_with_permission(db, "conversations.view_all")))


def _friend_link(friend) -> str:
    """The friend page of part "friends" when it exists on this build."""
    if friend is None or "friends.detail" not in current_app.view_functions:
        return ""
    from flask import url_for
    from werkzeug.routing import BuildError
    try:
        return url_for("friends.detail", friend_id=friend.id)
    except BuildError:  # its argument is named otherwise: no link rather than a broken page
        return ""


@bp.get("/chat")
@permission_required("conversations.view")
def index():
    viewer = current_viewer()
    f = _filter()
    opened = int_arg(request.args.get("conversation"))

    def load(s):
        rows = chat_list.list_conversations(s, viewer, f)
        accounts = account_ids_of(s, viewer)
        names = chat_list.account_names(s, accounts) if accounts is not None else _all_accounts(s)
        panel, history = None, []
        if opened:
            try:
                panel = portrait_service.portrait(s, viewer, opened)
                history = transfer_service.history(s, panel["conversation"])
                if panel["customer"]:
                    panel["orders"] = _orders(s, panel["customer"]["customer"].id)
            except ConversationNotFound:
                abort(404)
        return rows, names, panel, history, tag_choices(s, viewer.user_id), chat_list.unread_total(s, viewer)

    rows, accounts, panel, history, tags, unread = read(load)
    more = len(rows) > chat_list.PAGE
    rows = rows[:chat_list.PAGE]
    people = {}
    if panel is not None:
        people = read(lambda s: chat_list.user_names(s, colleagues()))
        people.pop(g.user.id, None)
    full = _full()
    return render_template("chat/index.html", rows=[chat_live.masked_conversation(r, full) for r in rows], more=more,
                           f=f, filters=FILTERS, channels=CHANNELS, accounts=accounts, tags=tags, panel=panel,
                           history=history, people=people, unread=unread, sees_all=sees_all(viewer),
                           friend_link=_friend_link(panel["friend"]) if panel else "", opened=opened,
                           page=(f.offset // chat_list.PAGE) + 1, kinds=chat_send.KINDS)


def _orders(s, customer_id: int) -> list[dict]:
    """The customer's latest orders (商品与订单), for the portrait."""
    from sqlmodel import select
    from commerce.orders.models import ORDER_STATES, SalesOrder as Order
    rows = s.exec(select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(5)).all()
    return [{"order_no": o.order_no, "status_label": ORDER_STATES.get(o.status, o.status), "total_fen": o.total_fen}
            for o in rows]


def _all_accounts(s) -> dict:
    from devices.models import WechatAccount
    from sqlmodel import select
    return {a.id: a.nickname or a.wxid for a in s.exec(select(WechatAccount).order_by(WechatAccount.id)).all()}


@bp.get("/chat/<int:conversation_id>/messages")
@permission_required("conversations.view")
def messages(conversation_id: int):
    viewer = current_viewer()
    before = int_arg(request.args.get("before"))
    try:
        conversation, rows = read(lambda s: chat_thread.thread(s, viewer, conversation_id, before,
                                                                         now=services().now()))
        pending = read(lambda s: chat_thread.pending_commands(s, conversation_id))
    except ConversationNotFound:
        abort(404)
    h = chat_live.hub()
    if pending:
        h.watch(pending)
    full = _full()
    return _json({"conversation_id": conversation.id, "seq": h.seq, "messages": [chat_live.masked_message(m, full) for m in rows],
                  "more": len(rows) >= chat_thread.PAGE})


@bp.post("/chat/<int:conversation_id>/read")
@permission_required("conversations.view")
def mark_read(conversation_id: int):
    viewer = current_viewer()
    try:
        conversation = write(lambda s: chat_thread.mark_read(s, viewer, conversation_id))
    except ConversationNotFound:
        abort(404)
    return _json({"id": conversation.id, "unread_count": conversation.unread_count})


def _send_data() -> dict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ConversationError("请求格式不正确")
        return data
    data = request.form.to_dict()
    data["at_wxids"] = request.form.getlist("at_wxids")
    return data


@bp.post("/chat/<int:conversation_id>/send")
@permission_required("conversations.view")
def send(conversation_id: int):
    svc = services()
    viewer = current_viewer()
    name = g.user.display_name or g.user.username
    try:
        data = _send_data()
        message = write_with_budget(svc.db, lambda s: chat_send.send_in_conversation(
            s, viewer, conversation_id, data, user_id=g.user.id, sender_name=name, now=svc.now(),
            settings=svc.settings),
            settings=svc.settings, redis=svc.redis, now=svc.now())
    except ConversationNotFound:
        abort(404)
    except ConversationError as exc:
        return _error(exc)
    except BudgetUnavailable as exc:
        return _json({"error": "unavailable", "message": exc.message}, 503)
    shown = read(lambda s: chat_thread.load_messages(s, [message.id], svc.now()))[0]
    if shown["status"] in chat_thread.PENDING and shown["command_id"]:
        chat_live.hub().watch({shown["command_id"]: shown["id"]}, shown["status"])
    return _json({"message": chat_live.masked_message(shown, _full())}, 201)


@bp.post("/chat/<int:conversation_id>/transfer")
@permission_required("conversations.view")
def transfer(conversation_id: int):
    from web.console.chat_portrait import back
    viewer = current_viewer()
    allowed = colleagues()
    try:
        write(lambda s: transfer_service.transfer(s, viewer, conversation_id, request.form.get("to_user_id"),
                                                  colleagues=allowed, note=request.form.get("note", ""),
                                                  now=services().now()))
    except ConversationNotFound:
        abort(404)
    except ConversationError as exc:
        return back(conversation_id, exc.message, "error")
    return back(conversation_id, "会话已转接，同事会收到站内通知", "success")


from web.console import chat_portrait  # noqa: E402,F401 - the panel's actions on this blueprint
