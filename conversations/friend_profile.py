"""好友详情: one WeChat friend as the staff see it — profile, WeChat labels, the linked customer and
their CRM tags, the groups of the same account the friend is in, the conversation with its last
messages, and the friend's 朋友圈 — plus linking the friend to a customer by hand and unlinking.

Object scope: a user who manages accounts (accounts.manage) or reads every conversation
(conversations.view_all) sees every friend; anyone else only the friends of the accounts assigned to
them (WechatAccount.owner_user_id). Another's friend is FriendNotFound, like an unknown id. The
linked customer shows only when crm.scope lets the user see that customer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from sqlalchemy import or_, true, update
from sqlmodel import Session, col, select

from conversations.errors import ConversationError, ConversationNotFound
from conversations.models import ChatMessage, Conversation
from crm import scope
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.scope import Viewer
from crm.tags.models import CustomerTag, Tag
from devices.models import ChatGroup, ChatGroupMember, Friend, Moment, WechatAccount

RECENT_MESSAGES = 20
RECENT_MOMENTS = 10


class FriendNotFound(ConversationNotFound):
    pass


@dataclass
class FriendProfile:
    friend: Friend
    account: Optional[WechatAccount]
    customer: Optional[Customer]  # None: not linked, or linked to one the viewer may not see
    customer_hidden: bool  # linked to a customer outside the viewer's scope
    customer_tags: list = field(default_factory=list)  # [Tag]
    groups: list = field(default_factory=list)  # [(ChatGroup, ChatGroupMember)]
    conversation: Optional[Conversation] = None
    messages: list = field(default_factory=list)  # newest last
    moments: list = field(default_factory=list)  # newest first


def sees_all(viewer: Viewer) -> bool:
    return viewer.has("accounts.manage") or viewer.has("conversations.view_all")


def friends_clause(viewer: Viewer):
    """A boolean clause on Friend: the friends `viewer` may open."""
    if sees_all(viewer):
        return true()
    own = select(WechatAccount.id).where(WechatAccount.owner_user_id == viewer.user_id)
    return col(Friend.account_id).in_(own)


def load_friend(session: Session, viewer: Viewer, friend_id) -> Friend:
    key = scope.row_key(friend_id)
    row = None
    if key is not None:
        row = session.exec(select(Friend).where(Friend.id == key, friends_clause(viewer))).first()
    if row is None:
        raise FriendNotFound("好友不存在或无权查看")
    return row


def friend_links(session: Session, viewer: Viewer, pairs: Iterable[tuple]) -> dict[tuple, int]:
    """{(account id, wxid): friend id} for the pairs that are friends the viewer may open: group member
    lists and friend requests use it to make a name a link."""
    by_account: dict[int, set] = {}
    for account_id, wxid in pairs:
        if account_id is not None and wxid:
            by_account.setdefault(account_id, set()).add(wxid)
    out: dict[tuple, int] = {}
    for account_id, wxids in by_account.items():
        rows = session.exec(select(Friend.wxid, Friend.id).where(
            Friend.account_id == account_id, col(Friend.wxid).in_(sorted(wxids)), friends_clause(viewer))).all()
        out.update({(account_id, wxid): fid for wxid, fid in rows})
    return out


def _visible_customer(session: Session, viewer: Viewer, customer_id: Optional[int]) -> Optional[Customer]:
    if customer_id is None:
        return None
    try:
        return scope.load(session, viewer, Customer, customer_id)
    except NotFound:
        return None


def _customer_tags(session: Session, viewer: Viewer, customer_id: int) -> list:
    personal_ok = or_(col(Tag.owner_id).is_(None), Tag.owner_id == viewer.user_id)
    return list(session.exec(select(Tag).join(CustomerTag, CustomerTag.tag_id == Tag.id).where(
        CustomerTag.customer_id == customer_id, personal_ok).order_by(Tag.name)).all())


def _conversation(session: Session, friend: Friend) -> Optional[Conversation]:
    return session.exec(select(Conversation).where(
        Conversation.channel == "wechat", Conversation.account_id == friend.account_id,
        Conversation.kind == "private", Conversation.peer_id == friend.wxid)).first()


def friend_profile(session: Session, viewer: Viewer, friend_id) -> FriendProfile:
    friend = load_friend(session, viewer, friend_id)
    customer = _visible_customer(session, viewer, friend.customer_id)
    profile = FriendProfile(friend=friend, account=session.get(WechatAccount, friend.account_id), customer=customer,
                            customer_hidden=friend.customer_id is not None and customer is None)
    if customer is not None:
        profile.customer_tags = _customer_tags(session, viewer, customer.id)
    profile.groups = [tuple(r) for r in session.exec(
        select(ChatGroup, ChatGroupMember).join(ChatGroupMember, ChatGroupMember.group_id == ChatGroup.id).where(
            ChatGroup.account_id == friend.account_id, ChatGroupMember.wxid == friend.wxid,
            col(ChatGroupMember.left_at).is_(None)).order_by(ChatGroup.name, ChatGroup.id)).all()]
    profile.conversation = _conversation(session, friend)
    if profile.conversation is not None:
        newest = session.exec(select(ChatMessage).where(ChatMessage.conversation_id == profile.conversation.id)
                              .order_by(col(ChatMessage.sent_at).desc(), col(ChatMessage.id).desc())
                              .limit(RECENT_MESSAGES)).all()
        profile.messages = list(reversed(newest))
    profile.moments = list(session.exec(select(Moment).where(
        Moment.account_id == friend.account_id, Moment.friend_wxid == friend.wxid)
        .order_by(col(Moment.posted_at).desc(), col(Moment.id).desc()).limit(RECENT_MOMENTS)).all())
    return profile


def _follow_conversation(session: Session, friend: Friend) -> None:
    """The private conversation carries the friend's customer too (the chat's portrait reads it)."""
    session.execute(update(Conversation).where(
        Conversation.channel == "wechat", Conversation.account_id == friend.account_id,
        Conversation.kind == "private", Conversation.peer_id == friend.wxid).values(customer_id=friend.customer_id)
        .execution_options(synchronize_session=False))


def link_customer(session: Session, viewer: Viewer, friend_id, customer_id) -> Friend:
    """Links the friend to a customer the viewer may see (replacing an earlier link of theirs)."""
    friend = load_friend(session, viewer, friend_id)
    if customer_id in (None, ""):
        raise ConversationError("请选择要关联的客户", {"customer_id": "请选择要关联的客户"})
    if friend.customer_id is not None and _visible_customer(session, viewer, friend.customer_id) is None:
        # Re-pointing a link to someone else's customer would take that customer's friend away from them.
        raise FriendNotFound("好友不存在或无权查看")
    try:
        customer = scope.load(session, viewer, Customer, customer_id)
    except NotFound:
        raise ConversationError("客户不存在或无权查看", {"customer_id": "客户不存在或无权查看"}) from None
    friend.customer_id = customer.id
    session.add(friend)
    session.flush()
    _follow_conversation(session, friend)
    return friend


def unlink_customer(session: Session, viewer: Viewer, friend_id) -> Friend:
    friend = load_friend(session, viewer, friend_id)
    if friend.customer_id is not None and _visible_customer(session, viewer, friend.customer_id) is None:
        raise FriendNotFound("好友不存在或无权查看")
    friend.customer_id = None
    session.add(friend)
    session.flush()
    _follow_conversation(session, friend)
    return friend


def follow_links(session: Session, friend_id: int) -> None:
    """After an automatic match (engine.friend_links) the conversation takes the new customer too."""
    friend = session.get(Friend, friend_id)
    if friend is not None:
        _follow_conversation(session, friend)


def customer_friends(session: Session, viewer: Viewer, customer_id: int) -> list[tuple[Friend, WechatAccount]]:
    """The WeChat friends linked to a customer (客户详情's 微信好友), with their accounts, as far as the
    viewer may open them."""
    return [tuple(r) for r in session.exec(
        select(Friend, WechatAccount).join(WechatAccount, WechatAccount.id == Friend.account_id).where(
            Friend.customer_id == customer_id, friends_clause(viewer)).order_by(Friend.added_at, Friend.id)).all()]


def customer_choices(session: Session, viewer: Viewer, keyword: str, limit: int = 20) -> list[Customer]:
    """Customers the viewer may see whose name or 微信号 contains `keyword` (the link form's picker)."""
    keyword = (keyword or "").strip()[:50]
    if not keyword:
        return []
    like = "%" + keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(session.exec(select(Customer).where(
        scope.customers(viewer), or_(col(Customer.name).like(like, escape="\\"),
                                     col(Customer.wechat_id).like(like, escape="\\")))
        .order_by(Customer.id.desc()).limit(limit)).all())
