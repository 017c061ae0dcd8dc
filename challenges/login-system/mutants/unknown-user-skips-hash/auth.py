"""Login and sessions for the partner portal.

Users and sessions live in one SQLite file. The web layer calls AuthService.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
import time
from contextlib import closing, contextmanager


class AuthError(Exception):
    """Base class of every error AuthService raises."""


class UsernameTaken(AuthError):
    pass


class InvalidCredentials(AuthError):
    pass


class AccountLocked(AuthError):
    pass


# scrypt parameters: (n, r, p). Production cost per OWASP; the fast set is for tests only.
SCRYPT_PARAMS = (2**14, 8, 1)
FAST_SCRYPT_PARAMS = (2**10, 8, 1)
SALT_BYTES = 16
KEY_BYTES = 32

_GENERIC_FAILURE = "invalid username or password"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, fast: bool = False) -> str:
    """Return the string stored in users.password_hash: scrypt$n$r$p$salt$key."""
    n, r, p = FAST_SCRYPT_PARAMS if fast else SCRYPT_PARAMS
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True if password matches a string produced by hash_password (parameters are read from it)."""
    try:
        algo, n, r, p, salt_b64, key_b64 = stored.split("$")
        if algo != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(key_b64)
        n, r, p = int(n), int(r), int(p)
    except ValueError:
        return False
    key = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=len(expected)
    )
    return hmac.compare_digest(key, expected)


def _token_digest(token: str) -> str:
    # Sessions are stored by digest, so a leaked database holds no usable tokens.
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        db_path,
        clock=time.time,
        *,
        session_ttl: float = 3600,
        max_failed_attempts: int = 5,
        lockout_seconds: float = 900,
        fast_hashing: bool = False,
    ):
        self.db_path = str(db_path)
        self.clock = clock
        self.session_ttl = session_ttl
        self.max_failed_attempts = max_failed_attempts
        self.lockout_seconds = lockout_seconds
        self.fast_hashing = fast_hashing
        # Unknown usernames are checked against this, so they cost the same as a wrong password.
        self._dummy_hash = hash_password(secrets.token_hex(16), fast=fast_hashing)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS users ("
                " username TEXT PRIMARY KEY, password_hash TEXT NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions ("
                " token_digest TEXT PRIMARY KEY, username TEXT NOT NULL,"
                " expires_at REAL NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS login_failures ("
                " username TEXT PRIMARY KEY, failures INTEGER NOT NULL, locked_until REAL)"
            )

    @contextmanager
    def _db(self):
        with closing(sqlite3.connect(self.db_path)) as conn:
            with conn:
                yield conn

    def register(self, username: str, password: str) -> None:
        stored = hash_password(password, fast=self.fast_hashing)
        with self._db() as db:
            try:
                db.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, stored),
                )
            except sqlite3.IntegrityError:
                raise UsernameTaken(username) from None

    def login(self, username: str, password: str) -> str:
        now = self.clock()
        with self._db() as db:
            fail = db.execute(
                "SELECT failures, locked_until FROM login_failures WHERE username = ?",
                (username,),
            ).fetchone()
            failures = 0
            if fail is not None:
                failures, locked_until = fail
                if locked_until is not None:
                    if now < locked_until:
                        raise AccountLocked("too many failed attempts; try again later")
                    failures = 0  # the lock has expired: start counting afresh
            row = db.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
            # Always run the KDF, for known and unknown usernames alike.
            ok = row is not None and verify_password(password, row[0])
            if not ok:
                failures += 1
                locked = now + self.lockout_seconds if failures >= self.max_failed_attempts else None
                db.execute(
                    "INSERT OR REPLACE INTO login_failures (username, failures, locked_until)"
                    " VALUES (?, ?, ?)",
                    (username, failures, locked),
                )
        if not ok:
            raise InvalidCredentials(_GENERIC_FAILURE)
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE username = ?", (username,))
            db.execute(
                "INSERT INTO sessions (token_digest, username, expires_at) VALUES (?, ?, ?)",
                (_token_digest(token), username, now + self.session_ttl),
            )
        return token

    def logout(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE token_digest = ?", (_token_digest(token),))

    def current_user(self, token: str) -> str | None:
        if not isinstance(token, str) or not token:
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT username, expires_at FROM sessions WHERE token_digest = ?",
                (_token_digest(token),),
            ).fetchone()
            if row is None:
                return None
            username, expires_at = row
            if self.clock() >= expires_at:
                db.execute(
                    "DELETE FROM sessions WHERE token_digest = ?", (_token_digest(token),)
                )
                return None
            return username
