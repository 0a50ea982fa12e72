#!/usr/bin/env python3
"""A webhook receiver for trying the exchange locally: it verifies each delivery as the Standard Webhooks
specification tells a receiver to (timestamp within five minutes, HMAC-SHA256 of "id.timestamp.body" with the key
in the whsec_ secret, compared in constant time), prints what it got and answers 204 (401 when it does not verify).

    WEBHOOK_SECRET=whsec_... python3 tools/webhook-receiver.py [port]

Standard library only. In production use a maintained Standard Webhooks library in your own stack.
"""
import base64, hashlib, hmac, os, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ.get("WEBHOOK_SECRET", "")
TOLERANCE = 5 * 60


def verifies(msg_id: str, timestamp: str, signatures: str, body: bytes) -> bool:
    if not SECRET.startswith("whsec_") or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    key = base64.b64decode(SECRET[len("whsec_"):])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in signatures.split(" "))


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        ok = verifies(self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", ""),
                      self.headers.get("webhook-signature", ""), body)
        print(("verified " if ok else "REFUSED  ") + body.decode("utf-8", "replace"), flush=True)
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, *args):  # the line above says what arrived
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5081
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
