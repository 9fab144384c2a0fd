"""One simulated phone speaking the real device protocol over a real WebSocket.

It logs in with its token, reports its accounts, friends and groups, heartbeats, chats and
posts moments at the fleet's rates, and executes commands: an ack at once, a result after a
short delay. It re-sends any report the server has not acknowledged (at-least-once) and
executes a command id only once. Pushed faster than `min_send_gap` seconds per account, an
account answers "操作过于频繁" and reports a risk signal — like WeChat would.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Optional

from devices.protocol import ACCOUNT_NOT_ON_DEVICE

FRIEND_DELETED = "friend_deleted"  # a send to a friend who deleted the account (result code)
from devices.simulator.world import SimAccount, SimGroup, build_accounts, person

SEND_KINDS = ("send_text", "send_image", "send_link", "send_miniprogram", "add_friend", "invite_to_group")


@dataclass
class PhoneConfig:
    accounts: tuple = (1, 3)
    friends: int = 20
    groups: int = 3
    members: int = 8
    message_rate: float = 0.0  # messages per account per minute
    moment_rate: float = 0.0  # friends' moments per account per minute
    friend_request_rate: float = 0.0  # incoming friend requests per account per minute
    join_rate: float = 0.0  # group joins per account per minute
    heartbeat_seconds: Optional[float] = None  # None: the interval the server announces
    result_delay: tuple = (0.05, 0.2)
    group_fail_rate: float = 0.0  # share of groups whose every send fails with a named reason
    min_send_gap: float = 3.0  # faster than this per account → 操作过于频繁
    resend_after: float = 10.0  # re-send an unacknowledged report after this many seconds
    seed: int = 1
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # the phone's own clock, stamped as `at`


@dataclass
class PhoneStats:
    connected_at: Optional[float] = None
    connect_seconds: Optional[float] = None
    refused: str = ""
    commands: int = 0
    results_ok: int = 0
    results_failed: int = 0
    risk_signals: int = 0
    reports_sent: int = 0
    reports_acked: int = 0
    received: list = field(default_factory=list)  # (command id, kind, payload) in arrival order
    executed_on: list = field(default_factory=list)  # (command id, the account wxid the frame named)
    # what reached a chat on this phone from send_* commands: (account wxid, to, kind, payload), in order
    delivered: list = field(default_factory=list)


class SimulatedPhone:
    def __init__(self, url: str, token: str, config: PhoneConfig, index: int = 0):
        self.url = url
        self.token = token
        self.config = config
        self.index = index
        self.rng = random.Random(f"{config.seed}:{index}:{token[-6:]}")
        self.accounts: list[SimAccount] = build_accounts(token, config.seed, config.accounts, config.friends,
                                                         config.groups, config.members, config.group_fail_rate)
        self.stats = PhoneStats()
        self.device_id: Optional[int] = None
        self.ready = asyncio.Event()
        self.closed = asyncio.Event()
        self._ws = None
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[dict, float, asyncio.Future]] = {}
        self._done: dict[int, dict] = {}  # command id → its result frame (executed once)
        self._tasks: list[asyncio.Task] = []
        self.last_said: dict = {}

    def account(self, i: int = 0) -> SimAccount:
        return self.accounts[i]

    # -- frames ------------------------------------------------------------------------------
    async def _send(self, frame: dict) -> None:
        await self._ws.send(json.dumps(frame, ensure_ascii=False))

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{self.index}-{next(self._ids)}"

    async def request(self, frame: dict) -> dict:
        """Sends a frame that the server acknowledges; resolves with the ack."""
        future = asyncio.get_running_loop().create_future()
        self._pending[str(frame["id"])] = (frame, time.monotonic(), future)
        await self._send(frame)
        return await future

    async def report(self, kind: str, account: SimAccount, data: dict, report_id: Optional[str] = None) -> dict:
        self.stats.reports_sent += 1
        # `at` is when it happened here, by the phone's clock; a re-sent report keeps it.
        return await self.request({"type": "report", "id": report_id or self._next_id("r"), "kind": kind,
                                   "account": account.wxid, "at": self.config.clock().isoformat(), "data": data})

    # -- life -------------------------------------------------------------------------------
    async def run(self) -> None:
        from websockets.asyncio.client import connect  # the simulator's one third-party need

        started = time.monotonic()
        try:
            async with connect(self.url, max_size=4 * 1024 * 1024, open_timeout=30, ping_interval=None,
                               close_timeout=2) as ws:
                self._ws = ws
                reader = asyncio.create_task(self._reader())
                hello_id = self._next_id("h")
                welcome = asyncio.get_running_loop().create_future()
                self._pending[hello_id] = ({}, time.monotonic(), welcome)
                await self._send({"type": "hello", "id": hello_id, "token": self.token, "protocol": 1,
                                  "app_version": "sim-1.0", "model": "CKB-SIM"})
                try:
                    hello = await asyncio.wait_for(welcome, 30)
                except (asyncio.TimeoutError, ConnectionError) as exc:
                    self.stats.refused = self.stats.refused or f"hello failed: {exc}"
                    reader.cancel()
                    return
                if hello.get("type") != "welcome":
                    self.stats.refused = hello.get("message", "refused")
                    await reader
                    return
                self.device_id = hello["device_id"]
                await self.request({"type": "accounts", "id": self._next_id("a"), "accounts": [a.as_frame() for a in self.accounts]})
                for acc in self.accounts:
                    await self.report("friends_sync", acc, {"friends": list(acc.friends.values()), "complete": True})
                    await self.report("groups_sync", acc, {"groups": [
                        {"chatroom_id": g.chatroom_id, "name": g.name, "owner_wxid": acc.wxid, "members": g.members}
                        for g in acc.groups.values()], "complete": True})
                self.stats.connected_at = time.time()
                self.stats.connect_seconds = time.monotonic() - started
                self.ready.set()
                interval = self.config.heartbeat_seconds or hello.get("heartbeat_interval", 30)
                self._tasks = [asyncio.create_task(self._heartbeats(interval)), asyncio.create_task(self._resender()),
                               asyncio.create_task(self._chatter())]
                await reader
        except (OSError, asyncio.TimeoutError) as exc:
            self.stats.refused = self.stats.refused or f"connect failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - websockets' ConnectionClosed / InvalidStatus
            self.stats.refused = self.stats.refused or f"{type(exc).__name__}: {exc}"
        finally:
            for task in self._tasks:
                task.cancel()
            for _frame, _t, future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))
            self.ready.set()
            self.closed.set()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _reader(self) -> None:
        try:
            async for raw in self._ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind in ("welcome", "ack", "error"):
                    entry = self._pending.pop(str(frame.get("id")), None)
                    if entry is not None and not entry[2].done():
                        if kind == "ack" and entry[0].get("type") == "report":
                            self.stats.reports_acked += 1
                        entry[2].set_result(frame)
                    elif kind == "error" and frame.get("id") is None:
                        self.stats.refused = frame.get("message", "")
                elif kind == "command":
                    await self._on_command(frame)
        except Exception as exc:  # noqa: BLE001 - closed by the server: keep its reason
            reason = getattr(getattr(exc, "rcvd", None), "reason", "")
            if reason and not self.stats.refused:
                self.stats.refused = reason

    async def _heartbeats(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send({"type": "heartbeat", "id": self._next_id("b"), "battery": self.rng.randint(20, 100),
                              "network": self.rng.choice(["wifi", "4g", "5g"])})

    async def _resender(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.config.resend_after))
            now = time.monotonic()
            for fid, (frame, sent, future) in list(self._pending.items()):
                if frame and not future.done() and now - sent > self.config.resend_after:
                    self._pending[fid] = (frame, now, future)
                    await self._send(frame)

    # -- commands ------------------------------------------------------------------------------
    async def _on_command(self, frame: dict) -> None:
        cid = frame["id"]
        await self._send({"type": "ack", "id": cid})
        if cid in self._done:  # a re-delivery: same answer, never executed twice
            await self._send(self._done[cid])
            return
        self._done[cid] = {}
        self.stats.commands += 1
        self.stats.received.append((cid, frame["kind"], frame.get("payload") or {}))
        self.stats.executed_on.append((cid, frame.get("account") or ""))
        asyncio.create_task(self._execute(cid, frame["kind"], frame.get("payload") or {}, frame.get("account") or ""))

    async def _execute(self, cid: int, kind: str, payload: dict, account_wxid: str) -> None:
        await asyncio.sleep(self.rng.uniform(*self.config.result_delay))
        acc = self._account_for(account_wxid)
        if acc is None:  # like a real phone: never run another account's command on whichever is open
            answer = {"type": "result", "id": cid, "ok": False, "result": {}, "code": ACCOUNT_NOT_ON_DEVICE,
                      "error": f"本机没有微信号 {account_wxid}" if account_wxid else "指令没有指明微信号"}
            self._done[cid] = answer
            self.stats.results_failed += 1
            try:
                await self._send(answer)
            except Exception:  # noqa: BLE001 - the connection went away; the server re-delivers
                pass
            return
        ok, result, error, follow = self._apply(acc, kind, payload)
        answer = {"type": "result", "id": cid, "ok": ok, "result": result, "error": error}
        if not ok and result.get("code"):
            answer["code"] = result["code"]
        self._done[cid] = answer
        if ok:
            self.stats.results_ok += 1
        else:
            self.stats.results_failed += 1
        try:
            await self._send(answer)
            for report_kind, data in follow:
                if report_kind == "risk_signal":
                    self.stats.risk_signals += 1
                await self.report(report_kind, acc, data)
        except Exception:  # noqa: BLE001 - the connection went away; the server re-delivers
            pass

    def _account_for(self, wxid: str) -> Optional[SimAccount]:
        """The account the command names; None when this phone does not hold it."""
        return next((acc for acc in self.accounts if wxid and acc.wxid == wxid), None)

    def _apply(self, acc: SimAccount, kind: str, payload: dict):
        now = time.monotonic()
        if kind in SEND_KINDS:
            too_fast = acc.last_send_at and now - acc.last_send_at < self.config.min_send_gap
            acc.last_send_at = now
            if too_fast:
                return False, {}, "操作过于频繁，请稍后再试", [("risk_signal", {"kind": "too_frequent", "text": "操作过于频繁，请稍后再试"})]
        if kind.startswith("send_"):
            to = payload.get("to", "")
            group = acc.groups.get(to)
            if group is not None and group.failing:
                return False, {}, group.failing, []
            if to in acc.deleted_by:  # WeChat: 对方开启了朋友验证，你还不是他（她）朋友
                return False, {"code": FRIEND_DELETED}, "对方已删除好友（对方开启了朋友验证，你还不是他（她）朋友）", []
            msg_id = f"m{self.rng.getrandbits(40)}"
            self.stats.delivered.append((acc.wxid, to, kind, dict(payload)))
            return True, {"msg_id": msg_id}, "", []
        if kind == "accept_friend":
            wxid = payload.get("wxid") or f"wxid_new{self.rng.getrandbits(32)}"
            friend = {"wxid": wxid, "nickname": payload.get("nickname") or person(self.rng), "source": "search",
                      "mobile": payload.get("mobile", "")}
            acc.friends[wxid] = friend
            return True, {"wxid": wxid}, "", [("friend_added", friend)]
        if kind == "create_group":  # a real phone answers with the new chatroom's id
            room = f"{self.rng.getrandbits(40)}@chatroom"
            members = [{"wxid": w, "nickname": acc.friends.get(w, {}).get("nickname", "")} for w in payload.get("members") or []]
            acc.groups[room] = SimGroup(room, payload.get("name") or "新群", members)
            return True, {"chatroom_id": room}, "", [("groups_sync", {"groups": [
                {"chatroom_id": room, "name": payload.get("name") or "新群", "members": members}], "complete": False})]
        if kind == "sync_friends":
            return True, {"friends": len(acc.friends)}, "", [("friends_sync", {"friends": list(acc.friends.values()), "complete": True})]
        if kind == "sync_groups":
            return True, {"groups": len(acc.groups)}, "", [("groups_sync", {"groups": [
                {"chatroom_id": g.chatroom_id, "name": g.name, "members": g.members} for g in acc.groups.values()], "complete": True})]
        return True, {}, "", []

    # -- chat ---------------------------------------------------------------------------------------
    def message_frame(self, acc: SimAccount, from_wxid: str, text: str, *, chatroom_id: str = "",
                      msg_type: str = "text", extra: Optional[dict] = None) -> dict:
        """A `message` report's data: a friend (or a group member) says `text` to `acc`."""
        friend = acc.friends.get(from_wxid) or {}
        nickname = friend.get("nickname", "")
        if chatroom_id and chatroom_id in acc.groups:
            nickname = next((m.get("nickname", "") for m in acc.groups[chatroom_id].members if m.get("wxid") == from_wxid),
                            nickname)
        return {"msg_id": f"{acc.wxid}:{self.rng.getrandbits(56):x}", "direction": "in", "from_wxid": from_wxid,
                "nickname": nickname, "chatroom_id": chatroom_id, "text": text, "msg_type": msg_type, **(extra or {})}

    async def say(self, acc: SimAccount, from_wxid: str, text: str, *, chatroom_id: str = "", msg_type: str = "text",
                  extra: Optional[dict] = None) -> dict:
        """Reports a message from a friend now; resolves with the server's ack (the data is in `last_said`)."""
        data = self.message_frame(acc, from_wxid, text, chatroom_id=chatroom_id, msg_type=msg_type, extra=extra)
        self.last_said = data
        await self.report("message", acc, data)
        return data

    # -- the world moves ----------------------------------------------------------------------
    async def _chatter(self) -> None:
        cfg = self.config
        per_second = (cfg.message_rate + cfg.moment_rate + cfg.friend_request_rate + cfg.join_rate) / 60 * len(self.accounts)
        if per_second <= 0:
            return
        while True:
            await asyncio.sleep(self.rng.expovariate(per_second))
            acc = self.rng.choice(self.accounts)
            pick = self.rng.uniform(0, cfg.message_rate + cfg.moment_rate + cfg.friend_request_rate + cfg.join_rate)
            friend = self.rng.choice(list(acc.friends.values())) if acc.friends else None
            if pick < cfg.message_rate and friend:
                group = self.rng.choice(list(acc.groups.values())) if acc.groups and self.rng.random() < 0.5 else None
                await self.say(acc, friend["wxid"], self.rng.choice(["在吗", "课程怎么报名", "价格多少", "谢谢", "打卡"]),
                               chatroom_id=group.chatroom_id if group else "")
            elif pick < cfg.message_rate + cfg.moment_rate and friend:
                await self.report("moment_posted", acc, {"moment_id": f"mo{self.rng.getrandbits(48)}", "friend_wxid": friend["wxid"],
                                                         "text": self.rng.choice(["今天天气真好", "新品上架", "健身第 30 天"]),
                                                         "media": [] if self.rng.random() < 0.5 else ["https://img.example/1.jpg"]})
            elif pick < cfg.message_rate + cfg.moment_rate + cfg.friend_request_rate:
                await self.report("friend_request", acc, {"from_wxid": f"wxid_req{self.rng.getrandbits(40)}", "nickname": person(self.rng),
                                                          "greeting": self.rng.choice(["你好，想了解课程", "朋友推荐", "我是宝妈"]),
                                                          "source": self.rng.choice(["search", "qrcode", "group"])})
            elif acc.groups:
                group = self.rng.choice(list(acc.groups.values()))
                newcomer = {"wxid": f"wxid_join{self.rng.getrandbits(40)}", "nickname": person(self.rng)}
                group.members.append(newcomer)
                await self.report("group_member_joined", acc, {"chatroom_id": group.chatroom_id, "group_name": group.name,
                                                               "members": [newcomer]})
