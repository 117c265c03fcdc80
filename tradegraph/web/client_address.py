"""Which address a request comes from: the socket's peer, unless that peer is a proxy named in
TRADEGRAPH_TRUSTED_PROXIES, whose forwarding header then says who its client was.

uvicorn's own proxy-headers handling is turned off (it would believe X-Forwarded-For from
127.0.0.1 by default: anyone on the host could pick their address and escape the per-address
budgets). Instead uvicorn's ProxyHeadersMiddleware runs here with exactly the configured
proxies; for a proxy that sends the standard `Forwarded` header (RFC 7239), that header is read
instead and any X-Forwarded-* the client may have forged is dropped first.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tradegraph.config import ForwardedHeader, Settings

MAX_FORWARDED_HOPS = 32  # a longer chain is cut: its far end is the client's own claim anyway


def forwarded_for(value: str) -> tuple[list[str], str | None]:
    """The `for=` nodes (client first) and the last `proto=` of a Forwarded header value."""
    nodes: list[str] = []
    proto: str | None = None
    for element in value.split(",")[-MAX_FORWARDED_HOPS:]:
        for pair in element.split(";"):
            name, _, raw = pair.strip().partition("=")
            item = raw.strip().strip('"')
            if name.strip().lower() == "for" and item:
                nodes.append(_host_of(item))
            elif name.strip().lower() == "proto" and item:
                proto = item.lower()
    return nodes, proto


def _host_of(node: str) -> str:
    """`192.0.2.1:8080` -> `192.0.2.1`, `[2001:db8::1]:80` -> `2001:db8::1`."""
    if node.startswith("["):
        return node[1 : node.find("]")] if "]" in node else node
    host, _, port = node.rpartition(":")
    return host if host and port.isdigit() and ":" not in host else node


class ForwardedAsXForwarded:
    """Rewrites `Forwarded` into the X-Forwarded-For/-Proto that uvicorn's middleware reads,
    dropping any X-Forwarded-* sent alongside. Runs before ProxyHeadersMiddleware, which reads
    the result only when the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            kept: list[tuple[bytes, bytes]] = []
            forwarded: list[bytes] = []
            for name, value in scope["headers"]:
                if name == b"forwarded":
                    forwarded.append(value)
                elif name not in (b"x-forwarded-for", b"x-forwarded-proto"):
                    kept.append((name, value))
            nodes, proto = forwarded_for(b",".join(forwarded).decode("latin1"))
            if nodes:
                kept.append((b"x-forwarded-for", ", ".join(nodes).encode("latin1")))
            if proto:
                kept.append((b"x-forwarded-proto", proto.encode("latin1")))
            scope = {**scope, "headers": kept}
        await self.app(scope, receive, send)


def trusted_proxies(settings: Settings) -> list[str]:
    return [item.strip() for item in (settings.trusted_proxies or "").split(",") if item.strip()]


def client_address_middleware(settings: Settings) -> list[Middleware]:
    """Outermost middleware: none without trusted proxies (the socket's peer is the client)."""
    proxies = trusted_proxies(settings)
    if not proxies:
        return []
    believe = [Middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)]
    if settings.forwarded_header is ForwardedHeader.FORWARDED:
        believe.insert(0, Middleware(ForwardedAsXForwarded))  # outer: rewrites first
    return believe
