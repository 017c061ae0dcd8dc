"""Helpers shared by the hidden tests: statement capture and query-plan reading."""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager

_NOT_ALIASES = {
    "WHERE",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "LIMIT",
    "HAVING",
    "WINDOW",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "INDEXED",
    "NOT",
    "AS",
    "SET",
    "VALUES",
    "WHEN",
    "THEN",
    "END",
    "AND",
    "OR",
}


def as_rows(result) -> list[tuple]:
    return [tuple(row) for row in result]


@contextmanager
def capture_statements(conn: sqlite3.Connection):
    """Collect every SQL statement the connection runs inside the block (parameters bound)."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        conn.set_trace_callback(None)


def is_transaction_control(sql: str) -> bool:
    words = sql.split(None, 1)
    return not words or words[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def names_for(table: str, sql: str) -> set[str]:
    """The table's own name plus any alias the statement gives it ('orders o', 'orders AS o')."""
    names = {table.lower()}
    for m in re.finditer(rf"\b{table}\b\s+(?:AS\s+)?([A-Za-z_]\w*)", sql, re.IGNORECASE):
        if m.group(1).upper() not in _NOT_ALIASES:
            names.add(m.group(1).lower())
    return names


def _normalise(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)


def plans_touching(conn: sqlite3.Connection, statements: list[str], table: str, limit: int = 20):
    """[(sql, table names, [plan detail, ...])] for distinct statements that mention `table`."""
    out, done = [], set()
    for sql in statements:
        if not re.search(rf"\b{table}\b", sql, re.IGNORECASE) or is_transaction_control(sql):
            continue
        key = _normalise(sql)
        if key in done:
            continue
        done.add(key)
        try:
            details = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        except sqlite3.Error:
            continue  # e.g. a temp table that no longer exists
        out.append((sql, names_for(table, sql), details))
        if len(out) >= limit:
            break
    return out


def full_reads(details: list[str], names: set[str]) -> list[str]:
    """Plan lines that read every row of the table: SCAN, or an index built on the fly."""
    bad = []
    for d in details:
        m = re.match(r"(SCAN|SEARCH) (\S+)", d)
        if not m or m.group(2).lower() not in names:
            continue
        if m.group(1) == "SCAN" or "AUTOMATIC" in d:
            bad.append(d)
    return bad


def month_searches(details: list[str], names: set[str]) -> list[str]:
    """Plan lines that SEARCH the table through a real index constrained on created_at."""
    good = []
    for d in details:
        m = re.match(r"SEARCH (\S+) USING (?:COVERING )?INDEX \S+ \((.*)\)", d)
        if not m or m.group(1).lower() not in names or "AUTOMATIC" in d:
            continue
        if re.search(r"created_at\s*[<>=]|<expr>", m.group(2)):
            good.append(d)
    return good
