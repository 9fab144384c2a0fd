"""Connections to Tencent's platforms: wecom/ (企业微信: corp authorisation, org and external-contact
sync, encrypted callbacks, the sidebar) and mp/ (公众号: message push, customer-service replies, fans).

Both speak the same callback cryptography (wxcrypto: SHA-1 msg_signature, AES-256-CBC with the
EncodingAESKey, PKCS#7 padding to 32 bytes, the receiver id appended). Their fake servers, used by the
tests, live in tests/support/ and speak the real protocol over loopback HTTP."""
