"""设备类处理器的共同部分: which WeChat account acts, what the phone is told, and what history says.

The account is the step's 微信号 setting (account ID, wxid or ${account_id}), or the event's own
account_id. Every command goes through the risk budget (devices.commands.issue_command) with the
step's idempotency key, so a retried step never sends twice. A command the budget refuses stops
the step with the reason (e.g. the sensitive word); a deferred one is a success that says when it
will go and why — it is never silently dropped."""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, select

from config.clock import format_local
from devices.commands import CommandError, issue_command
from devices.models import DeviceCommand, WechatAccount
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.builtin.device_targets import resolve_account
from handlers.builtin.workbench_base import write_budgeted
from handlers.errors import PermanentError

ACCOUNT_FIELD = ConfigField("account", "微信号", help="微信号ID或wxid，可填 ${account_id}；留空时使用事件中的 account_id")
KIND_LABELS = {"accept_friend": "通过好友", "add_friend": "加好友", "send_text": "发送文字", "send_image": "发送图片",
               "send_link": "发送链接", "send_miniprogram": "发送小程序", "like_moment": "点赞朋友圈",
               "comment_moment": "评论朋友圈", "post_moment": "发朋友圈", "create_group": "建群",
               "invite_to_group": "邀请入群", "set_announcement": "设置群公告"}


@dataclass
class Planned:
    """One command a step will issue; `suffix` tells several commands of one step apart."""

    kind: str
    payload: dict
    suffix: str = ""
    customer_key: str = ""


def describe(command: DeviceCommand, tz: str) -> str:
    label = KIND_LABELS.get(command.kind, command.kind)
    when = format_local(command.not_before, "%Y-%m-%d %H:%M:%S", tz, empty="")
    if command.status == "deferred":
        return f"{label}：已延后至 {when} 原因：{command.reason}"
    if command.status == "refused":
        return f"{label}被拒绝：{command.reason}"
    if command.status == "queued":
        return f"{label}：已排队（指令 #{command.id}），最早 {when} 发送"
    return f"{label}：指令 #{command.id} 状态 {command.status}"


def summary(command: DeviceCommand) -> dict:
    return {"command_id": command.id, "kind": command.kind, "status": command.status,
            "not_before": command.not_before.isoformat() if command.not_before else None, "reason": command.reason}


class DeviceStep(Processor):
    """A step that tells a phone to act. Subclasses add settings after ACCOUNT_FIELD and `plan`."""

    external = False  # it only queues a command row, once per idempotency key; phones get it later

    @abstractmethod
    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        """The commands to issue (PermanentError when the settings or event cannot make one)."""

    def skip(self, session: Session, ctx: ProcessorContext, account: WechatAccount,
             plans: list[Planned]) -> Optional[str]:
        """A reason not to issue anything at all (e.g. the moment was already posted), or None."""
        return None

    def issued(self, session: Session, account: WechatAccount, commands: list[DeviceCommand]) -> None:
        """Bookkeeping in the same transaction as the commands (e.g. remember a posted moment)."""

    def _prepare(self, ctx: ProcessorContext, config: dict, session: Session) -> tuple[WechatAccount, list[Planned]]:
        account = resolve_account(session, config, ctx.data)
        plans = self.plan(ctx, config, session, account)
        if not plans:
            raise PermanentError("没有要发送的内容")
        return account, plans

    @staticmethod
    def _request(account: WechatAccount, plans: list[Planned]) -> dict:
        return {"account_id": account.id, "account": account.wxid,
                "commands": [{"kind": p.kind, "payload": p.payload} for p in plans]}

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        with ctx.services.db.read() as session:
            return self._request(*self._prepare(ctx, config, session))

    def _skip_reason(self, session: Session, ctx: ProcessorContext, account: WechatAccount,
                     plans: list[Planned]) -> Optional[str]:
        existing = session.exec(select(DeviceCommand).where(
            DeviceCommand.idempotency_key == f"{ctx.idempotency_key}{plans[0].suffix}")).first()
        return None if existing is not None else self.skip(session, ctx, account, plans)

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        svc = ctx.services
        if ctx.dry_run:
            return Outcome(request=self.render(ctx, config), note=DRY_RUN_NOTE)

        # The budget decisions are taken before this transaction (write_budgeted): a frozen
        # Redis defers the step (no attempt spent) and never holds the database write lock.
        def work(session):
            account, plans = self._prepare(ctx, config, session)
            request = self._request(account, plans)
            reason = self._skip_reason(session, ctx, account, plans)
            if reason:
                return request, reason, []
            try:
                commands = [issue_command(session, account.id, p.kind, p.payload, source="strategy",
                                          idempotency_key=f"{ctx.idempotency_key}{p.suffix}", task_id=ctx.task_id,
                                          customer_key=p.customer_key, now=svc.now(), settings=svc.settings,
                                          redis=getattr(svc, "redis", None))
                            for p in plans]
            except CommandError as exc:
                raise PermanentError(exc.message, request=request) from exc
            self.issued(session, account, commands)
            return request, None, commands

        request, reason, commands = write_budgeted(ctx, work)
        if reason:
            return Outcome(request=request, response={"skipped": True}, note=reason)
        # Raised after commit: a refused command stays on record (with the blocked word) in 指令记录.
        response = summary(commands[0]) if len(commands) == 1 else {"commands": [summary(c) for c in commands]}
        notes = "；".join(describe(c, svc.settings.timezone) for c in commands)
        refused = [c for c in commands if c.status == "refused"]
        if refused:
            raise PermanentError(f"风控拒绝：{refused[0].reason}", request=request, response=response)
        return Outcome(request=request, response=response, note=notes[:500])
