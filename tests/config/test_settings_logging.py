"""Settings from env and file; logs never carry a full phone number or e-mail address."""
from __future__ import annotations

import io
import json
import logging

from config.logging_setup import configure_logging
from config.pii import mask_text, mask_value
from config.settings import load_settings


def test_env_prefix_and_file(tmp_path, monkeypatch):
    conf = tmp_path / "ckb.env"
    conf.write_text("CKB_TIMEZONE=UTC\nCKB_MAX_BATCH_EVENTS=10\n")
    monkeypatch.setenv("CKB_STEP_MAX_ATTEMPTS", "7")
    s = load_settings(str(conf), var_dir=tmp_path)
    assert (s.timezone, s.max_batch_events, s.step_max_attempts) == ("UTC", 10, 7)
    assert s.resolved_database_url() == f"sqlite:///{tmp_path / 'cunkebao.db'}"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    s = load_settings(var_dir=tmp_path)
    key = s.resolved_secret_key()
    assert len(key) > 40 and load_settings(var_dir=tmp_path).resolved_secret_key() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_masking_of_phones_and_emails():
    assert mask_text("电话 13800138000 或 +86 13912345678，邮箱 zhang.san@example.com") == \
        "电话 138****8000 或 139****5678，邮箱 z***@example.com"
    assert mask_value({"a": ["13800138000"], "n": 5}) == {"a": ["138****8000"], "n": 5}
    assert mask_text("订单号 20261122138001380001") == "订单号 20261122138001380001"


def _logged(message: str, **extra) -> dict:
    """The JSON line one warning becomes."""
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        logging.getLogger("ckb.test").warning(message, extra=extra)
    finally:
        configure_logging("WARNING")
    return json.loads(stream.getvalue().strip().splitlines()[-1])


def test_log_lines_are_json_and_masked():
    line = _logged("客户 13800138000 提交", email="li@example.com")
    assert line["msg"] == "客户 138****8000 提交" and line["email"] == "l***@example.com"


def test_masking_sees_numbers_as_people_type_them():
    from config.pii import mask_text

    assert mask_text("手机 +86 138-0013-8000，备用 １３９ １２３４ ５６７８") == "手机 138****8000，备用 139****5678"


def test_masking_folds_every_unicode_digit_form():
    """𝟏𝟑𝟖… (mathematical bold / sans-serif), ١٣٨… (Arabic-Indic), १३८… (Devanagari), ①… and
    full-width dashes are the same phone number: masked in text, values and log lines."""
    from config.pii import fold_digits, mask_text

    forms = ["𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "𝟭𝟯𝟴𝟬𝟬𝟭𝟯𝟴𝟬𝟬𝟬", "١٣٨٠٠١٣٨٠٠٠", "१३८००१३८०००", "①③⑧⓪⓪①③⑧⓪⓪⓪", "１３８－００１３－８０００"]
    for form in forms:
        assert mask_text(f"电话{form}。") == "电话138****8000。", form
        assert mask_value({"k": [form]}) == {"k": ["138****8000"]}
    assert fold_digits("订单 𝟐𝟎𝟐𝟔 ｶﾀｶﾅ") == "订单 2026 ｶﾀｶﾅ"  # only digit forms change
    line = _logged("客户 𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎 提交", note="١٣٨٠٠١٣٨٠٠٠")
    assert line["msg"] == "客户 138****8000 提交" and line["note"] == "138****8000"
