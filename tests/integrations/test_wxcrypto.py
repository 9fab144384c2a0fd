"""The shared callback cryptography: a round trip, and each way a forged callback is refused."""
from __future__ import annotations

import base64

import pytest

from integrations import wxcrypto
from integrations.errors import CallbackRefused, IntegrationError

KEY = wxcrypto.new_aes_key()


def test_round_trip_with_signature():
    text = "<xml><Content><![CDATA[价格多少]]></Content></xml>"
    cipher, signature = wxcrypto.sign_and_encrypt("tok", KEY, "ww123", text, "1700000000", "n1")
    assert wxcrypto.verify_and_decrypt("tok", KEY, "ww123", signature, "1700000000", "n1", cipher) == text


def test_known_vector_signature():
    # sorted concatenation, SHA-1 hex: the published plain-mode URL check
    assert wxcrypto.sha1_signature("token", "1409304348", "xxxxxx") == \
        __import__("hashlib").sha1("".join(sorted(["token", "1409304348", "xxxxxx"])).encode()).hexdigest()


def test_forged_signature_refused_before_decrypting():
    cipher, _ = wxcrypto.sign_and_encrypt("tok", KEY, "ww123", "x", "1", "n")
    with pytest.raises(CallbackRefused) as err:
        wxcrypto.verify_and_decrypt("tok", KEY, "ww123", "0" * 40, "1", "n", cipher)
    assert err.value.reason == "bad_signature"


def test_other_receiver_refused():
    cipher = wxcrypto.encrypt(KEY, "hello", "ww-other")
    with pytest.raises(CallbackRefused) as err:
        wxcrypto.decrypt(KEY, cipher, "ww123")
    assert err.value.reason == "wrong_receiver"


def test_wrong_key_is_bad_padding_or_malformed():
    cipher = wxcrypto.encrypt(KEY, "hello", "ww123")
    other = wxcrypto.new_aes_key()
    with pytest.raises(CallbackRefused) as err:
        wxcrypto.decrypt(other, cipher, "ww123")
    assert err.value.reason in ("bad_padding", "malformed", "wrong_receiver")


@pytest.mark.parametrize("cipher", ["not base64!!", base64.b64encode(b"short").decode(), ""])
def test_malformed_ciphertext(cipher):
    with pytest.raises(CallbackRefused) as err:
        wxcrypto.decrypt(KEY, cipher, "ww123")
    assert err.value.reason == "malformed"


def test_bad_settings_key():
    with pytest.raises(IntegrationError):
        wxcrypto.aes_key("short")
