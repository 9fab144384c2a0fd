"""点赞朋友圈 (自动点赞): like a friend's moment, paced with the account's other actions."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import moment_id_of

MOMENT_FIELD = ConfigField("moment_id", "朋友圈ID", help="留空时使用事件中的 moment_id")


class LikeMomentProcessor(DeviceStep):
    key = "device.like_moment"
    name = "点赞朋友圈"
    description = "让微信号给好友的朋友圈点赞（按账号节奏排队，受风控约束）。"
    config_fields = (ACCOUNT_FIELD, MOMENT_FIELD)

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        return [Planned("like_moment", {"moment_id": moment_id_of(config, ctx.data)})]
