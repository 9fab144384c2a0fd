"""通过好友请求: accept a friend request on the phone. Accepting counts against the account's daily
cap from its 健康分 (20/15/10/5/0); past the cap the command waits for tomorrow, with the reason."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import first_of, rendered
from handlers.errors import PermanentError


class AcceptFriendProcessor(DeviceStep):
    key = "device.accept_friend"
    name = "通过好友请求"
    description = "让手机上的微信号通过好友请求（受健康分每日上限约束）；默认取事件中的 from_wxid 与 request_id。"
    config_fields = (
        ACCOUNT_FIELD,
        ConfigField("wxid", "对方wxid", help="留空时使用事件中的 from_wxid"),
        ConfigField("request_id", "好友请求ID", help="留空时使用事件中的 request_id"),
    )

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        wxid = rendered(config, "wxid", ctx.data) or first_of(ctx.data, "from_wxid", "wxid")
        request_id = rendered(config, "request_id", ctx.data) or first_of(ctx.data, "request_id")
        if not wxid and not request_id:
            raise PermanentError("未指定要通过的好友：事件中没有 from_wxid，步骤中也未填写")
        payload = {"wxid": wxid, **({"request_id": request_id} if request_id else {})}
        return [Planned("accept_friend", payload)]
