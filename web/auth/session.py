"""The signed-in user of a console request: stored in the Flask session as the user id plus a
fingerprint of the password hash and enabled flag, so changing a password or disabling an
account ends every other session on its next request."""
from __future__ import annotations

from typing import Optional

from flask import g, redirect, request, session, url_for

from crm.people import service as people
from web.extensions import services

# What a user who must change their password may still reach.
_PASSWORD_GATE_OPEN = {"auth.password", "auth.logout", "auth.login", "static"}


def login_user(user) -> None:
    # A fresh session on login: nothing set before authentication (fixation) survives.
    session.clear()
    session["uid"] = user.id
    session["sv"] = people.session_fingerprint(user)


def refresh_session(user) -> None:
    """After the user changed their own password: keep this session, end the others."""
    session["sv"] = people.session_fingerprint(user)


def logout_user() -> None:
    session.clear()


def load_current_user():
    """before_request: sets g.user (or None) and g.permissions for templates and guards."""
    g.user, g.permissions = None, frozenset()
    if request.endpoint == "static" or "uid" not in session:
        return None
    user, perms = people.load_identity(services().db, session.get("uid"))
    if user is None or session.get("sv") != people.session_fingerprint(user):
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
