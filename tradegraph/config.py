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


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Runtime configuration, from `TRADEGRAPH_*` environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="TRADEGRAPH_", extra="ignore", populate_by_name=True
    )

    environment: Environment = Environment.DEVELOPMENT
    mongodb_url: str | None = Field(
        default=None, description="unset: in-process emulation; mongodb://…: a real server"
    )
    mongodb_database: str = "tradegraph"
    broadcast_url: str = "memory://"
    jwt_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    webhook_tolerance_seconds: int = Field(default=300, gt=0)
    webhook_max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    summary_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    subscriber_queue_size: int = Field(default=1000, gt=0)
    outbox_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="how often each process looks for messages waiting for the broker",
    )
    ws_keepalive_seconds: float = Field(default=15.0, gt=0)
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_compression: bool = Field(
        default=False,
        description="permessage-deflate on WebSockets: smaller frames, but zlib state per socket",
    )
    max_connections_per_user: int = Field(
        default=20, gt=0, description="WebSockets one user may hold open (per process); 4429"
    )
    max_subscriptions_per_user: int = Field(
        default=200,
        gt=0,
        description="live subscriptions of one user across its sockets (per process)",
    )
    login_max_failures: int = Field(
        default=5,
        gt=0,
        description="password guesses verified per (email, client address) per lockout window",
    )
    login_max_failures_per_address: int = Field(
        default=20,
        gt=0,
        description="failed logins per client address, across all emails, per lockout window",
    )
    login_lockout_seconds: float = Field(
        default=300.0, gt=0, description="a throttle window; starts at its first failure"
    )
    register_max_conflicts_per_address: int = Field(
        default=5,
        gt=0,
        description='"email already taken" answers per client address per register window',
    )
    register_window_seconds: float = Field(default=3600.0, gt=0)
    password_hash_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description="argon2 hashes/verifications run at once (in threads); the rest queue",
    )
    user_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="how long a token's stored user (role, existence) is reused; 0: every time",
    )
    market_feed: MarketFeed = MarketFeed.SIMULATED
    simulated_seed: int | None = Field(
        default=None, description="same seed, same simulated prices; unset: random"
    )
    simulated_drift: float = Field(default=0.05, description="annualised GBM drift")
    simulated_volatility: float = Field(default=0.30, ge=0, description="annualised GBM vol")
    seed_history_days: int = Field(
        default=30, ge=1, description="serve --seed / seed: days of one-minute bars per instrument"
    )
    simulated_tick_seconds: float = Field(default=1.0, gt=0, description="per instrument")
    binance_url: str = "wss://stream.binance.com:9443"
    binance_symbols: str = Field(default="BTCUSDT,ETHUSDT", description="comma-separated")
    fee_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    tick_retention_seconds: int | None = Field(
        default=None,
        gt=0,
        description="how long ticks are kept; unset: one hour on the emulation, 7 days on MongoDB",
    )
    tick_sweep_seconds: float = Field(
        default=60.0, gt=0, description="emulation only: how often expired ticks are deleted"
    )
    data_dir: Path | None = Field(
        default=Path(".tradegraph-data"),
        description="emulation only: where snapshots are kept; empty: memory only",
    )
    snapshot_seconds: float = Field(
        default=30.0, gt=0, description="emulation only: how often the store is snapshotted"
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
    order_expiry_check_seconds: float = Field(default=1.0, gt=0)
    portfolio_value_interval_seconds: float = Field(default=1.0, gt=0)
    feed_poll_seconds: float = Field(
        default=2.0, gt=0, description="resumable feeds: idle subscribers re-read the store"
    )
    feed_gap_grace_seconds: float = Field(
        default=2.0, gt=0, description="resumable feeds: wait this long for a missing cursor"
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(
        default=None,
        validation_alias="OPENAI_BASE_URL",
        description="any OpenAI-compatible server; unset: api.openai.com",
    )
    openai_model: str = Field(default="gpt-4o-mini", validation_alias="OPENAI_MODEL")
    insight_language: str = Field(default="en", min_length=2, max_length=35)
    insight_timeout_seconds: float = Field(default=15.0, gt=0)
    insight_max_retries: int = Field(default=2, ge=0, le=5)
    insight_cache_seconds: int = Field(default=900, gt=0)
    backtest_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        gt=0,
        description="processes optimisations run their grids on (default: the core count)",
    )
    risk_benchmark_symbol: str = Field(default="BOVA11", description="beta is measured against it")
    metrics_token: SecretStr | None = Field(
        default=None,
        description="unset: GET /metrics answers loopback clients only; set: only requests "
        "with Authorization: Bearer <token>",
    )
    graphql_max_depth: int = Field(default=10, gt=0, description="nested fields, leaves are 0")
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_tokens: int = Field(default=10_000, gt=0, description="lexical tokens per document")
    graphql_max_fields: int = Field(
        default=1_000, gt=0, description="field selections once every fragment is expanded"
    )
    graphql_max_cost: int = Field(
        default=50_000, gt=0, description="fields resolved, lists counted at first/limit items"
    )
    graphql_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    graphiql: bool | None = Field(default=None, description="unset: on in development only")
    introspection: bool | None = Field(default=None, description="unset: on in development only")
    cors_origins: str | None = Field(
        default=None,
        description="comma-separated origins whose pages may call the API over HTTP and "
        "WebSocket ('*': any); unset: http://localhost and http://127.0.0.1 on any port in "
        "development, none in production",
    )
    dashboard: bool = Field(default=True, description="the live dashboard at GET /")
    export_link_seconds: int = Field(
        default=60, gt=0, le=3600, description="how long an exportUrl link works"
    )
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.CONSOLE

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
