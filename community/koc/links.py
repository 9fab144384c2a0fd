"""The KOC's H5 link: signed with the server's secret key over (koc id, link nonce), so it cannot be
guessed or turned into another KOC's, and 重置链接 (a new nonce) revokes every older copy."""
from __future__ import annotations

from typing import Optional

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from community.koc.models import Koc

SALT = "ckb.koc.h5"


def token_for(secret_key: str, koc: Koc) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps({"k": koc.id, "n": koc.link_nonce})


def koc_for(session: Session, secret_key: str, token: str) -> Optional[Koc]:
    """The active KOC this token was issued to, or None (forged, revoked, unmarked)."""
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(token or "")
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("k"), int):
        return None
    koc = session.get(Koc, data["k"])
    if koc is None or not koc.active or not koc.link_nonce or koc.link_nonce != data.get("n"):
        return None
    return koc
