"""Widget keys: created by an admin for a site's origins (and optionally a few symbols),
shown once, stored as a hash, checked on every socket and request, and revocable.

A revocation reaches every process over the broker (channel WIDGET_KEYS_REVOKED), which closes
the key's open sockets at once; a process whose broker subscription was interrupted (it may have
missed one) asks the store about the keys it serves when it subscribes again. Admissions are
cached for a few seconds per process, and a revocation clears the cache entry; the cache is
trusted only while the revocation subscription is live (a message may be missed otherwise).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from beanie import PydanticObjectId

from tradegraph.documents.lookup import by_id
from tradegraph.documents.widget_keys import WidgetKey
from tradegraph.errors import (
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from tradegraph.pubsub.broker import Broker, Subscription
from tradegraph.pubsub.channels import WIDGET_KEYS_REVOKED
from tradegraph.widgets.grants import WidgetGrant
from tradegraph.widgets.origins import normalise_origin, parse_origins

log = structlog.get_logger(__name__)

KEY_PREFIX = "wk_"
MAX_ORIGINS = 20
MAX_SYMBOLS = 100
MAX_NAME_LENGTH = 100
MAX_KEY_LENGTH = 100  # longer text is not a key: refused before hashing
CACHE_SECONDS = 5.0  # how long an admission is trusted without asking the store again
CACHE_MAX_ENTRIES = 10_000
RESUBSCRIBE_SECONDS = 1.0

UNKNOWN = "widget key unknown: copy the snippet again from the /widgets page"
REVOKED = "widget key revoked: ask the site owner for a new one"
NO_ORIGIN = "a widget key is accepted only from a web page: the request has no Origin header"


class WidgetKeyRefused(NotAuthenticated):
    """The key is not one the server knows, or it was revoked."""


class WidgetOriginRefused(PermissionDenied):
    """A valid key presented from an origin it does not list (or with none)."""


class TwoCredentials(MalformedRequest):
    """A widget key and an access token at once: the caller must pick one."""


@dataclass(frozen=True)
class _Known:
    """What the cache remembers of a key."""

    key_id: str
    name: str
    hint: str
    origins: frozenset[str]
    symbols: frozenset[str] | None
    revoked: bool

    @classmethod
    def of(cls, stored: WidgetKey) -> _Known:
        return cls(
            key_id=str(stored.id),
            name=stored.name,
            hint=stored.key_hint,
            origins=frozenset(stored.origins),
            symbols=frozenset(stored.symbols) if stored.symbols is not None else None,
            revoked=stored.revoked_at is not None,
        )


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


SymbolCheck = Callable[[list[str], int], Awaitable[list[str]]]
OnRevoked = Callable[[str], Awaitable[None]]


class WidgetKeys:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._cache: dict[str, tuple[float, _Known | None]] = {}
        # Keys this process knows are revoked: a lookup that was in flight when the revocation
        # came may still have read the key as active, and must not admit it.
        self._revoked: set[str] = set()
        self._on_revoked: OnRevoked | None = None
        # The live subscription to WIDGET_KEYS_REVOKED: while there is none, or it was
        # interrupted, a revocation may go unheard, so no cached admission is trusted.
        self._revocations: Subscription[str] | None = None

    async def create(
        self,
        name: str,
        origins: list[str],
        symbols: list[str] | None,
        created_by: str,
        known_symbols: SymbolCheck,
    ) -> tuple[WidgetKey, str]:
        """A new key and its text (shown once). Origins must be plain scheme://host[:port];
        symbols, when given, must be known instruments (`known_symbols` normalises them)."""
        name = name.strip()
        if not 0 < len(name) <= MAX_NAME_LENGTH:
            raise InvalidInput(f"name must be 1 to {MAX_NAME_LENGTH} characters", field="name")
        listed = parse_origins(origins, MAX_ORIGINS)
        if symbols is not None and not symbols:
            raise InvalidInput(
                "symbols: give 1 to 100 symbols, or null for every instrument", field="symbols"
            )
        covered = await known_symbols(symbols, MAX_SYMBOLS) if symbols is not None else None
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        stored = WidgetKey(
            name=name,
            key_hash=key_hash(key),
            key_hint=key[: len(KEY_PREFIX) + 6],
            origins=listed,
            symbols=covered,
            created_at=datetime.now(UTC),
            created_by=created_by,
        )
        await stored.insert()
        log.info("widget key created", key_id=str(stored.id), name=name, origins=listed)
        return stored, key

    async def all(self) -> list[WidgetKey]:
        """Every key, newest first, revoked ones included."""
        return await WidgetKey.find_all().sort("-created_at").to_list()

    async def revoke(self, key_id: str) -> WidgetKey:
        """Revokes a key (again is harmless) and ends its open sockets in every process."""
        stored = await by_id(WidgetKey, key_id)
        if stored is None:
            raise NotFound(f"no widget key {key_id}; see widgetKeys", id=key_id)
        if stored.revoked_at is None:
            stored.revoked_at = datetime.now(UTC)
            await stored.save()
            log.info("widget key revoked", key_id=key_id, name=stored.name)
        self._forget(key_id)
        if self._on_revoked is not None:  # this process's sockets, even while the broker is down
            await self._on_revoked(key_id)
        await self.broker.publish(WIDGET_KEYS_REVOKED, json.dumps({"id": key_id}))
        return stored

    async def admit(self, presented: object, origin: str | None) -> WidgetGrant:
        """The grant of a presented key from a page on `origin`; WidgetKeyRefused for an unknown
        or revoked key, WidgetOriginRefused for a missing or unlisted origin."""
        if (
            not isinstance(presented, str)
            or not presented.startswith(KEY_PREFIX)
            or len(presented) > MAX_KEY_LENGTH
        ):
            raise WidgetKeyRefused(UNKNOWN)
        known = await self._lookup(key_hash(presented))
        # No await from here on: a socket admitted now is listed before any revocation can run.
        if known is None:
            raise WidgetKeyRefused(UNKNOWN)
        if known.revoked or known.key_id in self._revoked:
            raise WidgetKeyRefused(REVOKED)
        if origin is None:
            raise WidgetOriginRefused(NO_ORIGIN)
        if normalise_origin(origin) not in known.origins:
            raise WidgetOriginRefused(
                f"origin {origin[:60]} is not allowed for widget key {known.hint}…"
            )
        return WidgetGrant(known.key_id, known.name, known.symbols)

    async def revoked_among(self, key_ids: Iterable[str]) -> list[str]:
        """Which of these keys are revoked in the store (one query)."""
        ids = [PydanticObjectId(k) for k in key_ids if PydanticObjectId.is_valid(k)]
        if not ids:
            return []
        found = await WidgetKey.find({"_id": {"$in": ids}, "revoked_at": {"$ne": None}}).to_list()
        return [str(stored.id) for stored in found]

    async def watch_revocations(
        self, on_revoked: OnRevoked, open_keys: Callable[[], Collection[str]]
    ) -> None:
        """Runs until cancelled: `on_revoked(key_id)` for every key revoked in any process.
        After (re)subscribing it checks the keys of `open_keys()` in the store: while the
        subscription was down a revocation may have been missed."""
        self._on_revoked = on_revoked
        while True:
            try:
                async with self.broker.subscribe(WIDGET_KEYS_REVOKED, _revoked_ids) as live:
                    self._cache.clear()  # read while a revocation could go unheard
                    self._revocations = live
                    for key_id in await self.revoked_among(open_keys()):
                        self._forget(key_id)
                        await on_revoked(key_id)
                    async for key_id in live:
                        self._forget(key_id)
                        await on_revoked(key_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # cancelled while unsubscribing
                    raise asyncio.CancelledError from error
                log.warning("widget key revocations: subscribing again", error=str(error))
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
            finally:
                self._revocations = None

    def _cache_trusted(self) -> bool:
        """Whether every revocation from now on reaches this process (see _revocations)."""
        return self._revocations is not None and not self._revocations.interrupted

    async def _lookup(self, hashed: str) -> _Known | None:
        now = time.monotonic()
        trusted = self._cache_trusted()
        cached = self._cache.get(hashed) if trusted else None
        if cached is not None and cached[0] > now:
            return cached[1]
        stored = await WidgetKey.find_one({"key_hash": hashed})
        known = _Known.of(stored) if stored is not None else None
        if not trusted:
            return known
        if len(self._cache) >= CACHE_MAX_ENTRIES:
            self._cache.clear()  # bounded: a flood of made-up keys cannot grow it
        self._cache[hashed] = (now + CACHE_SECONDS, known)
        return known

    def _forget(self, key_id: str) -> None:
        """`key_id` is revoked: refused from now on, whatever a cached or in-flight read says."""
        self._revoked.add(key_id)
        stale = [h for h, (_, known) in self._cache.items() if known and known.key_id == key_id]
        for hashed in stale:
            del self._cache[hashed]


def _revoked_ids(message: object) -> list[str]:
    key_id = message.get("id") if isinstance(message, dict) else None
    return [key_id] if isinstance(key_id, str) else []
