"""Who may read GET /metrics: loopback clients, or, once a token is configured, only
requests that carry it (`Authorization: Bearer <TRADEGRAPH_METRICS_TOKEN>`).

Behind a reverse proxy on the same host every request comes from loopback: set a token there.
"""

from __future__ import annotations

import hmac
import ipaddress

from pydantic import SecretStr
from starlette.requests import Request

from tradegraph.auth.tokens import bearer_token
from tradegraph.errors import NotAuthenticated, PermissionDenied


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.0.0.1). Anything else,
    including a missing or unparsable address, is not loopback."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # no IPv6 zone id
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def check_access(request: Request, token: SecretStr | None) -> None:
    """Returns when the request may read the metrics; raises FORBIDDEN or UNAUTHENTICATED."""
    if token is None:
        if is_loopback(request.client.host if request.client else None):
            return
        raise PermissionDenied(
            "metrics are served to loopback clients only; set TRADEGRAPH_METRICS_TOKEN on the "
            "server and send Authorization: Bearer <token> to scrape from elsewhere"
        )
    sent = bearer_token(request.headers.get("authorization"))
    expected = token.get_secret_value()
    if sent is not None and hmac.compare_digest(sent.encode(), expected.encode()):
        return
    raise NotAuthenticated(
        "send Authorization: Bearer <TRADEGRAPH_METRICS_TOKEN>"
        if sent is None
        else "the metrics token does not match TRADEGRAPH_METRICS_TOKEN"
    )
