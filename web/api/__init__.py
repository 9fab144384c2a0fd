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

    for module in (ingest, lead_ingest, definitions, strategies, operations, leads, scenes, openapi, reports):
        csrf.exempt(module.bp)  # bearer tokens / HMAC, not cookies
        app.register_blueprint(module.bp)
    from web.api import products; csrf.exempt(products.bp); app.register_blueprint(products.bp)  # noqa: E702 - /api/v1/products
    from web.api import orders; csrf.exempt(orders.bp); app.register_blueprint(orders.bp)  # noqa: E702 - 订单
    from web.api import recommendations  # 智能推荐 (issue 11)
    app.register_blueprint(csrf.exempt(recommendations.bp))
    from web.api import dashboards; csrf.exempt(dashboards.bp); app.register_blueprint(dashboards.bp)  # noqa: E702 - 数据中心
    from web.api import messages; csrf.exempt(messages.bp); app.register_blueprint(messages.bp)  # noqa: E702 - 消息搜索

    for exc_class in (BadRequest, EventsError, RulesError, DefinitionError, DefinitionNotFound, ConditionError):
        app.register_error_handler(exc_class, error_response)
    app.register_error_handler(LimiterUnavailable, unavailable_response)  # every limiter, API or not
