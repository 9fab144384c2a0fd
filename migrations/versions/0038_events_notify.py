"""events_notify (issue 15): on PostgreSQL every INSERT statement on event_record NOTIFYs
`ckb_events_stored`, so a worker in another process dispatches at once instead of at its next
poll (engine.wakeup). Statement-level: one notification per batch of events, not per row;
PostgreSQL delivers it at commit and drops it on rollback. Nothing on SQLite (data_version there).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 21:20:00
"""
from alembic import op


revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

CHANNEL = "ckb_events_stored"  # engine.wakeup.CHANNEL (a migration keeps its own copy: it must not change)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION ckb_event_stored_notify() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER event_record_stored_notify AFTER INSERT ON event_record
        FOR EACH STATEMENT EXECUTE FUNCTION ckb_event_stored_notify()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS event_record_stored_notify ON event_record")
    op.execute("DROP FUNCTION IF EXISTS ckb_event_stored_notify()")
