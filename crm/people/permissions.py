"""Named permissions with Chinese labels, grouped the way the console menu is, and the
built-in roles. Permission names are stored in Role.permissions: never rename one without a
data migration."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Permission:
    name: str
    label: str


@dataclass(frozen=True)
class PermissionGroup:
    key: str
    label: str
    permissions: tuple[Permission, ...]


def _group(key: str, label: str, *pairs: tuple[str, str]) -> PermissionGroup:
    return PermissionGroup(key, label, tuple(Permission(n, lbl) for n, lbl in pairs))


PERMISSION_GROUPS: tuple[PermissionGroup, ...] = (
    _group("dashboard", "首页", ("dashboard.view", "查看首页")),
    _group("events", "事件注册中心", ("events.view", "查看事件"), ("events.manage", "管理事件")),
    _group("apps", "应用管理", ("apps.view", "查看应用"), ("apps.manage", "管理应用与密钥")),
    _group("processors", "处理器注册中心",
           ("processors.view", "查看处理器"), ("processors.manage", "管理处理器")),
    _group("strategies", "自动化策略管理",
           ("strategies.view", "查看策略"), ("strategies.manage", "编辑与启停策略"),
           ("strategies.test", "试运行与回测")),
    _group("tasks", "策略任务", ("tasks.view", "查看任务"), ("tasks.manage", "取消与重跑任务")),
    _group("history", "事件历史", ("history.view", "查看事件历史")),
    _group("deadletters", "死信",
           ("deadletters.view", "查看死信"), ("deadletters.manage", "重放与丢弃死信")),
    _group("outbox", "短信发件箱", ("outbox.view", "查看短信发件箱")),
    _group("notifications", "站内通知", ("notifications.view", "查看站内通知")),
    _group("users", "用户管理", ("users.view", "查看用户"), ("users.manage", "管理用户")),
    _group("roles", "角色管理", ("roles.manage", "管理角色")),
    _group("pii", "敏感信息", ("pii.view", "查看完整手机号")),
    # 客户中心 (issue 3)
    _group("customers", "客户档案",
           ("customers.view", "查看客户"), ("customers.manage", "编辑客户与批量操作"),
           ("customers.import", "导入客户"), ("customers.export", "导出客户"),
           ("customers.view_all", "查看全部客户")),
    _group("companies", "公司管理", ("companies.manage", "管理公司")),
    _group("modeling", "系统建模",
           ("fields.manage", "数据结构定义与枚举"), ("detail_tabs.manage", "客户详情TABS")),
    _group("tags", "标签管理", ("tags.view", "查看标签"), ("tags.manage", "管理标签与规则"),
           ("tags.apply", "手动打标签"),
           ("tags.personal", "管理自己的个人标签")),
    _group("groups", "客户分组",
           ("groups.view", "查看分组"), ("groups.manage", "管理分组与分组规则"),
           ("allocation.manage", "分配与回收规则"), ("customers.transfer", "客户批量转移")),
    _group("worktasks", "任务中心", ("worktasks.view", "查看任务中心"), ("worktasks.manage", "管理任务与跟进")),
    _group("templates", "消息模板", ("templates.manage", "管理消息模板"), ("notices.send", "发送站内通知")),
    _group("marketing", "定向营销", ("marketing.view", "查看定向营销"), ("marketing.manage", "管理定向营销")),
    _group("org", "组织与脱敏", ("org.manage", "组织管理"), ("masking.manage", "脱敏管理")),
    _group("crmlogs", "操作日志", ("crmlogs.view", "查看操作日志")),
    # 矩阵管理与内容运营 (issue 4)
    _group("devices", "设备管理", ("devices.view", "查看设备"), ("devices.manage", "添加设备与下发指令")),
    _group("accounts", "微信号管理", ("accounts.view", "查看微信号与好友"), ("accounts.manage", "管理微信号、好友请求与通过规则")),
    _group("content", "内容库", ("content.view", "查看内容库"), ("content.manage", "管理内容、素材与敏感词")),
    # 场景获客 (issue 5)
    _group("leads", "场景获客",
           ("leads.view", "查看线索与获客统计"), ("leads.view_all", "查看全部线索（否则只看分配给自己的）"),
           ("leads.manage", "编辑线索、状态与备注"),
           ("leads.assign", "分配线索"), ("leads.import", "导入线索"),
           ("scenes.manage", "管理获客场景、计划、渠道、付款码与海报")),
    # 商品与订单 (issue 11)
    _group("products", "商品管理",
           ("products.view", "查看商品与推荐"), ("products.manage", "管理商品、类目、品牌与目标客户群"),
           ("stock.manage", "入库、出库与库存调整")),
    _group("orders", "订单管理",
           ("orders.view", "查看订单（否则无订单菜单；只看可见客户的订单）"),
           ("orders.view_all", "查看全部订单"), ("orders.manage", "代客下单、改价、发货与完成"),
           ("orders.refund", "退款")),
    # 工作台与数据中心 (issue 10)
    _group("reports", "数据中心",
           ("reports.view", "查看数据报表（自己的数据）"), ("reports.view_department", "查看本部门的数据"),
           ("reports.view_all", "查看全公司的数据"), ("reports.targets", "设置目标与周复盘"),
           ("dashboards.view", "私域运营看板、生命周期漏斗与 RFM"), ("monitor.view", "运行监控"),
           ("home.defaults", "设置各角色的默认工作台")),
    # 会话中心 (issue 12)
    _group("conversations", "会话中心",
           ("conversations.view", "使用触客宝聊天（只看分配给自己的微信号的会话）"),
           ("conversations.view_all", "查看与接手全部会话"),
           ("quick_replies.manage", "管理快捷回复库（话术库）"), ("broadcasts.manage", "1:1 消息群发")),
    _group("integrations", "企业微信与公众号",
           ("wecom.manage", "企业微信授权、同步与侧边栏"), ("mp.manage", "公众号授权、默认客服与微信粉丝")),
    # 社群增长 (issue 13)
    _group("community", "社群增长",
           ("community.view", "查看社群列表与活跃度"), ("community.manage", "群活监控规则与群发"),
           ("fission.manage", "管理裂变活动"), ("rewards.manage", "管理积分、优惠券与盲盒"),
           ("rewards.redeem", "核销优惠券"), ("koc.manage", "管理 KOC 与 KOC 任务"),
           ("kb.manage", "管理智能回复知识库")),
    # 工作台 families (issue 14): a workbench task is governed by its template's family, so 内容运营
    # authors 朋友圈同步 without reaching lead pipelines or HTTP processors (rules/templates/families.py).
    _group("workbench", "工作台",
           ("workbench_content.view", "查看内容运营任务（朋友圈同步、自动点赞）"),
           ("workbench_content.manage", "新建、编辑与启停内容运营任务"),
           ("workbench_community.view", "查看社群任务（社群推送、入群欢迎语、自动建群、群打卡、定时提醒）"),
           ("workbench_community.manage", "新建、编辑与启停社群任务"),
           ("workbench_traffic.view", "查看流量任务（流量分发、关键词回复）"),
           ("workbench_traffic.manage", "新建、编辑与启停流量任务")),
    # 系统管理 (issue 14)
    _group("system", "系统管理",
           ("jobs.view", "查看任务调度"), ("jobs.manage", "修改调度、立即执行与定时任务注册"),
           ("params.manage", "参数配置"), ("menu.manage", "功能注册与菜单"),
           ("sysmon.view", "系统监控（进程与心跳）"), ("logs.view", "登录日志、操作日志与异常日志"),
           ("ui_templates.manage", "UI 模板管理")),
)

PERMISSIONS: dict[str, Permission] = {
    p.name: p for group in PERMISSION_GROUPS for p in group.permissions
}
ALL_PERMISSIONS: frozenset[str] = frozenset(PERMISSIONS)

# Staff administration stays with admins; operators run everything else.
_ADMIN_ONLY = frozenset({"users.view", "users.manage", "roles.manage", "org.manage", "masking.manage",
                         "jobs.manage", "params.manage", "menu.manage", "logs.view"})


@dataclass(frozen=True)
class BuiltinRole:
    code: str
    name: str
    permissions: frozenset[str]


def _views(*exclude: str) -> frozenset[str]:
    return frozenset(n for n in ALL_PERMISSIONS if n.endswith(".view")) - _ADMIN_ONLY - set(exclude)


_DAILY = frozenset({"dashboard.view", "notifications.view", "reports.view"})  # everyone's home, inbox, own figures
_SYSTEM = frozenset(p.name for g in PERMISSION_GROUPS if g.key == "system" for p in g.permissions)

# The jobs of seed 002 §1.2 (岗位与系统功能映射) and the 店长 / 客服 of seed 003, ready-made: each
# holds what that job's daily workflow in the handbook touches, nothing more. Admins copy and
# adjust them in 角色管理; ensure_builtin_roles only creates the missing ones.
SEED_ROLES: tuple[BuiltinRole, ...] = (
    # 项目主理人 · 超级管理员: every permission, as a role (the account flag is_admin stays separate).
    BuiltinRole("owner", "项目主理人", ALL_PERMISSIONS),
    # 后端开发 · 系统管理员: 系统配置、任务调度、日志监控 — the automation plumbing and 系统管理, not staff.
    BuiltinRole("backend_dev", "后端开发", _DAILY | _SYSTEM | {
        "events.view", "events.manage", "apps.view", "apps.manage", "processors.view", "processors.manage",
        "strategies.view", "strategies.manage", "strategies.test", "tasks.view", "tasks.manage", "history.view",
        "deadletters.view", "deadletters.manage", "outbox.view", "monitor.view", "dashboards.view",
        "workbench_content.view", "workbench_community.view", "workbench_traffic.view"}),
    # 前端开发 · 开发权限: 界面开发 — UI templates, the menu and reading what pages show.
    BuiltinRole("frontend_dev", "前端开发", _DAILY | {
        "ui_templates.manage", "menu.manage", "sysmon.view", "monitor.view", "events.view", "processors.view",
        "strategies.view", "history.view", "templates.manage", "dashboards.view"}),
    # 产品经理 · 产品权限: 需求管理、功能验收、数据分析 — reads everything (masked), tries strategies, all figures.
    BuiltinRole("product_manager", "产品经理", _views("customers.view_all", "pii.view") | _DAILY | {
        "strategies.test", "reports.view_all", "dashboards.view", "sysmon.view"}),
    # 用户运营 · 运营权限: 微信管理、消息群发、流量分发、自动建群, 流量池 tags and 重客追访.
    BuiltinRole("user_ops", "用户运营", _DAILY | {
        "customers.view", "customers.manage", "tags.view", "tags.apply", "groups.view", "worktasks.view",
        "worktasks.manage", "marketing.view", "leads.view", "leads.manage", "accounts.view", "content.view",
        "conversations.view", "quick_replies.manage", "broadcasts.manage", "community.view", "community.manage",
        "dashboards.view", "workbench_traffic.view", "workbench_traffic.manage", "workbench_community.view",
        "workbench_community.manage", "workbench_content.view"}),
    # 内容运营 · 内容权限: 内容库、朋友圈同步、素材管理 (and 自动点赞); no strategies, scenes or processors.
    BuiltinRole("content_ops", "内容运营", _DAILY | {
        "content.view", "content.manage", "accounts.view", "workbench_content.view", "workbench_content.manage",
        "quick_replies.manage", "kb.manage"}),
    # 矩阵管理 · 设备权限: 设备管理、健康分监控、账号管理.
    BuiltinRole("matrix_ops", "矩阵管理", _DAILY | {
        "devices.view", "devices.manage", "accounts.view", "accounts.manage", "content.view", "monitor.view",
        "workbench_content.view", "workbench_community.view", "workbench_traffic.view"}),
    # 店长: the shop — goods, stock, orders and refunds, the store's customers and coupons.
    BuiltinRole("store_manager", "店长", _DAILY | {
        "customers.view", "customers.manage", "customers.export", "tags.view", "tags.apply", "groups.view",
        "products.view", "products.manage", "stock.manage", "orders.view", "orders.manage", "orders.refund",
        "worktasks.view", "worktasks.manage", "marketing.view", "reports.view_department", "dashboards.view",
        "rewards.manage", "rewards.redeem", "community.view", "conversations.view"}),
    # 客服: answers customers in 触客宝 with the 话术库, records follow-ups, looks up orders, redeems coupons.
    BuiltinRole("service", "客服", _DAILY | {
        "customers.view", "tags.view", "tags.apply", "worktasks.view", "worktasks.manage", "conversations.view",
        "orders.view", "rewards.redeem", "community.view"}),
)


BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole("admin", "管理员", ALL_PERMISSIONS),
    BuiltinRole("operator", "运营", ALL_PERMISSIONS - _ADMIN_ONLY),
    BuiltinRole("viewer", "只读", frozenset(n for n in ALL_PERMISSIONS if n.endswith(".view"))
                - _ADMIN_ONLY - {"pii.view", "customers.view_all"}),
    # 业务员: sees and follows only the customers assigned to them.
    BuiltinRole("sales", "业务员", frozenset({
        "dashboard.view", "customers.view", "customers.manage", "tags.view", "tags.apply", "worktasks.view",
        "worktasks.manage", "notifications.view", "marketing.view", "leads.view", "leads.manage",
        "products.view", "orders.view", "orders.manage", "reports.view", "conversations.view", "community.view",
        "rewards.redeem", "tags.personal"})),
    # 部门经理: runs groups, allocation and the team's tasks; sees all customers of the groups they manage.
    BuiltinRole("manager", "部门经理", frozenset({
        "dashboard.view", "customers.view", "customers.manage", "customers.import", "customers.export",
        "customers.transfer", "tags.view", "tags.apply", "groups.view", "groups.manage", "allocation.manage",
        "worktasks.view", "worktasks.manage", "marketing.view", "marketing.manage", "templates.manage",
        "notices.send", "notifications.view", "crmlogs.view", "leads.view", "leads.view_all", "leads.manage",
        "leads.assign", "leads.import", "products.view", "orders.view", "orders.manage", "orders.refund",
        "reports.view", "reports.view_department", "reports.targets", "dashboards.view", "conversations.view",
        "conversations.view_all", "quick_replies.manage", "broadcasts.manage", "community.view", "community.manage",
        "rewards.redeem"})),
) + SEED_ROLES


def label(name: str) -> str:
    """The Chinese label of a permission (the name itself when unknown, e.g. after a removal)."""
    perm = PERMISSIONS.get(name)
    return perm.label if perm else name


def unknown(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n not in PERMISSIONS)


def user_permissions(user, roles: Iterable) -> set[str]:
    """The union of the roles' permissions; an admin (is_admin) has every permission."""
    if user is None or not getattr(user, "enabled", True):
        return set()
    if getattr(user, "is_admin", False):
        return set(ALL_PERMISSIONS)
    granted: set[str] = set()
    for role in roles:
        granted.update(n for n in (role.permissions or []) if n in PERMISSIONS)
    return granted
