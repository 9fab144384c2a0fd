"""A fake generic HTTP CTI on 127.0.0.1 for 电话获客 outbound tests: it takes signed dial requests
(POST /calls), keeps them, serves each call's recording (GET /recordings/<call_id>.mp3, real MP3 header
bytes), and reports call progress back to our callback as the real one would — signed with the shared
secret — when a test tells it how a call went (`report(call_id, "ended", result="busy")`)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

SECRET = "cti-secret-不要泄露"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


def signed(body: bytes, ts: int | None = None, secret: str = SECRET) -> dict:
    stamp = str(ts if ts is not None else int(time.time()))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-CTI-Timestamp": stamp, "X-CTI-Signature": mac}


class FakeCti:
    def __init__(self, clock):
        self.clock = clock
        self.dials: list[dict] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._server = None

    def _verify(self, headers, body: bytes) -> bool:
        ts = headers.get("X-CTI-Timestamp", "")
        expected = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        return ts.isdigit() and hmac.compare_digest(expected, headers.get("X-CTI-Signature", ""))

    def report(self, callback_url: str, call_id: str, event: str, **fields) -> requests.Response:
        body = json.dumps({"call_id": call_id, "event": event, **fields}, ensure_ascii=False).encode()
        return requests.post(callback_url, data=body, headers=signed(body, int(self.clock.now().timestamp())),
                             timeout=10)

    def recording_url(self, call_id: str) -> str:
        return f"{self.url}/recordings/{call_id}.mp3"

    def start(self) -> "FakeCti":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/calls" or not fake._verify(self.headers, body):
                    fake.refused.append(self.path)
                    return self._send(401, b'{"accepted": false, "message": "bad signature"}')
                with fake._lock:
                    fake.dials.append(json.loads(body))
                self._send(200, b'{"accepted": true}')

            def do_GET(self):
                if self.path.startswith("/recordings/") and self.path.endswith(".mp3"):
                    return self._send(200, MP3, "audio/mpeg")
                if self.path.startswith("/recordings/"):
                    return self._send(200, b"<html>not audio</html>", "audio/mpeg")
                self._send(404, b"{}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"
