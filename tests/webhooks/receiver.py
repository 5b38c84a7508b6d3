"""A webhook receiver for the end-to-end test (tests/e2e/webhooks.rs).

It verifies every delivery with the `standardwebhooks` package from PyPI, an
implementation independent of ours, and answers 500 to the first attempt of every
third webhook-id, so the portal's retries are exercised. It prints `PORT <n>` once
listening on 127.0.0.1, then serves:

- POST /secret   {"secret": "whsec_..."}: the secret to verify with (replaced on rotation)
- POST /hook     a webhook: 401 if the signature does not verify, 500 on a planned
                 failure, else 204 (a webhook-id accepted twice is counted as a duplicate)
- GET  /log      what it saw, as JSON
"""

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

LOCK = threading.Lock()
STATE = {
    "secret": None,
    "accepted": [],
    "types": [],
    "failed_on_purpose": [],
    "bad_signatures": 0,
    "duplicates": 0,
    "attempts": 0,
}


def fails_first(msg_id):
    return int(hashlib.sha256(msg_id.encode()).hexdigest(), 16) % 3 == 0


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/log":
            return self.answer(404)
        with LOCK:
            body = json.dumps(STATE).encode()
        self.answer(200, body)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if self.path == "/secret":
            with LOCK:
                STATE["secret"] = json.loads(body)["secret"]
            return self.answer(204)
        if self.path != "/hook":
            return self.answer(404)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            STATE["attempts"] += 1
            secret = STATE["secret"]
        try:
            payload = Webhook(secret).verify(body, headers)
        except Exception as e:  # noqa: BLE001 - any failure to verify is a bad delivery
            with LOCK:
                STATE["bad_signatures"] += 1
            return self.answer(401, str(e).encode()[:200])
        msg_id = headers["webhook-id"]
        with LOCK:
            if fails_first(msg_id) and msg_id not in STATE["failed_on_purpose"]:
                STATE["failed_on_purpose"].append(msg_id)
                planned = True
            else:
                planned = False
                if msg_id in STATE["accepted"]:
                    STATE["duplicates"] += 1
                else:
                    STATE["accepted"].append(msg_id)
                    STATE["types"].append(payload["type"])
        if planned:
            return self.answer(500, b"planned failure, retry please")
        self.answer(204)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
