"""Demo chats (`init --demo`): the WeChat accounts, friends and groups the demo phones will report
(the simulator's world is deterministic per token and seed, so `serve --simulate` later reports the
very same people), a few conversations with realistic Chinese messages stored through
conversations.store.record_message (so each conversation's summary, unread count and 未回复 times are
right), moments of the friends who talk, and two friends linked to demo customers — 触客宝,
好友详情 and 消息搜索 have something to show at once."""
from __future__ import annotations

import os
from datetime import timedelta

from sqlmodel import col, select

from conversations.models import ChatMessage
from conversations.store import NewMessage, record_message
from crm.customers.models import Customer
from devices.models import Device, Friend, Moment, WechatAccount
from devices.registry import upsert_accounts
from devices.simulator import PhoneConfig
from devices.simulator.world import build_accounts
from devices.sync import sync_friends, sync_groups
from devices.tokens import hash_token
from web.demo import DEMO_TOKENS_FILE

# (minutes before now, direction, text); "link" rows carry a title and url instead.
DIALOGUES = [
    [(190, "in", "你好，请问你们家的精华液现在什么价格？"), (188, "out", "您好～我们的修护精华液 30ml 日常价 299 元，这周会员价 259 元"),
     (185, "in", "有小样可以先试试吗？我是敏感肌"), (183, "out", "有的，可以先寄 3 支小样给您，包邮，您留个地址就好"),
     (180, "in", "好的，地址是杭州市西湖区文三路 88 号，收件人李女士"), (178, "out", "收到，今天下午就给您发货，单号稍后发您"),
     (60, "in", "小样收到了，用着挺温和的，正装怎么下单？")],
    [(300, "in", "在吗？上次买的课程什么时候开课"), (295, "out", "在的～训练营下周一晚上 8 点开课，开课前一天会拉您进学习群"),
     (290, "in", "能开发票吗？公司报销"), (240, "link", ("电子发票申请指引", "https://example.com/invoice")),
     (238, "out", "按这个指引填一下抬头和税号，三个工作日内开好发到您邮箱"), (30, "in", "发票收到了，谢谢！")],
    [(1500, "out", "王姐好，双十一老客户回馈：满 300 减 50，还送定制化妆包"), (1440, "in", "我上次买的面霜快用完了，活动什么时候结束？"),
     (1438, "out", "活动到 11 号晚上 12 点，老客户还可以叠加积分抵扣"), (1430, "in", "那帮我留两瓶，明天付款"),
     (15, "in", "今天能发货吗？我周末要出差")],
    [(720, "in", "你好，我想退款，快递显示已签收但我没收到"), (715, "out", "非常抱歉！我马上联系快递核实，请稍等"),
     (700, "out", "快递员说放在了小区驿站，取件码 6-2-3018，您方便去看下吗？"), (650, "in", "找到了，不用退款了，谢谢")],
]
GROUP_CHAT = [(400, "wx_member_0", "大家早上好，今天的打卡开始啦"), (395, "wx_member_1", "打卡！今天跑了 5 公里"),
              (380, "wx_member_2", "请问群里有人用过那款精华液吗？价格贵不贵"), (120, "owner", "本周四晚 8 点直播答疑，欢迎大家来提问")]
MOMENTS = ["周末带娃去了西溪湿地，天气太好了", "新入手的精华液，用了一周皮肤状态好多了", "今天终于把年度计划写完了"]


def _demo_tokens(var_dir) -> list[str]:
    path = os.path.join(str(var_dir), DEMO_TOKENS_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def _accounts_for(session, token: str, now) -> list[tuple[WechatAccount, object]]:
    """The demo phone's accounts, friends and groups as the simulator will report them."""
    device = session.exec(select(Device).where(Device.token_hash == hash_token(token))).first()
    if device is None:
        return []
    cfg = PhoneConfig()
    sims = build_accounts(token, cfg.seed, cfg.accounts, cfg.friends, cfg.groups, cfg.members, cfg.group_fail_rate)
    ids = upsert_accounts(session, device.id, [a.as_frame() for a in sims])
    out = []
    for sim in sims:
        account = session.get(WechatAccount, ids[sim.wxid])
        sync_friends(session, account, list(sim.friends.values()), True, now)
        sync_groups(session, account, [{"chatroom_id": g.chatroom_id, "name": g.name, "owner_wxid": sim.wxid,
                                        "members": g.members} for g in sim.groups.values()], True, now)
        out.append((account, sim))
    return out


def _talk(session, account: WechatAccount, friend: Friend, dialogue: list, now, key: str) -> None:
    name = friend.remark or friend.nickname or friend.wxid
    for n, (minutes, direction, body) in enumerate(dialogue):
        text, msg_type, payload = body, "text", {}
        if direction == "link":
            (title, url), text, msg_type, direction = body, "", "link", "out"
            payload = {"url": url, "title": title}
        speaker = (account.wxid, account.nickname) if direction == "out" else (friend.wxid, name)
        record_message(session, NewMessage(
            channel="wechat", account_id=account.id, kind="private", peer_id=friend.wxid, title=name,
            direction=direction, msg_type=msg_type, text=text, payload=payload, friend_id=friend.id,
            customer_id=friend.customer_id, external_id=f"demo-{key}-{n}", sender_id=speaker[0],
            sender_name=speaker[1], sent_at=now - timedelta(minutes=minutes)), now=now)


def _group_talk(session, account: WechatAccount, sim, now) -> None:
    group = next(iter(sim.groups.values()), None)
    if group is None:
        return
    members = group.members or [{"wxid": account.wxid, "nickname": account.nickname}]
    for n, (minutes, who, body) in enumerate(GROUP_CHAT):
        if who == "owner":
            speaker, direction = {"wxid": account.wxid, "nickname": account.nickname}, "out"
        else:
            speaker, direction = members[int(who.rsplit("_", 1)[1]) % len(members)], "in"
        record_message(session, NewMessage(
            channel="wechat", account_id=account.id, kind="group", peer_id=group.chatroom_id, title=group.name,
            direction=direction, text=body, external_id=f"demo-group-{group.chatroom_id}-{n}",
            sender_id=speaker["wxid"], sender_name=speaker.get("nickname", ""), sent_at=now - timedelta(minutes=minutes)),
            now=now)


def seed_demo_chats(runtime) -> int:
    """Creates the demo conversations once (messages are deduplicated by their demo ids); returns how
    many conversations have demo messages."""
    services = runtime.services
    now = services.now()
    tokens = _demo_tokens(services.settings.var_dir)
    with services.db.write() as s:
        if s.exec(select(ChatMessage.id).where(col(ChatMessage.external_id).like("demo-%")).limit(1)).first():
            return 0  # seeded before
        pairs = [pair for token in tokens[:2] for pair in _accounts_for(s, token, now)]
        s.flush()
        customers = list(s.exec(select(Customer).order_by(Customer.id).limit(2)).all())
        talked = 0
        for index, (account, sim) in enumerate(pairs[:2]):
            friends = list(s.exec(select(Friend).where(Friend.account_id == account.id).order_by(Friend.id).limit(2)))
            for offset, friend in enumerate(friends):
                which = (index * 2 + offset) % len(DIALOGUES)
                if which < len(customers) and friend.customer_id is None:
                    friend.customer_id = customers[which].id  # 好友详情 shows a linked customer with its tags
                    s.add(friend)
                    s.flush()
                _talk(s, account, friend, DIALOGUES[which], now, f"{account.wxid}-{friend.wxid}")
                s.add(Moment(account_id=account.id, moment_id=f"demo-{friend.wxid}", friend_wxid=friend.wxid,
                             text=MOMENTS[which % len(MOMENTS)], posted_at=now - timedelta(hours=5 + which)))
                talked += 1
            _group_talk(s, account, sim, now)
            talked += 1 if sim.groups else 0
    return talked
