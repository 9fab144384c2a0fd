"""导入内置策略 (seed 001 自动化策略管理: 「可直接点击"添加"，也可点击"导入内置策略"导入后再修改」): the
manual's example strategies on the built-in events — 用户修改密码成功后发送短信提醒, 生日祝福, 理财产品
到期提醒, 新用户注册欢迎, 大额交易感谢, 外部系统要求为客户打标签 — ready to adjust and enable.

Importing is idempotent: a strategy whose name already exists in the 内置策略 group is skipped
(whatever was edited in it stays), missing built-in events are registered first, and each
strategy is validated like any save and created 停用 (the marketer reviews it, then enables it).
The report names what was added, skipped and refused (with the reason).
"""
from __future__ import annotations

from sqlmodel import select

from config.db import Database
from engine.authoring import create_strategy
from events.builtin import BUILTIN_EVENTS
from events.definitions import get_by_code, import_builtin
from events.errors import EventsError
from rules.errors import RulesError
from rules.groups import create_group
from rules.models import Strategy, StrategyGroup

GROUP = "内置策略"
NOW = {"mode": "immediate"}


def _sms(content: str) -> dict:
    return {"processor": "sms", "config": {"mobile": "${mobile}", "content": content}, "timing": NOW}


BUILTIN_STRATEGIES: list[dict] = [
    {"name": "修改密码成功短信提醒", "event": "password_changed",
     "remark": "用户修改密码成功后，发送短信提醒（说明书 事件→条件→处理器 示例）",
     "conditions": [{"field": "status", "op": "eq", "value": "1"}],
     "steps": [_sms("尊敬的${customerName}，您的密码已于${tx}修改成功；如非本人操作，请立即联系客服。")]},
    {"name": "生日祝福短信", "event": "birthday_reminder", "remark": "客户生日当天发送祝福短信",
     "conditions": [], "steps": [_sms("亲爱的${customerName}，祝您生日快乐，感谢一路相伴！")]},
    {"name": "理财产品到期提醒", "event": "product_maturity", "remark": "理财产品到期前提醒客户续投",
     "conditions": [],
     "steps": [_sms("尊敬的${customerName}，您持有的${productName}将于${maturityDate}到期，到期金额${amount}元，欢迎咨询续投。")]},
    {"name": "新用户注册欢迎", "event": "register", "remark": "新用户注册后发送欢迎短信",
     "conditions": [], "steps": [_sms("欢迎${customerName}加入，有任何问题可随时回复本短信联系我们。")]},
    {"name": "大额交易感谢", "event": "customer_trade", "remark": "单笔交易满 10000 元发送感谢短信",
     "conditions": [{"field": "amount", "op": "gte", "value": "10000"}],
     "steps": [_sms("尊敬的${customerName}，感谢您的信任，订单${orderNo}（${amount}元）已确认。")]},
    {"name": "按外部系统要求打标签", "event": "tag_customer", "remark": "外部系统推送「为客户打标签」事件时为客户打上指定标签",
     "conditions": [], "steps": [{"processor": "crm.add_tag", "config": {"tags": "${tagName}"}, "timing": NOW}]},
]


def import_builtin_strategies(db: Database, registry, tz: str, user: str = "") -> dict:
    """{"created": [names], "skipped": [names], "refused": [{"item", "reason"}], "events": [names]}"""
    report: dict = {"created": [], "skipped": [], "refused": [], "events": []}
    with db.write() as session:
        report["events"] = import_builtin(session, sorted({_event_key(s["event"]) for s in BUILTIN_STRATEGIES}))["created"]
        group = session.exec(select(StrategyGroup).where(StrategyGroup.name == GROUP)).first() or create_group(session, GROUP)
        existing = set(session.exec(select(Strategy.name).where(Strategy.group_id == group.id)))
        for spec in BUILTIN_STRATEGIES:
            if spec["name"] in existing:
                report["skipped"].append(spec["name"])
                continue
            event = get_by_code(session, spec["event"])
            try:
                with session.begin_nested():
                    if event is None:
                        raise RulesError(f"事件「{spec['event']}」不存在")
                    create_strategy(session, {**spec, "group_id": group.id, "event_id": event.id}, registry, tz, user)
            except (RulesError, EventsError) as exc:
                reasons = "；".join(str(v) for v in (getattr(exc, "errors", None) or {}).values())
                report["refused"].append({"item": spec["name"], "reason": reasons or str(exc)})
            else:
                report["created"].append(spec["name"])
    return report


def _event_key(code: str) -> str:
    return next(e["key"] for e in BUILTIN_EVENTS if e["code"] == code)
