"""Codes people read out and type: start codes and receipt codes.

Crockford's base32 (digits and capitals without I, L, O, U), shown in groups of four. Typing is
forgiving: case, spaces and dashes do not matter, and O, I and L are read as 0, 1 and 1.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_READ_AS = {"O": "0", "I": "1", "L": "1"}
GROUP = 4
CODE_CHARS = 16
"""Start and receipt codes: 16 characters, 80 bits, four groups of four."""


def encode(data: bytes, chars: int = CODE_CHARS) -> str:
    """The first ``chars`` * 5 bits of ``data`` as base32 characters (no grouping)."""
    if len(data) * 8 < chars * 5:
        raise ValueError("not enough bits for that many characters")
    value = int.from_bytes(data, "big") >> (len(data) * 8 - chars * 5)
    out = []
    for _ in range(chars):
        out.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def grouped(code: str) -> str:
    """ABCD-EFGH-JKMN-PQRS."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str, chars: int = CODE_CHARS) -> str | None:
    """The code as typed, in canonical form (no dashes), or None when it cannot be one."""
    raw = "".join(text.split()).replace("-", "").upper()
    raw = "".join(_READ_AS.get(c, c) for c in raw)
    if len(raw) != chars or any(c not in _VALUE for c in raw):
        return None
    return raw


def new_code(chars: int = CODE_CHARS) -> str:
    """A fresh random code, grouped."""
    return grouped(encode(secrets.token_bytes((chars * 5 + 7) // 8), chars))


def differing_positions(a: str, b: str) -> list[int]:
    """Positions where two canonical codes differ (all of them when lengths differ)."""
    if len(a) != len(b):
        return list(range(max(len(a), len(b))))
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
