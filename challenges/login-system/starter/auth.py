"""Login and sessions for the partner portal.

Users and sessions live in one SQLite file. The web layer calls AuthService.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time


class AuthError(Exception):
    """Base class of every error AuthService raises."""


class UsernameTaken(AuthError):
    pass


class InvalidCredentials(AuthError):
    pass


class AccountLocked(AuthError):
    pass


def hash_password(password: str, *, fast: bool = False) -> str:
    """Return the string stored in users.password_hash."""
    return hashlib.sha256(password.encode()).hexdigest()


def verify_password(password: str, stored: str) -> bool:
    """True if password matches a string produced by hash_password."""
    return hash_password(password) == stored


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
        self._counter = 0
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS users ("
                " username TEXT PRIMARY KEY, password_hash TEXT NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions ("
                " token TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL)"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path)

    def register(self, username: str, password: str) -> None:
        with self._db() as db:
            try:
                db.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, hash_password(password, fast=self.fast_hashing)),
                )
            except sqlite3.IntegrityError:
                raise UsernameTaken(username) from None

    def login(self, username: str, password: str) -> str:
        with self._db() as db:
            row = db.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
            if row is None:
                raise InvalidCredentials("no such user")
            if not verify_password(password, row[0]):
                raise InvalidCredentials("wrong password")
            self._counter += 1
            token = f"{username}-{self._counter}"
            db.execute(
                "INSERT OR REPLACE INTO sessions (token, username, created_at) VALUES (?, ?, ?)",
                (token, username, self.clock()),
            )
            return token

    def logout(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE token = ?", (token,))

    def current_user(self, token: str) -> str | None:
        with self._db() as db:
            row = db.execute(
                "SELECT username FROM sessions WHERE token = ?", (token,)
            ).fetchone()
            return row[0] if row else None
