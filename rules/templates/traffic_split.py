"""流量分发: new traffic (new friends of the entry accounts, or customers created from scene plans
and imports) is handed to target accounts or staff — by ratio (weights), in order, or by tag —
skipping unhealthy or capped accounts and outside working hours; then the follow-up actions:
welcome message, tags, a follow-up task."""
from __future__ import annotations

from rules.templates import fields
from rules.templates.base import BuildContext, Template, WizardStep, require_clean, row, spec, step

SOURCES = {"new_friend": "新好友（微信号新增好友）", "customer": "新客户（场景获客计划、导入）"}
TARGET_KINDS = {"account": "微信号", "staff": "员工"}
MODES = {"ratio": "按比例（权重）", "order": "按顺序轮流", "tag": "按标签"}
SOURCE_EVENTS = {"new_friend": "device.friend_added", "customer": "crm.customer_created"}


def _targets(config: dict, errors: dict, mode: str) -> list[dict]:
    raw = config.get("targets") or []
    out = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):
            continue
        try:
            target_id = int(item.get("id"))
            weight = int(item.get("weight") or 1)
            cap = int(item.get("daily_cap") or 0)
        except (TypeError, ValueError):
            errors["targets"] = f"第 {i + 1} 个分发对象的编号、权重或上限不是整数"
            continue
        if not 1 <= weight <= 100:
            errors["targets"] = f"第 {i + 1} 个分发对象的权重应在 1–100 之间"
        if not 0 <= cap <= 10000:
            errors["targets"] = f"第 {i + 1} 个分发对象的每日上限应在 0–10000 之间（0 表示不限）"
        tag = str(item.get("tag") or "").strip()[:50]
        if mode == "tag" and not tag:
            errors["targets"] = f"按标签分发时，第 {i + 1} 个分发对象需要填写标签"
        if any(t["id"] == target_id for t in out):
            errors["targets"] = "分发对象重复"
        out.append({"id": target_id, "weight": weight, "daily_cap": cap, "tag": tag})
    if not out:
        errors["targets"] = "请至少选择一个分发对象"
    return out


def source_rows(words: list[str], scene_words: dict) -> list[dict]:
    """客户来源 as one OR group: the customer's source (the 获客场景 name, or 手工录入 / 导入 …)
    contains a word, or names a scene whose kind or channel contains it (「抖音」 → every scene of
    kind 抖音获客 and every scene on a channel named 抖音信息流)."""
    names = sorted({name for name, labels in scene_words.items()
                    if any(w in label for w in words for label in labels) and not any(w in name for w in words)})
    parts = [("contains", w) for w in words] + ([("in", names)] if names else [])
    return [row("source", op, value, join="or", lparen=1 if i == 0 else 0, rparen=1 if i == len(parts) - 1 else 0)
            for i, (op, value) in enumerate(parts)]


def build(config: dict, context: BuildContext) -> dict:
    errors: dict = {}
    name = fields.text(config, "name", "任务名称", errors, required=True, max_len=100)
    source = fields.choice(config, "source", "流量来源", SOURCES, errors, "new_friend")
    entry_accounts = fields.ids(config, "source_account_ids", "来源微信号", errors)
    customer_sources = fields.words(config, "customer_sources", "客户来源", errors)
    target_kind = fields.choice(config, "target_kind", "分发对象类型", TARGET_KINDS, errors, "account")
    mode = fields.choice(config, "mode", "分发规则", MODES, errors, "ratio")
    targets = _targets(config, errors, mode)
    min_health = fields.number(config, "min_health", "最低健康分", errors, default=50, low=0, high=100)
    start, end = fields.window(config, errors, default=("09:00", "21:00"))
    greeting = fields.text(config, "greeting", "加好友验证语", errors, max_len=200, default="你好，我是你的专属顾问")
    welcome = fields.text(config, "welcome_text", "欢迎语", errors, max_len=1000)
    tags = fields.words(config, "tags", "标签", errors, max_items=20)
    task_title = fields.text(config, "task_title", "跟进任务标题", errors, max_len=100)
    require_clean(errors)

    conditions = []
    if source == "new_friend" and entry_accounts:
        conditions.append(row("account_id", "in", entry_accounts))
    if source == "customer" and customer_sources:
        conditions += source_rows(customer_sources, context.scene_words)
    distribute = {"source": source, "target_kind": target_kind, "mode": mode, "targets": targets,
                  "min_health": min_health, "start_time": start, "end_time": end, "greeting": greeting}
    steps = [step("device.distribute", distribute)]
    if source == "new_friend":
        if welcome:
            steps.append(step("device.send_message", {"to": "${wxid}", "text": welcome}))
        if tags:
            steps.append(step("device.tag_friend", {"wxid": "${wxid}", "tags": ",".join(tags)}))
    else:
        if tags:
            steps.append(step("crm.add_tag", {"tags": ",".join(tags)}))
        if task_title:
            steps.append(step("crm.create_task", {"title": task_title}))
    return spec(name, SOURCE_EVENTS[source], conditions, steps)


TEMPLATE = Template(
    key="traffic_split", name="流量分发", icon="shuffle",
    description="把新好友或新客户按权重、顺序或标签分给微信号或员工，跳过健康分低或已满额的号，并自动欢迎、打标签、建跟进任务",
    steps=(WizardStep("选择流量来源与分发对象", "来源渠道，分给哪些微信号或员工"),
           WizardStep("设置分发规则与权重", "按比例、按顺序或按标签；权重、每日上限、健康分、工作时间"),
           WizardStep("配置后续动作", "欢迎语、打标签、跟进任务")),
    build=build,
    defaults={"source": "new_friend", "target_kind": "account", "mode": "ratio", "min_health": 50,
              "start_time": "09:00", "end_time": "21:00", "greeting": "你好，我是你的专属顾问"},
)
