"""The KOC earnings board: a staff KOC's commission is what names them beneficiary; 核销 counts redeemed coupons of
the group's members in the window; members who joined before the window are not new."""
from __future__ import annotations

from datetime import timedelta

from community import commission
from community.koc import board, roster
from community.rewards import coupons
from crm.customers.models import Customer
from crm.people import service as people
from crm.scope import SYSTEM
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount


def test_staff_koc_board_commission_and_redemptions(db, clock):
    now = clock.now()
    user = people.create_user(db, "koc_staff", "Staff12345", display_name="店长小李").id
    with db.write() as s:
        acc = WechatAccount(wxid="wx_shop", nickname="门店号", owner_user_id=user)
        s.add(acc)
        s.flush()
        group = ChatGroup(account_id=acc.id, chatroom_id="shop@chatroom", name="门店福利群")
        c1, c2 = Customer(name="老客"), Customer(name="新客")
        s.add_all([group, c1, c2])
        s.flush()
        s.add_all([Friend(account_id=acc.id, wxid="wx_old", customer_id=c1.id),
                   Friend(account_id=acc.id, wxid="wx_new", customer_id=c2.id),
                   ChatGroupMember(group_id=group.id, wxid="wx_old", joined_at=now - timedelta(days=60)),
                   ChatGroupMember(group_id=group.id, wxid="wx_new", joined_at=now - timedelta(days=2)),
                   ChatGroupMember(group_id=group.id, wxid="wx_gone", joined_at=now - timedelta(days=1),
                                   left_at=now)])
        koc = roster.mark(s, user_id=user, now=now, tz="Asia/Shanghai")
        roster.set_groups(s, koc.id, [group.id], now)
        commission.credit(s, amount_fen=300, source="fission", source_ref="order:1:level:1", reason="分销",
                          beneficiary_user_id=user, now=now)
        commission.credit(s, amount_fen=999, source="fission", source_ref="order:2:level:1", reason="别人的",
                          beneficiary_customer_id=c1.id, now=now)
        koc_id, c1_id, c2_id = koc.id, c1.id, c2.id
    assert koc.wxid == "wx_shop"  # a staff KOC speaks as the account assigned to them
    with db.write() as s:
        batch = coupons.create_batch(s, {"name": "福利券", "kind": "cash", "value": "500"}, valid_from=None, valid_until=None)
        codes = [coupons.issue(s, batch.id, cid, source="manual", source_ref=f"t{n}", reason="测试", now=now)[0].code
                 for n, cid in enumerate((c1_id, c2_id, c2_id))]
        for code in codes[:2]:
            coupons.redeem(s, code, user_id=user, channel="staff", note="", viewer=SYSTEM, now=now - timedelta(days=1))
    with db.read() as s:
        shown = board.board(s, roster.get(s, koc_id), now - timedelta(days=30), now)
    assert (shown["totals"]["members"], shown["totals"]["new_members"], shown["totals"]["leads"]) == (2, 2, 1)
    assert shown["commission"]["total_fen"] == 300
    assert shown["totals"]["redemptions"] == 2
