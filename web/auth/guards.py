"""Access checks for views.

Console views: `@login_required` (anonymous → /login?next=…) and `@permission_required("x.view")`
(missing permission → the Chinese 403 page). API views under /api/v1: `@api_auth("x.view")`
reads `Authorization: Bearer ckb_…` and answers JSON 401/403; it exempts the view from CSRF,
since a bearer token is not sent automatically by a browser the way a cookie is.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, request, url_for

from crm.people import service as people
from crm.people.permissions import label, user_permissions
from crm.scope import Viewer
from web.api.common import error_envelope as api_error  # noqa: F401 - the one /api error answer
from web.extensions import csrf, services


def missing_message(missing: list[str]) -> str:
    return "缺少权限：" + "、".join(f"{label(p)}（{p}）" for p in missing)


def missing_details(missing: list[str]) -> list[dict]:
    """The envelope's details for a 403: each missing permission by key and label."""
    return [{"permission": p, "label": label(p)} for p in missing]


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    wrapped.required_permissions = frozenset()
    return wrapped


def permission_required(*perms: str):
    """Signed in and holding every one of `perms`."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            missing = [p for p in perms if p not in g.permissions]
            if missing:
                abort(403, description=missing_message(missing))
            return view(*args, **kwargs)

        wrapped.required_permissions = frozenset(perms)  # read by the route walks in tests/web
        return wrapped

    return decorate


def current_viewer() -> Viewer:
    """The signed-in user as crm.scope sees them: every service call that loads a customer, lead,
    task or follow-up for this request passes it, so object-level permission is one rule."""
    return Viewer(g.user.id, frozenset(g.get("permissions", frozenset())))


def has_permission(name: str) -> bool:
    return name in g.get("permissions", frozenset())


def bearer_user():
    """The user of this request's bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    svc = services()
    return people.resolve_token(svc.db, token.strip(), svc.clock.now())


def api_auth(*perms: str):
    """For /api/v1 views: a valid bearer token whose user holds every one of `perms`."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = bearer_user()
            if user is None:
                return api_error(401, "unauthorized", "缺少或无效的 API 令牌（Authorization: Bearer <令牌>）")
            granted = user_permissions(user, people.roles_of(services().db, user.id))
            g.user, g.permissions = user, frozenset(granted)
            missing = [p for p in perms if p not in granted]
            if missing:
                return api_error(403, "forbidden", missing_message(missing), details=missing_details(missing))
            return view(*args, **kwargs)

        csrf.exempt(wrapped)
        wrapped.required_permissions = frozenset(perms)
        return wrapped

    return decorate
