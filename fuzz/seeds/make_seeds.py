#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (one small file per seed).

The seeds are the meaningful shapes of each input: real forms, cookies, URLs, files and
bodies the portal sees, plus a few near misses. Re-run after changing a target's input
layout: `python3 fuzz/seeds/make_seeds.py` (it replaces only files it names).
"""
import io
import json
import os
import struct
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pref(b):
    """One piece prefixed by its length in one byte."""
    if isinstance(b, str):
        b = b.encode("utf-8")
    assert len(b) < 256
    return bytes([len(b)]) + b


CSRF = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz"
TOKEN = "dGhpcyBpcyBhIHRlc3QgdG9rZW4gb2YgMzIgYnl0ZXM"
UUID = "0192f0c4-7c2e-7d1a-9f3b-2a1c5e8d4b6f"

# ----- form_body / http_form -------------------------------------------------------
forms = {
    "submit": "csrf=abc&q.sites=3&q.notes=Line+one%0D%0ALine+two&q.host=0&q.apps=0&q.apps=2&q.score=4&action=submit",
    "draft_markup": "q.sites=%3Cfz%3E&q.notes=%3Cfz+onload%3D1%3E&action=save",
    "bad_values": "q.sites=a%00b&q.host=7&q.apps=9&q.score=99999999999&q.score=2&action=submit",
    "unknown_field": "q.nope=1&q.sites=%E2%80%AEevil",
    "odd_encoding": "a+b=c%20d&&=&%ZZ=%&q.sites=%C3%A9t%C3%A9",
}
for name, body in forms.items():
    put("form_body", name, body)
http_forms = [
    (0, "survey_submit", forms["submit"].replace("csrf=abc&", "")),
    (0, "survey_markup", forms["draft_markup"]),
    (0, "survey_bad", forms["bad_values"]),
    (1, "checklist_check", "item=a&checked=1"),
    (1, "checklist_unknown", "item=%3Cfz%3E&checked=1"),
    (2, "complete_notes", "notes=%3Cfz%3EAll+done%0D%0Athanks"),
    (3, "decision_reject", "decision=reject&comment=%3Cfz%3ENot+yet"),
    (3, "decision_bad", "decision=maybe&comment=x"),
    (4, "comment", "comment=%3Cfz%3EHello+%E2%80%AE"),
    (5, "question", "question=%3Cfz%3EWhen+do+we+start%3F"),
]
for pick, name, body in http_forms:
    put("http_form", name, bytes([pick]) + body.encode())

# ----- survey ----------------------------------------------------------------------
put("survey", "bytes_a", bytes(range(0, 64)))
put("survey", "bytes_b", bytes([5, 1, 0, 2, 3, 1, 1, 0, 3, 2, 1, 4, 0, 1, 2, 1, 1, 0, 0, 1, 8, 1, 1, 0, 2, 0, 3, 1, 1]) * 3)
put("survey", "bytes_c", b"\xff" * 48 + b"\x00" * 48)
survey = {
    "type": "survey",
    "questions": [
        {"id": "sites", "prompt": "How many sites?", "required": True, "kind": {"type": "short_text", "max_len": 50}},
        {"id": "host", "prompt": "Email host?", "required": True, "kind": {"type": "single_select", "choices": ["M365", "Google"]}},
        {"id": "score", "prompt": "Happy?", "required": False, "kind": {"type": "rating", "min": -2147483648, "max": 2147483647}},
    ],
}
put("survey", "json_survey", json.dumps(survey))
put("survey", "json_checklist", json.dumps({"type": "checklist", "items": [{"id": "a", "label": "Back up"}, {"id": "a", "label": "Dup"}]}))
put("survey", "json_training", json.dumps({"type": "training", "video_url": "https://youtu.be/dQw4w9WgXcQ"}))
put("survey", "json_meeting", json.dumps({"type": "meeting", "schedule": {"starts_at": "2026-11-30T15:00:00Z", "time_zone": "America/Chicago", "duration_minutes": 45, "meeting_url": "https://meet.example.com/x", "agenda": "Intros"}}))

# ----- cookies ---------------------------------------------------------------------
put("cookies", "good_csrf", f"__Host-portal_csrf={CSRF}")
put("cookies", "short_csrf", "theme=dark; __Host-portal_csrf=short; __Host-portal_csrf=" + CSRF)
put("cookies", "two_headers", f"a=b\n__Host-portal_session={TOKEN}; __Host-portal_csrf={CSRF}")
put("cookies", "quoted", f'__Host-portal_csrf="{CSRF}"; x="y;z"')
put("cookies", "junk", "=; ;;  ; =x; a==b; \xe9=\xe9\n\n__Host-portal_csrf")

# ----- ids_tokens ------------------------------------------------------------------
for name, s in {
    "uuid": UUID,
    "uuid_upper": UUID.upper(),
    "uuid_braced": "{" + UUID + "}",
    "uuid_simple": UUID.replace("-", ""),
    "token": TOKEN,
    "token_bad": TOKEN[:-1] + "=",
    "code_spaced": " 123 456 ",
    "code_dashed": "0-1-2-3-4-5",
    "code_arabic": "١٢٣٤٥٦",
}.items():
    put("ids_tokens", name, s)
put("ids_tokens", "bytes16", bytes(range(16)))

# ----- video_url -------------------------------------------------------------------
for i, u in enumerate([
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s",
    "https://youtu.be/dQw4w9WgXcQ?si=abc",
    "https://www.youtube.com/shorts/dQw4w9WgXcQ",
    "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
    "https://vimeo.com/76979871/abc123def",
    "https://player.vimeo.com/video/76979871?h=ff00",
    "https://www.loom.com/share/0123456789abcdef0123456789abcdef",
    "https://user:pw@youtu.be/dQw4w9WgXcQ",
    "javascript:alert(1)//https://youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ%22%3E%3Cscript%3E",
]):
    put("video_url", f"url{i:02}", u)

# ----- email -----------------------------------------------------------------------
for i, e in enumerate([
    "jane.doe@Contoso.Example",
    "  a@b.co  ",
    "x@@y.z",
    "a@b..c",
    "\"quoted\"@example.com",
    "é@exämple.com",
    "a@b.c\u202e",
]):
    put("email", f"email{i:02}", e)

# ----- branding --------------------------------------------------------------------
put("branding", "color", b"\x00#1F6FEB")
put("branding", "color_bare", b"\x00 ffffff ")
put("branding", "color_bad", b"\x00##12345g")
put("branding", "branding", b"\x01" + pref("Northwind IT") + pref("#0d6e7a") + "Welcome!\r\nWe are glad <fz> you are here.\t".encode())
put("branding", "branding_bidi", b"\x01" + pref(" Evil\u202eCorp ") + pref("000000") + b"hi\x07")
put("branding", "logo_png", b"\x02\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
put("branding", "logo_jpeg", b"\x02\xff\xd8\xff\xe0\x00\x10JFIF\x00")
put("branding", "logo_gif", b"\x02GIF89a\x01\x00\x01\x00")
put("branding", "logo_webp", b"\x02RIFF\x24\x00\x00\x00WEBPVP8 ")
put("branding", "logo_svg", b"\x02<svg xmlns='http://www.w3.org/2000/svg'/>")

# ----- files -----------------------------------------------------------------------
def zip_bytes(entries, first_stored=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, stored in entries:
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    return buf.getvalue()

docx = zip_bytes([("[Content_Types].xml", "<Types/>", False), ("_rels/.rels", "<Relationships/>", False), ("word/document.xml", "<w:document/>", False)])
docm = zip_bytes([("[Content_Types].xml", "<Types/>", False), ("word/vbaProject.bin", "x", False)])
odt = zip_bytes([("mimetype", "application/vnd.oasis.opendocument.text", True), ("content.xml", "<x/>", False)])
heic = struct.pack(">I", 24) + b"ftypmif1" + b"\x00\x00\x00\x00" + b"mif1heic"
files = [
    (0, "invoice.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"),
    (2, "../../etc/passwd", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    (14, "C:\\Users\\x\\report.docx", docx),
    (14, "macro.docm", docm),
    (22, "notes.odt", odt),
    (10, "IMG_0001", heic),
    (32, "invoice\u202efdp.exe", b"plain text\nwith lines\r\n\x1b[31mred\x1b[0m\n"),
    (33, "page.html", b"<!DOCTYPE html><script>alert(1)</script>"),
    (33, "  ..hidden. ", b"\xef\xbb\xbfBOM text \xe2\x82"),
    (32, "utf16.txt", b"\xff\xfeh\x00i\x00"),
    (32, "a" * 250 + ".pdf", b"text"),
    (28, "archive.7z", b"7z\xbc\xaf\x27\x1c\x00\x04"),
]
for i, (pick, name, content) in enumerate(files):
    n = name.encode("utf-8")[:255]
    put("files", f"file{i:02}", bytes([pick]) + bytes([len(n)]) + n + content)

# ----- envelope --------------------------------------------------------------------
put("envelope", "stored_header", b"\x00" + pref(b"\x03\x07") + b"PFE1noncepx" + bytes(16))
put("envelope", "stored_bad_magic", b"\x00" + pref(b"") + b"PFE0" + bytes(40))
put("envelope", "stored_short", b"\x00" + pref(b"") + b"PF")
put("envelope", "seal_plain", b"\x01" + pref(b"\x10") + b"\x00\x00\x00\x00\x00" + b"hello, file content")
put("envelope", "seal_flip", b"\x01" + pref(b"") + b"\x01\x0b\x00\x00\x00" + b"flip a bit of me")
put("envelope", "seal_truncate", b"\x07" + pref(b"\xff") + b"\x02\x00\x00\x01\x00" + b"cut me short" * 4)
put("envelope", "seal_append", b"\x05" + pref(b"") + b"\x03tail" + b"append after me")
put("envelope", "seal_binding", b"\x03" + pref(b"") + b"\x04\x00\x00\x00\x00" + b"other file")

# ----- multipart -------------------------------------------------------------------
def mp(ct, limit, cuts, body):
    return ct.encode() + b"\n" + bytes([limit]) + pref(cuts) + body

good = (b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + CSRF.encode() +
        b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"report.pdf\"\r\n"
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.7 file bytes\r\n--XyZ--\r\n")
put("multipart", "good", mp("multipart/form-data; boundary=XyZ", 2, b"", good))
put("multipart", "good_cut", mp("multipart/form-data; boundary=XyZ", 2, b"\x00\x04\x10", good))
put("multipart", "too_large", mp("multipart/form-data; boundary=XyZ", 1, b"", good))
put("multipart", "no_end", mp("multipart/form-data; boundary=XyZ", 2, b"", good[: good.rindex(b"\r\n--XyZ--")]))
put("multipart", "two_files", mp("multipart/form-data; boundary=\"a b\"", 3, b"\x07",
    b"--a b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nA\r\n"
    b"--a b\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E2%80%AE.txt\r\n\r\nB\r\n--a b--\r\n"))
put("multipart", "other_field", mp("multipart/form-data; boundary=Q", 2, b"",
    b"--Q\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--Q--\r\n"))

# ----- http_request ----------------------------------------------------------------
reqs = {
    "home": "GET\n/\n\n\n\n",
    "home_cookie": f"GET\n/?tab=documents\n__Host-portal_session={TOKEN}; __Host-portal_csrf={CSRF}\n\n\n",
    "invite": f"GET\n/i/{TOKEN}\n\n\n\n",
    "invite_post": f"POST\n/i/{TOKEN}\n__Host-portal_csrf={CSRF}\napplication/x-www-form-urlencoded\n\ncsrf=x",
    "code": f"POST\n/verify/code\n__Host-portal_verify={TOKEN}\napplication/x-www-form-urlencoded\nnull\ncsrf=x&code=123+456",
    "task": f"GET\n/tasks/{UUID}/invite.ics\n__Host-portal_session={TOKEN}\n\n\n",
    "task_post": f"POST\n/tasks/{UUID}/form\n__Host-portal_session={TOKEN}\nmultipart/form-data; boundary=x\nhttps://evil.example\nq.a=1",
    "magic": f"GET\n/m/{TOKEN}\n\n\n\n",
    "logo": "GET\n/brand/logo/" + "ab" * 32 + "\n\n\n\n",
    "assets": "HEAD\n/assets/portal.css\n\n\n\n",
    "signout": "POST\n/sign-out\n\napplication/x-www-form-urlencoded; charset=utf-8\nhttp://portal.test\ncsrf=",
    "weird": "PATCH\n//%2e%2e/%00?%zz\n\xe9\n\n\n",
}
for name, r in reqs.items():
    put("http_request", name, r)
