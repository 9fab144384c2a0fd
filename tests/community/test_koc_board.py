"""The KOC earnings board: a staff KOC's commission is what names them beneficiary; the 核销 column
appears only when the coupon table (part 「fission」's rewards) exists, counting redeemed coupons of
the group's members in the window; members who joined before the window are not new."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from community import commission
from community.koc import board, roster
from crm.customers.models import Customer
from crm.people import service as people
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount


def test_staff_koc_board_and_redemptions_when_coupons_exist(db, clock):
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
    with db.read() as s:
        without = board.board(s, roster.get(s, koc_id), now - timedelta(days=30), now)
    assert without["has_redemptions"] is False and "redemptions" not in without["totals"]
    assert (without["totals"]["members"], without["totals"]["new_members"], without["totals"]["leads"]) == (2, 2, 1)
    assert without["commission"]["total_fen"] == 300
    with db.write() as s:  # the shape of part 「fission」's coupon table, as far as the board reads it
        s.execute(text("CREATE TABLE coupon (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
                       "status VARCHAR(16) NOT NULL, redeemed_at TIMESTAMP NULL)"))
    try:
        with db.write() as s:
            s.execute(text("INSERT INTO coupon (id, customer_id, status, redeemed_at) VALUES "
                           "(1, :a, 'redeemed', :t), (2, :b, 'redeemed', :t), (3, :b, 'issued', NULL), "
                           "(4, :b, 'redeemed', :old)"),
                      {"a": c1_id, "b": c2_id, "t": now - timedelta(days=1), "old": now - timedelta(days=90)})
        with db.read() as s:
            with_coupons = board.board(s, roster.get(s, koc_id), now - timedelta(days=30), now)
        assert with_coupons["has_redemptions"] and with_coupons["totals"]["redemptions"] == 2
    finally:
        with db.write() as s:
            s.execute(text("DROP TABLE coupon"))
