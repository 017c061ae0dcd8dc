"""The session file on disk: schema, canonical bytes, the hash chain, and safe opening.

Everything that writes or reads a ``*.tasession`` file agrees on the definitions here;
``docs/session-format.md`` describes the same thing for people.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import sqlite3
import stat
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError

#: Bumped when the schema or the canonical bytes change incompatibly. New files are written
#: in this version; a file keeps the version it was created in (a resumed version-1 file is
#: continued as version 1).
FORMAT_VERSION = 2
#: The versions this code reads (and continues when resuming).
READ_VERSIONS = (1, 2)
#: Version 2: once the events table (the tail) holds this many events, the writer moves them
#: into one compressed pack, in the same transaction as the batch that fills it.
PACK_EVENTS = 512
#: The value of meta.format; tells a session file apart from any other SQLite file.
FORMAT_NAME = "tui-assess-session"
#: The link before the first event: sha256 of this fixed tag.
GENESIS_TAG = b"tui-assess session chain v1"
GENESIS_LINK = hashlib.sha256(GENESIS_TAG).hexdigest()
#: File name suffix of a session file and of its final-link sidecar.
SUFFIX = ".tasession"
SIDECAR_SUFFIX = ".link"

SCHEMA_SQL = {
    "events": (
        "CREATE TABLE IF NOT EXISTS events ("
        "seq INTEGER PRIMARY KEY, t_mono REAL NOT NULL, wall REAL NOT NULL, "
        "kind TEXT NOT NULL, payload TEXT NOT NULL, link TEXT NOT NULL)"
    ),
    "blobs": (
        "CREATE TABLE IF NOT EXISTS blobs ("
        "sha256 TEXT PRIMARY KEY, data BLOB NOT NULL, size INTEGER NOT NULL)"
    ),
    "meta": "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
}
#: Version 2: events are the tail (fewer than PACK_EVENTS, rows as in version 1); packs hold
#: every earlier event; a blob may be stored as a delta against a full blob (``base``).
SCHEMA_V2_SQL = {
    "events": SCHEMA_SQL["events"],
    "packs": (
        "CREATE TABLE IF NOT EXISTS packs ("
        "first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, size INTEGER NOT NULL, "
        "data BLOB NOT NULL, links BLOB NOT NULL)"
    ),
    "blobs": (
        "CREATE TABLE IF NOT EXISTS blobs ("
        "sha256 TEXT PRIMARY KEY, data BLOB NOT NULL, size INTEGER NOT NULL, base TEXT)"
    ),
    "meta": SCHEMA_SQL["meta"],
}


def canonical_json(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, ASCII (\\uXXXX escapes, so
    any Python string, even a lone surrogate, is storable), no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _number(x: Any) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"not a number: {x!r}")
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"not a finite number: {x!r}")
    return json.dumps(x)


def canonical_event_bytes(seq: int, t: float, wall: float, kind: str, payload_text: str) -> bytes:
    """The bytes an event's link covers: ``[seq,t,wall,kind,payload]`` as canonical JSON.

    ``payload_text`` is the stored payload column verbatim (already canonical JSON), so a
    verifier hashes exactly what is on disk and any change to it, even of spacing, shows.
    Numbers are spelled the way Python's json module spells them (shortest round-trip repr).
    """
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise ValueError(f"not an integer sequence number: {seq!r}")
    if not isinstance(kind, str) or not isinstance(payload_text, str):
        raise ValueError("kind and payload must be text")
    head = f"[{seq},{_number(t)},{_number(wall)},{json.dumps(kind)},"
    return (head + payload_text + "]").encode("utf-8")


def next_link(prev_link: str, event_bytes: bytes) -> str:
    """link_n = sha256(bytes.fromhex(link_{n-1}) + canonical bytes of event n), as hex."""
    return hashlib.sha256(bytes.fromhex(prev_link) + event_bytes).hexdigest()


def apply_edit(text: str, offset: int, deleted: int, inserted: str) -> str:
    """The one definition of an edit, shared by the recorder's shadow copy and replay."""
    return text[:offset] + inserted + text[offset + deleted :]


def encode_text(text: str | bytes) -> bytes:
    """Workspace content as bytes: UTF-8, lone surrogates kept (so any str round-trips)."""
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def decode_text(data: bytes) -> str:
    """The inverse of encode_text; bytes that are not UTF-8 become surrogate escapes."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape")


def blob_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def compress_delta(data: bytes, base: bytes) -> bytes:
    """``data`` compressed with ``base`` as zlib's preset dictionary (version 2 blobs): a file
    that changed a little since ``base`` costs about its changes."""
    packer = zlib.compressobj(9, zdict=base)
    return packer.compress(data) + packer.flush()


#: The most a reader inflates one blob to when the blob records no usable size, and the most
#: replay holds in memory for one file. Far above any workspace file a session records; far
#: below what a zlib bomb (about 1000:1) can claim.
MAX_BLOB_BYTES = 64 * 2**20
_INFLATE_CHUNK = 2**20


class BlobError(ValueError):
    """A blob that does not inflate to exactly its recorded content; the text says why."""


def _inflate_limit(size: object, cap: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return cap  # no usable size recorded: the sane cap bounds it
    return size


def _inflate_chunks(data: object, size: object, cap: int,
                    zdict: bytes | None = None) -> Iterator[bytes]:
    """Inflate ``data`` in chunks; BlobError as soon as it exceeds its recorded ``size`` (or
    ``cap`` when no usable size is recorded).

    Never holds more than one chunk beyond what the caller keeps, whatever the data claims.
    """
    limit = _inflate_limit(size, cap)
    what = (f"its recorded size of {limit} bytes" if limit == size
            else f"{cap} bytes (no usable size is recorded)")
    if not isinstance(data, bytes):
        raise BlobError("is not compressed data")
    inflater = zlib.decompressobj() if zdict is None else zlib.decompressobj(zdict=zdict)
    produced = 0
    pending = data
    try:
        while not inflater.eof:
            room = limit + 1 - produced
            chunk = inflater.decompress(pending, min(room, _INFLATE_CHUNK))
            produced += len(chunk)
            if produced > limit:
                raise BlobError(f"inflates beyond {what}")
            pending = inflater.unconsumed_tail
            if not chunk:
                break  # no progress: the stream ends early
            yield chunk
        if not inflater.eof:
            raise BlobError("is cut short (its compressed data is incomplete)")
        if inflater.unused_data:
            raise BlobError("has data after its compressed content")
    except zlib.error as exc:
        raise BlobError(f"is not valid compressed data ({exc})") from None


def inflate(data: object, size: object, cap: int = MAX_BLOB_BYTES,
            zdict: bytes | None = None) -> bytes:
    """A blob's content, bounded: never more than its recorded ``size`` (nor than ``cap``).

    BlobError when it inflates beyond that, to less, or is not zlib data -- a zlib bomb costs
    at most ``min(size, cap)`` bytes of memory, never what it would inflate to.
    """
    if _inflate_limit(size, cap) > cap:
        raise BlobError(f"records {size} bytes, more than replay reads ({cap} bytes)")
    out = b"".join(_inflate_chunks(data, size, cap, zdict))
    if isinstance(size, int) and not isinstance(size, bool) and len(out) != size:
        raise BlobError(f"inflates to {len(out)} bytes, not its recorded {size}")
    return out


def check_blob(digest: str, data: object, size: object, cap: int = MAX_BLOB_BYTES) -> str | None:
    """What is wrong with one stored blob (plain words), or None when it is intact.

    Streams: hashes chunk by chunk, so checking a blob never holds its content in memory; the
    recorded size (or ``cap`` when none is recorded) bounds how much is inflated.
    """
    h = hashlib.sha256()
    got = 0
    try:
        for chunk in _inflate_chunks(data, size, cap):
            h.update(chunk)
            got += len(chunk)
    except BlobError as exc:
        return str(exc)
    if isinstance(size, bool) or not isinstance(size, int) or got != size:
        return f"inflates to {got} bytes, not its recorded size {size!r}"
    if h.hexdigest() != digest:
        return "does not match its hash"
    return None


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, seq: int, link: str) -> None:
    """Write ``<seq> <link>`` next to the session file, atomically (a new temp file, fsynced,
    renamed over the sidecar). The temp file is created exclusively with a fresh name, never
    opened through a name someone may have planted (a symlink there is not followed)."""
    side = sidecar_path(path)
    fd, tmp = tempfile.mkstemp(prefix=side.name + ".", suffix=".tmp", dir=side.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(f"{seq} {link}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, side)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: A sidecar is one line: a sequence number and a 64-digit link.
SIDECAR_MAX_BYTES = 256


def read_sidecar(path: Path) -> tuple[int | None, str] | None:
    """The sidecar's (seq, link), or None when there is no readable sidecar.

    A sidecar holding only a link (no seq) is accepted too. Only a regular file is read, and
    only its first few hundred bytes: a fifo, a device or a link to one (planted to hang or
    flood the verifier) is "present but unreadable", never waited on.
    """
    side = sidecar_path(path)
    try:
        fd = os.open(side, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return None, ""  # a link or an unreadable file: verify reports it
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, ""
        raw = os.read(fd, SIDECAR_MAX_BYTES + 1)
    except OSError:
        return None, ""
    finally:
        os.close(fd)
    if len(raw) > SIDECAR_MAX_BYTES:
        return None, ""
    try:
        text = raw.decode("ascii").split()
    except UnicodeDecodeError:
        return None, ""
    if len(text) == 1:
        return None, text[0].lower()
    if len(text) == 2 and text[0].isdigit():
        return int(text[0]), text[1].lower()
    return None, ""  # present but unreadable: verify reports it


@dataclass(frozen=True)
class Event:
    """One recorded event, as stored."""

    seq: int
    t: float
    """Seconds since the session started (monotonic clock, continued across resumes)."""
    wall: float
    """Wall-clock time, Unix seconds."""
    kind: str
    payload: dict[str, Any]
    link: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": self.t, "kind": self.kind, "payload": self.payload}


def _not_session(path: Path, why: str) -> UserError:
    return UserError(f"{path} is not a tui-assess session file ({why}).")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        conn.close()
        # A WAL-mode file in a read-only folder cannot get its -shm. Without a -wal file
        # there is nothing uncheckpointed to miss, so reading it as immutable is exact.
        if path.with_name(path.name + "-wal").exists():
            raise
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open a session file for reading, or raise UserError when it is not one.

    Read-only (``mode=ro``): verifying or replaying never changes the file.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except OSError as exc:  # a folder on the way you may not enter, a name too long, a loop
        raise UserError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{path} is not a file.")
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise UserError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if head != b"SQLite format 3\x00":
        raise _not_session(path, "it is not an SQLite database")
    try:
        conn = _connect_readonly(path)
        # Damaged text must not raise while decoding: keep invalid bytes as surrogates, and
        # let the chain check (which encodes strictly) report the event.
        conn.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"events", "blobs", "meta"} <= tables:
            conn.close()
            raise _not_session(path, "it has no events, blobs and meta tables")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except (sqlite3.Error, ValueError) as exc:
        raise _not_session(path, f"SQLite cannot read it: {exc}") from None
    if meta.get("format") != FORMAT_NAME:
        conn.close()
        raise _not_session(path, "its meta table does not name the session format")
    try:
        version = int(meta.get("format_version", "0"))
    except ValueError:
        version = 0
    if version not in READ_VERSIONS:
        conn.close()
        raise UserError(
            f"{path} uses session format version {meta.get('format_version')!r}; "
            f"this tui-assess reads versions {', '.join(map(str, READ_VERSIONS))}."
        )
    if version >= 2:
        try:
            _present_v2(conn, tables)
        except (sqlite3.Error, ValueError) as exc:
            conn.close()
            raise _not_session(path, f"SQLite cannot read it: {exc}") from None
    return conn


# ---------------------------------------------------------------------- format version 2
#
# A version-2 file stores the same events and the same chain as version 1, more compactly:
# all but the last events sit in packs (one zlib stream of their canonical bytes, one line
# each, and their 32-byte links side by side), and a blob may be a delta against a full blob.
# A reader's connection (open_readonly) presents it exactly as version 1: a TEMP table
# ``events`` (every event, unpacked) and a TEMP view ``blobs`` (every blob as plain zlib)
# shadow the stored tables, so every query written for version 1 reads version 2 unchanged.

LINK_BYTES = 32


def pack_events(rows: list[tuple[Any, ...]]) -> tuple[int, int, int, bytes, bytes]:
    """(first_seq, last_seq, size, data, links) of a pack holding ``rows`` (events rows as
    stored: seq, t_mono, wall, kind, payload, hex link), in seq order."""
    text = b"\n".join(canonical_event_bytes(*r[:5]) for r in rows)
    links = b"".join(bytes.fromhex(r[5]) for r in rows)
    return rows[0][0], rows[-1][0], len(text), zlib.compress(text, 9), links


#: One canonical line: [seq,t,wall,"kind",payload]; the kind is a JSON string.
_LINE = re.compile(r'\[(-?[0-9]+),([^,]+),([^,]+),("(?:[^"\\]|\\.)*"),(.*)\]', re.DOTALL)


def _unpack_line(line: str) -> tuple[int, float, float, str, str]:
    """seq, t, wall, kind, payload text of one canonical line; ValueError when malformed."""
    m = _LINE.fullmatch(line)
    if m is None:
        raise ValueError("not an event")
    seq, t, wall, kind, payload = m.groups()
    return int(seq), float(t), float(wall), (json.loads(kind) if "\\" in kind else kind[1:-1]), \
        payload


def unpack_events(first_seq: int, size: object, data: object, links: object
                  ) -> list[tuple[Any, ...]]:
    """A pack's events as rows (seq, t_mono, wall, kind, payload, hex link).

    Never raises: a pack that cannot be read ends in a row of its next event number with
    no fields, which every reader reports as damage at that event (verify: "malformed
    fields"); a missing link is empty, which fails the chain there.
    """
    rows: list[tuple[Any, ...]] = []
    seq = first_seq if isinstance(first_seq, int) else 0
    raw = links if isinstance(links, bytes) else b""
    try:
        # Canonical bytes are ASCII: anything else is damage, kept visible as U+FFFD.
        lines = inflate(data, size).decode("utf-8", "replace").split("\n")
    except BlobError:
        return [(seq, None, None, None, None, None)]
    for i, line in enumerate(lines):
        try:
            seq, t, wall, kind, payload = _unpack_line(line)
        except ValueError:
            return rows + [(seq + 1 if rows else seq, None, None, None, None, None)]
        rows.append((seq, t, wall, kind, payload,
                     raw[i * LINK_BYTES:(i + 1) * LINK_BYTES].hex()))
    return rows


def _blob_view(data: Any, size: Any, base_data: Any, base_size: Any) -> Any:
    """A stored blob as version 1 stores it (zlib of the content). A delta is inflated with
    its base as the dictionary (bounded as any blob) and handed on uncompressed-in-zlib; when
    that fails the stored bytes are handed on as they are, so the reader reports the damage."""
    if base_data is None:
        return data
    try:
        base = inflate(base_data, base_size)
        return zlib.compress(inflate(data, size, zdict=base), 0)
    except Exception:  # damaged delta or base: the reader names it
        return data


def _present_v2(conn: sqlite3.Connection, tables: set[str]) -> None:
    """Make ``conn`` read a version-2 file as version 1 (see above)."""
    if not {"events", "packs", "blobs", "meta"} <= tables:
        raise ValueError("a version-2 file needs events, packs, blobs and meta tables")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.create_function("tui_assess_blob", 4, _blob_view, deterministic=True)
    conn.execute("CREATE TEMP TABLE events (seq INTEGER PRIMARY KEY, t_mono REAL, wall REAL, "
                 "kind TEXT, payload TEXT, link TEXT)")
    conn.execute("BEGIN")  # one snapshot: a writer may move the tail into a pack meanwhile
    try:
        # The tail is copied inside SQLite, byte for byte, whatever it holds.
        conn.execute("INSERT INTO temp.events SELECT seq, t_mono, wall, kind, payload, link "
                     "FROM main.events")
        for first, size, data, links in conn.execute(
            "SELECT first_seq, size, data, links FROM main.packs ORDER BY first_seq"
        ).fetchall():
            conn.executemany("INSERT OR IGNORE INTO temp.events VALUES (?, ?, ?, ?, ?, ?)",
                             unpack_events(first, size, data, links))
    finally:
        conn.execute("COMMIT")
    conn.execute(
        "CREATE TEMP VIEW blobs AS SELECT b.sha256 AS sha256, "
        "tui_assess_blob(b.data, b.size, k.data, k.size) AS data, b.size AS size "
        "FROM main.blobs AS b LEFT JOIN main.blobs AS k ON k.sha256 = b.base"
    )
    conn.commit()


def format_version(conn: sqlite3.Connection) -> int:
    """The format version of an open session file (its meta table says)."""
    try:
        return int(read_meta(conn).get("format_version", "1"))
    except ValueError:
        return 1


def is_unstarted(path: Path) -> bool:
    """True for a file a recorder created but was killed before its first commit: empty, or
    an SQLite database with no tables yet. Such a file holds nothing and may be replaced."""
    try:
        if path.stat().st_size == 0:
            return True
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                return False
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False


def remove_session_files(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        path.with_name(name).unlink(missing_ok=True)


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def row_payload(payload: str) -> dict[str, Any]:
    """A stored payload as a dict; ValueError when it is not a JSON object."""
    data = json.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("payload is not a JSON object")
    return data


def row_to_event(row: tuple[Any, ...]) -> Event:
    seq, t, wall, kind, payload, link = row
    return Event(int(seq), float(t), float(wall), str(kind), row_payload(payload), str(link))
