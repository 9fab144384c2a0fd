"""A real HTTP server on 127.0.0.1 (random port) whose answers each test scripts.

    server = FakeHttpServer().start()
    server.fail_then_succeed("/hook", failures=2)          # 500, 500, then 200
    server.always("/down", Reply(500))
    server.script("/busy", Reply(429, headers={"Retry-After": "7"}), Reply(200))
    server.script("/big", Reply(200, size=10_000_000))     # streamed filler bytes
    server.script("/slow", Reply(200, delay=3))
    server.redirect("/jump", "http://10.0.0.1/x")
    server.script("/drip", Reply(200, body="abc…", drip=0.5))  # one byte every 0.5 s (drip_headers: the head too)
    ... server.requests_to("/hook")[0].json() ...
    server.stop()

Replies of a script are served in order and the last one repeats; unscripted paths answer
200 {"ok": true}. It is a real socket peer, not a mock, so the code under test runs its
whole network path (including the SSRF guard, which must allow-list 127.0.0.1 for it).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

_FILLER = b"x" * 65536


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or a dict/list sent as JSON
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    size: int = 0  # > 0: stream this many filler bytes instead of `body`
    drip: float = 0.0  # > 0: send the body one byte at a time, this many seconds apart
    drip_headers: bool = False  # with drip: the status line and headers are dripped too

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/plain; charset=utf-8"
        return bytes(self.body), "application/octet-stream"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        owner = self.server.owner
        owner._record(RecordedRequest(self.command, parts.path, parse_qs(parts.query),
                                      {k: v for k, v in self.headers.items()}, body))
        reply = owner._next_reply(parts.path)
        if reply.delay and owner._stopping.wait(reply.delay):
            return
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (a size cap or a timeout): that is the point

    def _write(self, reply: Reply):
        if reply.drip:
            return self._write_dripping(reply)
        data, content_type = reply.payload()
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        headers["Content-Length"] = str(reply.size or len(data))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.size:
            left = reply.size
            while left > 0 and not self.server.owner._stopping.is_set():
                chunk = _FILLER[:left]
                self.wfile.write(chunk)
                left -= len(chunk)
        else:
            self.wfile.write(data)

    def _write_dripping(self, reply: Reply):
        # A slow peer: each byte arrives well inside any per-read timeout, the whole never does.
        data, content_type = reply.payload()
        head = (f"HTTP/1.1 {reply.status} X\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode("latin-1")
        if not reply.drip_headers:
            self.wfile.write(head)
            self.wfile.flush()
            head = b""
        stopping = self.server.owner._stopping
        for byte in head + data:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if stopping.wait(reply.drip):
                return
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "FakeHttpServer"

    def handle_error(self, request, client_address):
        pass  # client hang-ups are expected in cap/timeout tests


class FakeHttpServer:
    handler_class = _Handler  # a fake platform answering from its own state swaps this (fake_wecom)

    def __init__(self, host: str = "127.0.0.1", ssl_context=None):
        self.host = host
        self.ssl_context = ssl_context  # an ssl.SSLContext makes it an HTTPS server
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    # lifecycle
    def start(self) -> "FakeHttpServer":
        self._server = _Server((self.host, 0), self.handler_class)
        self._server.owner = self
        if self.ssl_context is not None:
            self._server.socket = self.ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # scripting
    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path] = list(replies)

    def always(self, path: str, reply: Reply) -> None:
        self.script(path, reply)

    def fail_then_succeed(self, path: str, failures: int = 2, status: int = 500,
                          success: Optional[Reply] = None) -> None:
        ok = success or Reply(200, {"ok": True})
        self.script(path, *[Reply(status, {"error": "scripted failure"}) for _ in range(failures)], ok)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.script(path, Reply(status, headers={"Location": location}))

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # used by the handler thread
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(path)
            if not queue:
                return Reply(200, {"ok": True})
            return queue.pop(0) if len(queue) > 1 else queue[0]
