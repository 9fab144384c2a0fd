"""自动建群: one account builds groups from its friends (all, with tags, or named) or from a
customer audience (customers with tags who are its friends), N members a group, named by a
pattern ("VIP{n}群"); once the phone has made each group it gets the announcement and a welcome."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, schedule_condition, spec, step
from rules.templates.schedule_fields import read_schedule

MEMBER_SOURCES = {"friend_tags": "按好友标签", "named": "指定好友", "customer_tags": "按客户标签（客户人群）"}
JOIN_MODES = {"invite": "邀请入群"}  # 扫码入群 needs a QR the phone must generate: not in the command set yet
SETUP_DELAY_SECONDS = 120  # the phone reports new groups within seconds; the setup step retries if not


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    account = fields.number(config, "account_id", "建群微信号", errors, default=None, low=1, high=2**31, required=True)
    pattern = fields.text(config, "name_pattern", "群名称", errors, required=True, max_len=30, default="")
    if pattern and "{n}" not in pattern:
        pattern += "{n}"  # every group needs its own name
    announcement = fields.text(config, "announcement", "群公告", errors, max_len=1000)
    source = fields.choice(config, "member_source", "成员来源", MEMBER_SOURCES, errors, "friend_tags")
    fields.choice(config, "join_mode", "入群方式", JOIN_MODES, errors, "invite")
    tags = fields.words(config, "member_tags", "标签", errors, required=source != "named")
    wxids = fields.words(config, "member_wxids", "指定好友", errors, required=source == "named", max_items=2000)
    size = fields.number(config, "members_per_group", "每群人数", errors, default=40, low=2, high=500)
    welcome = fields.text(config, "welcome_text", "建群欢迎语", errors, max_len=1000)
    _, schedule = read_schedule(config, errors)
    require_clean(errors)
    create = {"account_id": account, "name_pattern": pattern, "member_source": source, "member_tags": tags,
              "member_wxids": wxids, "members_per_group": size}
    setup = {"announcement": announcement, "welcome_text": welcome}
    steps = [step("workbench.auto_group", create), step("workbench.auto_group_setup", setup, seconds=SETUP_DELAY_SECONDS)]
    return spec(name, "schedule.fired", schedule_condition(context), steps, schedule)


TEMPLATE = Template(
    key="auto_group", name="自动建群", icon="users", scheduled=True,
    description="用一个微信号把好友或客户人群按每群人数批量建群，自动设置群公告并发送欢迎语",
    steps=(WizardStep("选择建群账号与群信息", "建群微信号、群名称、群公告"),
           WizardStep("配置入群方式与成员", "邀请入群；成员来源与每群人数"),
           WizardStep("设置自动化动作", "建群后的欢迎语与执行时间")),
    build=build,
    defaults={"member_source": "friend_tags", "join_mode": "invite", "members_per_group": 40, "repeat": "once",
              "name_pattern": "交流{n}群"},
)
