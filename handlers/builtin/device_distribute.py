"""流量分发: hand one new lead (a new friend, or a new customer) to one of the task's targets.

按比例: smooth weighted round-robin — with weights 2:1 the targets go A A B A A B …, exactly, also
with several workers, because the tallies are BudgetCounter rows updated in the same write
transaction that picks (SQLite holds the write lock; PostgreSQL locks the rows). 按顺序: one after
another. 按标签: targets whose tag the lead has, weighted; none matching → all targets.
Unhealthy (below the minimum 健康分, paused, banned, add-friend cap 0) and full targets are
skipped. An account target sends the lead a friend request (add_friend, paced and capped by the
risk budget; outside working hours it waits for the next opening); a staff target gets the
customer as owner plus a 跟进任务.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from config.clock import as_utc, from_local
from config.timewindow import TimeWindow
from crm.customers.models import Customer
from crm.people.models import User
from crm.sales.tasks import create_task
from crm.scope import SYSTEM
from devices.health import add_friend_cap
from devices.models import Friend, WechatAccount
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin import workbench_counters as counters
from handlers.builtin.workbench_base import brief, in_window, issue, local_now, note, write_budgeted
from handlers.errors import PermanentError


def pick(targets: list[dict], tallies: dict[int, int]) -> dict:
    """Smooth weighted round-robin: the target furthest behind its share, earliest on ties."""
    return min(targets, key=lambda t: ((tallies.get(t["id"], 0) + 1) / max(1, t["weight"]), targets.index(t)))


def _next_opening(local: datetime, start: str, tz: str) -> datetime:
    return from_local(TimeWindow.of(start, "24:00").opens_after(local), tz)


class DistributeProcessor(Processor):
    key = "device.distribute"
    name = "流量分发"
    description = "按权重、顺序或标签把新好友/新客户分给微信号（发送好友请求）或员工（成为负责人并建跟进任务），跳过健康分低或满额的对象"
    config_fields = (
        ConfigField("targets", "分发对象", kind="json", required=True, templated=False,
                    help='[{"id": 微信号或员工ID, "weight": 权重, "daily_cap": 每日上限(0不限), "tag": 按标签时的标签}]'),
        ConfigField("target_kind", "对象类型", kind="select", default="account", templated=False,
                    choices=(("account", "微信号"), ("staff", "员工"))),
        ConfigField("mode", "分发规则", kind="select", default="ratio", templated=False,
                    choices=(("ratio", "按比例"), ("order", "按顺序"), ("tag", "按标签"))),
        ConfigField("min_health", "最低健康分", kind="number", default=50, templated=False),
        ConfigField("start_time", "工作开始时间", default="09:00", templated=False),
        ConfigField("end_time", "工作结束时间", default="21:00", templated=False),
        ConfigField("greeting", "加好友验证语", default="你好", templated=False),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        targets = config.get("targets")
        if not isinstance(targets, list) or not targets or not all(isinstance(t, dict) and t.get("id") for t in targets):
            errors.append("分发对象应为非空列表，每项包含 id")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"lead": self._lead(ctx), "targets": config.get("targets"), "mode": config.get("mode", "ratio")}

    @staticmethod
    def _lead(ctx: ProcessorContext) -> dict:
        d = ctx.data
        return {"wxid": d.get("wxid") or "", "mobile": d.get("mobile") or "", "nickname": d.get("nickname") or "",
                "customer_id": d.get("customerId") or d.get("customer_id"), "account_id": d.get("account_id")}

    def _lead_tags(self, session: Session, lead: dict) -> set[str]:
        tags: set[str] = set()
        if lead["wxid"] and lead["account_id"]:
            friend = session.exec(select(Friend).where(Friend.account_id == lead["account_id"], Friend.wxid == lead["wxid"])).first()
            tags |= set(friend.tags or []) if friend else set()
        return tags

    def _eligible(self, session: Session, ctx, config: dict, targets: list[dict], today, scope: str) -> tuple[list, list]:
        now = ctx.services.now()
        kind = config.get("target_kind") or "account"
        daily = counters.counts(session, scope, today, [f"d:{t['id']}" for t in targets])
        ok, skipped = [], []
        for t in targets:
            cap = int(t.get("daily_cap") or 0)
            if cap and daily.get(f"d:{t['id']}", 0) >= cap:
                skipped.append(f"#{t['id']} 今日已满 {cap}")
                continue
            if kind == "account":
                account = session.get(WechatAccount, t["id"])
                if account is None:
                    skipped.append(f"#{t['id']} 微信号不存在")
                elif account.id == ctx.data.get("account_id"):
                    skipped.append(f"{account.nickname or account.wxid} 是来源号")
                elif account.status in ("banned", "offline") or (account.paused_until and as_utc(account.paused_until) > now):
                    skipped.append(f"{account.nickname or account.wxid} 状态{account.status}或暂停中")
                elif account.health_score < int(config.get("min_health") or 0) or add_friend_cap(account.health_score, ctx.services.settings) <= 0:
                    skipped.append(f"{account.nickname or account.wxid} 健康分 {account.health_score} 过低")
                else:
                    ok.append(t)
            elif session.get(User, t["id"]) is None:
                skipped.append(f"#{t['id']} 员工不存在")
            else:
                ok.append(t)
        return ok, skipped

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        lead = self._lead(ctx)
        if not (lead["wxid"] or lead["mobile"] or lead["customer_id"]):
            raise PermanentError("事件中没有可分发的好友 wxid、手机号或客户ID")
        tz = ctx.services.settings.timezone
        local = local_now(ctx)
        targets = [{"id": int(t["id"]), "weight": int(t.get("weight") or 1), "daily_cap": int(t.get("daily_cap") or 0),
                    "tag": str(t.get("tag") or "")} for t in config.get("targets") or []]
        mode = config.get("mode") or "ratio"
        scope = f"wb:dist:{ctx.strategy_id}"

        def work(session):
            failure = None
            ok, skipped = self._eligible(session, ctx, config, targets, local.date(), scope)
            if mode == "tag" and ok:
                tags = self._lead_tags(session, lead)
                ok = [t for t in ok if t["tag"] in tags] or ok
            if mode == "order":
                ok = [{**t, "weight": 1} for t in ok]
            if not ok:
                raise PermanentError("没有可分发的对象：" + "；".join(skipped))
            tallies_raw = counters.counts(session, scope, counters.FOREVER, [f"t:{t['id']}" for t in targets], lock=True)
            tallies = {int(k[2:]): v for k, v in tallies_raw.items()}
            target = pick(ok, tallies)
            response = {"target_id": target["id"], "target_kind": config.get("target_kind") or "account", "skipped": skipped}
            if (config.get("target_kind") or "account") == "account":
                wait = None if in_window(local, config.get("start_time"), config.get("end_time")) else \
                    _next_opening(local, config.get("start_time") or "09:00", tz)
                payload = {"greeting": str(config.get("greeting") or "你好")[:200]}
                if lead["wxid"]:
                    payload["wxid"] = lead["wxid"]
                else:
                    payload["phone"] = lead["mobile"]
                command = issue(session, ctx, target["id"], "add_friend", payload, "distribute",
                                customer_key=lead["wxid"] or lead["mobile"], not_before=wait)
                response["command"] = brief(command)
                account = session.get(WechatAccount, target["id"])
                text = f"分给微信号「{account.nickname or account.wxid}」：{note(command, tz)}"
                if command.status == "refused":
                    failure = text
            else:
                text = self._to_staff(session, ctx, lead, target["id"])
            if failure is None:
                counters.add(session, scope, counters.FOREVER, f"t:{target['id']}", ctx.services.now())
                counters.add(session, scope, local.date(), f"d:{target['id']}", ctx.services.now())
            return failure, response, skipped, text

        failure, response, skipped, text = write_budgeted(ctx, work)
        if failure:
            raise PermanentError(failure, response=response)
        if skipped:
            text += "（跳过：" + "；".join(skipped) + "）"
        return Outcome(request=self.render(ctx, config), response=response, note=text[:500])

    @staticmethod
    def _to_staff(session: Session, ctx: ProcessorContext, lead: dict, user_id: int) -> str:
        user = session.get(User, user_id)
        customer = session.get(Customer, int(lead["customer_id"])) if lead["customer_id"] else None
        if customer is None and lead["wxid"] and lead["account_id"]:
            friend = session.exec(select(Friend).where(Friend.account_id == lead["account_id"], Friend.wxid == lead["wxid"])).first()
            customer = session.get(Customer, friend.customer_id) if friend and friend.customer_id else None
        name = user.display_name or user.username
        if customer is None:
            return f"分给员工「{name}」（未关联客户档案，未建跟进任务）"
        customer.owner_id = user.id
        session.add(customer)
        create_task(session, {"title": f"跟进新分配的客户 {customer.name or customer.id}", "kind": "follow_up",
                              "owner_id": user.id, "customer_id": customer.id}, None, ctx.services.now(), viewer=SYSTEM)
        return f"分给员工「{name}」，已成为客户负责人并创建跟进任务"
