"""Reading a push's XML. Untrusted input is parsed with defusedxml only (no entities, no DTDs: a
billion-laughs or external-entity body is refused as malformed, never expanded), and only the flat
<xml><Name>value</Name>…</xml> shape WeChat sends is accepted."""
from __future__ import annotations

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from integrations.errors import CallbackRefused

MAX_FIELDS = 64


def parse(body: bytes | str) -> dict[str, str]:
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise CallbackRefused("malformed", "推送内容不是合法的 XML") from None
    if root.tag != "xml":
        raise CallbackRefused("malformed", "推送内容的根元素不是 <xml>")
    fields: dict[str, str] = {}
    for child in list(root)[:MAX_FIELDS]:
        # Nested elements (e.g. SendLocationInfo of a location-menu event) keep their own children flat.
        if len(child):
            for grand in child:
                fields.setdefault(f"{child.tag}.{grand.tag}", (grand.text or "").strip())
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


def message_key(msg: dict) -> str:
    """MsgId for messages; FromUserName + CreateTime (+ Event) for events, as WeChat advises."""
    if msg.get("MsgId"):
        return msg["MsgId"][:40]
    return f"ev:{msg.get('FromUserName', '')}:{msg.get('CreateTime', '')}:{msg.get('Event', '')}"[:64]
