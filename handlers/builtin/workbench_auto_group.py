"""自动建群: one account turns its friends (all with the tags, named ones) or a customer audience
(customers with the tags who are its friends) into groups of N members, named by the pattern
("交流{n}群" → 交流1群, 交流2群 …) — one create_group command per group. The setup step, run a
little later, gives every group the phone has created its announcement and a welcome message;
groups not created yet make it try again later."""
from __future__ import annotations

from sqlmodel import Session, col, select

from crm.tags.models import CustomerTag, Tag
from devices.models import ChatGroup, DeviceCommand, Friend
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.workbench_base import STATUS_LABELS, first_step_key, issue, write_budgeted
from handlers.errors import PermanentError, RetryableError


def members(session: Session, account_id: int, config: dict) -> list[str]:
    friends = list(session.exec(select(Friend).where(Friend.account_id == account_id, Friend.deleted_at.is_(None))
                                .order_by(Friend.id)))
    source = config.get("member_source") or "friend_tags"
    if source == "named":
        wanted = set(config.get("member_wxids") or [])
        return [f.wxid for f in friends if f.wxid in wanted]
    tags = set(config.get("member_tags") or [])
    if source == "friend_tags":
        return [f.wxid for f in friends if set(f.tags or []) & tags]
    customers = set(session.exec(select(CustomerTag.customer_id).join(Tag, Tag.id == CustomerTag.tag_id)
                                 .where(col(Tag.name).in_(tags))))
    return [f.wxid for f in friends if f.customer_id in customers]


MIN_OTHERS = 2  # WeChat makes a group of the owner plus at least two others
MAX_MEMBERS = 500


def split_members(wxids: list[str], size: int) -> tuple[list[list[str]], list[str]]:
    """Groups of `size`; a last group too small for WeChat joins the one before when it still fits
    (≤ 500), otherwise its members are left out (and said so) — never a group of one other member."""
    chunks = [wxids[i:i + size] for i in range(0, len(wxids), size)]
    if chunks and len(chunks[-1]) < MIN_OTHERS:
        tail = chunks.pop()
        if chunks and len(chunks[-1]) + len(tail) <= MAX_MEMBERS:
            chunks[-1] = chunks[-1] + tail
        else:
            return chunks, tail
    return chunks, []


class AutoGroupProcessor(Processor):
    key = "workbench.auto_group"
    name = "自动建群"
    description = "用一个微信号按每群人数把选中的好友或客户人群批量建群（每群一条建群指令）"
    config_fields = (
        ConfigField("account_id", "建群微信号ID", kind="number", required=True, templated=False),
        ConfigField("name_pattern", "群名称", required=True, templated=False, help="{n} 为序号"),
        ConfigField("member_source", "成员来源", kind="select", default="friend_tags", templated=False,
                    choices=(("friend_tags", "按好友标签"), ("named", "指定好友"), ("customer_tags", "按客户标签"))),
        ConfigField("member_tags", "标签", kind="json", templated=False),
        ConfigField("member_wxids", "指定好友", kind="json", templated=False),
        ConfigField("members_per_group", "每群人数", kind="number", default=40, templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"account_id": config.get("account_id"), "name_pattern": config.get("name_pattern")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        account_id = int(config["account_id"])
        size = max(2, int(config.get("members_per_group") or 40))
        pattern = str(config.get("name_pattern") or "群{n}")
        def work(session):
            wxids = members(session, account_id, config)
            if not wxids:
                raise PermanentError("没有符合条件的成员，未建群")
            chunks, left_out = split_members(wxids, size)
            if not chunks:
                raise PermanentError(f"只有 {len(wxids)} 位符合条件的成员，微信建群至少需要 {MIN_OTHERS} 位成员"
                                     f"（加上本号共 {MIN_OTHERS + 1} 人），未建群；成员更多时再执行")
            results = []
            for n, chunk in enumerate(chunks, start=1):
                name = pattern.replace("{n}", str(n))[:100]
                command = issue(session, ctx, account_id, "create_group", {"name": name, "members": chunk}, f"c{n}")
                results.append({"name": name, "members": len(chunk), "command_id": command.id, "status": command.status,
                                "reason": command.reason})
            return wxids, results, left_out

        wxids, results, left_out = write_budgeted(ctx, work)
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        text = f"{len(wxids)} 人分成 {len(results)} 个群：" + "，".join(f"{STATUS_LABELS.get(k, k)} {v}" for k, v in counts.items())
        if left_out:
            text += f"；{len(left_out)} 人凑不满一个群（微信建群至少 {MIN_OTHERS} 位成员），本次未入群"
        return Outcome(request=self.render(ctx, config), response={"groups": results}, note=text[:500])


class AutoGroupSetupProcessor(Processor):
    key = "workbench.auto_group_setup"
    name = "自动建群后设置"
    description = "为自动建群建好的群设置群公告并发送欢迎语（用在自动建群之后，延迟执行；群未建好时稍后重试）"
    config_fields = (
        ConfigField("announcement", "群公告", kind="textarea", templated=False),
        ConfigField("welcome_text", "欢迎语", kind="textarea", templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"announcement": config.get("announcement"), "welcome_text": config.get("welcome_text")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        prefix = first_step_key(ctx.idempotency_key)

        def work(session):
            done, waiting, failed = 0, 0, []
            creates = list(session.exec(select(DeviceCommand).where(col(DeviceCommand.idempotency_key).startswith(f"{prefix}:c"))))
            for command in creates:
                if command.status in ("failed", "timeout", "refused", "cancelled"):
                    failed.append(f"{command.payload.get('name')}：{command.error or command.reason or command.status}")
                    continue
                room = (command.result or {}).get("chatroom_id")
                if command.status != "succeeded" or not room:
                    waiting += 1
                    continue
                group = session.exec(select(ChatGroup).where(ChatGroup.account_id == command.account_id,
                                                             ChatGroup.chatroom_id == room)).first()
                n = command.idempotency_key.rsplit(":c", 1)[1]
                if config.get("announcement"):
                    issue(session, ctx, command.account_id, "set_announcement", {"chatroom_id": room, "text": config["announcement"]}, f"a{n}")
                if config.get("welcome_text"):
                    issue(session, ctx, command.account_id, "send_text", {"to": room, "text": config["welcome_text"]}, f"w{n}")
                if group is not None and config.get("announcement"):
                    group.announcement = str(config["announcement"])[:2000]
                    session.add(group)
                done += 1
            return done, waiting, failed

        done, waiting, failed = write_budgeted(ctx, work)
        if waiting:
            raise RetryableError(f"还有 {waiting} 个群未建好，稍后再设置（已设置 {done} 个）", retry_after=120)
        text = f"已为 {done} 个群设置群公告/欢迎语"
        if failed:
            text += "；建群失败：" + "；".join(failed)
        return Outcome(response={"done": done, "failed": failed}, note=text[:500])
