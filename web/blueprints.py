"""The one place that lists every blueprint of the console and the API."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from web.api import register_api
    from web.auth import register_auth
    from web.console import register_console
    from web import devices_files
    from web.devices_ws import register_devices_ws

    register_auth(app)
    register_console(app)
    register_api(app)
    register_devices_ws(app)
    app.register_blueprint(devices_files.bp)
    register_lead_endpoints(app)
    from web import koc_public; app.register_blueprint(koc_public.bp)  # noqa: E702 - KOC H5 /k/<token>
    from web import health; app.register_blueprint(health.bp)  # noqa: E702 - /healthz /readyz /metrics


def register_lead_endpoints(app: Flask) -> None:
    """Public 场景获客 endpoints (platform webhooks, QR scans, payment-code landing pages): no
    login and no CSRF (each verifies its own signature or token), rate-limited per IP and scene."""
    from web import lead_public; app.register_blueprint(lead_public.bp)  # noqa: E702 - /s/<token>, /pay/<token>
    from web import webhooks; app.register_blueprint(webhooks.bp)  # noqa: E702
    from web import mp_callback; app.register_blueprint(mp_callback.bp)  # noqa: E702 - 公众号 server URL
    from web import wecom_callback; app.register_blueprint(wecom_callback.bp)  # noqa: E702 - 企业微信回调
    from web import wecom_sidebar; app.register_blueprint(wecom_sidebar.bp)  # noqa: E702 - 企业微信侧边栏/客户画像
    from web import fission_h5; app.register_blueprint(fission_h5.bp)  # noqa: E702 - /h5/fission/… (裂变 H5)
