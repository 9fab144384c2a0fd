"""Alembic environment: the URL comes from settings (or the caller's config), the metadata from web.schema."""
from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from config.settings import load_settings
from web.schema import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or load_settings().resolved_database_url()


def run_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
