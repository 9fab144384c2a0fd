"""The real Flask app served on 127.0.0.1 (random port) from a background thread, for
browser tests: same app object, same database, a real HTTP server."""
from __future__ import annotations

import threading
from typing import Optional

from werkzeug.serving import make_server


class LiveServer:
    """`with LiveServer(app) as server: page.goto(server.url + "/login")`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self._server = make_server(host, port, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LiveServer":
        self._thread = threading.Thread(target=self._server.serve_forever, name="ckb-live-server",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_live_server(settings, runtime=None, clock=None) -> LiveServer:
    """create_app(settings, runtime=…, clock=…) behind a started LiveServer."""
    from web import create_app

    app = create_app(settings, runtime=runtime, clock=clock)
    return LiveServer(app).start()
