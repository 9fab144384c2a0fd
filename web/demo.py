"""Demo data for `cunkebao init --demo`: the seed manual's acceptance stories, ready to click.

Creates the built-in events, a demo app, the strategy groups and strategies of 晓售's worked
examples (enabled), and posts a few signed events through the real ingestion path.
"""
from __future__ import annotations

import json
import time

from sqlmodel import select

from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from events.apps import create_app_record
from events.definitions import get_by_code, import_builtin
from events.ingestion import IngestRequest
from events.models import App
from events.signature import sign
from rules.groups import create_group
from rules.models import Strategy, StrategyGroup

DEMO_APP = "演示应用"


def _sms(content: str) -> dict:
    return {"processor": "sms", "config": {"mobile": "${mobile}", "content": content}}


DEMO_STRATEGIES = [
    ("密码修改", "用户修改密码提醒", "password_changed",
     [{"lparen": 0, "field": "status", "op": "eq", "value": "1", "rparen": 0, "join": "and"}],
     [{**_sms("尊敬的${customerName}，您的密码已修改成功，如非本人操作请致电客服。"), "timing": {"mode": "immediate"}}]),
    ("客户调研", "为打四星以上的VIP3用户发一封感谢信", "survey_submitted",
     [{"lparen": 0, "field": "score", "op": "gt", "value": "4", "rparen": 0, "join": "and"},
      {"lparen": 0, "field": "vipLevel", "op": "eq", "value": "3", "rparen": 0, "join": "and"}],
     [{"processor": "email", "config": {"to": "${email}", "subject": "感谢信",
                                        "body": "尊敬的${customerName}：感谢您给出的好评，我们会继续努力！"},
       "timing": {"mode": "delay", "hours": 48}}]),
    ("银行代扣还款策略组", "最后一期还款成功（发送短信以及推送新产品分期优惠券）", "bank_withholding",
     [{"lparen": 0, "field": "loan_status", "op": "eq", "value": "成功", "rparen": 0, "join": "and"},
      {"lparen": 0, "field": "is_last_period", "op": "eq", "value": "true", "rparen": 0, "join": "and"}],
     [{**_sms("${customerName}您好，您的贷款已全部还清，感谢您的信任！"), "timing": {"mode": "immediate"}},
      {"processor": "log", "config": {"message": "推送分期优惠券给 ${customerName}"}, "timing": {"mode": "delay", "hours": 1}}]),
]

DEMO_EVENTS = [
    {"id": "demo-1", "event": "password_changed", "data": {"customerName": "张三", "mobile": "13800138000", "status": "1"}},
    {"id": "demo-2", "event": "password_changed", "data": {"customerName": "李四", "mobile": "13900139000", "status": "0"}},
    {"id": "demo-3", "event": "survey_submitted",
     "data": {"customerName": "王五", "email": "wangwu@example.com", "score": 5, "vipLevel": 3}},
    {"id": "demo-4", "event": "bank_withholding",
     "data": {"customerName": "赵六", "mobile": "13700137000", "loan_type": "银行代扣", "loan_status": "成功",
              "is_last_period": True, "rep_amount": 1200}},
]


def seed_demo(runtime) -> dict:
    """Idempotent: running init --demo twice creates nothing twice. Returns the demo app's key/secret."""
    svc = runtime.services
    tz = svc.settings.timezone
    with svc.db.write() as s:
        import_builtin(s)
        app = s.exec(select(App).where(App.name == DEMO_APP)).first()
        secret = None
        if app is None:
            app, secret = create_app_record(s, svc.secret_box, {"name": DEMO_APP, "remark": "init --demo 创建"})
        created = []
        for group_name, name, code, rows, steps in DEMO_STRATEGIES:
            group = s.exec(select(StrategyGroup).where(StrategyGroup.name == group_name)).first() or create_group(s, group_name)
            if s.exec(select(Strategy).where(Strategy.name == name)).first():
                continue
            event = get_by_code(s, code)
            strategy = create_strategy(s, {"name": name, "group_id": group.id, "event_id": event.id,
                                           "conditions": rows, "steps": steps}, runtime.registry, tz, "demo")
            created.append(strategy.id)
        if created:
            set_enabled(s, created, True)
    runtime.invalidate()
    if secret is not None:
        body = json.dumps({"events": DEMO_EVENTS}, ensure_ascii=False).encode()
        ts = int(svc.now().timestamp())  # the runtime's clock, which the ingestor checks against
        runtime.ingestor.ingest(IngestRequest(body=body, app_key=app.app_key, timestamp=str(ts),
                                              signature=sign(secret, ts, body), client_ip="127.0.0.1"))
    return {"app_key": app.app_key, "secret": secret}


DEMO_TOKENS_FILE = "demo-device-tokens.txt"


def seed_demo_devices(runtime, var_dir, host: str, count: int = 3) -> str:
    """Demo phones for `serve --simulate`: created once; their tokens kept in var/ (mode 600)."""
    import os

    from devices.registry import add_device

    path = os.path.join(str(var_dir), DEMO_TOKENS_FILE)
    if os.path.exists(path):
        return path
    tokens = []
    with runtime.services.db.write() as s:
        for i in range(count):
            _device, token, _qr = add_device(s, f"演示手机{i + 1}", host, "init --demo 创建的模拟手机")
            tokens.append(token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(tokens) + "\n")
    return path
