"""Web origins as a widget key lists them: plain `scheme://host[:port]`, normalised the way
browsers send the `Origin` header (lower case, no default port), so matching is exact."""

from __future__ import annotations

import ipaddress
import re

from tradegraph.errors import InvalidInput

MAX_ORIGIN_LENGTH = 260
DEFAULT_PORTS = {"http": 80, "https": 443}
_ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z]+)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
)
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def normalise_origin(text: str) -> str | None:
    """`text` as a browser would send it in `Origin`, or None when it is not a plain
    http(s) origin (a path, query, user info, `null`, a wildcard, a bad host or port)."""
    if len(text) > MAX_ORIGIN_LENGTH:
        return None
    match = _ORIGIN.fullmatch(text.strip())
    if match is None:
        return None
    scheme = match["scheme"].lower()
    if scheme not in DEFAULT_PORTS:
        return None
    host = _host(match["host"].lower())
    port = int(match["port"]) if match["port"] is not None else None
    if host is None or (port is not None and not 0 < port <= 65535):
        return None
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origins(values: list[str], maximum: int) -> list[str]:
    """1 to `maximum` origins, normalised, each once; BAD_USER_INPUT naming the first that is
    not a plain `scheme://host[:port]`."""
    if not 0 < len(values) <= maximum:
        raise InvalidInput(f"give 1 to {maximum} origins", field="origins")
    parsed = []
    for value in values:
        origin = normalise_origin(value)
        if origin is None:
            raise InvalidInput(
                f"origin {value[:80]!r} is not a plain scheme://host[:port] "
                "(http or https, no path, no trailing slash), e.g. https://www.example.com",
                field="origins",
            )
        parsed.append(origin)
    return list(dict.fromkeys(parsed))


def _host(host: str) -> str | None:
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    if len(host) > 253:
        return None
    labels = host.split(".")
    if all(_LABEL.fullmatch(label) for label in labels):
        return host
    return None
