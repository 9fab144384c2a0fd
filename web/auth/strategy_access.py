"""The one rule for strategy access: a strategy's template key decides which permission governs
it (rules/templates/families.py). 工作台 routes need only the family's permission; 自动化策略管理's
editor and the strategies API (which can rewrite any condition or step) need their own
strategies.* permission *and* the family's, so holding strategies.manage alone no longer reaches a
family's tasks and a 内容运营 never reaches a lead pipeline or a hand-written strategy.

Guards, not per-view checks: `@strategy_guard(action)` reads the route's strategy id,
`@workbench_guard(action)` the route's template key, and `require_strategies(ids, action)` covers
routes that take several ids in their body."""
from __future__ import annotations

from functools import wraps
from typing import Iterable

from flask import abort, g, redirect, request, url_for
from sqlalchemy import select

from rules.models import Strategy
from rules.templates.families import FAMILIES, GENERAL, governing
from crm.people.permissions import label
from web.auth.guards import missing_message
from web.extensions import services


def missing_for(template_keys: Iterable, action: str, permissions: Iterable[str]) -> list[str]:
    granted = set(permissions)
    return sorted({governing(k, action) for k in template_keys} - granted)


def lacking_to_manage(template_key) -> str | None:
    """For services that change strategies they find themselves (bundle import): the permission the
    signed-in user lacks to manage a strategy of this template, labelled, or None."""
    missing = missing_for([template_key], "manage", g.get("permissions", frozenset()))
    return "、".join(f"{label(p)}（{p}）" for p in missing) or None


def require_strategies(ids: Iterable, action: str) -> None:
    """403 unless the user may `action` every existing strategy among `ids` (unknown ids are left to
    the service, which answers 404 as for anyone)."""
    wanted = {int(i) for i in ids if not isinstance(i, bool) and (isinstance(i, int) or str(i).isdigit())}
    if not wanted:
        return
    with services().db.read() as session:
        keys = session.execute(select(Strategy.template_key).where(Strategy.id.in_(wanted))).scalars().all()
    missing = missing_for(keys, action, g.get("permissions", frozenset()))
    if missing:
        abort(403, description=missing_message(missing))


def strategy_guard(action: str, arg: str = "strategy_id"):
    """Under @permission_required / @api_auth: the strategy named by the route argument `arg` must
    be one the user may `action` ("view" | "manage")."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_strategies([kwargs.get(arg)], action)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def allowed_families(permissions: Iterable[str], action: str = "view") -> set[str]:
    granted = set(permissions)
    return {key for key, family in FAMILIES.items() if family.permission(action) in granted}


def workbench_guard(action: str, fixed_key: str | None = None):
    """For 工作台 routes: signed in and holding the permission of the family of the route's
    template key (`key`, or `fixed_key` for a route of one feature). The cards page and an unknown
    key need any family (the view then answers 404 for the unknown key, as for anyone)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            needed = governing(fixed_key or kwargs.get("key"), action)
            if needed == GENERAL.permission(action):  # the feature cards, or an unknown key: any family
                if not allowed_families(g.permissions, action):
                    abort(403, description=missing_message(sorted(f.permission(action) for f in FAMILIES.values())))
            elif needed not in g.permissions:
                abort(403, description=missing_message([needed]))
            return view(*args, **kwargs)

        # Read by the route walks and 首页's door links: one of these (the family's) is required.
        wrapped.required_permissions = frozenset(f.permission(action) for f in FAMILIES.values())
        return wrapped

    return decorate
