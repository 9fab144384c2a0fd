"""Which conversations and accounts a person may use, for 快捷回复 and 消息群发: the one rule of 触客宝
(conversations.chat_scope) — conversations.view_all sees everything; conversations.view sees the
conversations of the WeChat accounts assigned to them and those transferred to them; another's
conversation is "not found", like an unknown id. Here it is also phrased as a clause on accounts."""
from __future__ import annotations

from sqlalchemy import false, true

from conversations.chat_scope import get_conversation as load_conversation  # noqa: F401 - one rule
from conversations.chat_scope import sees_all
from conversations.chat_scope import visible as conversations_clause  # noqa: F401 - one rule
from crm.scope import Viewer
from devices.models import WechatAccount


def own_accounts(viewer: Viewer):
    """A boolean clause on WechatAccount: the accounts `viewer` works with."""
    if sees_all(viewer):
        return true()
    if viewer.user_id is None:
        return false()
    return WechatAccount.owner_user_id == viewer.user_id
