"""Every table of every package, imported in one place for Alembic and the test harness."""
from __future__ import annotations

from sqlmodel import SQLModel

import analytics.models  # noqa: F401
import analytics.workbench_models  # noqa: F401
import analytics.review_models  # noqa: F401
import analytics.score_models  # noqa: F401
import commerce.catalog.models  # noqa: F401
import commerce.orders.models  # noqa: F401
import commerce.recommend.models  # noqa: F401
import commerce.stock.models  # noqa: F401
import community.ledger_models  # noqa: F401
import community.activity.models  # noqa: F401
import community.groups.models  # noqa: F401
import conversations.models  # noqa: F401
import crm.customers.models  # noqa: F401
import crm.groups.models  # noqa: F401
import crm.jobs.models  # noqa: F401
import crm.leads.call_models  # noqa: F401
import crm.leads.douyin_models  # noqa: F401
import crm.leads.models  # noqa: F401
import crm.people.models  # noqa: F401
import crm.sales.models  # noqa: F401
import crm.sales.notice_models  # noqa: F401
import crm.tags.models  # noqa: F401
import devices.models  # noqa: F401
import engine.models  # noqa: F401
import events.episodes  # noqa: F401
import events.models  # noqa: F401
import handlers.models  # noqa: F401
import rules.models  # noqa: F401
import integrations.mp.models  # noqa: F401
import integrations.wecom.models  # noqa: F401
import community.kb.models, community.koc.models  # noqa: E401,F401 - 智能回复, KOC
import community.fission.models  # noqa: F401
import community.rewards.models  # noqa: F401
import conversations.chat_models  # noqa: F401 - 转接记录 (chat)
import conversations.quick_replies.models  # noqa: F401
import conversations.broadcast.models  # noqa: F401
import config.parameter_models  # noqa: F401 - 参数配置
import crm.people.menu_models  # noqa: F401 - 功能注册 (issue 14)
import engine.process_models  # noqa: F401 - 系统监控 heartbeats
import crm.customers.ui_template_models  # noqa: F401 - UI 模板管理 (issue 14, seed001)
import crm.audit.models  # noqa: F401 - 登录/操作/异常日志
import engine.cron_models  # noqa: F401 - 任务调度, 定时任务注册

metadata = SQLModel.metadata
