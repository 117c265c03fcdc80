"""GraphiQL from assets shipped in this package (tradegraph/web/static/graphiql, built from
web/src/graphiql.tsx): the page loads nothing from another host."""

from __future__ import annotations

STATIC_PREFIX = "/static"
# The page's one inline style; the Content-Security-Policy allows exactly it, by its hash.
INLINE_STYLE = "html, body, #graphiql { height: 100%; margin: 0; }"

GRAPHIQL_HTML = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tradegraph · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{STATIC_PREFIX}/graphiql/graphiql.css">
  <style>{INLINE_STYLE}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{STATIC_PREFIX}/graphiql/graphiql.js"></script>
</body>
</html>
"""


class OfflineGraphiQL:
    """Mixed into the GraphQL view: its IDE page is ours instead of Strawberry's CDN one."""

    @property
    def graphql_ide_html(self) -> str:
        return GRAPHIQL_HTML
