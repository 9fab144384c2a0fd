"""朋友圈发布数: moments our accounts posted that the phone confirmed (succeeded post_moment commands,
whether from 朋友圈同步, a strategy or by hand)."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between
from config.clock import as_utc
from devices.models import DeviceCommand


class MomentsPosted(Metric):
    key = "moments_posted"
    label = "朋友圈发布数"
    unit = "条"
    distinct = False
    definition = "我方微信号当天成功发布的朋友圈条数（以手机回报发布成功为准）"

    def facts(self, session, start, end, ctx):
        stmt = (select(DeviceCommand.id, DeviceCommand.account_id, DeviceCommand.finished_at, DeviceCommand.payload)
                .where(DeviceCommand.kind == "post_moment", DeviceCommand.status == "succeeded",
                       between(DeviceCommand.finished_at, start, end)))
        for cid, account_id, when, payload in session.exec(stmt):
            text = str((payload or {}).get("text") or "")[:40]
            yield Fact(as_utc(when), None, user_id=ctx.owner(account_id), account_id=account_id,
                       ref=("command", cid), label=text or f"朋友圈 #{cid}")


METRIC = MomentsPosted()
