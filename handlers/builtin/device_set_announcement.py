"""设置群公告: the group owner's account sets the announcement; the text is checked for sensitive words."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import required_text, room_of

ROOM_FIELD = ConfigField("chatroom_id", "群ID", help="xxx@chatroom；留空时使用事件中的 chatroom_id")


class SetAnnouncementProcessor(DeviceStep):
    key = "device.set_announcement"
    name = "设置群公告"
    description = "让群主微信号设置群公告（公告内容检查敏感词）。"
    config_fields = (ACCOUNT_FIELD, ROOM_FIELD,
                     ConfigField("text", "公告内容", kind="textarea", required=True, help="可用 ${变量}"))

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        text = required_text(config, "text", ctx.data, "公告内容")
        return [Planned("set_announcement", {"chatroom_id": room_of(config, ctx.data), "text": text})]
