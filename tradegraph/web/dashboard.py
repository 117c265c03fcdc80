"""The built-in trading terminal at GET / (web/src/dashboard.ts, bundled into
tradegraph/web/static/dashboard): a GraphQL client like any other, served same-origin."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from tradegraph.web.graphiql import STATIC_PREFIX

STATIC_DIRECTORY = Path(__file__).parent / "static"

DASHBOARD_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tradegraph · trading terminal</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{STATIC_PREFIX}/dashboard/dashboard.css">
</head>
<body>
  <div id="app">Loading…</div>
  <script src="{STATIC_PREFIX}/dashboard/dashboard.js"></script>
</body>
</html>
"""


def static_files() -> StaticFiles:
    """The bundled assets of the dashboard and GraphiQL, shipped as package data."""
    return StaticFiles(directory=STATIC_DIRECTORY)


async def dashboard(request: Request) -> Response:
    """GET /: the trading terminal."""
    return HTMLResponse(DASHBOARD_HTML)


async def no_dashboard(request: Request) -> Response:
    """GET / with TRADEGRAPH_DASHBOARD=false: point at the API instead of a 404."""
    return RedirectResponse("/graphql", status_code=307)
