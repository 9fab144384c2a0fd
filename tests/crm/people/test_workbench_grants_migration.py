"""Migration 0034: roles saved before the 工作台 families keep their workbench — strategies.view
brings the families' .view, strategies.manage their .manage; other roles are left alone; the
menu tables start empty (the built-in menu)."""
from sqlmodel import select

from alembic import command
from crm.people import menu as menu_store
from crm.people import service as people
from crm.people.models import Role
from web.migrate import alembic_config

FAMILIES = ("workbench_content", "workbench_community", "workbench_traffic")


def _perms(db, code):
    with db.read() as s:
        return set(s.exec(select(Role).where(Role.code == code)).one().permissions)


def test_roles_with_strategy_permissions_get_the_families(settings, db):
    people.ensure_builtin_roles(db)
    with db.write() as s:  # as saved by the previous release
        for role in s.exec(select(Role)):
            role.permissions = sorted(p for p in role.permissions if not p.startswith("workbench_"))
            s.add(role)
        s.add(Role(code="wb_viewer", name="只看策略", permissions=["strategies.view"]))
        s.add(Role(code="custom_y", name="自定义", permissions=["customers.view"]))
    cfg = alembic_config(settings.resolved_database_url())
    command.downgrade(cfg, "0033")
    command.upgrade(cfg, "head")
    assert {f"{f}.{a}" for f in FAMILIES for a in ("view", "manage")} <= _perms(db, "operator")
    assert _perms(db, "wb_viewer") == {"strategies.view", *(f"{f}.view" for f in FAMILIES)}
    assert _perms(db, "custom_y") == {"customers.view"}
    assert not {p for p in _perms(db, "sales") if p.startswith("workbench_")}
    with db.read() as s:
        assert menu_store.load(s) == {} and menu_store.revision(s) == 0
