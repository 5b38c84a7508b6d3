"""Drives examples/axum-host over HTTP: the vendor's own route, the admin API and the
client pages under /portal, through axum. Exits non-zero on the first failure.

Usage: python3 tests/embed/axum_host_check.py http://127.0.0.1:3000
"""
import json
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
TOKEN = {"Authorization": "Bearer vendor-demo-token"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    h = dict(headers or {})
    if data is not None:
        h["content-type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=h)
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def expect(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


status, headers, body = call("GET", "/health")
expect(status == 200 and body == "ok", "the host's own /health route answers ok")
expect(headers.get_all("set-cookie") is None, "the host's own route gets no portal cookie")

status, _, body = call("GET", "/portal/api/v1/portals")
expect(status == 401 and json.loads(body)["status"] == 401, "the admin API under /portal wants credentials")

status, _, body = call("POST", "/portal/api/v1/portals", {"client_name": "Contoso", "status": "active"}, TOKEN)
expect(status == 201, f"staff create a portal through axum ({status} {body[:200]})")
portal = json.loads(body)["id"]
status, _, body = call("POST", f"/portal/api/v1/portals/{portal}/contacts",
                       {"name": "Dana", "email": "dana@client.example"}, TOKEN)
expect(status == 201, f"staff add a contact ({status} {body[:200]})")
contact = json.loads(body)["id"]
status, _, body = call("POST", f"/portal/api/v1/portals/{portal}/contacts/{contact}/invite", None, TOKEN)
expect(status in (200, 201), f"staff invite the contact ({status} {body[:200]})")
invite = json.loads(body)["invite_url"]
expect(invite.startswith("http://localhost:3000/portal/i/"), "the invite link is under the mount (/portal/i/...)")

path = invite[len("http://localhost:3000"):]
status, headers, body = call("GET", path)
expect(status == 200 and "Vendor MSP" in body, "the client's invite page opens through axum")
cookies = headers.get_all("set-cookie") or []
expect(cookies and all("Path=/portal" in c for c in cookies), "the portal's cookies are scoped to /portal")

status, _, _ = call("GET", "/portal/no-such-page")
expect(status == 404, "an unknown page under the mount is the portal's 404")
print("axum host: all checks passed")
