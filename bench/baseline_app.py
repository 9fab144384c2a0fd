"""The baseline for bench/ingest.py: the least a Flask JSON endpoint can do — parse the body,
answer 202 — served by gunicorn with exactly the options `cunkebao serve` uses
(web.wsgi_server.gunicorn_options), so the ratio measures our work, not the server.

Run: .venv/bin/python bench/baseline_app.py --port 5601 --workers 2 --threads 4
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flask import Flask, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def create_baseline_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/events")
    def events():
        payload = json.loads(request.get_data(cache=False))
        count = len(payload["events"]) if isinstance(payload, dict) and "events" in payload else 1
        response = jsonify({"accepted": count})
        response.status_code = 202
        return response

    return app


def main() -> None:
    from gunicorn.app.base import BaseApplication

    from web.wsgi_server import gunicorn_options

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5601)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    class Baseline(BaseApplication):
        def load_config(self):
            for key, value in gunicorn_options(args.host, args.port, args.workers, args.threads).items():
                self.cfg.set(key, value)

        def load(self):
            return create_baseline_app()

    Baseline().run()


if __name__ == "__main__":
    main()
