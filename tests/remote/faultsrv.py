#!/usr/bin/python3
"""faultsrv.py PORT DIR: serve the files of DIR on 127.0.0.1:PORT with HTTP
range requests (206, Content-Range, a strong ETag, If-Match), and faults
on request, for tests/remote/faults.sh.

GET /_ctl?mode=MODE&count=N sets the fault of the next N requests (-1: all
of them; then "ok" again); GET /_ctl answers the requests counted since.
Modes:
  ok        no fault
  drop      close the connection without an answer
  503       HTTP 503 (with Retry-After: 0)
  stall     answer only when the client gives up, or after 3 s (longer
            than the test's timeout)
  hang      the same, at most 60 s (longer than the test)
  short     the headers of the whole range, half its body, then close
  badrange  a Content-Range one byte off, and the bytes that go with it
  long      the bytes asked for and 100 more
  etag      the object changes: a new ETag from now on (If-Match then
            answers 412), same bytes
  nosuffix  "bytes=-N" read as "bytes=0-N" (as the s3rver emulator does)
  longetag  If-Match ignored, other bytes of the same size, and an ETag
            of 300 characters (more than the client holds)
"""
import http.server, os, re, select, sys, threading, urllib.parse

lock = threading.Lock()
state = {"mode": "ok", "count": -1, "served": 0, "gen": 1}


def take_fault():
    with lock:
        state["served"] += 1
        mode = state["mode"]
        if mode == "ok":
            return "ok"
        if state["count"] == 0:
            state["mode"] = "ok"
            return "ok"
        if state["count"] > 0:
            state["count"] -= 1
        if mode == "etag":
            state["gen"] += 1
            state["mode"] = "ok"
            return "ok"
        return mode


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.requestline, fmt % args))

    def send_plain(self, code, body=b"", extra=()):
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/_ctl":
            q = urllib.parse.parse_qs(u.query)
            with lock:
                if "mode" in q:
                    state["mode"] = q["mode"][0]
                    state["count"] = int(q.get("count", ["-1"])[0])
                    state["served"] = 0
                body = str(state["served"]).encode()
            return self.send_plain(200, body)
        path = os.path.join(sys.argv[2], os.path.basename(u.path))
        self.serve_file(path)

    def serve_file(self, path):
        """The file at path, as a range request asks (faults included)."""
        if not os.path.isfile(path):
            return self.send_plain(404)
        mode = take_fault()
        if mode == "drop":
            self.close_connection = True
            return
        if mode == "503":
            return self.send_plain(503, b"busy", [("Retry-After", "0")])
        if mode in ("stall", "hang"):
            # Answer nothing until the client gives up on the request
            # (its end of the connection becomes readable: closed), or
            # at most 3 s (stall) or 60 s (hang).
            select.select([self.connection], [], [], 3 if mode == "stall" else 60)
        with open(path, "rb") as f:
            data = f.read()
        size = len(data)
        etag = '"%x-%d"' % (size, state["gen"])
        if mode == "longetag":
            etag = '"%s"' % ("e" * 300)
            data = bytes(b ^ 0x5A for b in data)
        im = self.headers.get("If-Match")
        if im is not None and im.strip() != etag and mode != "longetag":
            return self.send_plain(412)
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if not m:
            return self.send_plain(200, data, [("ETag", etag)])
        a, b = m.groups()
        if a == "" and mode == "nosuffix":
            a = "0"
        if a == "":
            n = min(int(b), size)
            first, last = size - n, size - 1
        else:
            first = int(a)
            last = min(int(b) if b else size - 1, size - 1)
        if first >= size or first > last:
            return self.send_plain(416, b"", [("Content-Range", "bytes */%d" % size)])
        body = data[first:last + 1]
        cr = (first, last)
        if mode == "badrange" and last + 1 < size:
            cr = (first + 1, last + 1)
            body = data[first + 1:last + 2]
        if mode == "long":
            # The right Content-Range, and more body than it says.
            body = data[first:last + 1] + b"x" * 100
        self.send_response(206)
        self.send_header("ETag", etag)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (cr[0], cr[1], size))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "short":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class S(http.server.ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
