"""A Gerrit stand-in for bench/first-verdict: the REST paths rehearsal uses (the
revision's files, its review), basic auth required, answers prefixed with `)]}'` as
Gerrit's are; it appends the time each review arrives and its Verified vote to REVIEWS.

    python3 first-verdict.py PORT_FILE REVIEWS
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, REVIEWS = sys.argv[1], sys.argv[2]
PREFIX = "/a/changes/puppet%2Fmodules~1/revisions/0123456789abcdef0123456789abcdef01234567"


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, value):
        body = (")]}'\n" + json.dumps(value)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorised(self):
        if not (self.headers.get("Authorization") or "").startswith("Basic "):
            self.answer(401, "Unauthorized")
            return False
        return True

    def do_GET(self):
        if not self.authorised():
            return
        if self.path.rstrip("/") == PREFIX + "/files":
            files = {"/COMMIT_MSG": {}, "typo/manifests/init.pp": {}}
            self.answer(200, files)
        else:
            self.answer(404, "Not found")

    def do_POST(self):
        arrived = time.time()
        if not self.authorised():
            return
        length = int(self.headers.get("Content-Length") or 0)
        review = json.loads(self.rfile.read(length) or b"{}")
        if self.path != PREFIX + "/review":
            self.answer(404, "Not found")
            return
        vote = review.get("labels", {}).get("Verified")
        with open(REVIEWS, "a") as out:
            out.write(f"{arrived}\t{vote}\n")
        self.answer(200, {"labels": review.get("labels", {})})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE, "w") as out:
    out.write(str(server.server_address[1]))
server.serve_forever()
