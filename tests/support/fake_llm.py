"""A fake OpenAI-compatible chat-completions provider on 127.0.0.1 for 智能回复 tests: it records
each request (headers and JSON body) and answers with a canned reply, an error status, or after a
delay longer than the client's timeout."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLlm:
    def __init__(self):
        self.requests: list[dict] = []
        self.reply = "亲，{context}"
        self.status = 200
        self.delay = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append({"path": self.path, "auth": self.headers.get("Authorization", ""), "body": body})
                if owner.delay:
                    time.sleep(owner.delay)
                if owner.status != 200:
                    self.send_response(owner.status)
                    self.end_headers()
                    return
                context = body["messages"][-1]["content"].split("资料：\n", 1)[-1].split("\n\n顾客问题", 1)[0]
                text = owner.reply.replace("{context}", context.split("] ", 1)[-1])
                raw = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]},
                    ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeLlm":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
