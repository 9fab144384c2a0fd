"""消息搜索 (/chat/search): full-text search over the stored chat messages a user may read, with
account / direction / date filters; each hit shows a highlighted snippet and opens its conversation
in 触客宝 (or the friend's page until the chat console exists)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from conversations import search as service
from conversations.errors import ConversationError
from web.auth.guards import current_viewer, permission_required
from web.console.devices_common import read
from web.console.forms_common import error_map, page_arg, query_args
from web.console.masking_filters import mask_list
from web.extensions import services

bp = Blueprint("chat_search", __name__)
PER_PAGE = 20


def hit_url(hit) -> str | None:
    conversation = hit.conversation
    if "chat.index" in current_app.view_functions:
        return url_for("chat.index", conversation=conversation.id)
    if conversation.friend_id:
        return url_for("friends.detail", friend_id=conversation.friend_id)
    return None


@bp.get("/chat/search")
@permission_required("conversations.view")
def index():
    viewer, q = current_viewer(), request.args.get("q", "").strip()
    tz = services().settings.timezone
    result, errors = None, {}

    def load(s):
        nonlocal result, errors
        accounts = service.searchable_accounts(s, viewer)
        if q or request.args.get("searched"):
            try:
                flt = service.parse_filter(request.args)
                result = service.search_messages(s, viewer, q, flt, page_arg(), PER_PAGE, tz=tz, mask=mask_list)
            except ConversationError as exc:
                errors = error_map(exc)
        return accounts

    accounts = read(load)
    return render_template("chat_search/index.html", q=q, result=result, errors=errors, accounts=accounts,
                           values=request.args, hit_url=hit_url,
                           args=query_args("q", "account", "conversation", "direction", "since", "until"))
