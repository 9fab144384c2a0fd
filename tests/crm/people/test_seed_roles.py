"""The seed-002 §1.2 roles (and 店长 / 客服) are built in: created when missing, each holding what its
job uses — and the 工作台 families cover every workbench template with declared permissions."""
from sqlmodel import select

from crm.people import service as people
from crm.people.models import Role
from crm.people.permissions import ALL_PERMISSIONS, BUILTIN_ROLES, PERMISSIONS
from rules.templates import TEMPLATES
from rules.templates.families import FAMILIES, GENERAL, family_of, governing

SEED = {"owner": "项目主理人", "backend_dev": "后端开发", "frontend_dev": "前端开发", "product_manager": "产品经理",
        "user_ops": "用户运营", "content_ops": "内容运营", "matrix_ops": "矩阵管理", "store_manager": "店长",
        "service": "客服"}
STAFF_ADMIN = {"users.manage", "roles.manage", "org.manage", "masking.manage"}


def test_missing_seed_roles_are_created_and_the_owner_keeps_every_permission(db):
    people.ensure_builtin_roles(db)
    with db.write() as s:
        s.delete(s.exec(select(Role).where(Role.code == "content_ops")).one())
        owner = s.exec(select(Role).where(Role.code == "owner")).one()
        owner.permissions = ["dashboard.view"]  # as saved before a release added permissions
        s.add(owner)
    people.ensure_builtin_roles(db)
    with db.read() as s:
        roles = {r.code: r for r in s.exec(select(Role))}
    assert {code: roles[code].name for code in SEED} == SEED
    assert all(roles[code].builtin for code in SEED)
    assert set(roles["owner"].permissions) == ALL_PERMISSIONS


def test_each_job_holds_what_it_uses_and_no_staff_administration():
    roles = {r.code: r.permissions for r in BUILTIN_ROLES}
    for code in SEED:
        assert roles[code] <= ALL_PERMISSIONS
        if code != "owner":
            assert not roles[code] & STAFF_ADMIN, code
            assert "pii.view" not in roles[code], code
    assert {"content.manage", "workbench_content.manage"} <= roles["content_ops"]
    assert {"devices.manage", "accounts.manage"} <= roles["matrix_ops"]
    assert {"broadcasts.manage", "workbench_traffic.manage", "customers.manage"} <= roles["user_ops"]
    assert {"jobs.manage", "params.manage", "logs.view", "processors.manage"} <= roles["backend_dev"]
    assert {"orders.refund", "stock.manage"} <= roles["store_manager"]
    assert "conversations.view" in roles["service"] and "customers.manage" not in roles["service"]
    assert not {p for p in roles["product_manager"] if p.endswith(".manage")}


def test_every_workbench_template_belongs_to_a_family_with_declared_permissions():
    assert {t for f in FAMILIES.values() for t in f.templates} == set(TEMPLATES)
    for family in (*FAMILIES.values(), GENERAL):
        assert family.view in PERMISSIONS and family.manage in PERMISSIONS
    assert family_of("moment_sync").key == "content" and governing(None, "manage") == "strategies.manage"
    assert governing("lead_pipeline_or_anything_else", "view") == "strategies.view"
