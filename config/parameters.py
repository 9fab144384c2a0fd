"""参数配置: the settings an administrator may change at runtime, each declared once.

A parameter is a Settings field (its key is the field name, so CKB_<KEY> still sets it from the
environment) plus what the console needs: group, Chinese label, description, bounds, choices,
whether it is a secret (write-only, sealed at rest) and whether a change needs a restart.
Values are checked by the field's own pydantic type and validators first, then by the
per-parameter check here, then by the group checks that look at several values together.

Only settings that are safe to change while running are declared: never where the database is,
the secret key, the data directory or anything the process binds at start-up. Cron times are
not parameters (任务调度 stores them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from config.password_policy import problem as password_problem
from config.retry_schedule import format_schedule, parse_schedule
from config.timewindow import TimeWindow

GROUPS = (
    ("security", "账号安全", "登录失败限制与登录会话时长。"),
    ("sms", "短信", "短信发送通道与每个手机号的发送上限。"),
    ("mail", "邮件", "「发送邮件」处理器使用的 SMTP 服务器。"),
    ("wechat", "微信", "公众号、企业微信回调的时间校验，以及抖音开放平台应用。"),
    ("automation", "自动化", "策略步骤重试、数据保留、群发与获客告警的阈值。定时任务的执行时间在「任务调度」中设置。"),
    ("risk", "风控", "所有发往手机的指令都要经过的风控预算：免打扰时段、发送间隔与上限、接口限流。"),
)
GROUP_LABELS = {key: label for key, label, _ in GROUPS}


class ParameterInvalid(ValueError):
    """A value refused by a parameter's own check; the message is shown next to the field."""


@dataclass(frozen=True)
class Parameter:
    key: str            # the Settings field name (stable: stored in the database)
    group: str
    label: str
    description: str = ""
    secret: bool = False
    restart: bool = False   # read once at start-up: the change applies after 重启
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""
    placeholder: str = ""
    check: Optional[Callable[[Any], Any]] = None  # value → normalised value; raises ParameterInvalid


def _quiet_hours(value: str) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return str(TimeWindow.parse(text))
    except ValueError as exc:
        raise ParameterInvalid(str(exc)) from exc


def _retry_schedule(value: str) -> str:
    try:
        return format_schedule(parse_schedule(value))
    except ValueError as exc:
        raise ParameterInvalid(str(exc)) from exc


def _http_url(value: str) -> str:
    text = str(value or "").strip()
    if text and not re.match(r"^https?://[^\s/]+", text):
        raise ParameterInvalid("请填写以 http:// 或 https:// 开头的完整地址")
    return text


def _host(value: str) -> str:
    text = str(value or "").strip()
    if not text or not re.match(r"^[A-Za-z0-9.\-:\[\]]+$", text):
        raise ParameterInvalid("请填写服务器的域名或 IP 地址")
    return text


def _password(value: str) -> str:
    message = password_problem(value)
    if message:
        raise ParameterInvalid(message)
    return value


def _email(value: str) -> str:
    text = str(value or "").strip()
    if not re.match(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", text):
        raise ParameterInvalid("请填写有效的邮箱地址，例如 noreply@example.com")
    return text


def _p(key, group, label, description="", **kw) -> Parameter:
    return Parameter(key, group, label, description, **kw)


_COUNT = {"minimum": 0, "unit": "次"}
PARAMETERS: tuple[Parameter, ...] = (
    # 账号安全 — read by crm/people/login_throttle.py and web/auth/session.py on every login / request.
    _p("initial_password", "security", "初始密码", "新建用户或重置密码时密码留空，即使用该密码，用户首次登录必须修改。"
       "未设置时每次都须填写密码。", secret=True, check=_password),
    _p("login_max_failures", "security", "同一账号同一地址失败次数", "超过后需等待，等待时间逐次加长（从不锁定账号）。",
       minimum=1, maximum=100, unit="次"),
    _p("login_lockout_seconds", "security", "首次等待时长", "达到失败次数后首次需等待的秒数。",
       minimum=10, maximum=86400, unit="秒"),
    _p("login_ip_max_failures", "security", "同一地址失败次数（跨账号）", "防撞库：一个地址尝试多个账号的失败上限。",
       minimum=1, maximum=10000, unit="次"),
    _p("login_ip_window_seconds", "security", "跨账号失败统计窗口", minimum=60, maximum=86400, unit="秒"),
    _p("login_global_soft_failures", "security", "全站失败软上限", "全站失败次数超过后，每个地址只允许「同一账号失败次数」。",
       minimum=1, maximum=1000000, unit="次"),
    _p("session_idle_hours", "security", "登录空闲超时", "控制台登录在这么久没有操作后失效。",
       minimum=1, maximum=8760, unit="小时"),
    # 短信 — handlers/builtin/sms.py, handlers/sms_providers, handlers/sms_caps.py read them per send.
    _p("sms_provider", "sms", "短信通道", "发件箱：只记录到「短信发件箱」，不真正发送；HTTP 网关：发送到下方网关地址。",
       choices=(("outbox", "发件箱（不真正发送）"), ("http", "HTTP 短信网关"))),
    _p("sms_gateway_url", "sms", "网关地址", "POST {mobile, content} JSON 到该地址。", check=_http_url,
       placeholder="https://sms.example.com/send"),
    _p("sms_gateway_token", "sms", "网关令牌", "以 Authorization: Bearer 发送。", secret=True),
    _p("sms_per_number_per_minute", "sms", "每个号码每分钟上限", "0 表示不限；超过后延后到有余量时发送。",
       maximum=1000, **_COUNT),
    _p("sms_per_number_per_hour", "sms", "每个号码每小时上限", "0 表示不限；超过后延后。", maximum=10000, **_COUNT),
    _p("sms_per_number_per_day", "sms", "每个号码 24 小时上限", "0 表示不限；超过后拒绝发送。", maximum=100000, **_COUNT),
    # 邮件 — handlers/builtin/email.py reads them per message.
    _p("smtp_host", "mail", "SMTP 服务器", check=_host, placeholder="smtp.example.com"),
    _p("smtp_port", "mail", "端口", "常用 25、465、587。", minimum=1, maximum=65535),
    _p("smtp_user", "mail", "用户名", "留空表示不登录。"),
    _p("smtp_password", "mail", "密码", secret=True),
    _p("smtp_starttls", "mail", "使用 STARTTLS"),
    _p("smtp_timeout_seconds", "mail", "超时", "一次发信（连接、问候和每条命令）的总时限。", minimum=1, maximum=300, unit="秒"),
    _p("mail_from", "mail", "发件人地址", check=_email),
    # 微信 — the per-account 公众号 / 企业微信 credentials live with each account; these are app-wide.
    _p("mp_callback_max_skew_seconds", "wechat", "公众号回调时间容差", "回调时间戳与本机时间相差超过该值即拒绝（防重放）。",
       minimum=5, maximum=3600, unit="秒"),
    _p("wecom_callback_max_skew_seconds", "wechat", "企业微信回调时间容差", minimum=5, maximum=3600, unit="秒"),
    _p("douyin_client_key", "wechat", "抖音开放平台 Client Key", "抖音获客场景授权用的应用。"),
    _p("douyin_client_secret", "wechat", "抖音开放平台 Client Secret", secret=True),
    _p("douyin_refresh_ahead_hours", "wechat", "抖音令牌提前刷新", "访问令牌到期前这么久刷新。", unit="小时"),
    _p("douyin_alert_days", "wechat", "抖音授权到期提醒", "刷新令牌在这么多天内到期时提醒重新授权。", unit="天"),
    # 自动化
    _p("retry_schedule", "automation", "失败重试间隔", "未自带重试规则的处理器失败后依次等待的时间，用逗号分隔（s 秒、m 分、h 时、d 天）。",
       check=_retry_schedule, placeholder="5s, 1m, 5m, 30m, 2h, 5h"),
    _p("chat_retention_days", "automation", "聊天记录保留天数", "更早的聊天消息每晚清理（会话摘要保留）；0 表示永久保留。", unit="天"),
    _p("broadcast_weekly_limit", "automation", "1:1 群发每人每周上限", "同一好友 7 天内最多收到的群发条数（运营规范 §4.3）。",
       minimum=0, maximum=50, unit="次"),
    _p("group_broadcast_deadline_minutes", "automation", "群发离线等待时长", "手机离线的群在预定时间后这么久内上线仍会发送，否则记为失败。",
       unit="分钟"),
    _p("group_broadcast_max_groups", "automation", "单次群发最多群数", unit="个"),
    _p("lead_alert_deadletters", "automation", "线索死信告警阈值", "未处理的线索死信达到该数量时告警。", unit="条"),
    _p("lead_alert_refused_per_hour", "automation", "回调拒收告警阈值", "一小时内被拒收的平台回调达到该数量时告警。", unit="次"),
    _p("lead_alert_pull_failures", "automation", "拉取失败告警阈值", "同一场景连续拉取失败达到该次数时告警。", unit="次"),
    _p("call_daily_attempts", "automation", "每个号码每日外呼次数", unit="次"),
    _p("kb_min_score", "automation", "智能回复最低置信度", "低于该值（0–1）的答案转人工。"),
    _p("report_push_email", "automation", "每日报表同时发邮件", "同时触发 analytics.daily_report 事件（绑定「发送邮件」策略）。"),
    # 风控 — devices/budget.py and devices/send_gate.py read them as each command is issued / delivered.
    _p("budget_quiet_hours", "risk", "免打扰时段", "该时段内不向客户发送任何消息，指令延后到时段结束后执行。留空表示关闭（默认关闭）。",
       check=_quiet_hours, placeholder="例如 22:00-08:00"),
    _p("budget_private_gap_min_seconds", "risk", "私聊发送间隔（最短）", minimum=0, maximum=3600, unit="秒"),
    _p("budget_private_gap_max_seconds", "risk", "私聊发送间隔（最长）", minimum=0, maximum=3600, unit="秒"),
    _p("budget_group_gap_min_seconds", "risk", "群发送间隔（最短）", minimum=0, maximum=3600, unit="秒"),
    _p("budget_group_gap_max_seconds", "risk", "群发送间隔（最长）", minimum=0, maximum=3600, unit="秒"),
    _p("budget_delivery_floor_seconds", "risk", "下发最小间隔", "同一微信号两条指令离开服务器的最小间隔，建议不低于 3 秒（微信「操作过于频繁」）。",
       minimum=0, maximum=600, unit="秒"),
    _p("budget_delivery_jitter_seconds", "risk", "下发随机抖动", minimum=0, maximum=600, unit="秒"),
    _p("budget_hourly_send_cap", "risk", "每个微信号每小时发送上限", minimum=0, maximum=100000, unit="条"),
    _p("budget_customer_daily_touches", "risk", "每个客户每日自动触达上限", "所有策略合计。", minimum=0, maximum=1000, unit="次"),
    _p("budget_offline_retry_minutes", "risk", "离线重试间隔", "微信号离线时指令延后的时间。", minimum=1, maximum=1440, unit="分钟"),
    _p("risk_pause_hours", "risk", "风险信号暂停时长", "手机报告「操作过于频繁」等风险信号后暂停该微信号的时长。",
       minimum=1, maximum=720, unit="小时"),
    _p("lead_webhook_ip_limit_per_minute", "risk", "获客回调每 IP 每分钟请求数", minimum=1, maximum=1000000, unit="次"),
    _p("lead_api_app_limit_per_minute", "risk", "线索接口每应用每分钟请求数", minimum=1, maximum=10000000, unit="次"),
    _p("koc_h5_limit_per_minute", "risk", "KOC 页面每分钟请求数", "每个链接、每个 IP 分别计算。", minimum=1, maximum=100000, unit="次"),
)
BY_KEY = {p.key: p for p in PARAMETERS}


def _gap_pair(low: str, high: str, label: str):
    def check(values: dict) -> dict[str, str]:
        if float(values[low]) > float(values[high]):
            return {high: f"{label}的最长间隔不能小于最短间隔"}
        return {}
    return check


# Checks over several values of a group (the values after the change, stored or not).
GROUP_CHECKS: dict[str, tuple[Callable[[dict], dict[str, str]], ...]] = {
    "risk": (_gap_pair("budget_private_gap_min_seconds", "budget_private_gap_max_seconds", "私聊"),
             _gap_pair("budget_group_gap_min_seconds", "budget_group_gap_max_seconds", "群发送")),
    "sms": (lambda v: {"sms_gateway_url": "选择 HTTP 短信网关时必须填写网关地址"}
            if v["sms_provider"] == "http" and not v["sms_gateway_url"] else {},),
}


def in_group(group: str) -> list[Parameter]:
    return [p for p in PARAMETERS if p.group == group]
