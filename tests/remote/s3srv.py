#!/usr/bin/python3
"""s3srv.py PORT DIR: a minimal S3 GetObject on 127.0.0.1:PORT, path-style
(/BUCKET/KEY: the file DIR/BUCKET/KEY), that checks Signature V4 with
botocore's own signer (an implementation independent of libcurl's), for
tests/remote/s3.sh.  Ranges, ETag and If-Match as faultsrv.py serves them.

Credentials from the environment: S3SRV_KEY, S3SRV_SECRET, S3SRV_REGION,
and S3SRV_TOKEN (then required as x-amz-security-token, signed).  The
bucket "public" answers unsigned requests too; others answer them 403.
Every refusal is logged to stderr with its reason."""
import datetime, os, re, sys, urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import faultsrv

KEY = os.environ["S3SRV_KEY"]
SECRET = os.environ["S3SRV_SECRET"]
REGION = os.environ.get("S3SRV_REGION", "us-east-1")
TOKEN = os.environ.get("S3SRV_TOKEN")
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,"
                  r" ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")


def refuse(h, code, why):
    sys.stderr.write("refused %s: %s\n" % (h.path, why))
    h.send_plain(code, ("<Error><Code>%s</Code></Error>" % why).encode())


def signature_ok(h):
    """None if the request is signed right, else why not."""
    m = AUTH.match(h.headers.get("Authorization", ""))
    if not m:
        return "AuthorizationHeaderMalformed"
    akid, day, region, signed, sig = m.groups()
    if akid != KEY:
        return "InvalidAccessKeyId"
    if region != REGION:
        return "AuthorizationHeaderMalformed (region)"
    stamp = h.headers.get("x-amz-date", "")
    try:
        t = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return "AccessDenied (x-amz-date)"
    if abs((datetime.datetime.utcnow() - t).total_seconds()) > 900 or stamp[:8] != day:
        return "RequestTimeTooSkewed"
    names = signed.split(";")
    if "host" not in names:
        return "AccessDenied (host not signed)"
    if TOKEN is not None and ("x-amz-security-token" not in names or
                              h.headers.get("x-amz-security-token") != TOKEN):
        return "InvalidToken"
    req = AWSRequest(method=h.command, url="http://%s%s" % (h.headers["Host"], h.path),
                     headers={n: h.headers.get(n, "") for n in names})
    req.context["timestamp"] = stamp
    auth = S3SigV4Auth(Credentials(KEY, SECRET, TOKEN), "s3", REGION)
    want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
    return None if want == sig else "SignatureDoesNotMatch"


class H(faultsrv.H):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        parts = urllib.parse.unquote(u.path).split("/", 2)
        if len(parts) != 3 or not parts[1] or not parts[2] or ".." in parts[2].split("/"):
            return refuse(self, 400, "InvalidRequest")
        bucket, key = parts[1], parts[2]
        if "Authorization" in self.headers:
            why = signature_ok(self)
            if why:
                return refuse(self, 403, why)
        elif bucket != "public":
            return refuse(self, 403, "AccessDenied (anonymous)")
        self.serve_file(os.path.join(sys.argv[2], bucket, key))


if __name__ == "__main__":
    faultsrv.S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
