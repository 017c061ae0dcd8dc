"""SQL console back end (headless): read-only queries on a workspace database, with timing.

Which databases: every *.db / *.sqlite / *.sqlite3 file in the workspace; when there is none,
the workspace's *.sql files are executed into an in-memory database (challenges that build
their data from a schema). Queries on files open them with `mode=ro`, so the console can never
change the candidate's data.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
MAX_ROWS = 1000


@dataclass
class QueryResult:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    """EXPLAIN QUERY PLAN, one indented line per step."""
    elapsed_ms: float = 0.0
    truncated: bool = False
    error: str = ""


def find_sources(workspace: Path) -> list[Path]:
    """Database files in the workspace, else its .sql scripts (sorted, relative order)."""
    dbs = sorted(p for p in workspace.rglob("*") if p.is_file() and p.suffix.lower() in DB_SUFFIXES)
    if dbs:
        return dbs
    # a schema script first: that is the one that builds tables to query
    scripts = [p for p in workspace.rglob("*.sql") if p.is_file()]
    return sorted(scripts, key=lambda p: ("schema" not in p.name.lower(), p.as_posix()))


def has_database(workspace: Path) -> bool:
    return bool(find_sources(workspace))


def _connect(source: Path) -> sqlite3.Connection:
    if source.suffix.lower() == ".sql":
        conn = sqlite3.connect(":memory:")
        # a scratch-query file: its statements may not build anything
        with contextlib.suppress(sqlite3.Error):
            conn.executescript(source.read_text(encoding="utf-8"))
        return conn
    return sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)


def run_query(source: Path, sql: str, max_rows: int = MAX_ROWS) -> QueryResult:
    """Run one statement read-only; never raises for SQL errors (they land in .error)."""
    result = QueryResult()
    sql = sql.strip().rstrip(";")
    if not sql:
        result.error = "Type a query first."
        return result
    try:
        conn = _connect(source)
    except sqlite3.Error as exc:
        result.error = f"Cannot open {source.name}: {exc}."
        return result
    try:
        try:
            plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            depth: dict[int, int] = {0: 0}
            for node_id, parent, _notused, detail in plan:
                level = depth.get(parent, 0) + 1 if parent else 0
                depth[node_id] = level
                result.plan.append("  " * level + str(detail))
        except sqlite3.Error:
            pass  # statements without a plan (PRAGMA...) still run
        start = time.perf_counter()
        cur = conn.execute(sql)
        rows = cur.fetchmany(max_rows + 1)
        result.elapsed_ms = (time.perf_counter() - start) * 1000
        result.columns = [d[0] for d in cur.description or []]
        result.truncated = len(rows) > max_rows
        result.rows = [tuple(r) for r in rows[:max_rows]]
    except sqlite3.Error as exc:
        result.error = str(exc)
    finally:
        conn.close()
    return result
