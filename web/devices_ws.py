"""The device gateway's WebSocket endpoint, /devices/ws (flask-sock).

Each connected phone holds one server thread for its lifetime (gunicorn gthread worker, or the
development server): size `cunkebao serve --threads` above the number of phones. The session
logic itself lives in devices.gateway and knows nothing of Flask.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask_sock import Sock

from devices.gateway import Gateway
from devices.protocol import MAX_FRAME_BYTES

bp = Blueprint("devices_ws", __name__)
sock = Sock()


class _SockTransport:
    """simple-websocket's server connection as a devices.connections.Transport."""

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
        gateway = app.extensions["ckb_devices"] = Gateway(runtime.services, runtime.ingestor)
    return gateway


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
