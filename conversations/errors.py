"""Errors of 会话中心. Each is a crm.errors.CrmError, so the console shows its Chinese message next to
the field it names and the API answers it in the one error envelope (422; NotFound 404)."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class ConversationError(CrmError):
    """Bad input or a move the conversation does not allow (a reply outside 公众号's 48 h window)."""


class ConversationNotFound(NotFound):
    pass
