"""Whose WeChat accounts, friend requests, groups and device commands a user may open — the rule
好友详情 already follows (conversations.friend_profile), applied to the rest of the account side:
a user who manages accounts (accounts.manage) or reads every conversation (conversations.view_all)
sees every account; anyone else only the accounts assigned to them (WechatAccount.owner_user_id),
with those accounts' friend requests, groups and commands. Another's row is AccountNotFound, like an
unknown id. Devices are the fleet's hardware and stay visible to devices.view, as on the console;
the accounts listed on a device follow this rule."""
from __future__ import annotations

from sqlalchemy import func, true
from sqlmodel import Session, col, select

from conversations.friend_profile import friends_clause, sees_all
from crm import scope
from crm.scope import Viewer
from devices import friend_requests_admin as requests_admin
from devices.accounts import AccountNotFound, friend_filter, list_groups as all_groups
from devices.models import ChatGroup, DeviceCommand, Friend, FriendRequest, WechatAccount


def visible_account_ids(viewer: Viewer):
    """A SELECT of the account ids `viewer` may open (None-free), for IN clauses."""
    return select(WechatAccount.id).where(accounts_clause(viewer))


def accounts_clause(viewer: Viewer):
    if sees_all(viewer):
        return true()
    return WechatAccount.owner_user_id == viewer.user_id


def of_visible_accounts(viewer: Viewer, column):
    """A clause on a row's account id column: the row belongs to an account `viewer` may open."""
    if sees_all(viewer):
        return true()
    return col(column).in_(visible_account_ids(viewer))


_ROWS = {WechatAccount: ("微信号", lambda v: accounts_clause(v)),
         FriendRequest: ("好友请求", lambda v: of_visible_accounts(v, FriendRequest.account_id)),
         ChatGroup: ("群", lambda v: of_visible_accounts(v, ChatGroup.account_id)),
         DeviceCommand: ("指令", lambda v: of_visible_accounts(v, DeviceCommand.account_id))}


def load(session: Session, viewer: Viewer, model, object_id):
    """The row of `model` (an account or a row of one) if `viewer` may open it, else AccountNotFound."""
    label, clause = _ROWS[model]
    key = scope.row_key(object_id)
    row = None
    if key is not None:
        row = session.exec(select(model).where(model.id == key, clause(viewer))).first()
    if row is None:
        raise AccountNotFound(label)
    return row


def clause(viewer: Viewer, model):
    """The scope clause of `model` for list queries."""
    return _ROWS[model][1](viewer)


# -- lists, each through the rule above ---------------------------------------------------------

def search_friends(session: Session, viewer: Viewer, q, page: int = 1, per_page: int = 20):
    """devices.accounts.search_friends for `viewer`: (friends, total) on the accounts they may open."""
    conditions = [*friend_filter(session, q), friends_clause(viewer)]
    total = session.exec(select(func.count()).select_from(Friend).where(*conditions)).one()
    rows = session.exec(select(Friend).where(*conditions).order_by(col(Friend.added_at).desc(), col(Friend.id).desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), int(total)


def list_groups(session: Session, viewer: Viewer, account_id=None, keyword: str = "") -> list[ChatGroup]:
    allowed = None if sees_all(viewer) else set(session.exec(visible_account_ids(viewer)).all())
    return [g for g in all_groups(session, account_id, keyword) if allowed is None or g.account_id in allowed]


def list_requests(session: Session, viewer: Viewer, *, status: str = "", account_id=None, page: int = 1,
                  per_page: int = 20) -> tuple[list[FriendRequest], int]:
    return requests_admin.list_requests(session, status=status, account_id=account_id, page=page, per_page=per_page,
                                        where=clause(viewer, FriendRequest))


def list_commands(session: Session, viewer: Viewer, *, account_id=None, device_id=None, status: str = "",
                  kind: str = "", page: int = 1, per_page: int = 50) -> list[DeviceCommand]:
    """Device commands newest first, on the accounts `viewer` may open."""
    query = select(DeviceCommand).where(clause(viewer, DeviceCommand))
    for name, value in (("account_id", account_id), ("device_id", device_id), ("status", status), ("kind", kind)):
        if value not in (None, ""):
            query = query.where(getattr(DeviceCommand, name) == value)
    return list(session.exec(query.order_by(col(DeviceCommand.id).desc())
                             .offset((page - 1) * per_page).limit(per_page)).all())
