"""The made-up WeChat world of one simulated phone: its accounts, their friends and groups.

Deterministic per token and seed, so a test can name a friend or a group and a re-run of the
demo shows the same people.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "晨", "悦"]
GROUP_NAMES = ["宝妈交流群", "健身打卡群", "读书会", "课程答疑群", "福利秒杀群", "老客户回馈群", "新品体验群"]
FAIL_REASONS = ["群聊已解散", "你已被移出群聊", "群主开启了禁言"]


@dataclass
class SimGroup:
    chatroom_id: str
    name: str
    members: list  # [{wxid, nickname}]
    failing: str = ""  # a reason every send to this group fails with ("" = healthy)


@dataclass
class SimAccount:
    wxid: str
    alias: str
    nickname: str
    mobile: str
    friends: dict = field(default_factory=dict)  # wxid → {wxid, nickname, mobile, tags, source}
    groups: dict = field(default_factory=dict)  # chatroom_id → SimGroup
    last_send_at: float = 0.0
    risky: bool = False
    deleted_by: set = field(default_factory=set)  # friends who deleted this account (sends to them fail)

    def as_frame(self) -> dict:
        return {"wxid": self.wxid, "alias": self.alias, "nickname": self.nickname, "mobile": self.mobile}


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def build_accounts(token: str, seed: int, accounts: tuple[int, int], friends: int, groups: int,
                   members: int, group_fail_rate: float) -> list[SimAccount]:
    key = hashlib.sha256(f"{seed}:{token}".encode()).hexdigest()[:10]
    rng = random.Random(key)
    out = []
    for a in range(rng.randint(*accounts)):
        acc = SimAccount(wxid=f"wxid_{key}{a}", alias=f"ckb_{key[:6]}{a}", nickname=f"{person(rng)}（客服{a + 1}）",
                         mobile=f"13{rng.randint(100000000, 999999999)}")
        for f in range(friends):
            wxid = f"wxid_{key}{a}f{f}"
            acc.friends[wxid] = {"wxid": wxid, "nickname": person(rng), "mobile": f"15{rng.randint(100000000, 999999999)}",
                                 "tags": rng.sample(["意向客户", "老客户", "宝妈", "学员", "VIP"], k=rng.randint(0, 2)),
                                 "source": rng.choice(["search", "qrcode", "group", "card", "phone"])}
        friend_ids = list(acc.friends)
        for g in range(groups):
            room = f"{key}{a}g{g}@chatroom"
            picked = rng.sample(friend_ids, k=min(members, len(friend_ids)))
            failing = rng.choice(FAIL_REASONS) if rng.random() < group_fail_rate else ""
            acc.groups[room] = SimGroup(room, f"{rng.choice(GROUP_NAMES)}{g + 1}",
                                        [{"wxid": w, "nickname": acc.friends[w]["nickname"]} for w in picked], failing)
        out.append(acc)
    return out
