"""好友打标签: put WeChat-style labels on a friend record on the server (no phone command), e.g.
"课程咨询" for friends who asked about courses. Labels are what 朋友圈 visibility, 自动点赞 and
群发 select friends by. Removing works the same way."""
from __future__ import annotations

from sqlmodel import select

from devices.models import Friend
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.device_step import ACCOUNT_FIELD
from handlers.builtin.device_targets import as_list, first_of, rendered, resolve_account
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.errors import PermanentError

MODES = ("add", "remove")


class TagFriendProcessor(Processor):
    key = "device.tag_friend"
    name = "好友打标签"
    description = "给微信好友添加或移除标签（保存在服务器的好友资料上，供可见范围、点赞、群发按标签选人）。"
    config_fields = (
        ACCOUNT_FIELD,
        ConfigField("wxid", "好友wxid", help="留空时使用事件中的 from_wxid / wxid"),
        ConfigField("tags", "标签", required=True, help="多个用逗号分隔，可用 ${变量}"),
        ConfigField("mode", "操作", kind="select", choices=MODES, default="add", templated=False,
                    help="add 添加 / remove 移除"),
    )

    def _settings(self, ctx: ProcessorContext, config: dict) -> dict:
        wxid = rendered(config, "wxid", ctx.data) or first_of(ctx.data, "from_wxid", "wxid", "friend_wxid")
        tags = as_list(rendered(config, "tags", ctx.data))
        mode = config.get("mode") or "add"
        if mode not in MODES:
            raise PermanentError("「操作」只能是 add 或 remove")
        if not wxid:
            raise PermanentError("未指定好友：步骤中未填写wxid，事件中也没有 from_wxid / wxid")
        if not tags:
            raise PermanentError("未指定标签")
        return {"wxid": wxid, "tags": tags, "mode": mode}

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        with ctx.services.db.read() as session:
            account = resolve_account(session, config, ctx.data)
        return {"account_id": account.id, **self._settings(ctx, config)}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        request = self.render(ctx, config)
        if ctx.dry_run:
            return Outcome(request=request, note=DRY_RUN_NOTE)
        with ctx.services.db.write() as session:
            friend = session.exec(select(Friend).where(Friend.account_id == request["account_id"],
                                                       Friend.wxid == request["wxid"])).first()
            if friend is None:
                raise PermanentError(f"该微信号没有这个好友：{request['wxid']}", request=request)
            before = list(friend.tags or [])
            if request["mode"] == "add":
                after = before + [t for t in request["tags"] if t not in before]
            else:
                after = [t for t in before if t not in request["tags"]]
            friend.tags = after
            session.add(friend)
        changed = [t for t in request["tags"] if (t in after) != (t in before)]
        verb = "添加" if request["mode"] == "add" else "移除"
        who = friend.remark or friend.nickname or friend.wxid
        note = f"已为好友「{who}」{verb}标签：{'、'.join(changed)}" if changed else f"好友「{who}」的标签无需变化"
        return Outcome(request=request, response={"friend_id": friend.id, "tags": after, "changed": changed}, note=note)
