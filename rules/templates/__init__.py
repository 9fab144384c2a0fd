"""工作台模板: every workbench feature (自动点赞, 朋友圈同步, 流量分发, 自动建群, 社群推送,
入群欢迎语, 关键词回复, 定时提醒, 群打卡) is a pre-filled strategy. A wizard's answers go through
the feature's `build` and come out as an ordinary strategy — event, conditions, processor
steps, and for scheduled features when it fires. No feature runs a loop of its own.

Template keys are stored on strategies (Strategy.template_key): never rename them.
"""
from __future__ import annotations

from rules.errors import NotFound
from rules.templates import (auto_group, auto_like, checkin, group_push, group_welcome, keyword_reply, moment_sync,
                             reminder, traffic_split)
from rules.templates.base import WIZARD_KEY, BuildContext, Template, TemplateError

TEMPLATES: dict[str, Template] = {t.key: t for t in (
    auto_like.TEMPLATE, moment_sync.TEMPLATE, traffic_split.TEMPLATE, auto_group.TEMPLATE, group_push.TEMPLATE,
    group_welcome.TEMPLATE, keyword_reply.TEMPLATE, reminder.TEMPLATE, checkin.TEMPLATE)}


def get_template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise NotFound(f"没有名为「{key}」的工作台功能") from None


__all__ = ["TEMPLATES", "get_template", "Template", "TemplateError", "BuildContext", "WIZARD_KEY"]
