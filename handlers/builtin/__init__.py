"""内置处理器: ready-made steps — HTTP 请求, 发送邮件, 发送短信, 站内通知, 写日志.

One plugin per module; BUILTIN_PROCESSORS is what `handlers.registry.default_registry` loads.
"""
from __future__ import annotations

from handlers.builtin.email import EmailProcessor
from handlers.builtin.http import HttpProcessor
from handlers.builtin.log import LogProcessor
from handlers.builtin.notify import NotifyProcessor
from handlers.builtin.sms import SmsProcessor

BUILTIN_PROCESSORS = (HttpProcessor, EmailProcessor, SmsProcessor, NotifyProcessor, LogProcessor)
