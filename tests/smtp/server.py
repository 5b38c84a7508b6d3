#!/usr/bin/env python3
"""A real SMTP server for the portal's tests (aiosmtpd), on 127.0.0.1.

Every message it accepts is written, raw bytes as received, into DIR as
NNNN.eml (written to a temporary name first, then renamed, so a reader never sees
half a message). Prints "ready PORT" on stdout once it listens (PORT 0 picks a free
port), and exits when its stdin closes, so it never outlives the test that started it.

    server.py --port 0 --dir OUT [--tls none|starttls|tls --cert PEM --key PEM]
              [--auth USER:PASSWORD] [--behave ACTION,ACTION,...]

--tls starttls offers STARTTLS and refuses mail before it; --tls tls is implicit TLS
from the first byte. --auth makes AUTH (PLAIN or LOGIN) required before MAIL FROM.
"""

import argparse
import asyncio
import itertools
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Save:
    """Writes each message into the folder.

    With --behave, the first messages are answered by the listed actions instead, one
    per message, in order, and are NOT saved (the client got no 250, so the message
    was not accepted): a 3-digit code (e.g. 451, 550) refuses with that reply; "drop"
    closes the connection without a reply, after the message's data arrived; "stall"
    never answers (until the client gives up). Later messages are accepted.
    """

    def __init__(self, folder, behave):
        self.folder = folder
        self.counter = itertools.count(1)
        self.behave = list(behave)

    async def handle_DATA(self, server, session, envelope):
        if self.behave:
            action = self.behave.pop(0)
            if action == "drop":
                server.transport.abort()
                return "421 4.4.2 connection dropped"
            if action == "stall":
                await asyncio.sleep(3600)
                return "451 4.4.2 too late"
            if action.startswith("5"):
                return f"{action} 5.1.1 refused for good by the test server"
            return f"{action} 4.3.0 refused for now by the test server"
        n = next(self.counter)
        final = os.path.join(self.folder, f"{n:04}.eml")
        partial = final + ".part"
        with open(partial, "wb") as f:
            f.write(envelope.original_content)
        os.replace(partial, final)
        return "250 2.0.0 Message accepted for delivery"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--tls", choices=["none", "starttls", "tls"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth", help="USER:PASSWORD")
    parser.add_argument("--behave", default="", help="ACTION,... for the first messages")
    args = parser.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Save(args.dir, [a for a in args.behave.split(",") if a])
    options = {}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(
            authenticator=authenticator_for(user, password),
            auth_required=True,
            # aiosmtpd only knows about TLS it negotiated itself (STARTTLS); under
            # implicit TLS the whole connection is encrypted already.
            auth_require_tls=args.tls == "starttls",
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", **options),
        host="127.0.0.1",
        port=args.port,
        ssl=context if args.tls == "tls" else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)

    # Stop when the test closes our stdin (or dies).
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(1024):
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
