"""Run Alembic migrations programmatically (used by `cunkebao init` and the test harness)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from config.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    if url.startswith("sqlite:///"):
        # A fresh machine has no var/ yet; SQLite cannot create the folder itself.
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
