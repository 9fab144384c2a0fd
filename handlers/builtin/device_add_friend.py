"""加好友: send a friend request by phone number or wxid, with a greeting (${变量} allowed).
Capped per day by the account's 健康分 and counted as a touch of the customer."""
from __future__ import annotations

from sqlmodel import Session

from config.pii import fold_digits

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import customer_key, first_of, rendered
from handlers.errors import PermanentError


class AddFriendProcessor(DeviceStep):
    key = "device.add_friend"
    name = "添加好友"
    description = "让微信号按手机号或wxid发送好友申请并附验证语（受健康分每日上限与客户触达上限约束）。"
    config_fields = (
        ACCOUNT_FIELD,
        ConfigField("target", "手机号或wxid", help="留空时使用事件中的 mobile，没有则用 wxid"),
        ConfigField("greeting", "验证语", kind="textarea", help="可用 ${变量}，如：您好，我是${staffName}"),
    )

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        target = rendered(config, "target", ctx.data) or first_of(ctx.data, "mobile", "wxid")
        if not target:
            raise PermanentError("未指定要添加的人：步骤中未填写手机号或wxid，事件中也没有 mobile / wxid")
        digits = fold_digits(target).replace("+86", "").replace("-", "").replace(" ", "")
        payload = {"phone": digits} if digits.isascii() and digits.isdigit() else {"wxid": target}
        payload["greeting"] = rendered(config, "greeting", ctx.data)
        return [Planned("add_friend", payload, customer_key=customer_key(session, ctx.data, account, target))]
