"""/api/v1: the JSON API (bearer tokens) and the signed event ingestion endpoint."""
from __future__ import annotations

from flask import Flask

from config.errors import LimiterUnavailable
from events.errors import EventsError
from handlers.definitions import DefinitionError, DefinitionNotFound
from rules.conditions import ConditionError
from rules.errors import RulesError
from web.api.common import BadRequest, error_response, unavailable_response
from web.extensions import csrf


def register_api(app: Flask) -> None:
    from web.api import definitions, ingest, lead_ingest, leads, openapi, operations, scenes, strategies
    from web.api import reports  # 数据中心: /api/v1/reports/*
    from web.api import lead_stats  # 获客统计: /api/v1/leads/stats
    from web.api import calls  # 电话外呼: /api/v1/call-tasks, /api/v1/call-records

    for module in (ingest, lead_ingest, definitions, strategies, operations, lead_stats, calls, leads, scenes, openapi, reports):
        csrf.exempt(module.bp)  # bearer tokens / HMAC, not cookies
        app.register_blueprint(module.bp)
    from web.api import products; csrf.exempt(products.bp); app.register_blueprint(products.bp)  # noqa: E702 - /api/v1/products
    from web.api import orders; csrf.exempt(orders.bp); app.register_blueprint(orders.bp)  # noqa: E702 - 订单
    from web.api import recommendations  # 智能推荐 (issue 11)
    app.register_blueprint(csrf.exempt(recommendations.bp))
    from web.api import dashboards; csrf.exempt(dashboards.bp); app.register_blueprint(dashboards.bp)  # noqa: E702 - 数据中心
    from web.api import rewards; csrf.exempt(rewards.bp); app.register_blueprint(rewards.bp)  # noqa: E702 - 权益（核销/积分）
    from web.api import conversations; csrf.exempt(conversations.bp); app.register_blueprint(conversations.bp)  # noqa: E702 - 触客宝
    from web.api import social; csrf.exempt(social.bp); app.register_blueprint(social.bp)  # noqa: E702 - /api/social 社群
    from web.api import broadcasts, quick_replies; [app.register_blueprint(csrf.exempt(m.bp)) for m in (quick_replies, broadcasts)]  # noqa: E702 - 快捷回复/消息群发
    from web.api import messages; csrf.exempt(messages.bp); app.register_blueprint(messages.bp)  # noqa: E702 - 消息搜索
    from web.api import customers, customers_search, customer_actions, customer_followups  # 客户 API (issue 14)
    [app.register_blueprint(csrf.exempt(m.bp)) for m in (customers, customers_search, customer_actions, customer_followups)]
    from web.api import companies; app.register_blueprint(csrf.exempt(companies.bp))  # noqa: E702 - 公司管理
    from web.api import tags; app.register_blueprint(csrf.exempt(tags.bp))  # noqa: E702 - 标签与标签分类
    from web.api import customer_groups; app.register_blueprint(csrf.exempt(customer_groups.bp))  # noqa: E702 - 客户分组
    from web.api import message_templates; app.register_blueprint(csrf.exempt(message_templates.bp))  # noqa: E702 - 消息模板
    from web.api import people; app.register_blueprint(csrf.exempt(people.bp))  # noqa: E702 - 用户与部门（只读）
    from web.api import devices; app.register_blueprint(csrf.exempt(devices.bp))  # noqa: E702 - 设备与指令
    from web.api import wechat_accounts; app.register_blueprint(csrf.exempt(wechat_accounts.bp))  # noqa: E702 - 微信号与好友请求
    from web.api import friends; app.register_blueprint(csrf.exempt(friends.bp))  # noqa: E702 - 好友与微信群
    from web.api import auto_accept; app.register_blueprint(csrf.exempt(auto_accept.bp))  # noqa: E702 - 自动通过规则
    from web.api import docs; app.register_blueprint(docs.bp)  # noqa: E702 - API 文档 (Swagger UI page)

    for exc_class in (BadRequest, EventsError, RulesError, DefinitionError, DefinitionNotFound, ConditionError):
        app.register_error_handler(exc_class, error_response)
    app.register_error_handler(LimiterUnavailable, unavailable_response)  # every limiter, API or not
