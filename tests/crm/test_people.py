"""Users, login throttling, roles, API tokens and notifications (crm.people)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.people import passwords, permissions
from crm.people import service as people
from crm.people.errors import PeopleError
from crm.people.models import ApiToken


@pytest.fixture
def roles(db):
    people.ensure_builtin_roles(db)
    return db


def test_hash_and_verify():
    hashed = passwords.hash_password("Secret123")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "Secret123")
    assert not passwords.verify_password(hashed, "secret123")
    assert not passwords.verify_password("not-a-hash", "Secret123")
    assert not passwords.needs_rehash(hashed)
    assert passwords.needs_rehash("not-a-hash")


@pytest.mark.parametrize("bad, message", [
    ("short1", "至少需要 8 个字符"),
    ("12345678", "必须包含字母"),
    ("abcdefgh", "必须包含数字"),
])
def test_password_policy_in_chinese(bad, message):
    with pytest.raises(PeopleError) as err:
        passwords.check_policy(bad)
    assert message in err.value.message
    assert err.value.field == "password"


def test_create_user_validates(roles):
    with pytest.raises(PeopleError, match="用户名需"):
        people.create_user(roles, "a", "Passw0rd1")
    people.create_user(roles, "alice", "Passw0rd1", roles=["viewer"])
    with pytest.raises(PeopleError, match="用户名已存在"):
        people.create_user(roles, "Alice", "Passw0rd1")
    with pytest.raises(PeopleError, match="角色不存在"):
        people.create_user(roles, "bob", "Passw0rd1", roles=["nope"])
    with pytest.raises(PeopleError, match="手机号"):
        people.create_user(roles, "carol", "Passw0rd1", mobile="123")
    assert [u.username for u, _ in people.list_users(roles)] == ["alice"]


def test_authenticate_never_locks_the_account(roles, clock, settings):
    people.create_user(roles, "alice", "Passw0rd1")
    user = people.authenticate(roles, "alice", "Passw0rd1", clock.now())
    assert user.last_login_at == clock.now()
    with pytest.raises(PeopleError, match="^用户名或密码错误$"):
        people.authenticate(roles, "ghost", "Passw0rd1", clock.now())
    # Throttling is by address (login_throttle); wrong guesses alone never lock the account,
    # or any stranger could lock the real user out.
    for _ in range(settings.login_max_failures * 3):
        with pytest.raises(PeopleError, match="^用户名或密码错误$"):
            people.authenticate(roles, "alice", "wrong", clock.now())
    assert people.authenticate(roles, "alice", "Passw0rd1", clock.now()).username == "alice"


def test_disabled_user_refused(roles, clock):
    admin = people.create_user(roles, "root", "Passw0rd1", is_admin=True)
    alice = people.create_user(roles, "alice", "Passw0rd1")
    people.set_enabled(roles, alice.id, False, actor_id=admin.id)
    with pytest.raises(PeopleError, match="已被停用"):
        people.authenticate(roles, "alice", "Passw0rd1", clock.now())
    with pytest.raises(PeopleError, match="不能停用自己"):
        people.set_enabled(roles, admin.id, False, actor_id=admin.id)
    with pytest.raises(PeopleError, match="至少需要保留一个启用的管理员"):
        people.set_enabled(roles, admin.id, False, actor_id=alice.id)


def test_change_and_reset_password(roles, clock):
    alice = people.create_user(roles, "alice", "Passw0rd1")
    with pytest.raises(PeopleError) as err:
        people.change_password(roles, alice.id, "bad", "Newpass123")
    assert err.value.field == "old_password"
    with pytest.raises(PeopleError, match="不一致"):
        people.change_password(roles, alice.id, "Passw0rd1", "Newpass123", "Other1234")
    people.change_password(roles, alice.id, "Passw0rd1", "Newpass123", "Newpass123")
    reset = people.reset_password(roles, alice.id, "Temp12345")
    assert reset.must_change_password
    assert people.authenticate(roles, "alice", "Temp12345", clock.now()).must_change_password


def test_builtin_roles_and_union(roles):
    by_code = {r.code: r for r, _ in people.list_roles(roles)}
    assert set(by_code["admin"].permissions) == permissions.ALL_PERMISSIONS
    assert "users.manage" not in by_code["operator"].permissions
    assert "strategies.manage" in by_code["operator"].permissions
    assert all(p.endswith(".view") for p in by_code["viewer"].permissions)
    people.create_role(roles, "shop", "店长", ["tasks.view", "tasks.manage"])
    alice = people.create_user(roles, "alice", "Passw0rd1", roles=["viewer", "shop"])
    _, perms = people.load_identity(roles, alice.id)
    assert {"tasks.manage", "history.view"} <= perms and "users.manage" not in perms
    root = people.create_user(roles, "root", "Passw0rd1", is_admin=True)
    assert people.load_identity(roles, root.id)[1] == set(permissions.ALL_PERMISSIONS)
    # Running it again keeps edits and does not duplicate.
    people.ensure_builtin_roles(roles)
    assert len(people.list_roles(roles)) == len(permissions.BUILTIN_ROLES) + 1


def test_role_validation_and_delete(roles):
    with pytest.raises(PeopleError, match="未知的权限：bogus.view"):
        people.create_role(roles, "x1", "X", ["bogus.view"])
    with pytest.raises(PeopleError, match="角色代码"):
        people.create_role(roles, "Bad Code", "X", [])
    role = people.create_role(roles, "shop", "店长", ["tasks.view"])
    people.create_user(roles, "alice", "Passw0rd1", roles=["shop"])
    with pytest.raises(PeopleError, match="仍有 1 个用户"):
        people.delete_role(roles, role.id)
    admin = next(r for r, _ in people.list_roles(roles) if r.code == "admin")
    with pytest.raises(PeopleError, match="内置角色不能删除"):
        people.delete_role(roles, admin.id)
    with pytest.raises(PeopleError, match="管理员角色"):
        people.update_role(roles, admin.id, "管理员", ["tasks.view"])


def test_tokens(roles, clock, db):
    alice = people.create_user(roles, "alice", "Passw0rd1")
    token = people.create_token(db, "alice", "CRM 同步", now=clock.now())
    assert token.startswith("ckb_")
    with db.read() as session:
        stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert stored.prefix == token[:12]
    assert people.resolve_token(db, token, clock.now()).id == alice.id
    assert people.list_tokens(db, alice.id)[0].last_used_at == clock.now()
    assert people.resolve_token(db, token + "x") is None
    assert people.resolve_token(db, "Bearer nonsense") is None
    other = people.create_user(roles, "bob", "Passw0rd1")
    with pytest.raises(PeopleError, match="令牌不存在"):
        people.revoke_token(db, other.id, stored.id)
    people.revoke_token(db, alice.id, stored.id)
    assert people.resolve_token(db, token) is None
    with pytest.raises(PeopleError, match="请填写令牌名称"):
        people.create_token(db, "alice", " ")


def test_disabled_user_token_refused(roles, db):
    people.create_user(roles, "root", "Passw0rd1", is_admin=True)
    alice = people.create_user(roles, "alice", "Passw0rd1")
    token = people.create_token(db, "alice", "脚本")
    people.set_enabled(db, alice.id, False)
    assert people.resolve_token(db, token) is None


def test_notifications(roles, db, clock):
    alice = people.create_user(roles, "alice", "Passw0rd1", roles=["operator"])
    bob = people.create_user(roles, "bob", "Passw0rd1", roles=["viewer"])
    people.notify(db, alice.id, "死信 3 条", "请处理", "/deadletters", "engine", now=clock.now())
    clock.advance(minutes=1)
    second = people.notify(db, alice.id, "导入完成", now=clock.now())
    assert people.unread_count(db, alice.id) == 2
    items, total = people.list_notifications(db, alice.id)
    assert total == 2 and items[0].id == second.id
    assert people.mark_read(db, alice.id, [second.id]) == 1
    assert people.mark_read(db, bob.id, [items[1].id]) == 0  # not bob's
    assert people.unread_count(db, alice.id) == 1
    assert people.list_notifications(db, alice.id, unread_only=True)[1] == 1
    people.mark_read(db, alice.id)
    assert people.unread_count(db, alice.id) == 0
    with pytest.raises(PeopleError, match="站内路径"):
        people.notify(db, alice.id, "x", link="javascript:alert(1)")
    assert people.notify_permission(db, "deadletters.manage", "新死信") == 1
    assert people.unread_count(db, bob.id) == 0
