"""The signed-in user of a console request.

The Flask session cookie holds only a random session token ("sid"); the auth_session row behind
it (crm.people.sessions) decides on every request whether the sign-in is still live. Logout
revokes that row, so a copy of the cookie stops working too; a password change, an admin's reset
and disabling the account revoke all of the user's rows.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from flask import g, redirect, request, session, url_for

from crm.people import service as people
from web.extensions import services

# What a user who must change their password may still reach.
_PASSWORD_GATE_OPEN = {"auth.password", "auth.logout", "auth.login", "static"}


def login_user(user) -> None:
    # A fresh session on login: nothing set before authentication (fixation) survives.
    session.clear()
    svc = services()
    session["sid"] = people.start_session(svc.db, user.id, request.remote_addr or "",
                                          request.headers.get("User-Agent", ""), svc.clock.now())


def logout_user() -> None:
    people.end_session(services().db, session.get("sid", ""), services().clock.now())
    session.clear()


def load_current_user():
    """before_request: sets g.user (or None) and g.permissions for templates and guards."""
    g.user, g.permissions = None, frozenset()
    if request.endpoint == "static" or "sid" not in session:
        return None
    svc = services()
    live = people.resolve_session(svc.db, session.get("sid"), svc.clock.now(),
                                  idle=timedelta(hours=svc.settings.session_idle_hours))
    user, perms = people.load_identity(svc.db, live.user_id) if live else (None, set())
    if user is None:
        session.clear()
        return None
    g.user, g.permissions = user, frozenset(perms)
    if (user.must_change_password and request.endpoint not in _PASSWORD_GATE_OPEN
            and not request.path.startswith("/api/")):
        return redirect(url_for("auth.password"))
    return None


def safe_next(target: Optional[str]) -> Optional[str]:
    """Only same-site paths are followed after login (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
