"""评论朋友圈: comment a friend's moment; the comment is checked for sensitive words."""
from __future__ import annotations

from sqlmodel import Session

from devices.models import WechatAccount
from handlers.base import ConfigField, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD, DeviceStep, Planned
from handlers.builtin.device_targets import moment_id_of, required_text

MOMENT_FIELD = ConfigField("moment_id", "朋友圈ID", help="留空时使用事件中的 moment_id")


class CommentMomentProcessor(DeviceStep):
    key = "device.comment_moment"
    name = "评论朋友圈"
    description = "让微信号评论好友的朋友圈（评论内容检查敏感词）。"
    config_fields = (ACCOUNT_FIELD, MOMENT_FIELD,
                     ConfigField("text", "评论内容", kind="textarea", required=True, help="可用 ${变量}"))

    def plan(self, ctx: ProcessorContext, config: dict, session: Session, account: WechatAccount) -> list[Planned]:
        text = required_text(config, "text", ctx.data, "评论内容")
        return [Planned("comment_moment", {"moment_id": moment_id_of(config, ctx.data), "text": text})]
