"""自动点赞: when a friend posts a moment, the chosen accounts like it (and may comment) —
only friends with the chosen tags, all friends, or named friends; within daily caps per account
and per friend, and only inside the time window. Likes go through the risk budget like any send."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, row, spec, step

SCOPES = {"all": "全部好友", "tags": "指定标签的好友", "named": "指定好友"}


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    accounts = fields.ids(config, "account_ids", "微信号", errors, required=True)
    scope = fields.choice(config, "scope", "点赞范围", SCOPES, errors, "all")
    tags = fields.words(config, "friend_tags", "好友标签", errors, required=scope == "tags")
    wxids = fields.words(config, "friend_wxids", "指定好友", errors, required=scope == "named")
    daily_cap = fields.number(config, "daily_cap", "每个微信号每日点赞上限", errors, default=50, low=1, high=500)
    friend_cap = fields.number(config, "per_friend_daily_cap", "每位好友每日点赞上限", errors, default=1, low=1, high=20)
    start, end = fields.window(config, errors, default=("08:00", "22:00"))
    comment = fields.flag(config, "comment")
    comments = fields.words(config, "comment_texts", "评论内容", errors, required=comment, max_items=50)
    require_clean(errors)
    like = {"scope": scope, "friend_tags": tags, "friend_wxids": wxids, "daily_cap": daily_cap,
            "per_friend_daily_cap": friend_cap, "start_time": start, "end_time": end,
            "comment": comment, "comment_texts": comments}
    return spec(name, "device.moment_posted", [row("account_id", "in", accounts)], [step("workbench.auto_like", like)])


TEMPLATE = Template(
    key="auto_like", name="自动点赞", icon="heart",
    description="好友发朋友圈后自动点赞（可附评论），按标签或指定好友，受每日上限与时间段约束",
    steps=(WizardStep("选择账号与任务类型", "选择执行点赞的微信号"),
           WizardStep("配置点赞内容与频率", "点赞范围、每日上限、时间段、评论"),
           WizardStep("确认并启动任务", "检查设置；保存后在列表中启用")),
    build=build,
    defaults={"scope": "all", "daily_cap": 50, "per_friend_daily_cap": 1, "start_time": "08:00", "end_time": "22:00"},
)
