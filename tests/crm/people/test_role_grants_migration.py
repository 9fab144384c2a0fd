"""Migration 0021: built-in roles saved before 商品与订单 / 数据中心 get the new permissions a fresh
install gives them; custom roles and other permissions are left alone."""
from sqlmodel import select

from alembic import command
from crm.people import service as people
from crm.people.models import Role
from web.migrate import alembic_config

NEW = {"products.view", "orders.view", "orders.manage", "reports.view", "dashboards.view", "orders.refund"}


def _perms(db, code):
    with db.read() as s:
        return set(s.exec(select(Role).where(Role.code == code)).one().permissions)


def test_old_builtin_roles_get_this_release_grants(settings, db):
    people.ensure_builtin_roles(db)
    fresh_sales = _perms(db, "sales")
    with db.write() as s:  # as saved by the previous release (and one grant an admin took away)
        for role in s.exec(select(Role).where(Role.code.in_(["sales", "manager"]))):
            role.permissions = sorted(set(role.permissions) - NEW - {"leads.manage"})
            s.add(role)
        s.add(Role(code="custom_x", name="自定义", permissions=["customers.view"], builtin=False))
    cfg = alembic_config(settings.resolved_database_url())
    command.downgrade(cfg, "0020")
    command.upgrade(cfg, "head")
    assert _perms(db, "sales") == fresh_sales - {"leads.manage"}
    assert {"orders.refund", "dashboards.view", "reports.view_department"} <= _perms(db, "manager")
    assert _perms(db, "custom_x") == {"customers.view"}
