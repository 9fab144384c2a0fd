"""Settings of the 自定义SQL sandbox, carried by the Database so every caller gets the configured
timeout and bounds without threading settings through each service.

PostgreSQL runs a marketer's SELECT over a separate connection that logs in as its own
SELECT-only role (default `ckb_sandbox`, created by migration 0005): privileges are checked for
the role that runs the query, so functions such as query_to_xml cannot read staff tables either.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import make_url

DEFAULT_ROLE = "ckb_sandbox"


@dataclass(frozen=True)
class SqlSandboxConfig:
    timeout_seconds: float = 10.0
    # PostgreSQL: URL of the SELECT-only login role; empty = the main URL with user `ckb_sandbox`
    # and no password (peer/trust/certificate authentication).
    database_url: str = ""
    max_rows: int = 1_000_000
    # Longest string or blob one value may reach (SQLite's SQLITE_LIMIT_LENGTH), so randomblob(5e8)
    # fails at once instead of allocating.
    max_value_bytes: int = 1_000_000
    # PostgreSQL work_mem of the sandbox connection (sorts and hashes beyond it spill to disk).
    work_mem_kb: int = 16_384

    @classmethod
    def from_settings(cls, settings) -> "SqlSandboxConfig":
        return cls(timeout_seconds=float(settings.sql_sandbox_timeout_seconds),
                   database_url=settings.sql_sandbox_database_url,
                   max_rows=int(settings.sql_sandbox_max_rows),
                   max_value_bytes=int(settings.sql_sandbox_max_value_bytes))

    def postgres_url(self, main_url: str) -> str:
        if self.database_url:
            return self.database_url
        url = make_url(main_url).set(username=DEFAULT_ROLE, password=None)
        return url.render_as_string(hide_password=False)
