"""群打卡: members check in by sending the keyword in the group; one check-in per member per day
(in the configured zone) earns points, the robot confirms with today's rank, and the rankings
page shows who checked in most."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, row, spec, step


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    groups = fields.ids(config, "group_ids", "群", errors)  # empty: every group
    keyword = fields.text(config, "keyword", "打卡口令", errors, required=True, max_len=20)
    points = fields.number(config, "points", "每次打卡积分", errors, default=1, low=0, high=1000)
    reply = fields.text(config, "reply_text", "打卡成功回复", errors, max_len=500,
                        default="{nickname} 打卡成功！今天第 {rank} 位，累计打卡 {days} 天")
    require_clean(errors)
    conditions = [row("is_group", "eq", True), row("text", "contains", keyword)]
    checkin = {"group_ids": groups, "keyword": keyword, "points": points, "reply_text": reply}
    return spec(name, "device.message", conditions, [step("workbench.checkin", checkin)])


TEMPLATE = Template(
    key="checkin", name="群打卡", icon="check",
    description="群成员发送打卡口令即打卡，每人每天计一次并获得积分，机器人回复名次，可查看排行榜",
    steps=(WizardStep("打卡设置", "选择群（不选为全部群）、打卡口令、积分、回复"),),
    build=build,
    defaults={"keyword": "打卡", "points": 1, "reply_text": "{nickname} 打卡成功！今天第 {rank} 位，累计打卡 {days} 天"},
)
