"""A fleet of simulated phones on one asyncio loop in a background thread.

`SimulatedFleet(url, tokens, ...).start()` returns when every phone is connected and has
reported its accounts, friends and groups (or was refused); `stop()` hangs them all up.
Tests drive single phones through `call(...)`, which runs a coroutine on the fleet's loop.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Optional

from devices.simulator.phone import PhoneConfig, SimulatedPhone


class SimulatedFleet:
    def __init__(self, url: str, tokens: list[str], config: Optional[PhoneConfig] = None,
                 connect_concurrency: int = 200, **overrides):
        self.url = url
        self.tokens = list(tokens)
        self.config = config or PhoneConfig(**overrides)
        self.connect_concurrency = connect_concurrency
        self.phones: list[SimulatedPhone] = []
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._main: Optional[asyncio.Future] = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> "SimulatedFleet":
        self._thread = threading.Thread(target=self._run_loop, name="ckb-sim-fleet", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{len(self.tokens)} 台模拟手机未能在 {timeout} 秒内全部连上")
        return self

    def _run_loop(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main_coro())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _main_coro(self) -> None:
        self._main = asyncio.get_running_loop().create_future()
        self.phones = [SimulatedPhone(self.url, token, self.config, i) for i, token in enumerate(self.tokens)]
        gate = asyncio.Semaphore(self.connect_concurrency)
        tasks = []

        async def run_one(phone: SimulatedPhone):
            async with gate:
                task = asyncio.create_task(phone.run())
                await phone.ready.wait()
            await task

        for phone in self.phones:
            tasks.append(asyncio.create_task(run_one(phone)))
        await asyncio.gather(*(p.ready.wait() for p in self.phones))
        self._ready.set()
        await self._main  # until stop()
        await asyncio.gather(*(p.close() for p in self.phones), return_exceptions=True)
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()

    def stop(self, timeout: float = 20.0) -> None:
        if self.loop is not None and self._main is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(lambda: self._main.done() or self._main.set_result(None))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> "SimulatedFleet":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- driving phones from another thread ------------------------------------------------------
    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def report(self, phone: int, kind: str, data: dict, account: int = 0, report_id: Optional[str] = None) -> dict:
        p = self.phones[phone]
        return self.call(p.report(kind, p.account(account), data, report_id))

    def say(self, phone: int, text: str, *, account: int = 0, friend: Optional[str] = None, chatroom_id: str = "",
            msg_type: str = "text", extra: Optional[dict] = None) -> dict:
        """A simulated friend (the account's first one unless named) sends `text` now; returns the
        reported data (with its msg_id) once the server acknowledged it."""
        p = self.phones[phone]
        acc = p.account(account)
        sender = friend or next(iter(acc.friends))
        return self.call(p.say(acc, sender, text, chatroom_id=chatroom_id, msg_type=msg_type, extra=extra))

    def delete_us(self, phone: int, friend: str, account: int = 0) -> None:
        """The friend deletes the account: from now on a send to them fails with `friend_deleted`."""
        self.phones[phone].account(account).deleted_by.add(friend)

    def delivered(self, phone: Optional[int] = None) -> list[tuple]:
        """What the phones' chats received from send_* commands: (account wxid, to, kind, payload)."""
        phones = self.phones if phone is None else [self.phones[phone]]
        return [item for p in phones for item in p.stats.delivered]

    def connected(self) -> list[SimulatedPhone]:
        return [p for p in self.phones if p.device_id is not None and not p.closed.is_set()]

    def refused(self) -> list[SimulatedPhone]:
        return [p for p in self.phones if p.stats.refused and p.device_id is None]

    def wait_for(self, predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return predicate()

    def stats(self) -> dict:
        phones = self.phones
        return {"phones": len(phones), "connected": len(self.connected()), "refused": len(self.refused()),
                "accounts": sum(len(p.accounts) for p in phones),
                "commands": sum(p.stats.commands for p in phones),
                "results_ok": sum(p.stats.results_ok for p in phones),
                "results_failed": sum(p.stats.results_failed for p in phones),
                "risk_signals": sum(p.stats.risk_signals for p in phones),
                "reports_sent": sum(p.stats.reports_sent for p in phones)}
