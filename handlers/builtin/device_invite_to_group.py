"""邀请入群: the account invites friends (wxids from the step or the event) into one of its groups."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import members_of, room_of

ROOM_FIELD = ConfigField("chatroom_id", "群ID", help="xxx@chatroom；留空时使用事件中的 chatroom_id")
MEMBERS_FIELD = ConfigField("members", "成员wxid", help="多个用逗号分隔，或填 ${wxids}；留空时使用事件中的 wxids")


class InviteToGroupProcessor(DeviceStep):
    key = "device.invite_to_group"
    name = "邀请入群"
    description = "让微信号邀请好友进入指定的群。"
    config_fields = (ACCOUNT_FIELD, ROOM_FIELD, MEMBERS_FIELD)

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        return [Planned("invite_to_group", {"chatroom_id": room_of(config, ctx.data),
                                            "members": members_of(config, ctx.data)})]
