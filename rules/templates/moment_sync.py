"""朋友圈同步: post items from the 内容库 to the chosen accounts' 朋友圈 at set times (or the
5-a-day SOP slots), visible to everyone or only to friends with chosen tags, with a random delay
between accounts — and never the same item twice on one account."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import (BuildContext, Template, WizardStep, daily_crons, require_clean, schedule_condition,
                                  spec, step)

# 运营规范 4.2 朋友圈发布SOP: five posts a day, one per slot.
SOP_SLOTS = (("08:00", "早安问候"), ("12:00", "产品/案例"), ("15:00", "行业干货"), ("18:00", "生活分享"), ("21:00", "晚安/总结"))
TIMING = {"sop": "按运营SOP每日5条", "times": "每天指定时间", "once": "指定时间发布一次"}
VISIBILITY = {"all": "所有人可见", "include": "指定标签可见", "exclude": "指定标签不可见"}


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    contents = fields.ids(config, "content_ids", "内容", errors, required=True)
    accounts = fields.ids(config, "account_ids", "微信号", errors, required=True)
    timing = fields.choice(config, "timing", "发布时间", TIMING, errors, "sop")
    times = fields.clock_times(config, "times", "发布时间", errors, required=timing == "times")
    run_at = fields.local_datetime(config, "run_at", "发布时间", errors, required=timing == "once")
    visibility = fields.choice(config, "visibility", "可见范围", VISIBILITY, errors, "all")
    tags = fields.words(config, "visibility_tags", "可见标签", errors, required=visibility != "all")
    low = fields.number(config, "delay_min_seconds", "账号间最短间隔（秒）", errors, default=30, low=0, high=3600)
    high = fields.number(config, "delay_max_seconds", "账号间最长间隔（秒）", errors, default=180, low=0, high=3600)
    if low is not None and high is not None and low > high:
        errors["delay_max_seconds"] = "最长间隔不能小于最短间隔"
    require_clean(errors)
    if timing == "sop":
        schedule = daily_crons([t for t, _ in SOP_SLOTS])
    elif timing == "times":
        schedule = daily_crons(times)
    else:
        schedule = [{"run_at": run_at}]
    post = {"content_ids": contents, "account_ids": accounts, "visibility": visibility, "visibility_tags": tags,
            "delay_min_seconds": low, "delay_max_seconds": high}
    return spec(name, "schedule.fired", schedule_condition(context), [step("workbench.moment_sync", post)], schedule)


TEMPLATE = Template(
    key="moment_sync", name="朋友圈同步", icon="image", scheduled=True,
    description="把内容库的内容定时发到多个微信号的朋友圈，可按标签设置可见范围，同一内容每个号只发一次",
    steps=(WizardStep("选择同步账号与内容", "选择发朋友圈的微信号和内容库中的内容"),
           WizardStep("设置发布规则", "发布时间、可见范围、账号间随机间隔"),
           WizardStep("确认发布", "预览内容和规则；保存后在列表中启用")),
    build=build,
    defaults={"timing": "sop", "visibility": "all", "delay_min_seconds": 30, "delay_max_seconds": 180},
)
