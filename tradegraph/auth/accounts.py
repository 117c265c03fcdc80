"""Registration, login, token refresh and user administration."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from email_validator import EmailNotValidError, validate_email
from pymongo.errors import DuplicateKeyError

from tradegraph.auth.attempts import attempt_windows
from tradegraph.auth.lookalikes import skeleton
from tradegraph.auth.password_policy import check_password_rules
from tradegraph.auth.passwords import Passwords
from tradegraph.auth.principal import Principal
from tradegraph.auth.throttle import LoginThrottle, RegistrationThrottle
from tradegraph.auth.tokens import issue_access_token, new_refresh_token, refresh_token_hash
from tradegraph.auth.user_cache import UserCache
from tradegraph.config import Settings
from tradegraph.documents import RefreshToken, Role, User
from tradegraph.documents.lookup import by_id, by_ids
from tradegraph.errors import AlreadyExists, InvalidInput, NotAuthenticated

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    user: User


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(f"email is not valid: {error}", field="email") from error


class Accounts:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        windows = attempt_windows(settings.broadcast_url, settings.mongodb_database)
        self.throttle = LoginThrottle(
            windows,
            settings.login_max_failures,
            settings.login_max_failures_per_address,
            settings.login_lockout_seconds,
            settings.login_max_per_account_per_minute,
        )
        self.registrations = RegistrationThrottle(
            windows, settings.register_max_conflicts_per_address, settings.register_window_seconds
        )
        self.passwords = Passwords(
            settings.password_hash_concurrency, settings.password_hash_niceness
        )
        self.users = UserCache(self.get_user, settings.user_cache_seconds)

    async def close(self) -> None:
        await self.throttle.windows.close()
        self.passwords.close()

    async def create_user(self, email: str, password: str, role: Role) -> User:
        email = normalise_email(email)
        await self._check_password(password, email)
        return await self._insert_user(email, password, role)

    async def ensure_user(self, email: str, password: str, role: Role) -> bool:
        """Creates the user unless the email exists; True when created."""
        if await User.find_one(User.email == normalise_email(email)) is not None:
            return False
        try:
            await self.create_user(email, password, role)
        except AlreadyExists:  # another process created it meanwhile
            return False
        return True

    async def register(self, email: str, password: str, client_address: str) -> TokenPair:
        """A new TRADER, logged in. "Email taken" answers are limited per client address; only
        they are counted, once known."""
        email = normalise_email(email)
        await self._check_password(password, email)  # refused input is not counted
        await self.registrations.check(client_address)
        try:
            user = await self._insert_user(email, password, Role.TRADER)
        except AlreadyExists:
            await self.registrations.charge_conflict(client_address)
            raise
        return await self._issue(user, family_id=secrets.token_hex(16))

    async def login(self, email: str, password: str, client_address: str) -> TokenPair:
        """Tokens for a correct password. The attempt is counted before the password is
        verified, so the throttle bounds verified guesses whatever the concurrency."""
        try:
            key = normalise_email(email)
        except InvalidInput:
            key = email.strip().lower()  # still throttled, and answered like a wrong password
        slots = await self.throttle.reserve(key, client_address)
        user = await User.find_one(User.email == key)
        if not await self.passwords.verify(password, user.password_hash if user else None):
            raise NotAuthenticated("email or password is incorrect")
        await self.throttle.succeeded(slots)
        assert user is not None
        return await self._issue(user, family_id=secrets.token_hex(16))

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotates a refresh token: it is spent, a new pair is issued in the same family."""
        now = datetime.now(UTC)
        token_hash = refresh_token_hash(refresh_token)
        spent = await RefreshToken.get_pymongo_collection().find_one_and_update(
            {
                "token_hash": token_hash,
                "used_at": None,
                "revoked": False,
                "expires_at": {"$gt": now},
            },
            {"$set": {"used_at": now}},
        )
        if spent is None:
            await self._revoke_family_if_reused(token_hash)
            raise NotAuthenticated(
                "refresh token is invalid, expired or already used; log in again"
            )
        user = await User.get(spent["user_id"])
        if user is None:
            raise NotAuthenticated("the account of this refresh token no longer exists")
        return await self._issue(user, family_id=spent["family_id"])

    async def logout(self, session_id: str | None, refresh_token: str | None) -> int:
        """Revokes the refresh-token family of a session (an access token's `sid`) and/or of a
        refresh token: no token of that login can be refreshed again. Returns how many tokens
        were revoked (0: nothing was live)."""
        families: set[str] = {session_id} if session_id else set()
        if refresh_token:
            known = await RefreshToken.find_one(
                RefreshToken.token_hash == refresh_token_hash(refresh_token)
            )
            if known is not None:
                families.add(known.family_id)
        if not families:
            return 0
        revoked = await RefreshToken.get_pymongo_collection().update_many(
            {"family_id": {"$in": sorted(families)}, "revoked": False},
            {"$set": {"revoked": True}},
        )
        return revoked.modified_count

    async def get_user(self, user_id: str) -> User | None:
        return await by_id(User, user_id)

    async def users_by_ids(self, user_ids: Sequence[str]) -> list[User | None]:
        """Users in the order asked, None where unknown (for per-request DataLoaders)."""
        return await by_ids(User, user_ids)

    async def current_principal(self, user_id: str) -> Principal | None:
        """A token's user as stored now (cached a few seconds); None when deleted."""
        return await self.users.principal(user_id)

    async def _check_password(self, password: str, email: str) -> None:
        # zxcvbn is pure Python (~10 ms): in a thread the event loop runs meanwhile.
        await asyncio.to_thread(check_password_rules, password, email)

    async def fill_in_skeletons(self) -> int:
        """Stores the email skeleton of accounts created before it was kept (at startup); an
        account that looks like an earlier one keeps none and is logged. Returns how many."""
        filled = 0
        async for user in User.find({"email_skeleton": None}):  # missing (or null)
            try:
                await User.find_one(User.id == user.id).set(
                    {"email_skeleton": skeleton(user.email)}
                )
                filled += 1
            except DuplicateKeyError:
                log.warning("account email looks like another account's", user_id=str(user.id))
        return filled

    async def _insert_user(self, email: str, password: str, role: Role) -> User:
        user = User(
            email=email,
            email_skeleton=skeleton(email),
            password_hash=await self.passwords.hash(password),
            role=role,
            created_at=datetime.now(UTC),
        )
        try:
            await user.insert()
        except DuplicateKeyError as error:
            # The same email or one that looks like it (a skeleton match): one answer for both.
            raise AlreadyExists(
                "an account with this email, or one that looks like it, already exists; log "
                "in, or register another email"
            ) from error
        log.info("user created", user_id=str(user.id), role=role.value)
        return user

    async def _issue(self, user: User, family_id: str) -> TokenPair:
        refresh = new_refresh_token()
        await RefreshToken(
            token_hash=refresh_token_hash(refresh),
            user_id=user.id,
            family_id=family_id,
            expires_at=datetime.now(UTC)
            + timedelta(seconds=self.settings.refresh_token_ttl_seconds),
        ).insert()
        access = issue_access_token(
            Principal.of(user),
            self.settings.effective_jwt_secret,
            self.settings.access_token_ttl_seconds,
            session_id=family_id,
        )
        return TokenPair(access_token=access, refresh_token=refresh, user=user)

    async def _revoke_family_if_reused(self, token_hash: str) -> None:
        # A spent token presented again means it leaked: revoke everything rotated from it.
        known = await RefreshToken.find_one(RefreshToken.token_hash == token_hash)
        if known is not None and known.used_at is not None:
            await RefreshToken.find(RefreshToken.family_id == known.family_id).update_many(
                {"$set": {"revoked": True}}
            )
            log.warning("refresh token reused; token family revoked", user_id=str(known.user_id))
