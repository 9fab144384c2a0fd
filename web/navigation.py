"""The console's left-hand menu: groups of items, each naming an endpoint and the permission
that shows it. Pages register themselves just by existing: an item appears only when its
endpoint is a real view of the app and the user holds its permission, so engineers add a page
by writing its blueprint, and menu entries for unbuilt pages stay hidden.

NAVIGATION is the built-in declaration (stable group keys and endpoints). 功能注册 stores an
admin's reorderings, renames and hidings as overrides (web/menu_overrides.py); `arrange` lays them
over the declaration. Hiding is presentation only: the page stays governed by its permission.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Mapping, NamedTuple, Optional, Union

from flask import request


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    # None: every signed-in user; a tuple: any one of these permissions.
    permission: Union[None, str, tuple[str, ...]]
    icon: str = "dot"  # a key of the inline SVG icon set in base.html
    # Other endpoints that highlight this item (e.g. an edit page under its list).
    prefixes: tuple[str, ...] = ()
    hidden: bool = False  # set by 功能注册 (arrange), never in the declaration
    default_label: str = ""  # the declared label when 功能注册 renamed it

    @property
    def permissions(self) -> tuple[str, ...]:
        if self.permission is None:
            return ()
        return self.permission if isinstance(self.permission, tuple) else (self.permission,)


@dataclass(frozen=True)
class NavGroup:
    key: str  # stable: 功能注册 overrides are stored under it
    label: str
    items: tuple[NavItem, ...]
    hidden: bool = False
    default_label: str = ""


class Override(NamedTuple):
    """One stored 功能注册 change of a group ("group", key) or an item ("item", endpoint)."""
    position: Optional[int] = None
    hidden: bool = False
    label: str = ""


Overrides = Mapping[tuple[str, str], Override]

WORKBENCH_ANY = ("workbench_content.view", "workbench_community.view", "workbench_traffic.view")

NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup("home", "", (NavItem("首页", "dashboard.index", "dashboard.view", "home", ("dashboard.",)),)),
    NavGroup("customers", "客户管理", (
        NavItem("客户档案", "customers.index", "customers.view", "users", ("customers.",)),
        NavItem("客户分组管理", "groups.index", "groups.view", "list", ("groups.index", "groups.group")),
        NavItem("我的分组", "groups.mine", "customers.view", "users", ("groups.mine",)),
        NavItem("客户分组规则", "groups.rules", "groups.manage", "flow", ("groups.rule",)),
        NavItem("客户导入", "imports.index", "customers.import", "list", ("imports.",)),
        NavItem("客户批量转移", "groups.transfer", "customers.transfer", "flow", ("groups.transfer",)),
        NavItem("回收站客户", "groups.recycle_bin", "customers.manage", "alert", ("groups.recycle",)),
        NavItem("公司管理", "companies.index", "companies.manage", "cube", ("companies.",)),
    )),
    NavGroup("leads", "场景获客", (
        NavItem("场景获客", "lead_home.index", "leads.view", "bolt", ("lead_home.", "lead_plans.")),
        NavItem("线索列表", "leads.index", "leads.view", "list", ("leads.",)),
        NavItem("获客统计", "lead_stats.index", "leads.view", "flow", ("lead_stats.",)),
        NavItem("获客场景配置", "lead_scenes.index", "scenes.manage", "cube", ("lead_scenes.",)),
        NavItem("渠道管理", "lead_channels.index", "scenes.manage", "token", ("lead_channels.",)),
        NavItem("付款码", "lead_payments.index", "scenes.manage", "key", ("lead_payments.",)),
        NavItem("抖音授权", "lead_douyin.index", "leads.view", "token", ("lead_douyin.",)),
        NavItem("电话外呼", "lead_calls.index", "leads.view", "bell", ("lead_calls.",)),
        NavItem("海报与渠道码", "lead_posters.index", "scenes.manage", "inbox", ("lead_posters.",)),
        NavItem("线索导入", "lead_imports.index", "leads.import", "list", ("lead_imports.",)),
        NavItem("线索死信", "lead_deadletters.index", "leads.manage", "alert", ("lead_deadletters.",)),
    )),
    NavGroup("reports", "数据中心", (
        NavItem("每日数据报表", "reports.daily", "reports.view", "flow", ("reports.daily",)),
        NavItem("周复盘", "reports.weekly", "reports.view", "list", ("reports.week",)),
        NavItem("月度数据看板", "reports.monthly", "reports.view", "flow", ("reports.month",)),
        NavItem("目标设置", "reports.targets", "reports.targets", "bolt", ("reports.target",)),
        NavItem("私域运营看板", "dashboards.overview", "dashboards.view", "flow", ("dashboards.overview",)),
        NavItem("生命周期漏斗", "dashboards.funnel", "dashboards.view", "flow", ("dashboards.funnel", "dashboards.cohort")),
        NavItem("RFM 客户分层", "dashboards.rfm", "dashboards.view", "users", ("dashboards.rfm", "dashboards.segment")),
        NavItem("运行监控", "monitor.index", "monitor.view", "alert", ("monitor.",)),
    )),
    NavGroup("commerce", "商品与订单", (
        NavItem("商品管理", "products.index", "products.view", "cube", ("products.",)),
        NavItem("类目与品牌", "product_catalog.index", "products.manage", "list", ("product_catalog.",)),
        NavItem("库存流水", "stock.index", "products.view", "list", ("stock.",)),
        NavItem("订单管理", "orders.index", "orders.view", "inbox", ("orders.",)),
    )),
    NavGroup("conversations", "会话中心", (
        NavItem("触客宝", "chat.index", "conversations.view", "inbox", ("chat.",)),
        NavItem("快捷回复库", "quick_replies.index", "conversations.view", "list", ("quick_replies.",)),
        NavItem("消息群发", "broadcasts.index", "broadcasts.manage", "mail", ("broadcasts.",)),
        NavItem("企业微信", "wecom.index", "wecom.manage", "users", ("wecom.",)),
        NavItem("公众号", "mp.index", "mp.manage", "bell", ("mp.index", "mp.settings", "mp.account")),
        NavItem("微信粉丝", "mp.fans", "mp.manage", "users", ("mp.fan",)),
        NavItem("消息搜索", "chat_search.index", "conversations.view", "search", ("chat_search.",)),
    )),
    NavGroup("community", "社群增长", (
        NavItem("社群列表", "community.groups", "community.view", "users", ("community.group",)),
        NavItem("群活监控", "community.alerts", "community.view", "alert", ("community.alert", "community.rule")),
        NavItem("裂变活动", "fission.index", "fission.manage", "flow", ("fission.",)),
        NavItem("积分与权益", "rewards.index", "rewards.manage", "key", ("rewards.",)),
        NavItem("KOC 管理", "koc.index", "koc.manage", "users", ("koc.",)),
        NavItem("智能回复", "kb.index", "kb.manage", "bolt", ("kb.",)),
    )),
    NavGroup("sales", "销售管理", (
        NavItem("任务中心", "worktasks.index", "worktasks.view", "clock", ("worktasks.index", "worktasks.task")),
        NavItem("客户跟进任务", "worktasks.followups", "worktasks.view", "list", ("worktasks.follow",)),
        NavItem("定向营销", "marketing.index", "marketing.view", "mail", ("marketing.",)),
    )),
    NavGroup("modeling", "系统建模", (
        NavItem("数据结构定义", "modeling.fields", "fields.manage", "cube", ("modeling.field",)),
        NavItem("标签管理", "tags.index", "tags.view", "token", ("tags.index", "tags.tag", "tags.categor")),
        NavItem("枚举管理", "modeling.enums", "fields.manage", "list", ("modeling.enum",)),
        NavItem("客户详情TABS", "modeling.tabs", "detail_tabs.manage", "list", ("modeling.tab",)),
        NavItem("消息模板管理", "templates.index", "templates.manage", "mail", ("templates.",)),
        NavItem("站内通知管理", "notices.index", "notices.send", "bell", ("notices.",)),
    )),
    NavGroup("crmlogs", "操作日志", (
        NavItem("标签历史", "tags.history", "crmlogs.view", "clock", ("tags.history",)),
        NavItem("分组与分配日志", "crmlogs.index", "crmlogs.view", "list", ("crmlogs.",)),
    )),
    NavGroup("matrix", "矩阵管理", (
        NavItem("工作台", "workbench.index", WORKBENCH_ANY, "bolt", ("workbench.",)),
        NavItem("设备管理", "devices.index", "devices.view", "cube", ("devices.",)),
        NavItem("微信号管理", "accounts.index", "accounts.view", "users",
                ("accounts.index", "accounts.account", "accounts.friends", "accounts.groups")),
        NavItem("好友请求", "accounts.requests", "accounts.view", "bell", ("accounts.request",)),
        NavItem("自动通过规则", "accounts.rules", "accounts.manage", "shield", ("accounts.rule",)),
        NavItem("内容库", "content.index", "content.view", "list", ("content.index", "content.item", "content.collect")),
        NavItem("素材管理", "content.materials", "content.view", "inbox", ("content.material",)),
        NavItem("敏感词", "content.sensitive", "content.manage", "alert", ("content.sensitive",)),
    )),
    NavGroup("automation", "营销工具", (
        NavItem("事件注册中心", "events.index", "events.view", "bolt", ("events.",)),
        NavItem("处理器注册中心", "processors.index", "processors.view", "cube", ("processors.",)),
        NavItem("自动化策略管理", "strategies.index", "strategies.view", "flow", ("strategies.",)),
        NavItem("策略任务", "tasks.index", "tasks.view", "clock", ("tasks.",)),
        NavItem("事件历史", "history.index", "history.view", "list", ("history.",)),
        NavItem("死信", "deadletters.index", "deadletters.view", "alert", ("deadletters.",)),
        NavItem("短信发件箱", "outbox.index", "outbox.view", "mail", ("outbox.",)),
    )),
    NavGroup("settings", "系统配置", (
        NavItem("应用管理", "apps.index", "apps.view", "key", ("apps.",)),
        NavItem("用户管理", "users.index", "users.view", "users",
                ("users.index", "users.new", "users.edit")),
        NavItem("角色管理", "users.roles", "roles.manage", "shield", ("users.role",)),
        NavItem("组织管理", "org.index", "org.manage", "users", ("org.index", "org.dep")),
        NavItem("脱敏管理", "org.masking", "masking.manage", "shield", ("org.mask",)),
    )),
    NavGroup("system", "系统管理", (
        NavItem("任务调度", "jobs.index", "jobs.view", "clock", ("jobs.",)),
        NavItem("参数配置", "params.index", "params.manage", "cube", ("params.",)),
        NavItem("功能注册", "menu_admin.index", "menu.manage", "list", ("menu_admin.",)),
        NavItem("UI 模板管理", "ui_templates.index", "ui_templates.manage", "inbox", ("ui_templates.",)),
        NavItem("系统监控", "sysmon.index", "sysmon.view", "alert", ("sysmon.",)),
        NavItem("登录日志", "logs.logins", "logs.view", "key", ("logs.login",)),
        NavItem("操作日志", "logs.operations", "logs.view", "list", ("logs.operation",)),
        NavItem("异常日志", "logs.errors", "logs.view", "alert", ("logs.error",)),
        NavItem("API 文档", "api_docs.index", None, "token", ("api_docs.",)),
    )),
    NavGroup("personal", "个人", (
        NavItem("站内通知", "account.notifications", None, "bell", ("account.notification",)),
        NavItem("API 令牌", "account.tokens", None, "token", ("account.token",)),
    )),
)


def _allowed(item: NavItem, permissions: Iterable[str]) -> bool:
    return item.permission is None or any(p in permissions for p in item.permissions)


def _apply(entry, override: Optional[Override]):
    if override is None:
        return entry
    label = override.label or entry.label
    return replace(entry, label=label, hidden=override.hidden,
                   default_label=entry.label if label != entry.label else "")


def _ordered(entries, kind: str, overrides: Overrides, key) -> list:
    def rank(pair):
        index, entry = pair
        override = overrides.get((kind, key(entry)))
        position = override.position if override is not None and override.position is not None else index
        return (position, index)
    return [entry for _, entry in sorted(enumerate(entries), key=rank)]


def arrange(overrides: Overrides) -> tuple[NavGroup, ...]:
    """The declaration with 功能注册's overrides laid over it: order, labels, hidden flags."""
    groups = []
    for group in _ordered(NAVIGATION, "group", overrides, lambda g: g.key):
        items = _ordered(group.items, "item", overrides, lambda i: i.endpoint)
        items = tuple(_apply(i, overrides.get(("item", i.endpoint))) for i in items)
        groups.append(_apply(replace(group, items=items), overrides.get(("group", group.key))))
    return tuple(groups)


def visible_menu(permissions: Iterable[str], view_functions: Iterable[str],
                 overrides: Overrides = {}) -> list[NavGroup]:
    """The groups and items one user sees: existing, not hidden endpoints they have permission for."""
    permissions, views = set(permissions), set(view_functions)
    groups = []
    for group in arrange(overrides):
        if group.hidden:
            continue
        items = tuple(i for i in group.items if not i.hidden and i.endpoint in views and _allowed(i, permissions))
        if items:
            groups.append(replace(group, items=items))
    return groups


def menu_preview(permissions: Iterable[str], groups: Iterable[NavGroup] = NAVIGATION,
                 ) -> list[tuple[NavGroup, list[tuple[NavItem, bool]]]]:
    """For 角色管理's "预览菜单权限": every menu item (of `groups`, e.g. arrange()'s, without the
    hidden ones) and whether the permissions show it (regardless of whether the page is built yet)."""
    permissions = set(permissions)
    return [(g, [(i, _allowed(i, permissions)) for i in g.items if not i.hidden]) for g in groups if not g.hidden]


def is_active(item: NavItem, endpoint: Optional[str] = None) -> bool:
    endpoint = endpoint if endpoint is not None else (request.endpoint or "")
    return endpoint == item.endpoint or any(endpoint.startswith(p) for p in item.prefixes)


def first_allowed_endpoint(permissions: Iterable[str], view_functions: Iterable[str],
                           overrides: Overrides = {}) -> Optional[str]:
    """Where to land after login when the user cannot see 首页: the first item of their menu."""
    for group in visible_menu(permissions, view_functions, overrides):
        return group.items[0].endpoint
    return None
