"""The people service in one import: users and login, roles, API tokens, in-site notifications.

Views and other packages call `crm.people.service.<function>`; the functions live in small
modules by topic and every bad input raises `PeopleError` with a Chinese message.
"""
from __future__ import annotations

from crm.people.errors import PeopleError
from crm.people.login_throttle import LoginThrottle, LoginThrottled
from crm.people.notifications import (list_notifications, mark_read, notify, notify_permission,
                                      unread_count, users_with_permission)
from crm.people.roles import create_role, delete_role, ensure_builtin_roles, get_role, list_roles, update_role
from crm.people.sessions import end_session, list_sessions, resolve_session, revoke_session, start_session
from crm.people.tokens import create_token, list_tokens, resolve_token, revoke_token
from crm.people.users import (authenticate, change_password, create_user, get_user, get_user_by_username,
                              list_users, load_identity, reset_password, roles_of, set_enabled,
                              update_user)

__all__ = [
    "PeopleError",
    "authenticate", "change_password", "create_user", "get_user", "get_user_by_username",
    "list_users", "load_identity", "reset_password", "roles_of", "set_enabled", "update_user",
    "LoginThrottle", "LoginThrottled",
    "end_session", "list_sessions", "resolve_session", "revoke_session", "start_session",
    "create_role", "delete_role", "ensure_builtin_roles", "get_role", "list_roles", "update_role",
    "create_token", "list_tokens", "resolve_token", "revoke_token",
    "list_notifications", "mark_read", "notify", "notify_permission", "unread_count",
    "users_with_permission",
]
