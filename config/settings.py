"""Typed settings from the environment (prefix CKB_) and an optional file.

Defaults need no set-up: SQLite under var/, no Redis, Asia/Shanghai.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Optional

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.retry_schedule import DEFAULT_RETRY_SCHEDULE, parse_schedule

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The only zone literal of the project (a test greps for others): everything else asks
# config.clock.zone() / configured_zone_name(), which follow CKB_TIMEZONE.
DEFAULT_TIMEZONE = "Asia/Shanghai"


def _default_var_dir() -> Path:
    return PROJECT_ROOT / "var"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CKB_", env_file=None, extra="ignore")

    var_dir: Path = Field(default_factory=_default_var_dir)
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    timezone: str = DEFAULT_TIMEZONE
    debug: bool = False
    # Cookies are Secure by default; `serve` on plain http://127.0.0.1 relaxes it explicitly.
    secure_cookies: bool = True
    # Reverse proxies in front of the server that append X-Forwarded-For/-Proto: the client
    # address (login throttling, app IP allow-lists, webhook limits) is then read from them.
    trusted_proxy_hops: int = 0

    # Ingestion limits (the contract in README / issue 2).
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    max_batch_events: int = 1000
    signature_tolerance_seconds: int = 300
    # The address phones and customers reach this server at (QR codes, poster links); empty: the
    # host of the console request that draws the code.
    public_base_url: str = ""
    # 场景获客 public endpoints (platform webhooks, scan forms): calls per minute from one IP.
    lead_webhook_ip_limit_per_minute: int = 120
    # POST /api/v1/leads/ingestions requests per minute from one app (each scene has its own limit too).
    lead_api_app_limit_per_minute: int = 60_000
    # 场景获客 alerts (once per episode): open dead letters, refused callbacks in the last hour, and
    # consecutive pull failures of one scene at or above these raise lead.* alert events.
    lead_alert_deadletters: int = Field(default=20, ge=1)
    lead_alert_refused_per_hour: int = Field(default=50, ge=1)
    lead_alert_pull_failures: int = Field(default=3, ge=1)
    # 抖音开放平台 (抖音授权 of 抖音获客 scenes): this server's app on the platform. The API base is the
    # real platform unless pointed elsewhere (the tests use a fake on loopback, allow-listed for the
    # SSRF guard). Access tokens are refreshed this many hours before they expire; a refresh token
    # (30 days, renewable only by the user re-authorising) expiring within N days raises douyin.token_expiring.
    douyin_client_key: str = ""
    douyin_client_secret: str = ""
    douyin_api_base: str = "https://open.douyin.com"
    douyin_refresh_ahead_hours: int = Field(default=24, ge=1, le=336)
    douyin_alert_days: int = Field(default=5, ge=1, le=30)
    # 电话获客 outbound: the generic HTTP CTI this server dials through (empty: outbound calling is off) and
    # the shared secret both sides sign with (HMAC-SHA256 over "{timestamp}.{body}"); at most N dials per
    # number per day across all tasks; recordings larger than this are refused.
    cti_dial_url: str = ""
    cti_secret: str = ""
    call_daily_attempts: int = Field(default=3, ge=1, le=20)
    call_recording_max_mb: int = Field(default=20, ge=1, le=500)
    secret_rotation_grace_hours: int = 24

    # HTTP processors: outbound guard.
    http_allow_private_hosts: list[str] = Field(default_factory=list)
    # Total deadline of one outbound HTTP exchange (connect, headers, body, redirects).
    http_default_timeout_seconds: float = 10.0
    http_max_response_bytes: int = 256 * 1024

    # Mail: SMTP relay for the e-mail processor.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # Total deadline of one SMTP exchange (connect, greeting, every command), not per read.
    smtp_timeout_seconds: float = 20.0
    mail_from: str = "noreply@cunkebao.local"

    # SMS: "outbox" records to the console; "http" posts to a generic gateway.
    sms_provider: str = "outbox"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # Texts one mobile number may get (0: no cap), as SMS providers enforce: past the minute or
    # hour cap a step is deferred until there is room, past the day cap (24 h) it is refused.
    sms_per_number_per_minute: int = 1
    sms_per_number_per_hour: int = 5
    sms_per_number_per_day: int = 10

    # Engine.
    engine_use_durable_rules: bool = True
    dispatcher_batch_size: int = 200
    # A claimed step's lease; the holder extends it every third of it while it works (heartbeat),
    # so a dead process's steps are taken over within about this long.
    task_lease_seconds: int = 30
    shutdown_drain_seconds: float = 20.0  # SIGTERM: time for running steps to finish before exit
    # Waits between attempts of a step whose processor has no schedule of its own
    # (config/retry_schedule.py): the default rides out an outage of hours, not seconds.
    retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    # Attempts of such a step, and what replaying a dead letter grants; when not set, one per
    # wait of retry_schedule plus the first attempt.
    step_max_attempts: int = 0
    # When set, every schedule is compressed so its first wait is this many seconds (tests, drills).
    retry_base_seconds: Optional[float] = None
    scheduler_sweep_seconds: float = 1.0
    run_background: bool = True
    # 系统监控: every process writes its heartbeat this often; three missed beats mark it 失联 (and
    # /readyz unhealthy when no event dispatcher or cron leader is left). /metrics answers callers on
    # loopback only, or anyone presenting this bearer token when it is set.
    process_heartbeat_seconds: float = Field(default=10.0, gt=0, le=300)
    metrics_token: str = ""

    # Customer center: nightly auto-tag run (HH:MM, configured zone), 自定义SQL sandbox bounds.
    autotag_cron: str = "05:30"
    # 数据中心: nightly recompute of the last N days' rollups (HH:MM, configured zone) and the times the
    # 每日数据报表 is pushed to everyone (comma-separated HH:MM).
    rollup_recompute_days: int = 3
    rollup_live_minutes: int = 1  # how often today's figures are recounted (1 = every minute)
    rollup_nightly_at: str = "03:30"
    report_push_times: str = "09:00,17:00"
    report_push_email: bool = False  # also emit analytics.daily_report (bind a 发送邮件 strategy to it)
    sql_sandbox_timeout_seconds: float = 10.0
    # PostgreSQL: the SELECT-only role custom SQL logs in as (README "自定义SQL 的只读账号");
    # empty: the main URL with user ckb_sandbox and no password.
    sql_sandbox_database_url: str = ""
    sql_sandbox_max_rows: int = 1_000_000
    sql_sandbox_max_value_bytes: int = 1_000_000

    # 订单: minutes an unpaid order holds its stock before the sweep cancels it and releases the units.
    order_reserve_minutes: int = Field(default=30, ge=1, le=10080)

    # Device risk budget (风控): send gaps with jitter, caps, quiet hours (e.g. "22:00-08:00"; off when empty).
    budget_group_gap_min_seconds: float = 3.0
    budget_group_gap_max_seconds: float = 8.0
    budget_private_gap_min_seconds: float = 5.0
    budget_private_gap_max_seconds: float = 10.0
    # Checked again as each command leaves for the phone (devices/delivery.py): never two paced
    # commands to one account closer than floor + 0..jitter s. Keep the floor above WeChat's ~3 s
    # 操作过于频繁 threshold: poll delay and the phone's own latency eat into a gap set at issue.
    budget_delivery_floor_seconds: float = 3.5
    budget_delivery_jitter_seconds: float = 1.0
    budget_hourly_send_cap: int = 300
    budget_customer_daily_touches: int = 5
    budget_quiet_hours: str = ""
    budget_offline_retry_minutes: int = 30
    risk_pause_hours: int = 24

    # Login throttling: failures of one username from one address (then progressively longer
    # waits), of one address across usernames (password spraying), and of everyone together
    # (a soft limit: past it each address gets only login_max_failures). Never an account lock.
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    login_ip_max_failures: int = 20
    login_ip_window_seconds: int = 600
    login_global_soft_failures: int = 200
    # Console sign-ins end after this long without a request (and at logout, always).
    session_idle_hours: int = 168
    # 公众号: API host (tests point it at the fake server) and how old a callback's timestamp may be.
    mp_api_base: str = "https://api.weixin.qq.com"
    mp_callback_max_skew_seconds: int = Field(default=300, ge=5, le=3600)
    # 企业微信 API base (tests point it at the loopback fake) and callback timestamp tolerance.
    wecom_api_base: str = "https://qyapi.weixin.qq.com"
    wecom_callback_max_skew_seconds: int = 300

    # 智能回复 (community/kb): answers whose confidence (0–1) is below kb_min_score go to a human (待人工).
    # Optional LLM phrasing: any OpenAI-compatible base URL (POST {url}/v1/chat/completions); the key is
    # stored sealed (config.secrets_box.SecretBox(secret_key).seal(key)); on timeout the retrieved answer is sent.
    kb_min_score: float = Field(default=0.2, ge=0.0, le=1.0)
    kb_llm_url: str = ""
    kb_llm_key: str = ""
    kb_llm_model: str = "gpt-4o-mini"
    kb_llm_timeout_seconds: float = 4.0
    koc_h5_limit_per_minute: int = 30  # KOC H5 requests per minute per link and per IP
    # 触客宝 live updates: browsers streaming at once per process (each holds a server thread; more poll), heartbeat
    chat_stream_limit: int = Field(default=4, ge=0, le=1000)
    chat_heartbeat_seconds: float = Field(default=15.0, gt=0, le=120)
    # 群发助手 (POST /api/social/groups/broadcast): a group whose phone is offline is sent when it comes back
    # within this many minutes of the scheduled time, else reported failed with the reason; groups per call.
    group_broadcast_deadline_minutes: int = Field(default=120, ge=1, le=10080)
    group_broadcast_max_groups: int = Field(default=500, ge=1, le=5000)
    broadcast_weekly_limit: int = 2  # 1:1 消息群发: at most this many per friend per 7 days (运营规范 §4.3)
    # 会话中心: chat messages older than this many days are deleted nightly (0 = keep forever); the
    # conversations keep their summary (last message, times).
    chat_retention_days: int = Field(default=365, ge=0, le=36500)
    # 参数配置: how often a process checks the database for parameters changed elsewhere (seconds).
    params_refresh_seconds: float = Field(default=3.0, ge=0, le=300)
    # 初始密码 (seed 001 §3.1): a new user or a password reset left empty gets it, and must change it at first login.
    initial_password: str = ""
    # 审计日志 (crm.audit): days kept before the nightly purge.
    operation_log_days: int = Field(default=180, ge=1, le=36500)
    login_log_days: int = Field(default=365, ge=1, le=36500)
    error_log_days: int = Field(default=180, ge=1, le=36500)

    @field_validator("var_dir", mode="before")
    @classmethod
    def _expand(cls, value):
        return Path(value).expanduser() if value else _default_var_dir()

    @model_validator(mode="after")
    def _attempts_follow_schedule(self):
        parse_schedule(self.retry_schedule)  # a typo in CKB_RETRY_SCHEDULE fails at start-up
        if self.step_max_attempts <= 0:
            self.step_max_attempts = len(parse_schedule(self.retry_schedule)) + 1
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'cunkebao.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept under var/ (never in code)."""
        if self.secret_key:
            return self.secret_key
        key_file = self.var_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


def load_settings(file: Optional[str] = None, **overrides) -> Settings:
    """Environment first, then an optional KEY=VALUE file (CKB_CONFIG), then explicit overrides."""
    path = file or os.environ.get("CKB_CONFIG")
    if path:
        values = Settings(_env_file=path)  # type: ignore[call-arg]
        data = values.model_dump()
        data.update(overrides)
        return Settings(**data)
    return Settings(**overrides)
