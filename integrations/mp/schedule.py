"""公众号 cron job (composed by engine.crm_wiring): replies left 发送中 by a process that stopped
between storing and delivering them are marked failed with the reason every 10 minutes."""
from __future__ import annotations

from integrations.mp import outbound


def fail_stale_replies(services) -> str:
    return f"标记未送达的公众号回复 {outbound.fail_stale(services)} 条"


CRON_SPECS = [("mp_fail_stale_replies", "公众号回复状态核对", {"minute": "*/10"}, fail_stale_replies)]
