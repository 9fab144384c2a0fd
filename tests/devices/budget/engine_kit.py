"""Driving device steps through the real engine: a test event shaped like the device reports,
an account with a friend and a group, a strategy with one device step, and what it produced."""
from __future__ import annotations

from sqlmodel import select

from devices.models import ChatGroup, DeviceCommand, Friend
from engine.models import StrategyTask
from events.definitions import create_definition
from tests.devices.budget.conftest import make_account

EVENT = "test.device_report"
FIELDS = [("account_id", "number"), ("from_wxid", "text"), ("wxid", "text"), ("chatroom_id", "text"),
          ("is_group", "boolean"), ("text", "text"), ("moment_id", "text"), ("wxids", "list"),
          ("customer_id", "number"), ("request_id", "text"), ("mobile", "text"), ("nickname", "text")]


class DeviceKit:
    def __init__(self, kit):
        self.kit = kit
        self.svc = kit.svc
        with self.svc.db.write() as s:
            create_definition(s, {"name": "设备上报（测试）", "code": EVENT,
                                  "fields": [{"name": n, "type": t, "label": n} for n, t in FIELDS]})
        kit.rt.invalidate()
        self.account = make_account(self.svc, wxid="wxid_ops1")
        with self.svc.db.write() as s:
            s.add(Friend(account_id=self.account, wxid="wxid_zhang", nickname="张三", customer_id=42))
            s.add(ChatGroup(account_id=self.account, chatroom_id="888@chatroom", name="课程群"))
        self.steps = 0

    def run(self, key: str, config: dict, data: dict | None = None, name: str = "设备策略"):
        """One more strategy with one immediate device step; posts the event, runs the engine once and
        returns the new strategy's task (earlier strategies match the event too)."""
        self.steps += 1
        strategy_id = self.kit.strategy(EVENT, [], [{"processor": key, "config": config, "timing": {"mode": "immediate"}}],
                          name=f"{name}{self.steps}")
        body = {"event": EVENT, "id": f"report-{self.steps}",
                "data": {"account_id": self.account, "from_wxid": "wxid_zhang", **(data or {})}}
        self.kit.post(body)
        self.kit.rt.tick()
        with self.svc.db.read() as s:
            return s.exec(select(StrategyTask).where(StrategyTask.strategy_id == strategy_id)
                          .order_by(StrategyTask.id.desc())).first()

    def commands(self) -> list[DeviceCommand]:
        with self.svc.db.read() as s:
            return list(s.exec(select(DeviceCommand).order_by(DeviceCommand.id)))
