"""Settings: the only place the environment is read."""

from __future__ import annotations

import base64
import os
import secrets
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Well-known development webhook secret so the README's signing example works out of the box.
# Refused in production (see Settings.check_production).
DEV_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tradegraph-development-only-key!").decode()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class MarketFeed(StrEnum):
    SIMULATED = "simulated"
    BINANCE = "binance"
    NONE = "none"


class ForwardedHeader(StrEnum):
    X_FORWARDED_FOR = "x-forwarded-for"
    FORWARDED = "forwarded"


def _spare_cores() -> int:
    """Password hashing leaves one core to the event loop (at least one hash at a time)."""
    return max(1, (os.cpu_count() or 2) - 1)


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Runtime configuration, from `TRADEGRAPH_*` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEGRAPH_", extra="ignore", populate_by_name=True
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="`production` refuses to start with the development secrets or the emulated "
        "store, and turns GraphiQL, introspection and the localhost CORS default off",
    )
    mongodb_url: str | None = Field(
        default=None,
        description="unset: the in-process MongoDB emulation (snapshotted to "
        "TRADEGRAPH_DATA_DIR); mongodb://… or mongodb+srv://…: a real MongoDB >= 7",
    )
    mongodb_database: str = Field(
        default="tradegraph",
        description="the database tradegraph uses, on a server and in the emulation's snapshot "
        "file name",
    )
    broadcast_url: str = Field(
        default="memory://",
        description="pub/sub between subscribers and writers: memory:// (one process) or "
        "redis://host:6379/0 (several processes or replicas)",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key for access tokens, at least 32 characters; unset: a random key per "
        "process (with a warning; tokens die with the process). Set it when running several "
        "processes",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks secret whsec_<base64 key> (key at least 24 bytes) that "
        "POST /webhooks/events verifies; unset: a well-known development secret, with a warning",
    )
    admin_email: str | None = Field(
        default=None,
        description="with TRADEGRAPH_ADMIN_PASSWORD: this ADMIN account is created at startup if "
        "missing",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="the password of TRADEGRAPH_ADMIN_EMAIL's account when it is created",
    )
    access_token_ttl_seconds: int = Field(
        default=900,
        gt=0,
        description="access token lifetime; a WebSocket whose token expires closes 4403 `token "
        "expired`",
    )
    refresh_token_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        gt=0,
        description="refresh token lifetime (30 days)",
    )
    webhook_tolerance_seconds: int = Field(
        default=300,
        gt=0,
        description="accepted difference between a webhook's webhook-timestamp and the server's "
        "clock; further is 400",
    )
    webhook_max_body_bytes: int = Field(
        default=20 * 1024 * 1024,
        gt=0,
        description="larger webhook bodies are refused with 413 while they stream in",
    )
    summary_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how long an eventSummary result is reused (this process's own writes clear "
        "it)",
    )
    subscriber_queue_size: int = Field(
        default=1000,
        gt=0,
        description="messages a subscriber may lag behind before its subscription ends with "
        "SUBSCRIBER_TOO_SLOW",
    )
    outbox_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="with Redis: how often each process looks for messages waiting in the outbox "
        "for the broker (and retries delivering them)",
    )
    ws_keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        description="server ping on idle graphql-transport-ws sockets (`ka` on legacy graphql-ws)",
    )
    ws_init_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="a socket whose connection_init does not arrive in time is closed 4408",
    )
    ws_compression: bool = Field(
        default=False,
        description="permessage-deflate on WebSockets: smaller frames, but zlib state per socket; "
        "off keeps each socket small",
    )
    max_connections_per_user: int = Field(
        default=20,
        gt=0,
        description="WebSockets one user may hold open; past it the socket closes 4429 (counted "
        "per server process)",
    )
    max_subscriptions_per_user: int = Field(
        default=200,
        gt=0,
        description="live subscriptions of one user across all its sockets; past it subscribe "
        "gets RATE_LIMITED and the socket stays open (counted per server process)",
    )
    max_running_requests_per_caller: int = Field(
        default=2,
        gt=0,
        description="GraphQL queries and mutations of one caller (a token's user, else a client "
        "address), over HTTP and WebSocket, that run at once; more wait their turn in arrival "
        "order, so one caller's flood never queues many steps ahead of everyone else's "
        "(counted per server process)",
    )
    max_waiting_requests_per_caller: int = Field(
        default=128,
        ge=0,
        description="queries and mutations of one caller that may wait for a turn (128: what "
        "one browser can have in flight over HTTP/2); past it RATE_LIMITED (HTTP 429), before "
        "the request body is read",
    )
    widget_key_max_connections: int = Field(
        default=1000,
        gt=0,
        description="WebSockets one widget key (embeddable widgets) may hold open; past it the "
        "next is closed 4429 (counted per server process)",
    )
    widget_key_max_subscriptions: int = Field(
        default=10000,
        gt=0,
        description="live subscriptions of one widget key across all its sockets; past it "
        "subscribe gets RATE_LIMITED and the socket stays open (counted per server process)",
    )
    login_max_failures: int = Field(
        default=5,
        gt=0,
        description="passwords verified per (email, client address) per lockout window; more are "
        "RATE_LIMITED unchecked (counted in Redis when the broker is Redis)",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        gt=0,
        description="failed logins per client address, across all emails, per lockout window",
    )
    login_max_per_account_per_minute: int = Field(
        default=30,
        gt=0,
        description="logins, successful or not, per (email, client address) per minute; more "
        "are RATE_LIMITED before the password is verified (each costs an argon2 verification)",
    )
    login_lockout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="the login throttle window; it starts at its first failure",
    )
    register_max_conflicts_per_address: int = Field(
        default=5,
        gt=0,
        description='"email already taken" (CONFLICT) answers per client address per register '
        "window; then RATE_LIMITED",
    )
    register_window_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="the register throttle window (see "
        "TRADEGRAPH_REGISTER_MAX_CONFLICTS_PER_ADDRESS)",
    )
    password_hash_concurrency: int = Field(
        default_factory=_spare_cores,
        ge=1,
        le=64,
        description="argon2 hashes/verifications run at once, in low-priority threads; the "
        "rest queue. Default: the number of cores less one (at least 1), so hashing never "
        "takes the core the event loop needs",
    )
    password_hash_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="scheduling niceness of the hashing threads (Linux, per thread): higher "
        "yields the CPU to the event loop sooner; 19 also yields to every other process on the "
        "host, which can stall logins on a busy machine; 0: normal priority",
    )
    user_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how long a token's stored user (role, existence) is reused before it is read "
        "again; 0: every request",
    )
    market_feed: MarketFeed = Field(
        default=MarketFeed.SIMULATED,
        description="where quotes come from: `simulated` (GBM per instrument), `binance` (public "
        "streams), `none` (only the publishQuote mutation)",
    )
    simulated_seed: int | None = Field(
        default=None,
        description="same seed, same simulated price paths (per symbol); unset: random",
    )
    simulated_drift: float = Field(
        default=0.05,
        description="annualised drift of the simulated GBM price paths",
    )
    simulated_volatility: float = Field(
        default=0.30,
        ge=0,
        description="annualised volatility of the simulated GBM price paths",
    )
    demo: bool = Field(
        default=True,
        description="development only: the first `serve` on an empty store (no instruments) "
        "loads the demo universe, its price history and synthetic events, as `serve --seed` "
        "does, so the dashboard has a live market at once; false: start with an empty store",
    )
    seed_history_days: int = Field(
        default=30,
        ge=1,
        description="serve --seed and seed: days of one-minute price history stored per "
        "instrument, ending now",
    )
    simulated_tick_seconds: float = Field(
        default=1.0,
        gt=0,
        description="the simulated feed quotes every instrument this often",
    )
    binance_url: str = Field(
        default="wss://stream.binance.com:9443",
        description="base URL of Binance's combined streams (TRADEGRAPH_MARKET_FEED=binance)",
    )
    binance_symbols: str = Field(
        default="BTCUSDT,ETHUSDT",
        description="comma-separated symbols the Binance feed streams; create them as instruments",
    )
    fee_bps: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=1000,
        description="fee on each fill's notional, in basis points; charged in whole units of the "
        "currency's cash (rounded down), so cash stays exact",
    )
    slippage_bps: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=1000,
        description="price moved against the trader on each fill, in basis points, rounded to the "
        "tick",
    )
    tick_retention_seconds: int | None = Field(
        default=None,
        gt=0,
        description="ticks older than this are deleted (MongoDB: a TTL on the time-series "
        "collection, updated at startup; emulation: a sweeper); unset: one hour on the emulation, "
        "7 days on MongoDB. Candles are stored bars and outlive ticks",
    )
    tick_sweep_seconds: float = Field(
        default=60.0,
        gt=0,
        description="emulation only: how often expired ticks are deleted",
    )
    data_dir: Path | None = Field(
        default=Path(".tradegraph-data"),
        description="emulation only: the snapshot and journal go to <dir>/<database>.snapshot."
        "bson and .journal.*; empty: memory only, nothing survives a restart",
    )
    snapshot_seconds: float = Field(
        default=30.0,
        gt=0,
        description="emulation only: how often a snapshot truncates the journal (longer for a "
        "store whose snapshot takes over a tenth of it)",
    )
    order_expiry_check_seconds: float = Field(
        default=1.0,
        gt=0,
        description="how often DAY orders past their session close are expired",
    )
    portfolio_value_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="a portfolioValue subscription sends at most once per this",
    )
    loading_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="emulation only: after a restart, how long a call needing market data not "
        "loaded yet waits before it is answered SERVICE_UNAVAILABLE with Retry-After",
    )
    journal_sync_ms: int = Field(
        default=100,
        ge=0,
        le=60_000,
        description="emulation only: every write is journaled before it is acknowledged and "
        "fsynced within this many milliseconds (group commit); 0: fsynced before every "
        "acknowledgement",
    )
    feed_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="resumable feeds: how often each process reads its followed sequences' "
        "counters (one read for all subscribers) to find messages the broker lost",
    )
    feed_max_replay: int = Field(
        default=1000,
        gt=0,
        le=4000,
        description="resumable feeds: the most stored messages one `after` replays; a cursor "
        "further behind is refused with BAD_USER_INPUT",
    )
    feed_gap_grace_seconds: float = Field(
        default=2.0,
        gt=0,
        description="resumable feeds: how long a missing cursor (a writer in another process) is "
        "waited for before it is skipped",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias="OPENAI_API_KEY",
        description="enables model-written insights; unset: TEMPLATE insights stating the facts",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="any OpenAI-compatible Chat Completions server; unset: api.openai.com",
    )
    openai_model: str = Field(
        default="gpt-4o-mini",
        validation_alias="OPENAI_MODEL",
        description="the model insights are written by (their cost is estimated for known models)",
    )
    insight_language: str = Field(
        default="en",
        min_length=2,
        max_length=35,
        description="language of insights, a BCP 47 tag such as pt-BR",
    )
    insight_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        description="timeout of each OpenAI call; past the retries the answer is the TEMPLATE "
        "with a reason",
    )
    insight_max_retries: int = Field(
        default=2,
        ge=0,
        le=5,
        description="retries of a failed OpenAI call before the TEMPLATE answer",
    )
    insight_cache_seconds: int = Field(
        default=900,
        gt=0,
        description="how long insight serves a cached text for unchanged facts",
    )
    backtest_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        gt=0,
        description="worker processes optimisation grids run on (started at the first "
        "optimisation, stopped with the server); default: the core count",
    )
    risk_benchmark_symbol: str = Field(
        default="BOVA11",
        description="the instrument portfolioRisk.beta is measured against",
    )
    runs_per_user: int = Field(
        default=2,
        gt=0,
        description="backtests and optimisations of one user computed at once (per process); "
        "the user's further runs wait QUEUED",
    )
    queued_runs_per_user: int = Field(
        default=10,
        ge=0,
        description="runs of one user that may wait QUEUED (per process); one more is RATE_LIMITED",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="unset: GET /metrics answers loopback clients only (403 otherwise); set (at "
        "least 16 characters): only requests with Authorization: Bearer <token> (401 otherwise), "
        "from anywhere. Behind a proxy on the same host, set it",
    )
    graphql_max_depth: int = Field(
        default=10,
        gt=0,
        description="nested fields of a query (a leaf is 0; introspection not counted); deeper is "
        "QUERY_TOO_COMPLEX",
    )
    graphql_max_aliases: int = Field(
        default=30,
        ge=0,
        description="aliases in a document, counted at every fragment spread",
    )
    graphql_max_tokens: int = Field(
        default=10_000,
        gt=0,
        description="lexical tokens of a document, checked while parsing",
    )
    graphql_max_fields: int = Field(
        default=1_000,
        gt=0,
        description="field selections once every fragment is expanded",
    )
    graphql_max_cost: int = Field(
        default=50_000,
        gt=0,
        description="estimated fields resolved: what a list selects counts once per item, at its "
        "first/limit (20 when nothing sizes it)",
    )
    graphql_max_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="larger POST /graphql bodies get 413",
    )
    ws_max_message_bytes: int | None = Field(
        default=None,
        gt=0,
        description="the largest WebSocket message taken (larger: close 1009); unset: "
        "TRADEGRAPH_GRAPHQL_MAX_BODY_BYTES, the same as an HTTP request body",
    )
    graphiql: bool | None = Field(
        default=None,
        description="GraphiQL at GET /graphql; unset: on in development, off in production",
    )
    introspection: bool | None = Field(
        default=None,
        description="introspection queries; unset: on in development, off in production",
    )
    cors_origins: str | None = Field(
        default=None,
        description="comma-separated origins whose pages may call the API over HTTP (CORS) and "
        "WebSocket (origin check), e.g. https://app.example.com,http://localhost:5173; '*': any; "
        "empty: none. Unset: http://localhost and http://127.0.0.1 on any port in development, "
        "none in production",
    )
    dashboard: bool = Field(
        default=True,
        description="the live dashboard at GET /; false: / redirects to /graphql",
    )
    export_link_seconds: int = Field(
        default=60,
        gt=0,
        le=3600,
        description="how long a link from exportUrl downloads its CSV",
    )
    log_level: str = Field(
        default="INFO",
        description="the lowest level logged: DEBUG, INFO, WARNING or ERROR",
    )
    log_format: LogFormat = Field(
        default=LogFormat.CONSOLE,
        description="`console` for people, `json` for one structured line per record",
    )
    public_url: str | None = Field(
        default=None,
        description="the server's address as browsers reach it (https://trading.example.com), "
        "used for links it hands out (exportUrl); unset: links are built from the request's "
        "own address only when its Host header names this server's socket, else left relative",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="comma-separated addresses or networks (10.0.0.0/8, '*' for any) of "
        "reverse proxies whose forwarding header tells the client's address (and https); "
        "unset: the socket's peer is the client, and forwarding headers are ignored",
    )
    forwarded_header: ForwardedHeader = Field(
        default=ForwardedHeader.X_FORWARDED_FOR,
        description="which header the trusted proxies set: x-forwarded-for (with "
        "X-Forwarded-Proto) or forwarded (RFC 7239; X-Forwarded-* are then ignored)",
    )
    max_portfolio_cash: Decimal = Field(
        default=Decimal(1_000_000_000),
        gt=0,
        le=Decimal(10) ** 18,  # amounts are below 10^18 (decimals.py)
        description="the most paper cash one portfolio may hold after a deposit, in its base "
        "currency; a deposit past it is BAD_USER_INPUT",
    )

    @field_validator("mongodb_url")
    @classmethod
    def _mongodb_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://, or be unset")
        return value or None

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_dir_is_memory_only(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("openai_api_key", "openai_base_url", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (HS256 needs a 256-bit key)")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError("must be a Standard Webhooks secret: whsec_<base64 key>")
        try:
            key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
        except ValueError as error:
            raise ValueError("the part after whsec_ must be base64") from error
        if len(key) < 24:
            raise ValueError("the key must be at least 24 bytes")
        return value

    @property
    def uses_emulated_store(self) -> bool:
        return self.mongodb_url is None

    @property
    def effective_tick_retention_seconds(self) -> int:
        """TRADEGRAPH_TICK_RETENTION_SECONDS, else one hour on the emulation, 7 days on MongoDB."""
        if self.tick_retention_seconds is not None:
            return self.tick_retention_seconds
        return 3600 if self.uses_emulated_store else 7 * 24 * 3600

    @property
    def effective_ws_max_message_bytes(self) -> int:
        """TRADEGRAPH_WS_MAX_MESSAGE_BYTES, else the HTTP body cap."""
        return self.ws_max_message_bytes or self.graphql_max_body_bytes

    @property
    def uses_memory_broker(self) -> bool:
        return self.broadcast_url.startswith("memory://")

    def worker_problems(self) -> list[str]:
        """What keeps several worker processes from sharing state; empty when nothing does."""
        problems = []
        if self.uses_memory_broker:
            problems.append(
                "set TRADEGRAPH_BROADCAST_URL=redis://host:6379/0 (memory:// reaches one process)"
            )
        if self.uses_emulated_store:
            problems.append(
                "set TRADEGRAPH_MONGODB_URL=mongodb://host:27017 (the emulation lives in one "
                "process)"
            )
        return problems

    @property
    def graphiql_enabled(self) -> bool:
        """GraphiQL at GET /graphql: TRADEGRAPH_GRAPHIQL, else only outside production."""
        if self.graphiql is not None:
            return self.graphiql
        return self.environment is not Environment.PRODUCTION

    @property
    def introspection_enabled(self) -> bool:
        """Introspection queries: TRADEGRAPH_INTROSPECTION, else only outside production."""
        if self.introspection is not None:
            return self.introspection
        return self.environment is not Environment.PRODUCTION

    @cached_property
    def effective_jwt_secret(self) -> str:
        """The configured secret, or a per-process random one (tokens die with the process)."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        return secrets.token_urlsafe(48)

    @property
    def effective_webhook_secret(self) -> str:
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return DEV_WEBHOOK_SECRET

    def development_defaults_in_use(self) -> list[str]:
        """Names of settings left to their insecure development defaults."""
        missing = []
        if self.jwt_secret is None:
            missing.append("TRADEGRAPH_JWT_SECRET")
        if self.webhook_secret is None:
            missing.append("TRADEGRAPH_WEBHOOK_SECRET")
        return missing

    def check_production(self) -> None:
        """Refuse to start in production with development defaults or an in-memory store."""
        if self.environment is not Environment.PRODUCTION:
            return
        problems = [f"{name} must be set" for name in self.development_defaults_in_use()]
        if self.uses_emulated_store:
            problems.append("TRADEGRAPH_MONGODB_URL must point to a real MongoDB")
        if problems:
            raise RuntimeError("production configuration incomplete: " + "; ".join(problems))
