"""线索处理日志: what happened to a lead, step by step, in words an operator reads."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from config.clock import utcnow
from crm.leads.models import LeadLog

STAGE_LABELS = {
    "received": "接收", "updated": "信息更新", "identified": "客户识别", "tagged": "自动打标签",
    "assigned": "分配", "responded": "自动回复", "status": "状态变更", "note": "备注", "error": "处理失败",
    "redrive": "重新处理", "held": "暂未分配", "order": "生成订单",
}


def write_log(session: Session, lead_id: int, stage: str, message: str, *, ok: bool = True,
              detail: Optional[dict] = None, actor: str = "system") -> LeadLog:
    row = LeadLog(lead_id=lead_id, stage=stage[:24], ok=ok, message=message[:1000], detail=detail or {},
                  actor=actor[:64], created_at=utcnow())
    session.add(row)
    return row
