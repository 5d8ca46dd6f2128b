#!/usr/bin/env python3
"""credstandin.py - loopback stand-ins for credential services that exist
only inside AWS, for moma-put's credential chain tests:

  imds       the EC2 instance metadata service, IMDSv2 only: PUT
             /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
             gives a session token; every GET without that token is refused
             (401), as IMDS does when v1 is disabled.
  container  the ECS / EKS Pod Identity container credentials endpoint: GET
             PATH with the Authorization header equal to the token in
             --auth-file, else 401.
  sts        AWS STS's AssumeRoleWithWebIdentity (radosgw's needs an OpenID
             Connect provider that Debian does not package): checks RoleArn,
             RoleSessionName and that WebIdentityToken equals --auth-file.

None of them makes credentials up: each asks the real radosgw STS
(AssumeRole, SigV4-signed by curl with the test user's keys, read from
--user-file so that no secret is on a command line) for temporary
credentials of --duration seconds and serves those, in the documented JSON
or XML, so that radosgw itself checks the uploads made with them.

Usage: credstandin.py MODE --rgw URL --region R --role ARN --user-file F
       [--duration S] [--auth-file F] [--path P] PORTFILE LOGFILE
It listens on 127.0.0.1 on a free port written to PORTFILE; LOGFILE gets one
line per request (method, path, verdict: never a secret).  Stop it by PID.
"""
import argparse
import http.server
import json
import secrets
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["imds", "container", "sts"])
ap.add_argument("--rgw", required=True)
ap.add_argument("--region", required=True)
ap.add_argument("--role", required=True)
ap.add_argument("--user-file", required=True)
ap.add_argument("--duration", type=int, default=900)
ap.add_argument("--auth-file")
ap.add_argument("--path", default="/creds")
ap.add_argument("--secrets-file", help="append each served secret and token "
                "here, for tests that check moma-put never prints them")
ap.add_argument("portfile")
ap.add_argument("logfile")
args = ap.parse_args()

ROLE_NAME = "moma-standin-role"
imds_tokens = set()
served = 0


def log(line):
    with open(args.logfile, "a") as f:
        f.write(line + "\n")


def assume_role():
    """Temporary credentials from radosgw's STS: (xml text, dict)."""
    with open(args.user_file) as f:
        user = f.read().strip()
    form = urllib.parse.urlencode({
        "Action": "AssumeRole", "Version": "2011-06-15",
        "RoleArn": args.role, "RoleSessionName": "standin-%s" % args.mode,
        "DurationSeconds": str(args.duration)})
    out = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-K", "-", "--aws-sigv4",
         "aws:amz:%s:sts" % args.region, "-d", form, args.rgw + "/"],
        input='user = "%s"\n' % user, capture_output=True, text=True,
        check=True).stdout
    root = ET.fromstring(out)
    c = {}
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
            c[tag] = el.text
    if len(c) != 4:
        raise RuntimeError("radosgw AssumeRole: %s" % out[:200])
    if args.secrets_file:
        with open(args.secrets_file, "a") as f:
            f.write("%s\n%s\n" % (c["SecretAccessKey"], c["SessionToken"]))
    return out, c


def expected_auth():
    with open(args.auth_file) as f:
        return f.read().strip()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json", verdict=""):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
        log("%s %s %d %s" % (self.command, self.path, code, verdict))

    def creds_json(self, token_key):
        global served
        _, c = assume_role()
        served += 1
        d = {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
             token_key: c["SessionToken"], "Expiration": c["Expiration"]}
        if args.mode == "imds":
            d.update({"Code": "Success", "Type": "AWS-HMAC",
                      "LastUpdated": c["Expiration"]})
        else:
            d["RoleArn"] = args.role
        return json.dumps(d)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if args.mode == "imds" and self.path == "/latest/api/token":
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.send(400, "", "text/plain", "no or bad TTL")
            tok = secrets.token_urlsafe(32)
            imds_tokens.add(tok)
            return self.send(200, tok, "text/plain", "token ttl=%s" % ttl)
        self.send(405, "", "text/plain", "refused")

    def do_GET(self):
        if args.mode == "imds":
            if self.headers.get("X-aws-ec2-metadata-token") not in imds_tokens:
                return self.send(401, "", "text/plain", "refused: no IMDSv2 token")
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self.send(200, ROLE_NAME, "text/plain", "role name")
            if self.path == base + ROLE_NAME:
                return self.send(200, self.creds_json("Token"), verdict="credentials %d" % (served + 1))
            return self.send(404, "", "text/plain", "not found")
        if args.mode == "container":
            if self.path != args.path:
                return self.send(404, "", "text/plain", "not found")
            if args.auth_file and self.headers.get("Authorization") != expected_auth():
                return self.send(401, "", "text/plain", "refused: bad Authorization")
            return self.send(200, self.creds_json("Token"), verdict="credentials %d" % (served + 1))
        self.send(405, "", "text/plain", "refused")

    def do_POST(self):
        global served
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        if args.mode != "sts":
            return self.send(405, "", "text/plain", "refused")
        f = {k: v[0] for k, v in form.items()}
        bad = []
        if f.get("Action") != "AssumeRoleWithWebIdentity":
            bad.append("Action")
        if f.get("Version") != "2011-06-15":
            bad.append("Version")
        if f.get("RoleArn") != args.role:
            bad.append("RoleArn")
        if not f.get("RoleSessionName"):
            bad.append("RoleSessionName")
        if f.get("WebIdentityToken") != expected_auth():
            bad.append("WebIdentityToken")
        if self.headers.get("Authorization"):
            bad.append("signed (it must not be)")
        if bad:
            return self.send(403, "<ErrorResponse><Error><Code>AccessDenied</Code>"
                             "<Message>bad %s</Message></Error></ErrorResponse>" % ", ".join(bad),
                             "text/xml", "refused: " + ", ".join(bad))
        out, _ = assume_role()
        served += 1
        out = out.replace("AssumeRoleResponse", "AssumeRoleWithWebIdentityResponse")
        out = out.replace("AssumeRoleResult", "AssumeRoleWithWebIdentityResult")
        self.send(200, out, "text/xml", "credentials %d session=%s" % (served, f["RoleSessionName"]))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(args.portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(args.portfile + ".tmp", args.portfile)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
