"""Security headers on every HTTP answer, the API's and the web app's pages alike."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A Host header fit to quote in the policy: a name or IPv4/IPv6 address and an optional port.
_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
# A LiveKit URL's scheme, and the other scheme livekit-client uses on the same server: it signals
# over the WebSocket and checks the server over HTTP when a connection fails.
_LIVEKIT_SCHEMES = {"ws": "http", "wss": "https", "http": "ws", "https": "wss"}


def livekit_connect_sources(url: str | None) -> tuple[str, ...]:
    """The origins the pages may reach a LiveKit server at (its WebSocket and HTTP), from the
    URL browsers are given; none for a URL that is not a plain ws(s) or http(s) one."""
    if not url:
        return ()
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ()
    scheme = parts.scheme.lower()
    if scheme not in _LIVEKIT_SCHEMES or not parts.netloc or not _PLAIN_HOST.fullmatch(parts.netloc):
        return ()
    return tuple(f"{s}://{parts.netloc}" for s in sorted({scheme, _LIVEKIT_SCHEMES[scheme]}))


def content_security_policy(host: str | None, extra_connect: Sequence[str] = ()) -> str:
    """The web app loads only its own scripts, styles and fonts, talks only to its own origin
    (HTTP and the room's WebSockets) and to `extra_connect` (the LiveKit server, with that
    transport), and may not be framed. Camera and microphone streams are attached as objects,
    not URLs; blob: and data: cover downloads and the empty favicon."""
    connect = "'self'"
    if host and _PLAIN_HOST.fullmatch(host):
        # Browsers that predate CSP 3 do not count ws: and wss: as 'self'.
        connect += f" ws://{host} wss://{host}"
    for source in extra_connect:
        connect += f" {source}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"connect-src {connect}",
            "img-src 'self' blob: data:",
            "media-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware: Content-Security-Policy, X-Frame-Options, X-Content-Type-Options and
    Referrer-Policy on every HTTP response. `connect_sources` are origins beyond the app's own
    that the pages may connect to (the LiveKit server's, with that transport)."""

    def __init__(self, app: ASGIApp, connect_sources: Sequence[str] = ()) -> None:
        self.app = app
        self.connect_sources = tuple(connect_sources)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = content_security_policy(Headers(scope=scope).get("host"), self.connect_sources)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)
