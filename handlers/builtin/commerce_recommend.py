"""推荐商品: the top N products 智能推荐 finds for the event's customer, sent as a short list plus
a link or mini-program card per product through a WeChat account (发送微信消息), or as one SMS
(发送短信). The sending is the registered device / SMS processor's, found through the registry
the executor runs this step from, under this step's idempotency key (one suffix per message),
so pacing, the risk budget, the outbox, history and "never twice" are theirs. A dry run shows
the products and the messages without sending anything."""
from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from commerce.recommend.ranker import Recommendation, recommend
from config.pii import mask_mobile
from devices.models import Friend
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.crm_customer import LOOKUP_FIELDS, customer_label, find_customer, lookup_keys
from handlers.builtin.device_step import ACCOUNT_FIELD
from handlers.builtin.device_targets import rendered, target_of
from handlers.errors import PermanentError

CHANNELS = ("device", "sms")
CARDS = ("link", "miniprogram", "text")
MAX_ITEMS = 10
DEFAULT_INTRO = "为您精选以下商品："


def price(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def listing(intro: str, items: list[Recommendation], with_links: bool) -> str:
    lines = [intro] if intro else []
    for i, rec in enumerate(items, 1):
        line = f"{i}. {rec.name} {price(rec.price_fen)}"
        if with_links and rec.link_url:
            line += f" {rec.link_url}"
        lines.append(line)
    return "\n".join(lines)


def card(rec: Recommendation, kind: str):
    """(content_type, fields) of the card for one product, or None when it has nothing to card."""
    desc = "；".join(rec.reasons)[:60]
    mini = rec.miniprogram or {}
    if kind == "miniprogram" and mini.get("appid"):
        return "miniprogram", {"appid": str(mini["appid"]), "page": str(mini.get("path") or mini.get("page") or ""),
                               "title": str(mini.get("title") or rec.name)}
    if kind in ("link", "miniprogram") and rec.link_url:
        return "link", {"url": rec.link_url, "title": rec.name, "desc": f"{price(rec.price_fen)} {desc}".strip()}
    return None


class RecommendProductsProcessor(Processor):
    key = "recommend_products"
    name = "推荐商品"
    description = "按智能推荐为事件对应的客户挑选前 N 个商品（在售、有库存），通过微信号发送商品列表和链接/小程序卡片，或发送短信。"
    config_fields = LOOKUP_FIELDS + (
        ConfigField("limit", "推荐数量", kind="number", default=3, templated=False, help=f"1–{MAX_ITEMS} 个"),
        ConfigField("channel", "发送方式", kind="select", choices=CHANNELS, default="device", templated=False,
                    help="device：通过微信号发送；sms：发送短信"),
        ConfigField("card", "卡片类型", kind="select", choices=CARDS, default="link", templated=False,
                    help="微信发送时每个商品的卡片：link 链接卡片 / miniprogram 小程序卡片（没有时用链接）/ text 只发文字"),
        ConfigField("intro", "开头文字", kind="textarea", default=DEFAULT_INTRO, help="可用 ${变量}"),
        ACCOUNT_FIELD,
        ConfigField("to", "发送对象", help="好友wxid；留空时用事件中的好友，或该客户在此微信号上的好友"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        try:
            limit = int(config.get("limit", 3))
            if not 1 <= limit <= MAX_ITEMS:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(f"「推荐数量」应为 1–{MAX_ITEMS} 的整数")
        if (config.get("channel") or "device") not in CHANNELS:
            errors.append("「发送方式」只能是 device 或 sms")
        if (config.get("card") or "link") not in CARDS:
            errors.append("「卡片类型」只能是 link / miniprogram / text")
        return errors

    def _pick(self, ctx: ProcessorContext, config: dict):
        errors = self.validate_config(config)
        if errors:
            raise PermanentError("；".join(errors))
        with ctx.services.db.read() as session:
            customer = find_customer(session, lookup_keys(ctx, config))
            items = recommend(session, customer.id, int(config.get("limit", 3)), as_of=ctx.services.now())
            friend = self._friend(session, customer.id, config, ctx.data)
        if not items:
            raise PermanentError(f"客户{customer_label(customer)}暂无可推荐的商品（没有在售且有库存的匹配商品）")
        return customer, items, friend

    @staticmethod
    def _friend(session: Session, customer_id: int, config: dict, data: dict) -> str:
        """The step's 发送对象, else the event's friend, else this customer's friend on the account."""
        to = target_of(config, data)
        if to:
            return to
        stmt = select(Friend.wxid).where(Friend.customer_id == customer_id)
        account = rendered(config, "account", data) or str(data.get("account_id") or "")
        if account.removesuffix(".0").isdigit():
            stmt = stmt.where(Friend.account_id == int(account.removesuffix(".0")))
        return session.exec(stmt.order_by(Friend.id)).first() or ""

    def _messages(self, ctx: ProcessorContext, config: dict, customer, items, friend):
        """[(processor key, data, config)] — each one message through the registered sender."""
        intro = rendered(config, "intro", ctx.data, DEFAULT_INTRO if config.get("intro") is None else "")
        if (config.get("channel") or "device") == "sms":
            if not customer.mobile:
                raise PermanentError(f"客户{customer_label(customer)}没有手机号，无法发送短信")
            # The text travels as data behind a plain ${…}, so it is never rendered twice.
            return [("sms", {"mobile": customer.mobile, "content": listing(intro, items, True)},
                     {"mobile": "${mobile}", "content": "${content}"})]
        if not friend:
            raise PermanentError(f"客户{customer_label(customer)}没有可发送的微信好友：请在步骤中填写发送对象")
        kind = config.get("card") or "link"
        cards = [(rec, card(rec, kind)) for rec in items] if kind != "text" else []
        carded = {rec.spu_id for rec, c in cards if c}
        base = {**ctx.data, "to": friend}
        common = {"account": config.get("account") or "", "to": "${to}", "count_touch": True}
        out = [("device.send_message", {**base, "text": listing(intro, items, kind == "text" or not carded)},
                {**common, "content_type": "text", "text": "${text}"})]
        for rec, c in cards:
            if c is None:
                continue
            content_type, fields = c
            out.append(("device.send_message", {**base, **fields},
                        {**common, "content_type": content_type, **{k: "${" + k + "}" for k in fields}}))
        return out

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        customer, items, friend = self._pick(ctx, config)
        messages = self._messages(ctx, config, customer, items, friend)
        shown = [ctx.delegate(key).render(replace(ctx, data=data), cfg) for key, data, cfg in messages]
        for message in shown:  # history and previews never carry a full number
            if message.get("mobile"):
                message["mobile"] = mask_mobile(message["mobile"])
        return {"customer_id": customer.id, "products": [_brief(r) for r in items], "messages": shown}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        customer, items, friend = self._pick(ctx, config)
        messages = self._messages(ctx, config, customer, items, friend)
        outcomes = []
        for i, (key, data, cfg) in enumerate(messages):
            sub = replace(ctx, data=data, idempotency_key=ctx.idempotency_key + ("" if i == 0 else f":p{i}"))
            outcomes.append(ctx.delegate(key).run(sub, cfg))
        names = "、".join(f"「{r.name}」" for r in items)
        request = {"customer_id": customer.id, "customer_name": customer.name, "products": [_brief(r) for r in items],
                   "messages": [o.request for o in outcomes]}
        response = outcomes[0].response if len(outcomes) == 1 else {"messages": [o.response for o in outcomes]}
        note = f"推荐 {len(items)} 个商品{names}：" + "；".join(o.note for o in outcomes if o.note)
        return Outcome(request=request, response=response, note=note[:500])


def _brief(rec: Recommendation) -> dict:
    return {"spu_id": rec.spu_id, "name": rec.name, "price_fen": rec.price_fen, "reasons": rec.reasons}
