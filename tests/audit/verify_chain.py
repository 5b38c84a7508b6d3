#!/usr/bin/env python3
"""Verify a portal's audit chain export (JSON Lines) without the portal's code.

Usage: verify_chain.py EXPORT.jsonl [--head HEX]

Each line is one event. The script rebuilds every event's canonical bytes from its
JSON fields (layout in docs/audit.md: each item is a 4-byte big-endian length and
its UTF-8 bytes), checks that numbers run 1, 2, 3, ... without gaps, that each
event links to the previous event's hash (the first to 32 zero bytes), and that
hash == SHA-256(prev_hash || canonical bytes). With --head, the last hash must
also equal HEX (a head kept elsewhere, which catches a rewrite of the whole chain).

Exit 0 and "OK: N events, head HEX" if everything holds; exit 1 and
"FAIL at seq S (line L): why" at the first event that does not; exit 2 on usage
or unreadable input. Standard library only.
"""

import hashlib
import json
import sys

FORMAT = "portal-audit-v1"
GENESIS = "0" * 64


def item(text):
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def canonical(e):
    a = e["actor"]
    out = b"".join(
        item(x)
        for x in [
            FORMAT,
            str(e["seq"]),
            e["tenant"],
            e["portal"],
            e["at"],
            a["side"],
            a["contact"],
            a["name"],
            a["email"],
            e["kind"],
        ]
    )
    out += len(e["fields"]).to_bytes(4, "big")
    for name, value in e["fields"]:
        out += item(name) + item(value)
    return out


def verify(lines, head=None):
    prev_seq, prev_hash, count = 0, GENESIS, 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
            seq = e["seq"]
            if seq != prev_seq + 1:
                return False, f"FAIL at seq {seq} (line {number}): expected number {prev_seq + 1}"
            if e["prev_hash"] != prev_hash:
                return False, f"FAIL at seq {seq} (line {number}): does not link to the previous hash"
            digest = hashlib.sha256(bytes.fromhex(e["prev_hash"]) + canonical(e)).hexdigest()
            if digest != e["hash"]:
                return False, f"FAIL at seq {seq} (line {number}): hash does not match its content"
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            return False, f"FAIL at line {number}: not a valid event ({err})"
        prev_seq, prev_hash, count = seq, e["hash"], count + 1
    if head is not None and prev_hash != head.lower():
        return False, f"FAIL: the last hash {prev_hash} is not the expected head {head}"
    return True, f"OK: {count} events, head {prev_hash}"


def main(argv):
    args = argv[1:]
    head = None
    if "--head" in args:
        i = args.index("--head")
        if i + 1 >= len(args):
            print(__doc__, file=sys.stderr)
            return 2
        head = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as err:
        print(f"cannot read {args[0]}: {err}", file=sys.stderr)
        return 2
    ok, message = verify(lines, head)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
