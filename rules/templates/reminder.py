"""定时提醒: the group robot posts a reminder (打卡提醒, 活动预告) in chosen groups at set times."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, schedule_condition, spec, step
from rules.templates.schedule_fields import read_schedule


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    groups = fields.ids(config, "group_ids", "群", errors, required=True)
    text = fields.text(config, "text", "提醒内容", errors, required=True, max_len=2000)
    _, schedule = read_schedule(config, errors)
    require_clean(errors)
    push = {"group_ids": groups, "text": text, "content_id": None, "interval_seconds": 3}
    return spec(name, "schedule.fired", schedule_condition(context), [step("workbench.group_push", push)], schedule)


TEMPLATE = Template(
    key="reminder", name="定时提醒", icon="clock", scheduled=True,
    description="在指定群里定时发送打卡提醒、活动预告等消息",
    steps=(WizardStep("提醒内容与时间", "选择群、填写内容、设置时间"),),
    build=build,
    defaults={"repeat": "daily", "times": ["09:00"]},
)
