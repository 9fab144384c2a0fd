"""Security headers on every response.

The Content-Security-Policy allows scripts and styles only from this site's own files: no
inline <script>, no inline event handlers (onclick=…), no style="…" attributes. Templates pass
data to static JS through data-* attributes or <script type="application/json"> blocks, which
are data, not code, and so are allowed.
"""
from __future__ import annotations

from flask import Flask, g, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


HSTS = ("Strict-Transport-Security", "max-age=31536000")


def header_list(secure: bool) -> list[tuple[str, str]]:
    """The headers every response carries, for a WSGI answer built without Flask (the ingest
    fast path, web.api.ingest_fast)."""
    return [*HEADERS.items(), HSTS] if secure else list(HEADERS.items())


def add_security_headers(response):
    for name, value in header_list(request.is_secure):
        response.headers.setdefault(name, value)
    # Pages of a signed-in user may show customer data: keep them out of shared caches and
    # the back-button cache after logout.
    if g.get("user") is not None and response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
