"""The WeCom sidebar (聊天工具栏): JS-SDK signatures and the sidebar's own signed session.

JS-SDK: wx.config is signed with the corp's jsapi_ticket, wx.agentConfig with the app's
agent_config ticket; both are sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…") over the page URL
without its #fragment. Tickets are cached until expiry (integrations.wecom.tokens).

Session: the sidebar URL goes through WeCom's OAuth (snsapi_base); the `code` it appends is
exchanged (auth/getuserinfo) for the employee's UserID, which must be mapped to an enabled user of
ours. We then set a cookie signed with CKB_SECRET_KEY naming that user and the corp, valid
SESSION_HOURS; the portrait API accepts it (or a console sign-in) and nothing anonymous."""
from __future__ import annotations

import hashlib
import secrets
from typing import Optional

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import select

from integrations.errors import IntegrationError, PlatformError
from integrations.wecom.corps import api_client
from integrations.wecom.models import WecomCorp, WecomMember

COOKIE = "ckb_wecom_sidebar"
SESSION_HOURS = 8
JS_APIS = ["getCurExternalContact", "getContext", "sendChatMessage"]


def signature(ticket: str, noncestr: str, timestamp: int, url: str) -> str:
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def jssdk_config(settings, corp: WecomCorp, url: str, now_ts: int) -> dict:
    """What wx.config and wx.agentConfig need for `url`."""
    if not url.startswith(("https://", "http://")) or len(url) > 2000:
        raise IntegrationError("url 应为当前页面的完整地址（不含 # 之后的部分）")
    client = api_client(settings, corp, "app")
    nonce = secrets.token_hex(8)
    return {"corpid": corp.corp_id, "agentid": corp.agent_id, "timestamp": now_ts, "nonceStr": nonce,
            "signature": signature(client.ticket("jsapi"), nonce, now_ts, url),
            "agentSignature": signature(client.ticket("agent_config"), nonce, now_ts, url),
            "jsApiList": JS_APIS}


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="ckb-wecom-sidebar")


def issue(secret_key: str, user_id: int, corp_pk: int) -> str:
    return _serializer(secret_key).dumps({"u": user_id, "c": corp_pk})


def read(secret_key: str, token: str) -> Optional[dict]:
    """{"u": user id, "c": corp pk} of a valid, unexpired sidebar session, else None."""
    if not token:
        return None
    try:
        data = _serializer(secret_key).loads(token, max_age=SESSION_HOURS * 3600)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("u"), int) else None


def user_for_code(settings, session, corp: WecomCorp, code: str) -> int:
    """Our user id for an OAuth code of this corp; IntegrationError when it is not one of ours."""
    try:
        data = api_client(settings, corp, "app").get("/cgi-bin/auth/getuserinfo", {"code": code})
    except PlatformError as exc:
        raise IntegrationError(f"企业微信身份校验失败：{exc}") from exc
    userid = data.get("userid") or data.get("UserId") or ""
    member = session.exec(select(WecomMember).where(WecomMember.corp_pk == corp.id, WecomMember.userid == userid,
                                                    WecomMember.removed == False)).first()  # noqa: E712
    if member is None or member.user_id is None:
        raise IntegrationError("该企业微信员工尚未映射到系统用户，请管理员在「企业微信 · 员工映射」中设置")
    return member.user_id
