"""创建微信群 (自动建群): the account creates a group with the chosen members (wxids from the step,
or the event's ${wxids}); the group name may use ${变量}."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import members_of, required_text

MEMBERS_FIELD = ConfigField("members", "成员wxid", help="多个用逗号分隔，或填 ${wxids}；留空时使用事件中的 wxids")


class CreateGroupProcessor(DeviceStep):
    key = "device.create_group"
    name = "创建微信群"
    description = "让微信号拉指定成员建群（群名可用 ${变量}）。"
    config_fields = (ACCOUNT_FIELD, ConfigField("name", "群名称", required=True), MEMBERS_FIELD)

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        name = required_text(config, "name", ctx.data, "群名称")
        return [Planned("create_group", {"name": name, "members": members_of(config, ctx.data)})]
