"""入群欢迎语: when people join a group, one welcome @-mentions everyone who joined within the
window (say 30 seconds) instead of one message per person — for the chosen groups or all."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, row, spec, step


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    groups = fields.ids(config, "group_ids", "群", errors)  # empty: every group
    text = fields.text(config, "text", "欢迎语", errors, required=True, max_len=1000)
    window = fields.number(config, "window_seconds", "合并时间窗（秒）", errors, default=30, low=5, high=600)
    require_clean(errors)
    conditions = [row("group_id", "in", groups)] if groups else []
    welcome = {"text": text, "window_seconds": window}
    return spec(name, "device.group_member_joined", conditions, [step("device.group_welcome", welcome, seconds=window)])


TEMPLATE = Template(
    key="group_welcome", name="入群欢迎语", icon="smile",
    description="新成员入群后自动发欢迎语；时间窗内入群的人合并成一条并 @ 他们",
    steps=(WizardStep("欢迎语设置", "选择群（不选为全部群）、欢迎语、合并时间窗"),),
    build=build,
    defaults={"window_seconds": 30, "text": "欢迎 {members} 加入「{group}」！"},
)
