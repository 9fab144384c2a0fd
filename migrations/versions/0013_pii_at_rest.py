"""pii at rest: phones and e-mails sealed (config.pii_column), blind indexes beside them

Existing rows are encrypted in place with the key the server will use (CKB_SECRET_KEY, else
var/secret_key, exactly as config.settings resolves it; a caller may pass
`config.attributes["secret_key"]`). Without a key and with rows to convert the upgrade stops
before changing anything, with a message, instead of leaving some rows sealed and others not;
an empty database needs no key. SQLite does not enforce VARCHAR lengths, so the widening to TEXT (longer
ciphertext) is only issued on PostgreSQL.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:08:00
"""
from alembic import context, op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# table → sealed column → blind-index kind ("" = sealed without an index)
SEALED = {
    "customer": {"mobile": "mobile", "email": "email"},
    "lead": {"mobile": "mobile", "email": "email"},
    "company": {"phone": ""},
    "lead_payment": {"mobile": ""},
    "user_account": {"email": "", "mobile": ""},
}
# JSON columns whose strings holding a phone or an e-mail are sealed one by one (SealedJSON).
SEALED_JSON = {"lead": ("lead_data", "raw_data"), "lead_payment": ("raw",)}
OLD_TYPES = {("customer", "mobile"): 32, ("customer", "email"): 320, ("lead", "mobile"): 32,
             ("lead", "email"): 320, ("company", "phone"): 32, ("lead_payment", "mobile"): 32,
             ("user_account", "email"): 320, ("user_account", "mobile"): 32}
CHUNK = 2000


def _index_columns(kind: str) -> list[str]:
    return ["mobile_bidx", "mobile_tail_bidx"] if kind == "mobile" else ["email_bidx"]


def _configure_keys() -> None:
    from config import pii_column
    from config.settings import load_settings

    key = context.config.attributes.get("secret_key")
    if not key:
        settings = load_settings()
        key_file = settings.var_dir / "secret_key"
        key = settings.secret_key or (key_file.read_text().strip() if key_file.exists() else "")
    if not key:
        raise RuntimeError("迁移 0013 需要加密已有的手机号/邮箱，但找不到密钥：请设置 CKB_SECRET_KEY"
                           "（或放好服务器使用的 var/secret_key）后重新运行，数据未作任何改动")
    pii_column.configure(key)


def _rewrite(conn, table: str, columns: dict, sealing: bool) -> None:
    """Seals (or, downgrading, opens) every value not yet in the target form, with its indexes."""
    from config import pii_column

    t = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns),
                 *(sa.column(i) for kind in columns.values() if kind and sealing for i in _index_columns(kind)))
    pending = [sa.and_(t.c[c].is_not(None), t.c[c] != "",
                       ~t.c[c].like(pii_column.PREFIX + "%") if sealing else t.c[c].like(pii_column.PREFIX + "%"))
               for c in columns]
    if conn.execute(sa.select(sa.func.count()).select_from(t).where(sa.or_(*pending))).scalar() == 0:
        return
    _configure_keys()
    last = 0
    while True:
        rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns)).where(t.c.id > last, sa.or_(*pending))
                            .order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        for row in rows:
            values = {}
            for c, kind in columns.items():
                plain = pii_column.unseal(row._mapping[c])
                values[c] = pii_column.seal(plain) if sealing else plain
                if kind and sealing:
                    values.update(pii_column.index_columns(c, kind, plain))
            conn.execute(sa.update(t).where(t.c.id == row.id).values(**values))
        last = rows[-1].id


def _rewrite_json(conn, table: str, columns: tuple, sealing: bool) -> None:
    from sqlalchemy.dialects.postgresql import JSONB

    from config import pii_column

    kind = JSONB() if conn.dialect.name == "postgresql" else sa.JSON()
    t = sa.table(table, sa.column("id"), *(sa.column(c, kind) for c in columns))
    if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() == 0:
        return
    _configure_keys()
    convert = pii_column.seal_json if sealing else pii_column.open_json
    last = 0
    while True:
        rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns)).where(t.c.id > last)
                            .order_by(t.c.id).limit(CHUNK)).all()
        if not rows:
            return
        for row in rows:
            old = {c: row._mapping[c] for c in columns}
            new = {c: convert(v) for c, v in old.items()}
            if new != old:
                conn.execute(sa.update(t).where(t.c.id == row.id).values(**new))
        last = rows[-1].id


def _require_key_if_data(conn) -> None:
    """Before any DDL (SQLite DDL is not transactional here): a database with rows to convert
    needs the key, checked up front so a missing key leaves the schema untouched."""
    if any(conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar() for t in SEALED):
        _configure_keys()


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    _require_key_if_data(op.get_bind())
    for table, columns in SEALED.items():
        for column, kind in columns.items():
            if pg:
                op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(OLD_TYPES[table, column]))
            if kind:
                op.drop_index(f"ix_{table}_{column}", table_name=table)
                for index_column in _index_columns(kind):
                    op.add_column(table, sa.Column(index_column, sa.String(length=32), nullable=True))
                    op.create_index(f"ix_{table}_{index_column}", table, [index_column], unique=False)
    conn = op.get_bind()
    for table, columns in SEALED.items():
        _rewrite(conn, table, columns, sealing=True)
    for table, columns in SEALED_JSON.items():
        _rewrite_json(conn, table, columns, sealing=True)


def downgrade() -> None:
    conn = op.get_bind()
    _require_key_if_data(conn)
    for table, columns in SEALED.items():
        _rewrite(conn, table, columns, sealing=False)
    for table, columns in SEALED_JSON.items():
        _rewrite_json(conn, table, columns, sealing=False)
    pg = conn.dialect.name == "postgresql"
    for table, columns in SEALED.items():
        for column, kind in columns.items():
            if kind:
                for index_column in _index_columns(kind):
                    op.drop_index(f"ix_{table}_{index_column}", table_name=table)
                    # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would trip over the
                    # custom fields' expression indexes on customer.attrs.
                    op.execute(f'ALTER TABLE "{table}" DROP COLUMN {index_column}')
                op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
            if pg:
                op.alter_column(table, column, type_=sa.String(OLD_TYPES[table, column]), existing_type=sa.Text())
