"""Shared set-up for the workbench tests (no tests here): accounts, friends and groups as the
gateway would record them, device reports posted through the trusted ingestion path, and a
wizard save through engine.workbench exactly as the console does it."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from devices.models import ChatGroup, ChatGroupMember, DeviceCommand, Friend, WechatAccount
from engine.lifecycle import set_enabled
from engine.workbench import save_task


class Bench:
    def __init__(self, kit):
        self.kit = kit
        self.rt = kit.rt
        self.svc = kit.svc
        self._n = 0

    def account(self, wxid: str, nickname: str = "", health: int = 100) -> int:
        with self.svc.db.write() as s:
            a = WechatAccount(wxid=wxid, nickname=nickname or wxid, health_score=health)
            s.add(a)
            s.flush()
            return a.id

    def friend(self, account_id: int, wxid: str, tags: list | None = None) -> None:
        with self.svc.db.write() as s:
            s.add(Friend(account_id=account_id, wxid=wxid, nickname=wxid, tags=tags or []))

    def group(self, account_id: int, room: str, name: str = "") -> int:
        with self.svc.db.write() as s:
            g = ChatGroup(account_id=account_id, chatroom_id=room, name=name or room)
            s.add(g)
            s.flush()
            return g.id

    def join(self, group_id: int, wxid: str, nickname: str) -> None:
        with self.svc.db.write() as s:
            s.add(ChatGroupMember(group_id=group_id, wxid=wxid, nickname=nickname, joined_at=self.svc.now()))

    def report(self, code: str, data: dict) -> None:
        self._n += 1
        result = self.rt.ingestor.ingest_trusted("device", "device:test", [{"event": code, "id": f"r{self._n}", "data": data}])
        assert result.stored_ids, result.payload

    def save(self, key: str, config: dict, enable: bool = True, strategy_id: int | None = None) -> int:
        with self.svc.db.write() as s:
            st = save_task(s, key, config, self.rt.registry, self.svc.settings.timezone, self.svc.now(),
                           strategy_id=strategy_id, user="tester")
            if enable:
                set_enabled(s, [st.id], True)
            sid = st.id
        self.rt.invalidate()
        return sid

    def commands(self, kind: str | None = None) -> list[DeviceCommand]:
        with self.svc.db.read() as s:
            q = select(DeviceCommand).order_by(DeviceCommand.id)
            if kind:
                q = q.where(DeviceCommand.kind == kind)
            return list(s.exec(q))

    def at(self, when: datetime) -> None:
        self.svc.clock.set(when)
