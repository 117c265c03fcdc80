"""Every example of README.md and of the GraphQL guide works on a server started like
`serve --seed`.

The ```graphql blocks of EXAMPLE_PAGES are split into operations and run in order (the pages
build on each other: the portfolio made on one is traded on the next), as an admin, against a
seeded server with the simulated feed. Placeholders are filled in from earlier results: "…" ids
(the portfolio, an open order, the last backtest/optimisation), the refresh token, the admin's
password, and each `from`/`to` pair of dates becomes the last two days (the seeded history).
A subscription must deliver a first result, after the page's own trigger when it needs one.

The ```bash blocks of SHELL_PAGES run as written against the same server (only its address
changes), or are listed in NOT_RUN with the reason; a new shell example must be one or the other.
"""

from __future__ import annotations

import asyncio
import json
import re
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login_admin, server_settings
from tests.support.clients import GraphQLClient, TransportWS, connected
from tests.support.fake_openai import FakeOpenAI
from tradegraph.auth.password_policy import check_password_rules
from tradegraph.cli import _seed
from tradegraph.config import Settings
from tradegraph.server import RunningServer, start_server

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
# In reading order: later pages use what earlier ones made (a portfolio, orders, a backtest).
EXAMPLE_PAGES = [
    README,
    ROOT / "docs/graphql/queries.md",
    ROOT / "docs/graphql/trading.md",
    ROOT / "docs/graphql/analytics.md",
    ROOT / "docs/graphql/subscriptions.md",
]
KEYWORD = re.compile(r"\b(query|mutation|subscription)\b")
DATE = re.compile(r'"\d{4}-\d\d-\d\dT[0-9:]+Z"')
# The seeded server already lists PETR4: the README's createInstrument shows the call only.
EXPECTED_ERRORS = {"createInstrument": "CONFLICT"}
# Subscriptions that send nothing until something happens, and what the README does for it.
TRIGGERS = {
    "eventCreated": 'mutation { ingestEvent(input: {userId: "u9", type: "purchase", value: 5}) '
    "{ id } }",
    "orderUpdates": 'mutation { placeOrder(input: {portfolioId: "…", symbol: "PETR4", side: BUY,'
    ' type: MARKET, quantity: "1"}) { id } }',
    "insightCreated": 'mutation { generateInsight(range: "7d") { text } }',
}

RUNS = ("backtestProgress", "optimizationProgress")  # followed until the run ends


def operations(markdown: str) -> list[str]:
    """The operations of every ```graphql block, comments removed, in README order."""
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", markdown, re.DOTALL):
        text = "\n".join(line.split("#")[0] for line in block.splitlines())
        depth, start = 0, None
        for index, char in enumerate(text):
            if depth == 0 and start is None and KEYWORD.match(text, index):
                start = index
            depth += {"{": 1, "}": -1}.get(char, 0)
            if char == "}" and depth == 0 and start is not None:
                found.append(text[start : index + 1].strip())
                start = None
    return found


def root_field(operation: str) -> str:
    match = re.search(r"\{\s*(\w+)", operation)
    assert match, operation
    return match.group(1)


def non_empty(value: Any) -> bool:
    if isinstance(value, dict):
        return any(non_empty(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value is not None


class Examples:
    """Runs README operations in order, filling placeholders from what came before."""

    def __init__(self, running: RunningServer, gql: GraphQLClient, admin: str) -> None:
        self.running = running
        self.gql = gql
        self.admin = admin
        self.ids: dict[str, str] = {}
        self.refresh = ""
        now = datetime.now(UTC)
        self.dates = ((now - timedelta(days=2)).isoformat(), now.isoformat())

    def fill(self, operation: str) -> str:
        operation = operation.replace("change-me-now", ADMIN_PASSWORD)
        operation = operation.replace('"admin@example.com"', f'"{ADMIN_EMAIL}"')
        operation = operation.replace('refreshToken: "…"', f'refreshToken: "{self.refresh}"')
        for key in ("portfolioId", "portfolio(id"):
            portfolio = self.ids.get("portfolio", "")
            operation = operation.replace(f'{key}: "…"', f'{key}: "{portfolio}"')
        field = root_field(operation)
        kind = {"backtestProgress": "backtest", "optimizationProgress": "optimization"}
        wanted = kind.get(field, field if field in ("optimization",) else "order")
        operation = operation.replace('id: "…"', f'id: "{self.ids.get(wanted, "")}"')
        dates = iter(self.dates * 10)
        return DATE.sub(lambda _: f'"{next(dates)}"', operation)

    def remember(self, field: str, data: dict[str, Any]) -> None:
        value: Any = data.get(field)
        if field == "createPortfolio":
            self.ids["portfolio"] = value["id"]
        elif field == "placeOrder" and value.get("status") in ("NEW", "ACCEPTED"):
            self.ids["order"] = value["id"]
        elif field == "runBacktest":
            self.ids["backtest"] = value["id"]
        elif field == "optimizeBacktest":
            self.ids["optimization"] = value["id"]
        elif field == "login" and "refreshToken" in value:
            self.refresh = value["refreshToken"]

    async def run(self, operation: str) -> dict[str, Any]:
        field = root_field(operation)
        if field == "replaceOrder":  # the README cancelled its order just before: place another
            await self.open_order()
        operation = self.fill(operation)
        if operation.startswith("subscription"):
            return await self.subscribe(operation, field)
        body = await self.gql.execute(operation, None, self.admin)
        if field in EXPECTED_ERRORS and body.get("errors"):
            assert body["errors"][0]["extensions"]["code"] == EXPECTED_ERRORS[field], body
            return {field: "expected error"}
        assert not body.get("errors"), (operation, body["errors"])
        data: dict[str, Any] = body["data"]
        assert data, operation
        assert all(non_empty(v) for v in data.values()), (operation, data)
        self.remember(field, data)
        if field == "placeOrder" and "type: MARKET" in operation:
            await self.filled(data[field]["id"])  # the README goes on to sell what it bought
        return data

    async def filled(self, order_id: str) -> None:
        """Waits for a MARKET order to fill: quoted sizes may split it over a few quotes."""
        query = "query($id: ID!) { order(id: $id) { status } }"
        async with asyncio.timeout(30):
            while True:
                order = (await self.gql.data(query, {"id": order_id}, self.admin))["order"]
                if order["status"] == "FILLED":
                    return
                await asyncio.sleep(0.2)  # fills follow quotes; polled, as a client would

    async def open_order(self) -> None:
        place = self.fill(
            'mutation { placeOrder(input: {portfolioId: "…", symbol: "PETR4", side: BUY, '
            'type: LIMIT, quantity: "100", limitPrice: "1.00", timeInForce: GTC}) { id status } }'
        )
        self.remember("placeOrder", (await self.gql.data(place, None, self.admin)))

    async def subscribe(self, operation: str, field: str) -> dict[str, Any]:
        client = await connected(self.running.url, self.admin)
        try:
            await client.subscribe("1", operation)
            if field in TRIGGERS:
                await asyncio.sleep(0.5)  # no acknowledgement exists for a subscription
                await self.gql.data(self.fill(TRIGGERS[field]), None, self.admin)
            message = await first_result(client)
            while field in RUNS and message["type"] == "next":  # read on to the end of the run
                status = message["payload"]["data"][field]["status"]
                if status not in ("PENDING", "RUNNING", "QUEUED"):
                    break
                message = await first_result(client)
        finally:
            await client.close()
        assert message["type"] == "next", (operation, message)
        payload = message["payload"]
        assert not payload.get("errors"), (operation, payload)
        assert non_empty(payload["data"][field]), (operation, payload)
        return dict(payload["data"])


async def first_result(client: TransportWS) -> dict[str, Any]:
    return await client.receive(timeout=120)


@pytest.fixture(scope="module")
async def seeded(fake_openai: FakeOpenAI) -> AsyncIterator[RunningServer]:
    # Three days of price history are enough: the examples' dates move into the last two.
    # The development webhook secret, as `make serve` has it: the signing example uses it.
    settings = server_settings(market_feed="simulated", seed_history_days=3, webhook_secret=None)
    running = await start_server(settings)
    await _seed(running.app.state.services, days=3, users=5)
    yield running
    await running.stop()


def test_the_readmes_links_lead_to_files() -> None:
    # The docs site's own links are checked by `mkdocs build --strict`; the README is not in it.
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local, "the README links into docs/"
    assert [link for link in local if not (ROOT / link).exists()] == []


def example_operations() -> list[str]:
    return [op for page in EXAMPLE_PAGES for op in operations(page.read_text())]


def test_the_readme_and_the_guide_have_examples_of_every_kind() -> None:
    readme = {op.split(None, 1)[0] for op in operations(README.read_text())}
    assert readme == {"query", "mutation", "subscription"}  # the five-minute tour
    found = example_operations()
    assert {op.split(None, 1)[0] for op in found} == {"query", "mutation", "subscription"}
    assert len(found) >= 43, found  # 43 when written


async def test_every_readme_and_guide_example_returns_data(seeded: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=seeded.url, timeout=60) as http:
        gql = GraphQLClient(http)
        examples = Examples(seeded, gql, await login_admin(gql))
        for operation in example_operations():
            await examples.run(operation)


# Shell examples ------------------------------------------------------------------------------

SHELL_PAGES = [
    README,
    ROOT / "docs/getting-started.md",
    ROOT / "docs/graphql/queries.md",
    ROOT / "docs/http/webhooks.md",
    ROOT / "docs/operations/deploying.md",
    ROOT / "docs/operations/backups.md",
]
# Shown but not run here, each for a reason; anything else in a ```bash block must be run.
NOT_RUN = {
    "make serve": "installs and starts a server: what every test server is",
    "make test": "the command running this test",
    "serve --seed": "what the `seeded` fixture does in-process (start_server + _seed)",
    "docker compose up": "needs Docker and a MongoDB image",
    "mongodump": "needs a real MongoDB and its tools",
}
SIGNED_WEBHOOK = "webhook-signature: v1,$SIG"
REGISTER_WITH_CURL = '"Authorization: Bearer $TOKEN"'


def shell_blocks() -> list[str]:
    return [
        block
        for page in SHELL_PAGES
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.DOTALL)
    ]


def on_server(block: str, running: RunningServer) -> str:
    return block.replace("http://127.0.0.1:8000", running.url)


async def run_bash(script: str, cwd: Path | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script, cwd=cwd, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (script, err.decode())
    return out.decode()


def test_every_shell_example_is_run_or_says_why_not() -> None:
    blocks = shell_blocks()
    unexplained = [
        block
        for block in blocks
        if SIGNED_WEBHOOK not in block
        and REGISTER_WITH_CURL not in block
        and not any(command in block for command in NOT_RUN)
    ]
    assert unexplained == []
    # The README's webhook example is the webhooks page's, word for word.
    signed = {block for block in blocks if SIGNED_WEBHOOK in block}
    assert len(signed) == 1, signed


async def test_the_signed_webhook_example_stores_once(seeded: RunningServer) -> None:
    (block,) = {block for block in shell_blocks() if SIGNED_WEBHOOK in block}
    script = on_server(block, seeded)
    curl = script[script.index("curl ") :]
    # As the README says: the same request again (same id and signature) stores nothing new.
    out = await run_bash(f"{script}\necho\n{curl}")
    first, again = (json.loads(line) for line in out.splitlines())
    assert first == {"received": 1, "stored": 1, "duplicates": 0}
    assert again == {"received": 1, "stored": 0, "duplicates": 1}


async def test_the_env_file_example_writes_settings_production_accepts(tmp_path: Path) -> None:
    (block,) = [block for block in shell_blocks() if "cat > .env" in block]
    script = block[: block.index("docker compose")]  # everything but starting the containers
    out = await run_bash(script, cwd=tmp_path)
    env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
    assert out.strip() == f"TRADEGRAPH_ADMIN_PASSWORD={env['TRADEGRAPH_ADMIN_PASSWORD']}"
    # docker-compose.yml adds the rest: production, a MongoDB and Redis.
    values: dict[str, object] = {"environment": "production", "mongodb_url": "mongodb://mongo"}
    values.update({name.removeprefix("TRADEGRAPH_").lower(): v for name, v in env.items()})
    Settings(**values).check_production()  # type: ignore[arg-type]  # no development secret
    check_password_rules(env["TRADEGRAPH_ADMIN_PASSWORD"], env["TRADEGRAPH_ADMIN_EMAIL"])


async def test_the_curl_example_registers_and_queries(seeded: RunningServer) -> None:
    (block,) = [block for block in shell_blocks() if REGISTER_WITH_CURL in block]
    # A fresh email: the GraphQL examples register ana@example.com on this server too.
    script = on_server(block, seeded).replace("ana@example.com", "ana-shell@example.com")
    body = json.loads(await run_bash(script))
    assert "errors" not in body, body
    assert body["data"]["me"]["email"] == "ana-shell@example.com"
    assert body["data"]["me"]["role"] == "TRADER"
    assert body["data"]["events"]["totalCount"] == 0  # a TRADER sees only their own events
