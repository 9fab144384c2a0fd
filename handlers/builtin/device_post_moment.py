"""发朋友圈 (朋友圈同步): post a moment from the 内容库 or typed in the step, visible to everyone,
only to friends with some labels, or to everyone except them. The same 内容库 item is never
posted twice by one account (MomentPost remembers it)."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from devices.models import ContentItem, DeviceCommand, MomentPost, WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import as_list, rendered
from handlers.errors import PermanentError

VISIBILITY = ("all", "include", "exclude")


class PostMomentProcessor(DeviceStep):
    key = "device.post_moment"
    name = "发朋友圈"
    description = "让微信号发布朋友圈（内容库内容或直接填写），可按标签设置可见范围；同一内容每个微信号只发一次。"
    config_fields = (
        ACCOUNT_FIELD,
        ConfigField("content_id", "内容库内容ID", help="填写后发布内容库中的这条内容"),
        ConfigField("text", "文字内容", kind="textarea", help="可用 ${变量}；引用内容库时留空则用内容本身的文字"),
        ConfigField("media", "图片地址", help="多个用逗号分隔"),
        ConfigField("visibility", "可见范围", kind="select", choices=VISIBILITY, default="all", templated=False,
                    help="all 公开 / include 仅标签内好友可见 / exclude 标签内好友不可见"),
        ConfigField("tags", "可见范围标签", help="微信标签名，多个用逗号分隔"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if (config.get("visibility") or "all") not in VISIBILITY:
            errors.append("「可见范围」只能是 all/include/exclude")
        if not config.get("content_id") and not str(config.get("text") or "").strip() and not config.get("media"):
            errors.append("请填写「内容库内容ID」或「文字内容」")
        return errors

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        payload: dict = {"text": rendered(config, "text", ctx.data),
                         "media": as_list(rendered(config, "media", ctx.data))}
        content_id = rendered(config, "content_id", ctx.data).removesuffix(".0")
        if content_id:
            item = session.get(ContentItem, int(content_id)) if content_id.isdigit() else None
            if item is None or not item.enabled:
                raise PermanentError(f"内容库中没有可用的这条内容：{content_id}")
            payload["text"] = payload["text"] or item.text
            payload["material_ids"] = list(item.material_ids or [])
            if item.link:
                payload["link"] = dict(item.link)
            payload["content_id"] = item.id
        payload["visibility"] = {"mode": config.get("visibility") or "all",
                                 "tags": as_list(rendered(config, "tags", ctx.data))}
        if not (payload["text"] or payload["media"] or payload.get("material_ids") or payload.get("link")):
            raise PermanentError("朋友圈内容为空")
        return [Planned("post_moment", payload)]

    def skip(self, session: Session, ctx: ProcessorContext, account: WechatAccount,
             plans: list[Planned]) -> Optional[str]:
        content_id = plans[0].payload.get("content_id")
        if content_id and session.exec(select(MomentPost.id).where(
                MomentPost.account_id == account.id, MomentPost.content_id == content_id)).first():
            return f"微信号「{account.nickname or account.wxid}」已发布过这条内容，不重复发布"
        return None

    def issued(self, session: Session, account: WechatAccount, commands: list[DeviceCommand]) -> None:
        command = commands[0]
        content_id = command.payload.get("content_id")
        if content_id and command.status in ("queued", "deferred") and not session.exec(select(MomentPost.id).where(
                MomentPost.account_id == account.id, MomentPost.content_id == content_id)).first():
            session.add(MomentPost(account_id=account.id, content_id=content_id, command_id=command.id,
                                   posted_at=command.created_at))
