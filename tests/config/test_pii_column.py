"""config.pii_column: sealing, blind indexes, and migration 0013 encrypting existing rows in place."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from config import pii_column
from config.errors import ConfigError
from config.settings import Settings
from web.migrate import upgrade


def test_seal_is_random_index_is_stable_and_keyed():
    pii_column.configure("key-one")
    a, b = pii_column.seal("13800138000"), pii_column.seal("13800138000")
    assert a != b and a.startswith("pii1:") and "13800138000" not in a
    assert pii_column.unseal(a) == pii_column.unseal(b) == "13800138000"
    assert pii_column.blind_index("mobile", "138 0013 8000") == pii_column.blind_index("mobile", "13800138000")
    assert pii_column.tail_index("13800138000") == pii_column.tail_index("8000")
    one = pii_column.blind_index("email", "a@b.cn")
    pii_column.configure("key-two")
    assert pii_column.blind_index("email", "a@b.cn") != one
    assert pii_column.unseal(a) == "13800138000"  # rows of a key configured earlier still open
    assert pii_column.unseal("13800138000") == "13800138000"  # legacy plain text reads as it is
    with pytest.raises(ConfigError, match="CKB_SECRET_KEY"):
        pii_column.unseal("pii1:deadbeef:AAAA")


def test_sealed_json_seals_only_strings_holding_contacts():
    pii_column.configure("key-one")
    value = {"a": {"tel": "+86 138-0013-8000"}, "b": ["x@y.cn", 5, "普通文本"], "c": None}
    sealed = pii_column.seal_json(value)
    assert sealed["a"]["tel"].startswith("pii1:") and sealed["b"][0].startswith("pii1:")
    assert sealed["b"][1:] == [5, "普通文本"] and sealed["c"] is None
    assert pii_column.open_json(sealed) == value


def _insert_row(conn, table: str, values: dict) -> None:
    """A row with `values` and a filler for every other NOT NULL column (as of revision 0012)."""
    fillers = {"INTEGER": 0, "FLOAT": 0, "BOOLEAN": 0, "JSON": "{}", "DATETIME": "2026-01-01 00:00:00"}
    row = dict(values)
    for _, name, kind, notnull, default, pk in conn.execute(text(f"PRAGMA table_info({table})")):
        if notnull and not pk and name not in row:
            row[name] = fillers.get(kind.split("(")[0], "")
    conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)


def _insert_plain(conn):
    _insert_row(conn, "user_account", {"username": "op1", "password_hash": "x", "email": "op1@example.com",
                                       "mobile": "13500135000"})
    _insert_row(conn, "lead", {"scene_id": 1, "mobile": "13700137000", "lead_data": '{"mobile": "13700137000"}',
                               "raw_data": '{"form": {"tel": "137-0013-7000", "n": 1}}'})
    conn.execute(text("INSERT INTO company (name, industry, address, phone, remark, created_at) "
                      "VALUES ('星辰', '', '', '13600136000', '', CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO customer (name, mobile, email, gender, city, source, status, tag_score, "
                      "follow_count, attrs, created_at, updated_at) VALUES ('张三', '13800138000', 'zs@example.com', "
                      "'', '', '', 'active', 0, 0, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def test_migration_0013_encrypts_existing_rows(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine = create_engine(url)
    with engine.begin() as conn:
        _insert_plain(conn)
    monkeypatch.setenv("CKB_VAR_DIR", str(tmp_path / "empty-var"))
    monkeypatch.delenv("CKB_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="CKB_SECRET_KEY"):
        upgrade(url)
    with engine.connect() as conn:  # nothing half-done: still plain, still at 0012
        assert conn.execute(text("SELECT mobile FROM customer")).scalar() == "13800138000"
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0012"
    monkeypatch.setenv("CKB_SECRET_KEY", "migration-key")
    upgrade(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT mobile, email, mobile_bidx, mobile_tail_bidx, email_bidx FROM customer")).one()
        phone = conn.execute(text("SELECT phone FROM company")).scalar()
        lead = conn.execute(text("SELECT mobile, mobile_bidx, lead_data, raw_data FROM lead")).one()
        staff = conn.execute(text("SELECT email, mobile FROM user_account")).one()
    engine.dispose()
    assert all(v and "13800138000" not in v and "zs@example.com" not in v for v in row) and phone.startswith("pii1:")
    keys = pii_column.configure(Settings(secret_key="migration-key").resolved_secret_key())
    assert pii_column.unseal(row[0]) == "13800138000" and pii_column.unseal(row[1]) == "zs@example.com"
    assert row[2] == keys.index("mobile", "13800138000") and row[4] == pii_column.blind_index("email", "zs@example.com")
    assert pii_column.unseal(phone) == "13600136000"
    assert [pii_column.unseal(v) for v in staff] == ["op1@example.com", "13500135000"] and "op1@" not in repr(staff)
    assert "13700137000" not in repr(lead) and "137-0013-7000" not in repr(lead) and lead[1]
    assert pii_column.open_json(json.loads(lead[3])) == {"form": {"tel": "137-0013-7000", "n": 1}}
