"""The judge <-> candidate host wire protocol: frames, the value encoding, threads mirrored.

Stdlib only: this file is copied next to `_host.py` into the run's host folder and loaded by
the candidate host too, so both sides speak exactly the same protocol.

**Frames.** One stream socket (a socketpair) carries frames: a 4-byte big-endian length, then
that many bytes of UTF-8 JSON. A frame is a JSON array whose first element says what it is:

    ["q", chain, rid, op, [args...]]   a request: run `op` on the receiver's side
    ["a", chain, rid, value]           its answer
    ["x", chain, rid, exception]       it raised
    ["d", [[id, n], ...]]              the sender dropped n references to each of these ids
    ["e", [chain, ...]]                these chains ended (their threads are gone)
    ["hi", version, pid]               the host's greeting, first frame it sends

**Values** are JSON values. Arrays are lists, strings are strings, numbers are ints and
finite floats; every JSON object is a tag with exactly one key:

    {"t": [...]} tuple          {"d": [k1, v1, k2, v2, ...]} dict (any plain keys)
    {"s": [...]} set            {"fs": [...]} frozenset       {"b": "base64"} bytes
    {"f": "nan"|"inf"|"-inf"}   {"p": "/path"} pathlib.Path   {"dec": "1.50"} Decimal
    {"dt": iso} datetime  {"da": iso} date  {"tm": iso} time  {"td": [days, s, us]} timedelta
    {"r": id, "c": cls, "cn": name, "cm": [methods]}   an object of the SENDER (a reference)
    {"o": id}                   an object of the RECEIVER coming back
    {"mo": [id, name]}          method `name` of the receiver's object `id`
    {"e": {...}}                an exception value;   {"c": {...}} an exception class
    {"x": "what"}               something that may not cross (a module, a class)

Nothing is pickled and nothing received is evaluated: decoding builds plain objects from the
tags above, and anything else is a `ProtocolError`.

**Threads** are mirrored. A thread that sends its first request gets a *chain* id (positive on
the judge side, negative on the host side). The receiver runs every request of one chain on one
thread of its own; a request that arrives on a chain whose thread is waiting for an answer (a
callback) runs on that waiting thread. So calls from one judge thread always run on the same host
thread, a callback runs on the judge thread that made the call, and re-entrant locks and
thread-bound objects (an SQLite connection) behave as in one process.
"""

from __future__ import annotations

import base64
import builtins
import collections
import datetime as dt
import decimal
import itertools
import json
import math
import os
import pathlib
import queue
import select
import socket
import struct
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

# pytest leaves this module's frames out of a failing test's traceback: the boundary's
# plumbing is noise to a candidate (the note under the error shows where in their code
# it was raised).
__tracebackhide__ = True

VERSION = 1
MAX_FRAME = 64 * 1024 * 1024
"""Largest frame either side accepts (bytes)."""
MAX_DEPTH = 100
"""Deepest nesting of values either side encodes or accepts."""
MAX_STR = 32 * 1024 * 1024
"""Longest string (characters) or byte string either side accepts."""
MAX_NAME = 200
"""Longest attribute or module name accepted in a request."""

_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The other side sent something that is not this protocol (it is treated as dead)."""


class PeerGone(Exception):
    """The other side has closed the connection or broken the protocol."""


# ----------------------------------------------------------------------------- frames


def send_frame(sock: socket.socket, payload: Any) -> None:
    """Encode `payload` (already JSON-able) and write it as one frame."""
    # ASCII output: strings with lone surrogates (file names) survive the round trip.
    raw = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("ascii")
    if len(raw) > MAX_FRAME:
        raise ValueError(f"a message of {len(raw)} bytes is too large to cross (max {MAX_FRAME})")
    sock.sendall(_HEADER.pack(len(raw)) + raw)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            return None if got == 0 else b""
        got += k
    return bytes(buf)


def _no_constants(name: str) -> Any:
    raise ProtocolError(f"bare {name} is not allowed")


def recv_frame(sock: socket.socket) -> Any:
    """Read one frame; None at a clean end of stream; ProtocolError for anything malformed."""
    head = _recv_exact(sock, _HEADER.size)
    if head is None:
        return None
    if len(head) < _HEADER.size:
        raise ProtocolError("truncated frame header")
    (n,) = _HEADER.unpack(head)
    if n > MAX_FRAME:
        raise ProtocolError(f"frame of {n} bytes is over the {MAX_FRAME}-byte limit")
    body = _recv_exact(sock, n) if n else b""
    if body is None or len(body) < n:
        raise ProtocolError("truncated frame")
    try:
        msg = json.loads(body, parse_constant=_no_constants)
    except ProtocolError:
        raise
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed frame: {type(exc).__name__}") from None
    if not isinstance(msg, list) or not msg or not isinstance(msg[0], str):
        raise ProtocolError("a frame must be a non-empty array starting with its kind")
    return msg


# ----------------------------------------------------------------------------- values


def _as_int(v: Any) -> int:
    if type(v) is not int:
        raise ProtocolError("expected an integer")
    return v


def _as_str(v: Any) -> str:
    if type(v) is not str:
        raise ProtocolError("expected a string")
    if len(v) > MAX_STR:
        raise ProtocolError("string too long")
    return v


def _as_list(v: Any) -> list[Any]:
    if type(v) is not list:
        raise ProtocolError("expected an array")
    return v


class Codec:
    """Plain data by value; everything else through the side-specific hooks below."""

    def __init__(self) -> None:
        self._class_lock = threading.Lock()
        self._classes_out: dict[int, type] = {}  # classes this side described to the peer
        self._class_ids: dict[type, int] = {}
        self._classes_in: dict[int, type] = {}  # the peer's classes, as classes of this side

    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError(f"a value nested more than {MAX_DEPTH} levels deep cannot cross")
        t = type(value)
        if value is None or t is bool or t is str or t is int:
            return value
        if t is float:
            return value if math.isfinite(value) else {"f": repr(value)}
        if t is list:
            return [self.encode(v, depth + 1) for v in value]
        if t is tuple:
            return {"t": [self.encode(v, depth + 1) for v in value]}
        if t is dict:
            return {"d": self._pairs(dict.items(value), depth)}
        # Subclasses of plain types cross as their base type (a namedtuple as a tuple, a str
        # subclass with a clever __eq__ as a plain str). Base-class methods are used directly,
        # so no override of the subclass runs.
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return self.encode(float.__float__(value), depth)
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value) if not isinstance(value, bytes) else bytes.__bytes__(value)
            return {"b": base64.b64encode(raw).decode("ascii")}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in list.copy(value)]
        if isinstance(value, tuple):
            return {"t": [self.encode(v, depth + 1) for v in tuple.__getitem__(value, slice(None))]}
        if isinstance(value, dict):
            return {"d": self._pairs(dict.items(value), depth)}
        if isinstance(value, frozenset):
            return {"fs": [self.encode(v, depth + 1) for v in frozenset.copy(value)]}
        if isinstance(value, set):
            return {"s": [self.encode(v, depth + 1) for v in set.copy(value)]}
        if isinstance(value, pathlib.PurePath):
            return {"p": os.fspath(value)}
        if isinstance(value, dt.datetime):
            return {"dt": dt.datetime.isoformat(value)}
        if isinstance(value, dt.date):
            return {"da": dt.date.isoformat(value)}
        if isinstance(value, dt.time):
            return {"tm": dt.time.isoformat(value)}
        if isinstance(value, dt.timedelta):
            return {"td": [value.days, value.seconds, value.microseconds]}
        if isinstance(value, decimal.Decimal):
            return {"dec": decimal.Decimal.__str__(value)}
        if isinstance(value, BaseException):
            return {"e": self.encode_exception(value, depth + 1)}
        if isinstance(value, type) and issubclass(value, BaseException):
            return {"c": self.encode_class(value, depth + 1)}
        return self.encode_object(value)

    def _pairs(self, items: Any, depth: int) -> list[Any]:
        out: list[Any] = []
        for k, v in items:
            out.append(self.encode(k, depth + 1))
            out.append(self.encode(v, depth + 1))
        return out

    def decode(self, raw: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ProtocolError("value nested too deeply")
        t = type(raw)
        if raw is None or t is bool or t is int or t is float:
            return raw
        if t is str:
            return _as_str(raw)
        if t is list:
            return [self.decode(v, depth + 1) for v in raw]
        if t is not dict or len(raw) < 1:
            raise ProtocolError("unknown value")
        if len(raw) != 1:
            return self.decode_tagged(raw, depth)
        ((tag, body),) = raw.items()
        if tag == "t":
            return tuple(self.decode(v, depth + 1) for v in _as_list(body))
        if tag == "d":
            items = _as_list(body)
            if len(items) % 2:
                raise ProtocolError("odd dict body")
            out = {}
            for i in range(0, len(items), 2):
                key = self.decode(items[i], depth + 1)
                try:
                    out[key] = self.decode(items[i + 1], depth + 1)
                except TypeError:
                    raise ProtocolError("unhashable dict key") from None
            return out
        if tag in ("s", "fs"):
            try:
                made = {self.decode(v, depth + 1) for v in _as_list(body)}
            except TypeError:
                raise ProtocolError("unhashable set member") from None
            return made if tag == "s" else frozenset(made)
        if tag == "b":
            try:
                data = base64.b64decode(_as_str(body), validate=True)
            except ValueError:
                raise ProtocolError("bad base64") from None
            return data
        if tag == "f":
            if body not in ("nan", "inf", "-inf"):
                raise ProtocolError("bad float")
            return float(body)
        try:
            if tag == "p":
                return pathlib.Path(_as_str(body))
            if tag == "dt":
                return dt.datetime.fromisoformat(_as_str(body))
            if tag == "da":
                return dt.date.fromisoformat(_as_str(body))
            if tag == "tm":
                return dt.time.fromisoformat(_as_str(body))
            if tag == "td":
                days, secs, us = (_as_int(x) for x in _as_list(body))
                return dt.timedelta(days=days, seconds=secs, microseconds=us)
            if tag == "dec":
                return decimal.Decimal(_as_str(body))
        except (ValueError, TypeError, OverflowError, decimal.InvalidOperation):
            raise ProtocolError(f"bad {tag} value") from None
        if tag == "e":
            if type(body) is not dict:
                raise ProtocolError("bad exception")
            return self.decode_exception(body, depth + 1)
        if tag == "x":
            return self.decode_refused(_as_str(body))
        if tag == "mo":
            pair = _as_list(body)
            if len(pair) != 2:
                raise ProtocolError("bad method reference")
            return self.decode_own_method(_as_int(pair[0]), self.check_name(pair[1]))
        return self.decode_tagged(raw, depth)

    @staticmethod
    def check_name(name: Any) -> str:
        if type(name) is not str or not name or len(name) > MAX_NAME:
            raise ProtocolError("bad name")
        return name

    # --- exceptions -----------------------------------------------------------------------
    #
    # An exception crosses as {"t": class, "a": args, "s": str(exc), "d": [public attributes],
    # "id": n}; a class as {"b": builtin name} or {"k": id, "m": module, "n": qualname,
    # "bases": [...], "std": bool} (a class of the sender) or {"ok": id} (a class of the
    # receiver coming back). The receiver uses builtins as themselves, a standard-library class
    # it has already imported as itself, and otherwise makes a class of its own with the same
    # name and mapped bases (so `pytest.raises(limiter.RateLimited)` works). Nothing of the
    # sender's class body crosses: only names.

    def encode_exception(self, exc: BaseException, depth: int) -> dict[str, Any]:
        back = getattr(exc, "_tui_peer_id", None)
        if type(back) is int:  # the peer's exception going back: it gets its own object
            return {"o": back}
        args = getattr(exc, "args", ())
        body: dict[str, Any] = {
            "t": self.encode_class(type(exc), depth + 1),
            "a": [self._safe(a, depth + 1) for a in (args if isinstance(args, tuple) else ())],
            "s": _capped_str(exc),
        }
        attrs: list[Any] = []
        for k, v in list(getattr(exc, "__dict__", {}).items())[:40]:
            if type(k) is str and k.isidentifier() and not k.startswith("_") and len(attrs) < 40:
                try:
                    attrs += [k, self.encode(v, depth + 1)]
                except Exception:  # noqa: BLE001 - an attribute that cannot cross is left out
                    continue
        if attrs:
            body["d"] = attrs
        lent = self.lend_exception(exc)
        if lent is not None:
            body["id"] = lent
        return body

    def _safe(self, value: Any, depth: int) -> Any:
        try:
            return self.encode(value, depth)
        except Exception:  # noqa: BLE001 - an argument that cannot cross crosses as its repr
            try:
                return _cap(repr(value))
            except Exception:  # noqa: BLE001
                return "<?>"

    def encode_class(self, cls: type, depth: int = 0) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise ValueError("class hierarchy too deep")
        if cls.__module__ == "builtins" and getattr(builtins, cls.__name__, None) is cls:
            return {"b": cls.__name__}
        peer = cls.__dict__.get("_tui_peer_class")
        if type(peer) is int:
            return {"ok": peer}
        with self._class_lock:
            cid = self._class_ids.get(cls)
            if cid is None:
                cid = len(self._classes_out) + 1
                self._classes_out[cid] = cls
                self._class_ids[cls] = cid
        module = str(getattr(cls, "__module__", "") or "")
        return {
            "k": cid,
            "m": _cap(module, MAX_NAME),
            "n": _cap(str(getattr(cls, "__qualname__", cls.__name__)), MAX_NAME),
            "std": module.partition(".")[0] in sys.stdlib_module_names,
            "bases": [
                self.encode_class(b, depth + 1)
                for b in cls.__bases__
                if isinstance(b, type) and issubclass(b, BaseException)
            ],
        }

    def decode_class(self, raw: Any, depth: int = 0) -> type:
        if type(raw) is not dict or depth > MAX_DEPTH:
            raise ProtocolError("bad class")
        if "b" in raw:
            cls = getattr(builtins, _as_str(raw["b"]), None)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                raise ProtocolError("unknown builtin exception")
            return self.map_class(cls)
        if "ok" in raw:
            with self._class_lock:
                own = self._classes_out.get(_as_int(raw["ok"]))
            if own is None:
                raise ProtocolError("unknown class")
            return own
        cid = _as_int(raw.get("k"))
        with self._class_lock:
            made = self._classes_in.get(cid)
        if made is not None:
            return made
        module, qualname = _as_str(raw.get("m")), _as_str(raw.get("n"))
        if len(module) > MAX_NAME or len(qualname) > MAX_NAME:
            raise ProtocolError("class name too long")
        found = _stdlib_class(module, qualname) if raw.get("std") is True else None
        if found is not None:
            cls = self.map_class(found)
        else:
            bases = tuple(
                dict.fromkeys(self.decode_class(b, depth + 1) for b in _as_list(raw.get("bases")))
            )
            cls = self.make_class(cid, module, qualname, bases)
        with self._class_lock:
            return self._classes_in.setdefault(cid, cls)

    def make_class(self, cid: int, module: str, qualname: str, bases: tuple[type, ...]) -> type:
        """A local stand-in for the peer's exception class `module.qualname`."""
        name = qualname.rpartition(".")[2]
        if not name.isidentifier():
            name = "RemoteError"
        ns = {
            "__module__": module,
            "__qualname__": qualname,
            "__str__": _remote_str,
            "_tui_peer_class": cid,
        }
        for attempt in (bases or (Exception,), (bases[0],) if bases else (), (Exception,)):
            if not attempt:
                continue
            try:
                return type(name, attempt, ns)
            except TypeError:  # e.g. bases whose layouts conflict
                continue
        return type(name, (Exception,), ns)

    def map_class(self, cls: type) -> type:
        """Policy for classes received: the judge replaces what must not cross as itself."""
        return cls

    def lend_exception(self, exc: BaseException) -> int | None:
        """An id under which the peer may send `exc` back as this very object (or None)."""
        return None

    def original_exception(self, oid: int) -> BaseException:
        """The exception lent under `oid`, coming back."""
        raise ProtocolError("no such exception")

    def decode_exception(self, body: dict[str, Any], depth: int) -> BaseException:
        if "o" in body:
            return self.original_exception(_as_int(body["o"]))
        cls = self.decode_class(body.get("t"))
        args = [self.decode(a, depth + 1) for a in _as_list(body.get("a", []))]
        exc = _new_exception(cls, args)
        text = body.get("s")
        if type(text) is str:
            _set(exc, "_tui_str", text[:MAX_MESSAGE])
        attrs = _as_list(body.get("d", []))
        for i in range(0, len(attrs) - 1, 2):
            key = attrs[i]
            if type(key) is str and key.isidentifier() and not key.startswith("_"):
                _set(exc, key, self.decode(attrs[i + 1], depth + 1))
        lent = body.get("id")
        if type(lent) is int:
            _set(exc, "_tui_peer_id", lent)
        return exc

    # --- side-specific hooks -------------------------------------------------------------

    def encode_object(self, value: Any) -> Any:
        raise TypeError(f"a {type(value).__name__} cannot cross")

    def encode_error(self, exc: BaseException) -> Any:
        """An exception raised by a request (may carry more detail than an exception value)."""
        return self.encode(exc)

    def decode_tagged(self, raw: dict[str, Any], depth: int) -> Any:
        if len(raw) == 1 and "c" in raw:
            return self.decode_class(raw["c"])
        raise ProtocolError("unknown tag")

    def decode_refused(self, what: str) -> Any:
        raise ProtocolError("refused objects not accepted")

    def decode_own_method(self, oid: int, name: str) -> Any:
        raise ProtocolError("method references not accepted")


MAX_MESSAGE = 4000
"""Longest str(exception) or repr that crosses; the rest is cut."""


def _cap(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _capped_str(exc: BaseException) -> str:
    try:
        return _cap(str(exc))
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the crossing
        return f"<{type(exc).__name__}>"


def _remote_str(self: BaseException) -> str:
    text = self.__dict__.get("_tui_str")
    return text if isinstance(text, str) else BaseException.__str__(self)


def _set(obj: Any, name: str, value: Any) -> None:
    try:
        object.__setattr__(obj, name, value)
    except (AttributeError, TypeError):
        pass


def _new_exception(cls: type, args: list[Any]) -> BaseException:
    """An instance of `cls` with `args`, without running any __init__ but the base one."""
    # BaseException.__new__ stores args (and OSError's parses errno and strerror from them).
    new: Any = cls.__new__
    try:
        exc = new(cls, *args)
    except Exception:  # noqa: BLE001 - arguments this class does not take: keep the text
        exc = new(cls)
    if not isinstance(exc, BaseException):
        raise ProtocolError("not an exception class")
    return exc


def _stdlib_class(module: str, qualname: str) -> type | None:
    """A standard-library exception class this process has ALREADY imported (never imports)."""
    mod = sys.modules.get(module)
    if mod is None or module.partition(".")[0] not in sys.stdlib_module_names:
        return None
    obj: Any = mod
    for part in qualname.split("."):
        obj = obj.__dict__.get(part) if hasattr(obj, "__dict__") else None
        if obj is None:
            return None
    return obj if isinstance(obj, type) and issubclass(obj, BaseException) else None


# ----------------------------------------------------------------------------- objects


class Exports:
    """Objects this side has sent by reference: id -> (object, references the peer holds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, list[Any]] = {}
        self._ids: dict[int, int] = {}  # id(obj) -> export id (objects are kept alive here)
        self._next = itertools.count(1)
        self.classes_sent: set[int] = set()

    def export(self, obj: Any) -> int:
        with self._lock:
            oid = self._ids.get(id(obj))
            if oid is None:
                oid = next(self._next)
                self._ids[id(obj)] = oid
                self._by_id[oid] = [obj, 0]
            self._by_id[oid][1] += 1
            return oid

    def get(self, oid: int) -> Any:
        with self._lock:
            entry = self._by_id.get(oid)
        if entry is None:
            raise KeyError(oid)
        return entry[0]

    def holds(self, obj: Any) -> bool:
        """True if `obj` itself is exported (the peer may name it)."""
        with self._lock:
            oid = self._ids.get(id(obj))
            return oid is not None and self._by_id[oid][0] is obj

    def release(self, oid: int, n: int) -> None:
        with self._lock:
            entry = self._by_id.get(oid)
            if entry is None or n <= 0:
                return
            entry[1] -= n
            if entry[1] <= 0:
                del self._by_id[oid]
                self._ids.pop(id(entry[0]), None)

    def __len__(self) -> int:
        return len(self._by_id)


class Imports:
    """References to the peer's objects: one live proxy per id, released when it is dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, list[Any]] = {}  # id -> [weakref to proxy, times received]
        # Filled by weakref callbacks, which may run anywhere (in the garbage collector, in
        # any thread, while this side holds a lock): appending is all they do.
        self._dead: collections.deque[tuple[int, Any]] = collections.deque()
        self._released: list[list[int]] = []

    def proxy(self, oid: int, make: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._by_id.get(oid)
            obj = entry[0]() if entry is not None else None
            if obj is not None and entry is not None:
                entry[1] += 1
                return obj
            if entry is not None:  # its proxy died, not reaped yet: release what it held
                self._released.append([oid, entry[1]])
            obj = make()
            dead = self._dead

            def gone(ref: Any, oid: int = oid) -> None:
                dead.append((oid, ref))

            ref = weakref.ref(obj, gone)
            self._by_id[oid] = [ref, 1]
            return obj

    def reap(self) -> list[list[int]]:
        """[[id, n], ...] of references whose proxies are gone (to tell the peer)."""
        with self._lock:
            out, self._released = self._released, []
            while self._dead:
                oid, ref = self._dead.popleft()
                entry = self._by_id.get(oid)
                if entry is not None and entry[0] is ref:
                    out.append([oid, entry[1]])
                    del self._by_id[oid]
        return out

    def __len__(self) -> int:
        return len(self._by_id)


# ----------------------------------------------------------------------------- endpoint


class _Chain:
    """Marks a thread's chain; when the thread ends, its locals go and so does this."""

    __slots__ = ("chain", "ended", "inbox")

    def __init__(self, chain: int, inbox: Any, ended: collections.deque[int]) -> None:
        self.chain = chain
        self.inbox = inbox
        self.ended = ended

    def __del__(self) -> None:
        try:
            self.ended.append(self.chain)
        except Exception:  # noqa: BLE001 - interpreter shutting down
            pass


_GONE = ("gone",)
_END = ("end",)
_LEAD = ("lead",)
IDLE_READER_S = 0.005
"""How long the socket may go unread, with no thread waiting, before the idle reader reads."""


class Endpoint:
    """One side of a connection: sends requests, serves the peer's, mirrors threads.

    `serve(op, args)` runs a request of the peer (on the chain's thread) and returns the
    result to send back; it may raise. `codec` turns values into JSON and back.

    Reading is a duty, held by one thread at a time (leader/followers): a thread waiting for
    a message reads the socket itself when nobody else does, and hands what is not its own
    to the thread it is for. That saves two thread wake-ups per round trip over a dedicated
    reader. An idle reader thread takes the duty only when no thread has wanted it for
    `IDLE_READER_S`, so calls the peer starts on its own (a thread of the candidate calling
    a lent clock) are always read; a waiting thread takes the duty back from it at once.
    """

    def __init__(
        self,
        sock: socket.socket,
        codec: Codec,
        serve: Callable[[str, list[Any]], Any],
        *,
        sign: int,
        max_peer_threads: int = 256,
        on_gone: Callable[[str], None] | None = None,
        name: str = "endpoint",
    ) -> None:
        self.sock = sock
        self.codec = codec
        self.serve = serve
        self.sign = sign
        self.max_peer_threads = max_peer_threads
        self.on_gone = on_gone
        self.name = name
        self.gone_reason = ""
        self.imports = Imports()
        self.exports = Exports()
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._chains: dict[int, Any] = {}  # chain -> inbox of the thread serving/waiting on it
        self._peer_threads = 0
        self.refused_threads = 0
        self.served = 0
        """Requests of the peer served so far (for tests and benchmarks)."""
        self._local = threading.local()
        self._next_chain = itertools.count(1)
        self._next_rid = itertools.count(1)
        self._ended: collections.deque[int] = collections.deque()
        self._gone = threading.Event()
        # the reading duty
        self._duty = threading.Lock()
        self._duty_cond = threading.Condition(threading.Lock())
        self._duty_gen = 0
        self._blocked: dict[Any, None] = {}  # inboxes of threads waiting while others read
        self._designated: Any = None  # the waiting thread woken to read next
        self._idle_reading = False
        self._evict = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._idle: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._idle = threading.Thread(
            target=self._idle_reader, name=f"{self.name}-reader", daemon=True
        )
        self._idle.start()

    @property
    def alive(self) -> bool:
        return not self._gone.is_set()

    def close(self, reason: str = "closed") -> None:
        self._mark_gone(reason)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _mark_gone(self, reason: str) -> None:
        with self._state_lock:
            if self._gone.is_set():
                return
            self.gone_reason = reason
            self._gone.set()
            inboxes = list(self._chains.values()) + list(self._blocked)
        for inbox in inboxes:
            inbox.put(_GONE)
        self._poke_idle_reader()
        with self._duty_cond:
            self._duty_cond.notify_all()
        if self.on_gone is not None:
            try:
                self.on_gone(reason)
            except Exception:  # noqa: BLE001 - a callback never breaks the shutdown
                pass

    # --- sending -------------------------------------------------------------------------

    def _send(self, msg: list[Any]) -> None:
        if self._gone.is_set():
            raise PeerGone(self.gone_reason)
        extra = self._housekeeping()
        try:
            with self._send_lock:
                for m in extra:
                    send_frame(self.sock, m)
                send_frame(self.sock, msg)
        except OSError as exc:
            self._mark_gone(f"connection lost ({exc.__class__.__name__})")
            raise PeerGone(self.gone_reason) from None

    def _housekeeping(self) -> list[list[Any]]:
        out: list[list[Any]] = []
        released = self.imports.reap()
        if released:
            out.append(["d", released])
        ended = []
        while self._ended:
            chain = self._ended.popleft()
            with self._state_lock:
                self._chains.pop(chain, None)
            ended.append(chain)
        if ended:
            out.append(["e", ended])
        return out

    def flush(self) -> None:
        """Tell the peer now about dropped references and ended threads."""
        extra = self._housekeeping()
        if not extra or self._gone.is_set():
            return
        try:
            with self._send_lock:
                for m in extra:
                    send_frame(self.sock, m)
        except OSError:
            self._mark_gone("connection lost")

    def _my_chain(self) -> _Chain:
        token: _Chain | None = getattr(self._local, "token", None)
        if token is None:
            chain = self.sign * next(self._next_chain)
            token = _Chain(chain, queue.SimpleQueue(), self._ended)
            with self._state_lock:
                self._chains[chain] = token.inbox
            self._local.token = token
        return token

    def request(self, op: str, *args: Any) -> Any:
        """Run `op(*args)` on the peer's side, from this thread's chain; return its result."""
        token = self._my_chain()
        rid = next(self._next_rid)
        payload = [self.codec.encode(a) for a in args]
        self._send(["q", token.chain, rid, op, payload])
        return self._wait(token, rid)

    def _wait(self, token: _Chain, rid: int) -> Any:
        while True:
            msg = self._next_message(token.inbox)
            kind = msg[0]
            if kind == "q":
                self._serve_one(token.chain, msg)
                continue
            if msg[2] != rid:
                self._protocol_error("an answer to a request that was not made")
                raise PeerGone(self.gone_reason)
            try:
                if kind == "a":
                    return self.codec.decode(msg[3])
                exc = self.codec.decode(msg[3])
            except ProtocolError as err:
                self._protocol_error(str(err))
                raise PeerGone(self.gone_reason) from None
            if not isinstance(exc, BaseException):
                self._protocol_error("an error answer that is not an exception")
                raise PeerGone(self.gone_reason)
            raise exc

    # --- the reading duty ------------------------------------------------------------------

    def _next_message(self, inbox: Any) -> Any:
        """The next message for the thread that owns `inbox`, reading the socket if needed."""
        while True:
            try:
                msg = inbox.get_nowait()
            except queue.Empty:
                msg = None
            if msg is not None and msg is not _LEAD:
                return self._checked(inbox, msg)
            if self._duty.acquire(blocking=False):
                try:
                    return self._checked(inbox, self._read_until_mine(inbox))
                finally:
                    self._leave_duty()
            with self._state_lock:
                self._blocked[inbox] = None
            if self._idle_reading:
                self._evict = True
                self._poke_idle_reader()
            try:
                msg = inbox.get()
            finally:
                with self._state_lock:
                    self._blocked.pop(inbox, None)
                    baton = self._designated is inbox
                    if baton:
                        self._designated = None
            if msg is not _LEAD:
                if baton:  # chosen to read next, but a message came first: pass it on
                    self._pass_baton()
                return self._checked(inbox, msg)

    def _checked(self, inbox: Any, msg: Any) -> Any:
        if msg is _GONE:
            inbox.put(_GONE)  # other waits of this thread (nested) see it too
            raise PeerGone(self.gone_reason)
        return msg

    def _read_until_mine(self, inbox: Any) -> Any:
        with self._duty_cond:
            self._duty_gen += 1
        while True:
            try:
                msg = inbox.get_nowait()
                if msg is not _LEAD:
                    return msg
            except queue.Empty:
                pass
            if self._gone.is_set():
                return _GONE
            msg = self._read_one()
            if msg is None:
                continue
            dest = self._route(msg)
            if dest is inbox:
                return inbox.get_nowait()

    def _leave_duty(self) -> None:
        self._duty.release()
        self._pass_baton()

    def _pass_baton(self) -> None:
        """Wake one waiting thread to read next (else the idle reader will, soon)."""
        with self._state_lock:
            if self._designated is not None or not self._blocked:
                return
            nxt = next(iter(self._blocked))
            del self._blocked[nxt]
            self._designated = nxt
        nxt.put(_LEAD)

    def _poke_idle_reader(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass  # the pipe is full: a wake-up is pending anyway

    def _idle_reader(self) -> None:
        poller = select.poll()
        poller.register(self.sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._gone.is_set():
            with self._duty_cond:
                gen = self._duty_gen
                self._duty_cond.wait(IDLE_READER_S)
                if self._duty_gen != gen:
                    continue
            if not self._duty.acquire(blocking=False):
                continue
            self._idle_reading = True
            try:
                self._evict = False
                while not self._gone.is_set() and not self._evict:
                    events = dict(poller.poll())
                    if self._wake_r in events:
                        try:
                            os.read(self._wake_r, 4096)
                        except OSError:
                            pass
                        continue
                    if events:
                        msg = self._read_one()
                        if msg is not None:
                            self._route(msg)
            finally:
                self._idle_reading = False
                self._evict = False
                self._leave_duty()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _read_one(self) -> Any:
        try:
            msg = recv_frame(self.sock)
        except ProtocolError as err:
            self._protocol_error(str(err))
            return None
        except OSError as exc:
            self._mark_gone(f"connection lost ({exc.__class__.__name__})")
            return None
        if msg is None:
            self._mark_gone("closed the connection")
        return msg

    # --- serving -------------------------------------------------------------------------

    def _serve_one(self, chain: int, msg: list[Any]) -> None:
        self.served += 1
        rid = msg[2]
        try:
            op = msg[3]
            args = self.codec.decode(msg[4])
        except ProtocolError as err:
            self._protocol_error(str(err))
            return
        try:
            result = self.serve(op, args)
            reply = ["a", chain, rid, self.codec.encode(result)]
        except PeerGone:
            return
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            try:
                reply = ["x", chain, rid, self.codec.encode_error(exc)]
            except BaseException as enc:  # noqa: BLE001
                reply = ["x", chain, rid, self.codec.encode(TypeError(str(enc)[:500]))]
        try:
            self._send(reply)
        except ValueError as exc:  # the answer is too large to cross: say so instead
            self._send(["x", chain, rid, self.codec.encode(ValueError(str(exc)))])
        except PeerGone:
            return

    def serve_in_this_thread(self, chain: int) -> None:
        """Serve the peer's chain `chain` on the calling thread (the host's main thread serves
        the judge's main thread, so code that needs the main thread, like signal handlers,
        works). Returns when the connection is gone."""
        inbox: Any = queue.SimpleQueue()
        with self._state_lock:
            self._chains[chain] = inbox
            self._peer_threads += 1  # _peer_worker counts it down when it returns
        self._peer_worker(chain, inbox)

    def _peer_worker(self, chain: int, inbox: Any) -> None:
        self._local.token = _Chain(chain, inbox, collections.deque())  # peer's chain: no "e"
        try:
            while True:
                try:
                    msg = self._next_message(inbox)
                except PeerGone:
                    return
                if msg is _END:
                    return
                if msg[0] != "q":
                    self._protocol_error("an answer on a chain that made no request")
                    return
                self._serve_one(chain, msg)
        finally:
            with self._state_lock:
                if self._chains.get(chain) is inbox:
                    del self._chains[chain]
                self._peer_threads -= 1

    # --- routing -------------------------------------------------------------------------

    def _protocol_error(self, why: str) -> None:
        self._mark_gone(f"broke the protocol: {why}")
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _route(self, msg: list[Any]) -> Any:
        """Deliver a message to the inbox it is for (returned), or act on it (None)."""
        try:
            return self._route_checked(msg)
        except ProtocolError as err:
            self._protocol_error(str(err))
            return None

    def _route_checked(self, msg: list[Any]) -> Any:
        kind = msg[0]
        if kind in ("q", "a", "x"):
            if len(msg) != (5 if kind == "q" else 4):
                raise ProtocolError("bad message length")
            chain, rid = msg[1], msg[2]
            if type(chain) is not int or type(rid) is not int or chain == 0:
                raise ProtocolError("bad chain")
            if kind == "q" and (type(msg[3]) is not str or type(msg[4]) is not list):
                raise ProtocolError("bad request")
            ours = (chain > 0) == (self.sign > 0)
            with self._state_lock:
                inbox = self._chains.get(chain)
                if inbox is None:
                    if ours or kind != "q":
                        raise ProtocolError("a message on a chain that does not exist")
                    if self._peer_threads >= self.max_peer_threads:
                        inbox = None
                    else:
                        inbox = queue.SimpleQueue()
                        self._chains[chain] = inbox
                        self._peer_threads += 1
                        threading.Thread(
                            target=self._peer_worker,
                            args=(chain, inbox),
                            name=f"{self.name}-mirror{chain}",
                            daemon=True,
                        ).start()
            if inbox is None:
                self._refuse_thread(chain, rid)
                return None
            inbox.put(msg)
            return inbox
        if kind == "d":
            for pair in _as_list(msg[1]) if len(msg) == 2 else []:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("bad release")
                self.exports.release(_as_int(pair[0]), _as_int(pair[1]))
            return None
        if kind == "e":
            for chain in _as_list(msg[1]) if len(msg) == 2 else []:
                chain = _as_int(chain)
                if (chain > 0) == (self.sign > 0):
                    raise ProtocolError("the peer ended a chain it does not own")
                with self._state_lock:
                    inbox = self._chains.get(chain)
                if inbox is not None:
                    inbox.put(_END)
            return None
        raise ProtocolError(f"unknown message kind {kind[:20]!r}")

    def _refuse_thread(self, chain: int, rid: int) -> None:
        self.refused_threads += 1
        err = RuntimeError(
            f"more than {self.max_peer_threads} threads called across at once; "
            "this call was refused"
        )
        try:
            self._send(["x", chain, rid, self.codec.encode(err)])
        except PeerGone:
            pass
