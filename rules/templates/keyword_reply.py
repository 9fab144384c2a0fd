"""关键词自动回复: a message that matches a keyword rule (exact, contains, or a regular
expression; private chats, groups or both) gets the rule's reply — at most once per customer
within the cool-down."""
from __future__ import annotations

import re

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, row, spec, step

MATCHES = {"exact": "完全匹配", "contains": "包含", "regex": "正则"}
SCOPES = {"private": "私聊", "group": "群聊", "both": "私聊和群聊"}
MATCH_OPS = {"exact": "eq", "contains": "contains"}


def _rules(config: dict, errors: dict) -> list[dict]:
    out = []
    for i, item in enumerate(config.get("rules") or []):
        if not isinstance(item, dict):
            continue
        keyword = str(item.get("keyword") or "").strip()
        reply = str(item.get("reply") or "").strip()
        match = str(item.get("match") or "contains")
        if not keyword and not reply:
            continue
        if match not in MATCHES:
            errors["rules"] = f"第 {i + 1} 条规则的匹配方式无效"
        elif not keyword or not reply:
            errors["rules"] = f"第 {i + 1} 条规则需要同时填写关键词和回复内容"
        elif len(keyword) > 200 or len(reply) > 2000:
            errors["rules"] = f"第 {i + 1} 条规则过长（关键词 200 字、回复 2000 字以内）"
        elif match == "regex":
            try:
                re.compile(keyword)
            except re.error as exc:
                errors["rules"] = f"第 {i + 1} 条规则的正则表达式有误：{exc}"
        out.append({"match": match, "keyword": keyword, "reply": reply})
    if not out:
        errors.setdefault("rules", "请至少填写一条关键词规则")
    if len(out) > 50:
        errors["rules"] = "一个任务最多 50 条关键词规则"
    return out


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    accounts = fields.ids(config, "account_ids", "微信号", errors)  # empty: every account
    scope = fields.choice(config, "scope", "适用范围", SCOPES, errors, "both")
    rules = _rules(config, errors)
    cooldown = fields.number(config, "cooldown_minutes", "同一客户冷却时间（分钟）", errors, default=30, low=0, high=7 * 24 * 60)
    require_clean(errors)
    conditions = []
    if accounts:
        conditions.append(row("account_id", "in", accounts))
    if scope != "both":
        conditions.append(row("is_group", "eq", scope == "group"))
    # Exact and contains rules are tested by the matcher, so other messages never become steps;
    # a regular expression is tested by the reply step (Python's re, what the marketer wrote).
    if all(r["match"] in MATCH_OPS for r in rules):
        for i, r in enumerate(rules):
            last = i == len(rules) - 1
            # A row's 连接符 joins it to the NEXT row: (rule1 或者 rule2 或者 rule3).
            conditions.append(row("text", MATCH_OPS[r["match"]], r["keyword"], join="and" if last else "or",
                                  lparen=1 if i == 0 else 0, rparen=1 if last else 0))
    reply = {"rules": rules, "cooldown_minutes": cooldown}
    return spec(name, "device.message", conditions, [step("workbench.keyword_reply", reply)])


TEMPLATE = Template(
    key="keyword_reply", name="关键词回复", icon="message",
    description="私聊或群聊中出现关键词时自动回复，同一客户在冷却时间内只回复一次",
    steps=(WizardStep("关键词规则", "匹配方式、关键词、回复内容、适用范围、冷却时间"),),
    build=build,
    defaults={"scope": "both", "cooldown_minutes": 30,
              "rules": [{"match": "contains", "keyword": "价格", "reply": "您好，价格详情请看：……"}]},
)
