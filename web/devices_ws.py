"""The device gateway's WebSocket endpoint, /devices/ws (flask-sock).

Each connected phone holds one server thread for its lifetime (gunicorn gthread worker, or the
development server): size `cunkebao serve --threads` above the number of phones. This is the
embedded default (`make run`, tests); for thousands of phones run `cunkebao gateway`
(devices/async_gateway.py: one event loop, same URL and protocol). Both run the session logic of
devices.gateway, which knows nothing of Flask, with the same additions (`configure`, `expose`).
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask_sock import Sock

from community.fission.reports import SINKS as FISSION_SINKS
from config import metrics
from conversations.device_messages import record_device_message
from crm.people.notifications import notify
from devices.gateway import Gateway
from devices.protocol import MAX_FRAME_BYTES

bp = Blueprint("devices_ws", __name__)
sock = Sock()


class _SockTransport:
    """simple-websocket's server connection as a devices.connections.BlockingTransport."""

    def __init__(self, ws, remote_addr: str):
        self.ws = ws
        self.remote_addr = remote_addr

    def send(self, text: str) -> None:
        self.ws.send(text)

    def receive(self, timeout=None):
        return self.ws.receive(timeout=timeout)

    def close(self, code: int, reason: str) -> None:
        self.ws.close(reason=code, message=reason)


def gateway_for(app: Flask) -> Gateway:
    """The process's gateway (created on first use: one connection registry per process)."""
    gateway = app.extensions.get("ckb_devices")
    if gateway is None:
        runtime = app.extensions["ckb"]
        gateway = app.extensions["ckb_devices"] = expose(configure(Gateway(runtime.services, runtime.ingestor)), runtime)
    return gateway


def expose(gateway: Gateway, runtime) -> Gateway:
    """The connected phones as a figure: on the process's heartbeat row (系统监控) and in /metrics."""
    runtime.beacon_info["gateway_connections"] = lambda: len(gateway.registry)
    metrics.GATEWAY_CONNECTIONS.set_function(lambda: len(gateway.registry))
    return gateway


def configure(gateway: Gateway) -> Gateway:
    """What the web process adds to a gateway: telling owners about their accounts' risk signals, and
    storing reported messages in the message store (会话中心)."""
    gateway.on_risk_signal = lambda account, data: _notify_owner(gateway.services, account, data)
    gateway.report_sinks.setdefault("message", []).append(record_device_message)
    for kind, sink in FISSION_SINKS.items():  # 裂变活动: invitations attributed in the report's transaction
        gateway.report_sinks.setdefault(kind, []).append(sink)
    return gateway


def _notify_owner(services, account, data: dict) -> None:
    """站内通知 to the account's owner when its phone reports a risk signal (the account is paused)."""
    if not account.owner_user_id:
        return
    name = account.nickname or account.wxid
    state = "已暂停" if account.status == "paused" else "已封禁" if account.status == "banned" else "需关注"
    notify(services.db, account.owner_user_id, f"微信号「{name}」出现风控信号，{state}",
           f"{data.get('text') or data.get('kind')}。当前健康分 {account.health_score}。", "/accounts", "devices.risk")


@sock.route("/devices/ws", bp=bp)
def devices_ws(ws):
    gateway_for(current_app._get_current_object()).serve(_SockTransport(ws, request.remote_addr or ""))


def register_devices_ws(app: Flask) -> None:
    # A frame over the protocol's limit is refused by the gateway with a reason; the transport's
    # own cap (4×) only bounds memory against a hostile peer.
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 4 * MAX_FRAME_BYTES})
    app.register_blueprint(bp)
    exempt = app.extensions.get("csrf")
    if exempt is not None:
        exempt.exempt(bp)
