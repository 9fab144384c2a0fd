"""Console pages (Chinese), one blueprint per area."""
from __future__ import annotations

from flask import Flask


def register_console(app: Flask) -> None:
    from web.console import dashboard
    from web.console import users

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(users.bp)
    from web.console import org; app.register_blueprint(org.bp)  # noqa: E702 - 组织管理/脱敏管理
    from web.console import marketing, notices, templates_admin, worktasks  # 销售管理
    for module in (worktasks, templates_admin, notices, marketing):
        app.register_blueprint(module.bp)
    from web.console import companies, customers, imports, modeling  # 客户档案/公司/导入/系统建模
    for module in (customers, companies, imports, modeling):
        app.register_blueprint(module.bp)
    from web.console import crmlogs, groups  # 客户分组/分配/回收/转移/回收站, 操作日志
    for module in (groups, crmlogs):
        app.register_blueprint(module.bp)
    from web.console import tags; app.register_blueprint(tags.bp)  # noqa: E702 - 标签管理/标签规则/标签历史
    from web.console import devices; app.register_blueprint(devices.bp)  # noqa: E702 - 设备管理
    from web.console import accounts; app.register_blueprint(accounts.bp)  # noqa: E702 - 微信号管理
    from web.console import content; app.register_blueprint(content.bp)  # noqa: E702 - 内容库/素材/朋友圈采集/敏感词
    from web.console import workbench; app.register_blueprint(workbench.bp)  # noqa: E702 - 工作台
    from web.console import orders, orders_new; app.register_blueprint(orders.bp)  # noqa: E702,F401 - 订单管理/代客下单
    from web.console import product_audience; app.register_blueprint(product_audience.bp)  # noqa: E702 - 目标客户群
    from web.console import monitor; app.register_blueprint(monitor.bp)  # noqa: E702 - 运行监控
    from web.console import reports; app.register_blueprint(reports.bp)  # noqa: E702 - 数据报表/周复盘/月度看板/目标
    from web.console import dashboards; app.register_blueprint(dashboards.bp)  # noqa: E702 - 私域运营看板/漏斗/同期群/RFM
    from web.console import chat; app.register_blueprint(chat.bp)  # noqa: E702 - 触客宝
    register_tools(app)
    register_leads(app)
    from web.console import product_catalog, products, stock; [app.register_blueprint(m.bp) for m in (products, product_catalog, stock)]  # noqa: E702 - 商品与库存
    from web.console import mp; app.register_blueprint(mp.bp)  # noqa: E702 - 公众号/微信授权/微信粉丝
    from web.console import wecom; app.register_blueprint(wecom.bp)  # noqa: E702 - 企业微信
    from web.console import kb, koc; [app.register_blueprint(m.bp) for m in (kb, koc)]  # noqa: E702 - 智能回复, KOC 管理
    from web.console import fission, rewards; [app.register_blueprint(m.bp) for m in (fission, rewards)]  # noqa: E702 - 裂变活动/权益中心
    from web.console import community; app.register_blueprint(community.bp)  # noqa: E702 - 社群列表/群活监控
    from web.console import broadcasts, quick_replies; [app.register_blueprint(m.bp) for m in (quick_replies, broadcasts)]  # noqa: E702 - 快捷回复库/消息群发
    from web.console import chat_search, friends; [app.register_blueprint(m.bp) for m in (friends, chat_search)]  # noqa: E702 - 好友详情/消息搜索
    from web.console import sysmon; app.register_blueprint(sysmon.bp)  # noqa: E702 - 系统监控
    from web.console import params; app.register_blueprint(params.bp)  # noqa: E702 - 参数配置
    from web.console import menu_admin; app.register_blueprint(menu_admin.bp)  # noqa: E702 - 功能注册
    from web.console import customer_actions, object_tags, ui_templates; [app.register_blueprint(m.bp) for m in (customer_actions, object_tags, ui_templates)]  # noqa: E702 - 短信推送/打电话/打标签, 商品与公司标签, UI 模板管理
    from web.console import logs; app.register_blueprint(logs.bp)  # noqa: E702 - 登录日志/操作日志/异常日志


def register_leads(app: Flask) -> None:
    """场景获客 pages: home and plans, leads, statistics, scenes, channels, payment codes, posters,
    imports and dead letters (one module per area, one line each)."""
    from web.console import leads_home; app.register_blueprint(leads_home.bp)  # noqa: E702 - 场景获客首页/获客计划
    from web.console import lead_scenes; app.register_blueprint(lead_scenes.bp)  # noqa: E702 - 获客场景配置
    from web.console import lead_channels; app.register_blueprint(lead_channels.bp)  # noqa: E702 - 渠道管理
    from web.console import lead_douyin; app.register_blueprint(lead_douyin.bp)  # noqa: E702 - 抖音授权
    from web.console import lead_calls; app.register_blueprint(lead_calls.bp)  # noqa: E702 - 外呼任务与通话记录
    from web.console import lead_payments; app.register_blueprint(lead_payments.bp)  # noqa: E702 - 付款码
    from web.console import lead_posters; app.register_blueprint(lead_posters.bp)  # noqa: E702 - 海报与渠道码
    from web.console import leads; app.register_blueprint(leads.bp)  # noqa: E702 - 线索列表/线索详情
    from web.console import lead_stats; app.register_blueprint(lead_stats.bp)  # noqa: E702 - 获客统计
    from web.console import lead_deadletters; app.register_blueprint(lead_deadletters.bp)  # noqa: E702 - 线索死信
    from web.console import lead_imports; app.register_blueprint(lead_imports.bp)  # noqa: E702 - 线索导入/订单同步记录


def register_tools(app: Flask) -> None:
    """营销工具 and 应用管理 pages."""
    from web.console import apps, deadletters, events, history, outbox, processors, strategies, tasks

    for module in (events, processors, strategies, tasks, history, deadletters, outbox, apps):
        app.register_blueprint(module.bp)
    from web.console import jobs, jobs_custom; app.register_blueprint(jobs_custom.bp)  # noqa: E702 - 任务调度, 定时任务注册
