"""The embeddable widgets: the Web Components bundle at GET /widgets.js (web/src/widgets, built
into tradegraph/web/static/widgets) for pages on any site, and the widget builder page at
GET /widgets, where an admin picks a widget, previews it live and copies its snippet."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from tradegraph.web.dashboard import STATIC_DIRECTORY
from tradegraph.web.graphiql import STATIC_PREFIX

WIDGETS_SCRIPT = STATIC_DIRECTORY / "widgets" / "widgets.js"
SCRIPT_HEADERS = {
    # Host pages fetch it on every visit: a short cache, revalidated after.
    "Cache-Control": "public, max-age=300",
    # Embeddable under a host page's Cross-Origin-Embedder-Policy too.
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}

BUILDER_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tradegraph · widget builder</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{STATIC_PREFIX}/widgets/builder.css">
</head>
<body>
  <main id="app">Loading…</main>
  <script src="/widgets.js"></script>
  <script src="{STATIC_PREFIX}/widgets/builder.js"></script>
</body>
</html>
"""


async def widgets_script(request: Request) -> Response:
    """GET /widgets.js: <tg-ticker-tape>, <tg-quote>, <tg-mini-chart>, <tg-market-overview>."""
    return FileResponse(WIDGETS_SCRIPT, media_type="text/javascript", headers=SCRIPT_HEADERS)


async def widget_builder(request: Request) -> Response:
    """GET /widgets: the widget builder (its API calls need an ADMIN login)."""
    return HTMLResponse(BUILDER_HTML)
