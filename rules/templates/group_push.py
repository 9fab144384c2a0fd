"""社群推送 / 群发: one message (text, or an item of the 内容库) to many groups, once or on a
repeating schedule, with a gap between groups and retries for failed sends; every group's
delivery (sent / failed / why) is reported from the commands the push issued."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, schedule_condition, spec, step
from rules.templates.schedule_fields import read_schedule

RETRY_CHECK_SECONDS = 600


def read_message(config: dict, errors: dict) -> dict:
    content_id = fields.number(config, "content_id", "内容库内容", errors, default=None, low=1, high=2**31)
    text = fields.text(config, "text", "消息内容", errors, max_len=2000)
    if not text and not content_id:
        errors["text"] = "请填写消息内容或选择内容库中的内容"
    return {"text": text, "content_id": content_id}


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    groups = fields.ids(config, "group_ids", "群", errors, required=True)
    message = read_message(config, errors)
    _, schedule = read_schedule(config, errors)
    gap = fields.number(config, "interval_seconds", "群间发送间隔（秒）", errors, default=5, low=3, high=600)
    retries = fields.number(config, "retries", "失败重试次数", errors, default=1, low=0, high=3)
    require_clean(errors)
    push = {"group_ids": groups, **message, "interval_seconds": gap}
    steps = [step("workbench.group_push", push)]
    if retries:
        # Checks the push's results later and re-sends to the groups whose send failed or timed out.
        steps.append(step("workbench.group_push_retry", {"retries": retries}, seconds=RETRY_CHECK_SECONDS))
    return spec(name, "schedule.fired", schedule_condition(context), steps, schedule)


TEMPLATE = Template(
    key="group_push", name="社群推送", icon="send", scheduled=True,
    description="向多个微信群定时群发文字或内容库内容，可单次或重复，群间有间隔、失败可重试，按群查看送达情况",
    steps=(WizardStep("选择推送群组与内容", "目标微信群和消息内容"),
           WizardStep("设置推送时间与频率", "单次或重复"),
           WizardStep("配置高级选项", "群间发送间隔、失败重试"),
           WizardStep("确认并启动", "预览内容和设置；保存后在列表中启用")),
    build=build,
    defaults={"repeat": "once", "interval_seconds": 5, "retries": 1},
)
