"""平台回调适配器: one per platform that pushes leads or payments to /webhooks/<key>.

The registry is keyed by each adapter's stable `key` (the URL segment the platform is configured
with, and the name rejection counts are stored under): add an adapter by adding a module and a
line here; never rename a key.
"""
from __future__ import annotations

from typing import Optional

from crm.leads.adapters.alipay import AlipayAdapter
from crm.leads.adapters.base import WebhookAdapter
from crm.leads.adapters.cti import CtiCallAdapter
from crm.leads.adapters.douyin import DouyinLeadsAdapter
from crm.leads.adapters.order import OrderNotificationAdapter
from crm.leads.adapters.web_form import WebFormAdapter
from crm.leads.adapters.wechat_pay import WechatPayAdapter

ADAPTERS: dict[str, WebhookAdapter] = {
    adapter.key: adapter
    for adapter in (DouyinLeadsAdapter(), OrderNotificationAdapter(), CtiCallAdapter(), WebFormAdapter(),
                    WechatPayAdapter(), AlipayAdapter())
}


def get_adapter(key: str) -> Optional[WebhookAdapter]:
    return ADAPTERS.get(key)


def adapters_for(scene_type: str) -> list[WebhookAdapter]:
    """The adapters a scene of this type can be configured with (for the scene page's 回调地址)."""
    return [a for a in ADAPTERS.values() if scene_type in a.scene_types]
