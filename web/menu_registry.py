"""The menu as this request sees it: the built-in declaration (web/navigation.py) with 功能注册's
stored overrides laid over it. Read once per request and cheaply: one small query for the
revision, and the overrides themselves only when another process (or this one) changed them since
this process last looked (the merged overrides are kept per app with their revision)."""
from __future__ import annotations

from threading import Lock
from typing import Iterable

from flask import current_app, g

from crm.people import menu as store
from crm.people.errors import PeopleError
from web import navigation
from web.extensions import services

_LOCK = Lock()
_CACHE_KEY = "ckb_menu_overrides"


def _load() -> navigation.Overrides:
    cache = current_app.extensions.get(_CACHE_KEY)
    with services().db.read() as session:
        rev = store.revision(session)
        if cache is not None and cache[0] == rev:
            return cache[1]
        overrides = {key: navigation.Override(r.position, r.hidden, r.label) for key, r in store.load(session).items()}
    with _LOCK:
        current_app.extensions[_CACHE_KEY] = (rev, overrides)
    return overrides


def overrides() -> navigation.Overrides:
    """This request's overrides (read at most once per request)."""
    if "menu_overrides" not in g:
        g.menu_overrides = _load()
    return g.menu_overrides


def arranged() -> tuple[navigation.NavGroup, ...]:
    return navigation.arrange(overrides())


def visible_menu(permissions: Iterable[str], view_functions: Iterable[str]) -> list[navigation.NavGroup]:
    return navigation.visible_menu(permissions, view_functions, overrides())


def first_allowed_endpoint(permissions: Iterable[str], view_functions: Iterable[str]):
    return navigation.first_allowed_endpoint(permissions, view_functions, overrides())


def group_keys() -> list[str]:
    return [grp.key for grp in navigation.NAVIGATION]


def item_keys(group_key: str) -> list[str]:
    for grp in navigation.NAVIGATION:
        if grp.key == group_key:
            return [i.endpoint for i in grp.items]
    raise PeopleError("没有这个菜单分组")


def check_key(kind: str, key: str) -> None:
    """Only declared groups and items can be overridden (a stale or forged key is refused)."""
    known = group_keys() if kind == "group" else [i.endpoint for grp in navigation.NAVIGATION for i in grp.items]
    if key not in known:
        raise PeopleError("没有这个菜单项" if kind == "item" else "没有这个菜单分组")


def check_order(kind: str, keys: list[str], group_key: str = "") -> None:
    """A new order must name each entry of that list exactly once."""
    expected = group_keys() if kind == "group" else item_keys(group_key)
    if sorted(keys) != sorted(expected):
        raise PeopleError("顺序应包含该列表的每一项且各一次，请刷新页面后重试")


def _places() -> dict[str, tuple[int, int, str]]:
    """endpoint → (group rank, item rank, "分组 › 页面") in this request's arranged menu."""
    places = {}
    for g_rank, grp in enumerate(arranged()):
        for i_rank, item in enumerate(grp.items):
            places[item.endpoint] = (g_rank, i_rank, f"{grp.label} › {item.label}" if grp.label else item.label)
    return places


def by_menu(panels: Iterable) -> tuple[list, dict[str, str]]:
    """工作台's 选择模块: the panels in the order their pages (`panel.page`) sit in the menu, and each
    panel's module as the menu names it ("客户管理 › 客户档案", renames included); panels without a
    page keep their registry order after the rest."""
    places, panels = _places(), list(panels)
    last = (len(places) + 1, 0, "")
    ordered = sorted(panels, key=lambda p: places.get(getattr(p, "page", ""), last)[:2])
    return ordered, {p.key: places[p.page][2] for p in panels if getattr(p, "page", "") in places}
