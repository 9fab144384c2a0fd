"""1:1 消息群发 on the scheduler: every minute, start the 群发 whose time has come, resume one whose
planning was interrupted (a crash, a restart — the recipients still 待发送 are planned, nobody twice)
and read back the delivery state of those in flight (conversations/broadcast/runner.py)."""
from __future__ import annotations

from conversations.broadcast.runner import run_due
from engine.cron import CronJob

CRON_JOB = CronJob("broadcasts", "消息群发", {"minute": "*"}, lambda runtime: run_due(runtime.services))
