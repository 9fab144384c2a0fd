"""Server-side sign-in sessions and stashed flash messages (crm.people.sessions, flash_stash):
what logout, password change, reset and disable end, idle expiry, and the admin's list."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crm.people import flash_stash
from crm.people import service as people
from crm.people.errors import PeopleError

IDLE = timedelta(hours=168)


@pytest.fixture
def staff(db):
    people.ensure_builtin_roles(db)
    admin = people.create_user(db, "root", "Passw0rd1", is_admin=True)
    alice = people.create_user(db, "alice", "Passw0rd1", roles=["operator"])
    return db, admin, alice


def test_logout_ends_only_that_session(staff, clock):
    db, _, alice = staff
    laptop = people.start_session(db, alice.id, "198.51.100.1", "Laptop", clock.now())
    phone = people.start_session(db, alice.id, "198.51.100.2", "Phone", clock.now())
    assert people.resolve_session(db, laptop, clock.now(), IDLE).user_id == alice.id
    people.end_session(db, laptop, clock.now())
    assert people.resolve_session(db, laptop, clock.now(), IDLE) is None
    assert people.resolve_session(db, phone, clock.now(), IDLE) is not None
    assert people.resolve_session(db, "not-a-token", clock.now(), IDLE) is None


@pytest.mark.parametrize("action", ["change_password", "reset_password", "disable"])
def test_password_change_reset_and_disable_end_every_session(staff, clock, action):
    db, admin, alice = staff
    tokens = [people.start_session(db, alice.id, now=clock.now()) for _ in range(2)]
    other = people.start_session(db, admin.id, now=clock.now())
    if action == "change_password":
        people.change_password(db, alice.id, "Passw0rd1", "Newpass123", "Newpass123")
    elif action == "reset_password":
        people.reset_password(db, alice.id, "Temp12345")
    else:
        people.set_enabled(db, alice.id, False, actor_id=admin.id)
    assert [people.resolve_session(db, t, clock.now(), IDLE) for t in tokens] == [None, None]
    assert people.resolve_session(db, other, clock.now(), IDLE) is not None


def test_idle_sessions_expire_and_last_seen_moves_by_the_minute(staff, clock):
    db, _, alice = staff
    token = people.start_session(db, alice.id, now=clock.now())
    clock.advance(hours=100)
    assert people.resolve_session(db, token, clock.now(), IDLE) is not None
    clock.advance(hours=100)  # 100 h since the last request: still inside the idle window
    assert people.resolve_session(db, token, clock.now(), IDLE) is not None
    clock.advance(hours=169)
    assert people.resolve_session(db, token, clock.now(), IDLE) is None
    [(row, state)] = people.list_sessions(db, alice.id, clock.now(), IDLE)
    assert state == "expired"


def test_admin_list_and_revoke(staff, clock):
    db, admin, alice = staff
    token = people.start_session(db, alice.id, "198.51.100.9", "Firefox", clock.now())
    mine = people.start_session(db, admin.id, now=clock.now())
    [(row, state)] = people.list_sessions(db, alice.id, clock.now(), IDLE)
    assert (row.ip, row.user_agent, state) == ("198.51.100.9", "Firefox", "online")
    admin_row = people.list_sessions(db, admin.id, clock.now(), IDLE)[0][0]
    with pytest.raises(PeopleError, match="登录会话不存在"):
        people.revoke_session(db, alice.id, admin_row.id)
    assert people.resolve_session(db, mine, clock.now(), IDLE) is not None
    people.revoke_session(db, alice.id, row.id, clock.now())
    assert people.resolve_session(db, token, clock.now(), IDLE) is None
    assert people.list_sessions(db, alice.id, clock.now(), IDLE)[0][1] == "revoked"


def test_flash_stash_is_used_once_and_old_ones_are_dropped(db, clock):
    ref = flash_stash.stash(db, [("success", "已创建客户「张三」")], clock.now())
    assert flash_stash.load(db, ref) == [("success", "已创建客户「张三」")]
    flash_stash.drop(db, ref)
    assert flash_stash.load(db, ref) == []
    forgotten = flash_stash.stash(db, [("info", "x")], clock.now())
    clock.advance(days=2)
    flash_stash.stash(db, [("info", "y")], clock.now())
    assert flash_stash.load(db, forgotten) == []
