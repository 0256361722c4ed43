"""Security headers on every HTTP answer, the API's and the web app's pages alike."""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A Host header fit to quote in the policy: a name or IPv4/IPv6 address and an optional port.
_PLAIN_HOST = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def content_security_policy(host: str | None) -> str:
    """The web app loads only its own scripts, styles and fonts, talks only to its own origin
    (HTTP and the room's WebSockets), and may not be framed. Camera and microphone streams are
    attached as objects, not URLs; blob: and data: cover downloads and the empty favicon."""
    connect = "'self'"
    if host and _PLAIN_HOST.fullmatch(host):
        # Browsers that predate CSP 3 do not count ws: and wss: as 'self'.
        connect += f" ws://{host} wss://{host}"
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
    Referrer-Policy on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = content_security_policy(Headers(scope=scope).get("host"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)
