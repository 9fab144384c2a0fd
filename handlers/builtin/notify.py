"""站内通知: a message to colleagues in the console (the bell with the unread badge).

Send to listed usernames, to every administrator, or both. A username that does not
exist stops the step with its name, so a typo is fixed instead of silently ignored.
All notifications of one step are written in one transaction: all or none.
"""
from __future__ import annotations

from sqlmodel import select

from crm.people.models import Notification, User
from events.placeholders import PlaceholderError, render_text
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.builtin.recipients import split_recipients
from handlers.errors import PermanentError

class NotifyProcessor(Processor):
    key = "notify"
    name = "站内通知"
    description = "给指定用户或全部管理员发送站内通知，标题和内容可使用 ${变量}。"
    config_fields = (
        ConfigField("usernames", "接收用户", help="用户名，多个用逗号分隔"),
        ConfigField("to_admins", "发送给全部管理员", kind="boolean", default=False, templated=False),
        ConfigField("title", "标题", required=True),
        ConfigField("body", "内容", kind="textarea"),
        ConfigField("link", "链接", help="可选，点击通知后打开的控制台地址"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if not split_recipients(config.get("usernames")) and not config.get("to_admins"):
            errors.append("请填写「接收用户」或勾选「发送给全部管理员」")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        try:
            usernames = split_recipients([render_text(str(n), ctx.data) for n in split_recipients(config.get("usernames"))])
            title = render_text(str(config.get("title") or ""), ctx.data).strip()
            body = render_text(str(config.get("body") or ""), ctx.data)
            link = render_text(str(config.get("link") or ""), ctx.data).strip()
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        if not title:
            raise PermanentError("通知标题为空")
        return {"usernames": usernames, "to_admins": bool(config.get("to_admins")),
                "title": title[:200], "body": body[:5000], "link": link[:500]}

    def _recipients(self, session, rendered: dict) -> list[User]:
        users: dict[int, User] = {}
        if rendered["usernames"]:
            found = session.exec(select(User).where(User.username.in_(rendered["usernames"]))).all()
            missing = [n for n in rendered["usernames"] if n not in {u.username for u in found}]
            if missing:
                raise PermanentError(f"找不到这些用户：{'、'.join(missing)}")
            users.update({u.id: u for u in found})
        if rendered["to_admins"]:
            admins = session.exec(select(User).where(User.is_admin == True, User.enabled == True)).all()  # noqa: E712
            users.update({u.id: u for u in admins})
        if not users:
            raise PermanentError("没有可接收通知的用户（未指定用户，且没有启用的管理员）")
        return list(users.values())

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        rendered = self.render(ctx, config)
        if ctx.dry_run:
            return Outcome(request=rendered, note=DRY_RUN_NOTE)
        now = ctx.services.now()
        with ctx.services.db.write() as session:
            recipients = self._recipients(session, rendered)
            for user in recipients:
                session.add(Notification(user_id=user.id, title=rendered["title"], body=rendered["body"],
                                         link=rendered["link"], source=f"strategy:{ctx.strategy_id}",
                                         created_at=now))
        names = [u.username for u in recipients]
        return Outcome(request=rendered, response={"recipients": names},
                       note=f"已通知 {len(names)} 位用户")
