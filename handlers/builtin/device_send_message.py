"""发送消息: text, an image, a link card or a mini-program card to a friend or a group — typed in
the step, or taken from the 内容库 by item ID (an item with text and images sends the text first,
then each image). In a group the message can @ the people the event is about (e.g. new members).

Sends are paced per account (group 3–8 s, 1:1 5–10 s apart), capped per hour, checked for
sensitive words, and count towards the customer's daily touch limit unless switched off."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import ContentItem, WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import as_list, customer_key, rendered, target_of
from handlers.errors import PermanentError

CONTENT_TYPES = ("text", "image", "link", "miniprogram")


def _card(kind: str, to: str, fields: dict) -> tuple[str, dict]:
    if kind == "image":
        if not (fields.get("url") or fields.get("material_id")):
            raise PermanentError("发送图片需要填写图片地址")
        return "send_image", {"to": to, **{k: fields[k] for k in ("url", "material_id") if fields.get(k)}}
    if kind == "link":
        if not fields.get("url"):
            raise PermanentError("发送链接需要填写链接地址")
        return "send_link", {"to": to, **{k: fields.get(k, "") for k in ("url", "title", "desc", "thumb")}}
    if not fields.get("appid"):
        raise PermanentError("发送小程序需要填写小程序 AppID")
    return "send_miniprogram", {"to": to, **{k: fields.get(k, "") for k in ("appid", "title", "page", "thumb")}}


def from_library(session: Session, raw: str, to: str, text_override: str = "") -> list[tuple[str, dict]]:
    item = session.get(ContentItem, int(raw)) if raw.isdigit() else None
    if item is None:
        raise PermanentError(f"内容库中没有这条内容：{raw}")
    if not item.enabled:
        raise PermanentError(f"内容「{item.title}」已停用")
    out: list[tuple[str, dict]] = []
    text = text_override or item.text
    if item.kind in ("link", "miniprogram"):
        out.append(_card(item.kind, to, dict(item.link or {})))
        return ([("send_text", {"to": to, "text": text})] if text else []) + out
    if text:
        out.append(("send_text", {"to": to, "text": text}))
    out += [("send_image", {"to": to, "material_id": mid}) for mid in item.material_ids or []]
    return out


class SendMessageProcessor(DeviceStep):
    key = "device.send_message"
    name = "发送微信消息"
    description = "让微信号给好友或群发送文字、图片、链接或小程序（可直接填写，或引用内容库），受发送间隔、每小时上限和敏感词约束。"
    config_fields = (
        ACCOUNT_FIELD,
        ConfigField("to", "发送对象", help="好友wxid或群ID（xxx@chatroom）；留空时发到事件所在的群，或回复事件中的好友"),
        ConfigField("content_id", "内容库内容ID", help="填写后发送内容库中的这条内容（文字+图片/链接/小程序）"),
        ConfigField("content_type", "内容类型", kind="select", choices=CONTENT_TYPES, default="text", templated=False),
        ConfigField("text", "文字内容", kind="textarea", help="可用 ${变量}；引用内容库时留空则用内容本身的文字"),
        ConfigField("url", "图片/链接地址"),
        ConfigField("title", "卡片标题"),
        ConfigField("desc", "卡片描述"),
        ConfigField("thumb", "卡片缩略图地址"),
        ConfigField("appid", "小程序AppID", templated=False),
        ConfigField("page", "小程序页面路径"),
        ConfigField("mention", "@事件中的成员", kind="boolean", default=False, templated=False,
                    help="群消息 @ 事件中的 wxids（如新入群成员）"),
        ConfigField("count_touch", "计入客户每日触达上限", kind="boolean", default=True, templated=False),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        kind = config.get("content_type") or "text"
        if kind not in CONTENT_TYPES:
            errors.append(f"「内容类型」只能是 {'/'.join(CONTENT_TYPES)}")
        if not config.get("content_id") and kind == "text" and not str(config.get("text") or "").strip():
            errors.append("请填写「文字内容」或「内容库内容ID」")
        return errors

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        to = target_of(config, ctx.data)
        if not to:
            raise PermanentError("未指定发送对象：步骤中未填写，事件中也没有群ID或好友wxid")
        text = rendered(config, "text", ctx.data)
        content_id = rendered(config, "content_id", ctx.data)
        if content_id:
            messages = from_library(session, content_id.removesuffix(".0"), to, text)
        elif (config.get("content_type") or "text") == "text":
            if not text:
                raise PermanentError("文字内容为空")
            messages = [("send_text", {"to": to, "text": text})]
        else:
            fields = {n: rendered(config, n, ctx.data) for n in ("url", "title", "desc", "thumb", "appid", "page")}
            messages = [_card(config["content_type"], to, fields)]
        if config.get("mention") and to.endswith("@chatroom"):
            mentions = as_list(ctx.data.get("wxids") or ctx.data.get("from_wxid") or [])
            for kind, payload in messages:
                if kind == "send_text" and mentions:
                    payload["mentions"] = mentions
        key = customer_key(session, ctx.data, account, to) if config.get("count_touch", True) else ""
        return [Planned(kind, payload, suffix="" if i == 0 else f":{i}", customer_key=key)
                for i, (kind, payload) in enumerate(messages)]
