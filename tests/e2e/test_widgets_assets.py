"""What /widgets.js and the /widgets builder page are served as (issue 26): the bundle for any
site, and a builder page that works under `script-src 'self'; style-src 'self'`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

import tradegraph.web

STATIC = Path(tradegraph.web.__file__).parent / "static" / "widgets"


async def test_widgets_js_is_the_bundle_defining_the_four_elements(http: httpx.AsyncClient) -> None:
    response = await http.get("/widgets.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (STATIC / "widgets.js").read_bytes()
    for element in ("tg-ticker-tape", "tg-quote", "tg-mini-chart", "tg-market-overview"):
        assert f'"{element}"' in response.text


async def test_the_builder_page_has_no_inline_script_style_or_handler(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/widgets")
    assert response.status_code == 200
    html = response.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [attributes for attributes, body in scripts if "src=" not in attributes or body] == []
    assert "<style" not in html
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert (await http.get(asset)).status_code == 200, asset


def test_the_bundles_set_no_inline_style_attributes() -> None:
    """widgets.js runs under the host page's CSP: no `style` attribute, no inline handlers."""
    for name in ("widgets.js", "builder.js"):
        text = (STATIC / name).read_text()
        assert 'setAttribute("style"' not in text
        assert ".innerHTML" not in text
