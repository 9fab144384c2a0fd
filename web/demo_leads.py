"""场景获客 demo data for `cunkebao init --demo`: channels, two salespeople, lead tags, one scene of
each kind with its pipeline strategy, running plans, and a few dozen leads sent through the real
intake and pipeline (so 线索列表, 获客统计 and 事件历史 have something to show). Idempotent."""
from __future__ import annotations

import secrets

from sqlmodel import select

from crm.leads import payments, posters
from crm.leads.channels import create_channel
from crm.leads.intake import Submission, submit
from crm.leads.models import LeadChannel, LeadScene
from crm.leads.plans import create_plan
from crm.people import service as people
from crm.sales.templates import create_template
from crm.sales.models import MessageTemplate
from crm.tags.categories import create_category
from crm.tags.models import Tag, TagCategory
from crm.tags.service import create_tag
from engine.lead_scenes import save_scene

CHANNELS = [("官网", "ORGANIC_SOCIAL", "web"), ("百度推广", "PAID_SEARCH", "baidu"), ("抖音广告", "PAID_SOCIAL", "douyin"),
            ("电商店铺", "ECOMMERCE", "shop"), ("线下门店", "OFFLINE_STORE", "store"), ("客服热线", "PHONE", "hotline")]
TAGS = ["产品A意向", "价格咨询", "已购用户", "高价值订单", "高意向"]
SALES = [("xiaowang", "销售小王"), ("xiaoli", "销售小李"), ("kefu", "客服小张")]


def _row(field: str, op: str, value) -> dict:
    return {"lparen": 0, "field": field, "op": op, "value": value, "rparen": 0, "join": "and"}


def _basics(s) -> tuple[dict, dict]:
    channels = {}
    for name, kind, code in CHANNELS:
        row = s.exec(select(LeadChannel).where(LeadChannel.name == name)).first()
        channels[code] = (row or create_channel(s, {"name": name, "channel_type": kind, "code": code})).id
    category = s.exec(select(TagCategory).where(TagCategory.name == "线索意向")).first() or create_category(s, {"name": "线索意向"})
    tags = {}
    for name in TAGS:
        row = s.exec(select(Tag).where(Tag.name == name, Tag.category_id == category.id)).first()
        tags[name] = (row or create_tag(s, {"name": name, "category_id": category.id, "kind": "manual"}, None)).id
    if s.exec(select(MessageTemplate).where(MessageTemplate.code == "lead_thanks")).first() is None:
        # SMS, so the demo answers leads without a mail server (短信发件箱 shows them).
        create_template(s, {"code": "lead_thanks", "name": "留资感谢短信", "channel": "sms",
                            "body": "${name}您好，我们已收到您的咨询，专属顾问会在 1 个工作日内联系您。"})
    return channels, tags


def _scenes(tags: dict, channels: dict, users: list[int]) -> list[dict]:
    sales, service = users[:2], users[2:]
    return [
        {"name": "官网产品咨询表单", "scene_type": "WEB_FORM", "default_channel_id": channels["web"],
         "tagging_rules": [{"name": "产品A", "rows": [_row("message", "contains", "产品A")], "tags": [tags["产品A意向"]]},
                           {"name": "价格", "rows": [_row("message", "contains", "价格")], "tags": [tags["价格咨询"]]}],
         "assignment_rules": {"rules": [{"name": "销售轮询", "rows": [], "method": "round_robin", "user_ids": sales}]},
         "auto_response": {"channel": "sms", "template": "lead_thanks"}},
        {"name": "抖音广告线索", "scene_type": "SOCIAL_MEDIA_LEAD", "default_channel_id": channels["douyin"],
         "mapping_rules": [{"source": "content.telephone", "target": "mobile", "transform": "phone"},
                           {"source": "content.name", "target": "name"}, {"source": "content.city", "target": "region"}],
         "assignment_rules": {"rules": [{"name": "按负载", "rows": [], "method": "load", "user_ids": sales}]}},
        {"name": "电商订单同步", "scene_type": "ORDER_SYNC", "default_channel_id": channels["shop"], "dedup_strategy": "BY_PHONE",
         "mapping_rules": [{"source": "order.buyer_name", "target": "name"},
                           {"source": "order.buyer_phone", "target": "mobile", "transform": "phone"},
                           {"source": "order.items.*.title", "target": "product", "transform": "join"},
                           {"source": "order.total_amount", "target": "value", "transform": "number"}],
         "tagging_rules": [{"name": "已购", "rows": [], "tags": [tags["已购用户"]]},
                           {"name": "高价值", "rows": [_row("value", "gte", 1000)], "tags": [tags["高价值订单"]]}],
         "assignment_rules": {"rules": [{"name": "客服跟进", "rows": [], "method": "round_robin", "user_ids": service}]}},
        {"name": "销售电话呼入", "scene_type": "PHONE_CALL", "default_channel_id": channels["hotline"], "dedup_strategy": "BY_PHONE",
         "mapping_rules": [{"source": "caller", "target": "mobile", "transform": "phone"},
                           {"source": "summary", "target": "message"}],
         "tagging_rules": [{"name": "高意向", "rows": [_row("intent", "eq", "高")], "tags": [tags["高意向"]]}],
         "assignment_rules": {"rules": [{"name": "高意向给销售", "rows": [_row("intent", "eq", "高")],
                                         "method": "round_robin", "user_ids": sales}]}},
        {"name": "门店付款码", "scene_type": "PAYMENT_CODE", "default_channel_id": channels["store"], "dedup_strategy": "BY_PHONE"},
        {"name": "海报扫码留资", "scene_type": "QR_CODE_SCAN", "default_channel_id": channels["store"]},
    ]


DEMO_FORMS = [("张伟", "13800138001", "对产品A感兴趣，想了解价格"), ("王芳", "13800138002", "产品A 有没有企业版？"),
              ("李娜", "13800138003", "请联系我"), ("刘洋", "13800138004", "价格多少？"), ("陈静", "13800138005", "想预约演示")]


def seed_demo_leads(runtime) -> None:
    svc = runtime.services
    tz = svc.settings.timezone
    with svc.db.read() as s:
        if s.exec(select(LeadScene).where(LeadScene.name == "官网产品咨询表单")).first() is not None:
            return
    users = []
    for username, display in SALES:
        user = people.get_user_by_username(svc.db, username) or people.create_user(
            svc.db, username, "Ckb" + secrets.token_urlsafe(12) + "9", display_name=display, roles=["sales"])
        users.append(user.id)
    ids = {}
    with svc.db.write() as s:
        channels, tags = _basics(s)
        for data in _scenes(tags, channels, users):
            scene, _secret = save_scene(s, data, registry=runtime.registry, box=svc.secret_box, author="demo", tz=tz)
            ids[scene.scene_type] = scene.id
        create_plan(s, {"name": "双十一官网留资", "scene_id": ids["WEB_FORM"], "channel_ids": [channels["web"], channels["baidu"]],
                        "goal_leads": 200}, start=True)
        create_plan(s, {"name": "抖音信息流投放", "scene_id": ids["SOCIAL_MEDIA_LEAD"], "channel_ids": [channels["douyin"]],
                        "goal_leads": 500}, start=True)
        posters.create_code(s, {"scene_id": ids["QR_CODE_SCAN"], "channel_id": channels["store"],
                                "title": "到店扫码 领取试用装", "subtitle": "留下手机号，顾问为您预约到店体验"})
        payments.create_code(s, {"scene_id": ids["PAYMENT_CODE"], "channel_id": channels["store"],
                                 "title": "体验课 9.9 元", "provider": "wechat_pay", "amount": "9.9"})
    runtime.invalidate()
    now = svc.now()
    submit(svc.db, ids["WEB_FORM"], [Submission(raw={"form_id": "contact_us", "submission_data": {
        "name": n, "phone": m, "email": f"demo{i}@example.com", "message": msg}}, external_id=f"demo-form-{i}")
        for i, (n, m, msg) in enumerate(DEMO_FORMS)], tz, now)
    submit(svc.db, ids["ORDER_SYNC"], [Submission(raw={"order": {
        "order_no": f"DEMO{i}", "buyer_name": f"买家{i}", "buyer_phone": f"1390013900{i}",
        "items": [{"title": "精华"}], "total_amount": str(300 * (i + 1))}}, external_id=f"DEMO{i}", source="pull")
        for i in range(5)], tz, now)
    submit(svc.db, ids["SOCIAL_MEDIA_LEAD"], [Submission(raw={"content": {
        "name": f"抖音用户{i}", "telephone": f"1370013700{i}", "city": "广州"}}, external_id=f"dy-{i}", source="webhook")
        for i in range(4)], tz, now)
