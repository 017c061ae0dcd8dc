"""The judge's side of the boundary: handles, module proxies, lent objects, exceptions.

A `HostConnection` talks to one candidate host over the protocol in `protocol.py`.

- **Handles** stand for the host's objects. Attribute access, calls, item access, iteration,
  `len`, `in` and `with` run in the host; `==`, `!=`, `hash()` and `bool()` are the judge's
  own (identity), ordering is not supported, so no object of the candidate decides an
  assertion. `repr()`/`str()` come from the host, capped.
- **Module proxies** are what `import report` gives a test: a module whose attributes live in
  the host (`WorkspaceFinder`, placed at the END of `sys.meta_path`, makes them only for names
  nothing else provides, so stdlib, pytest and the suite's helpers are never shadowed).
- **Lent objects** are the judge's objects the host was handed. The host reaches their public
  methods and attributes and `__call__`, iteration, `len`, item reads and `with`; never names
  starting with `_`, never attribute writes, and only the names in `__host_methods__` when
  the class has one. What a lent method returns that is not plain data is lent in turn.
- **Exceptions** raised in the host are raised again here by type (see `protocol.Codec`).
  `SystemExit`, `KeyboardInterrupt` and any other `BaseException` that is not an `Exception`
  arrive as `CandidateBaseException` subclasses of the same name: they fail a test, they never
  stop the judge.
"""

from __future__ import annotations

import collections
import importlib.abc
import importlib.machinery
import itertools
import os
import socket
import sqlite3
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_assess.judge import protocol as P

# pytest leaves this module's frames out of a failing test's traceback: the boundary's
# plumbing is noise to a candidate (the note under the error shows where in their code
# it was raised).
__tracebackhide__ = True

MAX_REPR = 1000
LENT_EXCEPTIONS = 10_000
"""Exceptions of the judge kept so they can come back from the host as themselves."""
MAX_HOST_THREADS = 64
"""Threads the candidate may have calling into the judge at once (each gets a mirror)."""
HELLO_TIMEOUT_S = 30.0

# Methods of a lent SQLite connection the candidate's code may not call: they would change
# what the tests observe (trace and progress callbacks), lift the authorizer, or load code.
_SQLITE_REFUSED = frozenset(
    {
        "set_authorizer",
        "set_trace_callback",
        "set_progress_handler",
        "enable_load_extension",
        "load_extension",
        "setlimit",
        "deserialize",
        "backup",
    }
)


class HostDied(Exception):
    """The candidate's process is gone (it exited, crashed, or broke the protocol)."""


class CandidateBaseException(Exception):
    """A `BaseException` raised by the candidate's code that is not an `Exception` (e.g.
    `SystemExit`): it fails the test that called the code, and nothing else."""


class Refused:
    """Something the host sent back that had been refused to it."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what} (not lent)>"


class Placeholder:
    """A name a test module imported at collection time that the candidate's code does not
    provide (or could not import): every use raises the original error, so collection always
    finds every test and each test that uses the name fails on its own."""

    __slots__ = ("_error",)

    def __init__(self, error: BaseException) -> None:
        object.__setattr__(self, "_error", error)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error.with_traceback(None)

    __call__ = _fail
    __iter__ = _fail
    __len__ = _fail
    __getitem__ = _fail
    __enter__ = _fail

    def __getattr__(self, name: str) -> Any:
        self._fail()

    def __repr__(self) -> str:
        return f"<unavailable: {self._error}>"


_DESCRIPTIVE = frozenset({"__name__", "__qualname__"})
"""Dunders of a host object a test may read (`fn.__name__` in a message): plain strings."""


def _refused_name(name: str) -> bool:
    """Names never sent to the host: dunders (pickle, inspect, copy...) and pytest's probes."""
    return (name.startswith("__") and name.endswith("__")) or name.startswith("_pytest")


class Handle:
    """An object living in the candidate host."""

    __slots__ = ("__weakref__", "_conn", "_id", "_methods")

    def __init__(self, conn: HostConnection, oid: int, methods: frozenset[str]) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_id", oid)
        object.__setattr__(self, "_methods", methods)

    def __getattr__(self, name: str) -> Any:
        if _refused_name(name):
            if name in _DESCRIPTIVE:  # fn.__name__ in a test's message: a string, or nothing
                value = self._conn.request("get", self, name)
                if isinstance(value, str) or value is None:
                    return value
            raise AttributeError(name)
        if name in self._methods:
            return Method(self, name)
        return self._conn.request("get", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._conn.request("set", self, name, value)

    def __delattr__(self, name: str) -> None:
        self._conn.request("del", self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.request("call", self, list(args), kwargs)

    def __len__(self) -> int:
        n = self._conn.request("len", self)
        if type(n) is not int:
            raise TypeError("len() of a host object did not return an int")
        return n

    def __iter__(self) -> Any:
        return self._conn.request("iter", self)

    def __next__(self) -> Any:
        return self._conn.request("next", self)

    def __getitem__(self, key: Any) -> Any:
        return self._conn.request("getitem", self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._conn.request("setitem", self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._conn.request("delitem", self, key)

    def __contains__(self, item: Any) -> bool:
        found = self._conn.request("contains", self, item)
        if type(found) is not bool:
            raise TypeError("`in` on a host object did not return a bool")
        return found

    def __enter__(self) -> Any:
        return self._conn.request("enter", self)

    def __exit__(self, et: Any, ev: BaseException | None, tb: Any) -> bool:
        suppress = self._conn.request("exit", self, ev)
        if ev is not None and (isinstance(ev, AssertionError) or not isinstance(ev, Exception)):
            return False  # a failed assertion (a verdict) is never the candidate's to swallow
        return suppress is True

    def __instancecheck__(self, obj: Any) -> bool:
        return self._conn.request("isinst", obj, self) is True

    def __subclasscheck__(self, cls: Any) -> bool:
        return self._conn.request("issub", cls, self) is True

    def __repr__(self) -> str:
        return self._text("repr")

    def __str__(self) -> str:
        return self._text("str")

    def _text(self, op: str) -> str:
        try:
            text = self._conn.request(op, self)
        except Exception:  # noqa: BLE001 - a repr must not raise into pytest's reporting
            return "<object of the candidate>"
        return P._cap(text, MAX_REPR) if type(text) is str else "<object of the candidate>"

    # Identity, never the candidate's: an object that "equals everything" equals nothing.
    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__


class Method:
    """`handle.name`, called in one round trip: `getattr(obj, name)(*args)` in the host."""

    __slots__ = ("_handle", "_name")

    def __init__(self, handle: Handle, name: str) -> None:
        self._handle = handle
        self._name = name

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self._name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        h = self._handle
        return h._conn.request("meth", h, self._name, list(args), kwargs)

    def __repr__(self) -> str:
        return f"<method {self._name} of an object of the candidate>"


class ModuleProxy(types.ModuleType):
    """A module of the candidate host, as a test sees it after `import name`."""

    _tui_conn: HostConnection
    _tui_handle: Handle | None
    _tui_error: BaseException | None = None
    """Why importing it in the host failed, if it did."""

    def __init__(self, name: str, conn: HostConnection, origin: str | None) -> None:
        super().__init__(name)
        object.__setattr__(self, "_tui_conn", conn)
        object.__setattr__(self, "_tui_handle", None)
        if origin:
            object.__setattr__(self, "__file__", origin)

    def _tui_module(self) -> Handle:
        handle = self._tui_handle
        if handle is None:
            handle = self._tui_conn.request("imp", self.__name__)
            if not isinstance(handle, Handle):
                raise ImportError(f"the host did not import {self.__name__}")
            object.__setattr__(self, "_tui_handle", handle)
        return handle

    def __getattr__(self, name: str) -> Any:
        if _refused_name(name) or name.startswith("_tui_"):
            raise AttributeError(name)
        conn = self._tui_conn
        try:
            return conn.request("get", self._tui_module(), name)
        except (ImportError, AttributeError) as exc:
            if conn.collecting:
                return Placeholder(exc)
            raise

    def __setattr__(self, name: str, value: Any) -> None:
        if _refused_name(name) or name.startswith("_tui_"):
            object.__setattr__(self, name, value)
            return
        self._tui_conn.request("set", self._tui_module(), name, value)

    def __delattr__(self, name: str) -> None:
        if _refused_name(name) or name.startswith("_tui_"):
            object.__delattr__(self, name)
            return
        self._tui_conn.request("del", self._tui_module(), name)

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} of the candidate>"


class JudgeCodec(P.Codec):
    def __init__(self, conn: HostConnection) -> None:
        super().__init__()
        self.conn = conn
        self._lent_exc: collections.OrderedDict[int, BaseException] = collections.OrderedDict()
        self._exc_ids = itertools.count(1)
        self._lent_described: set[type] = set()
        self._host_methods: dict[int, frozenset[str]] = {}
        self._base_stand_ins: dict[str, type] = {}

    # --- judge -> host ---------------------------------------------------------------------

    def encode_object(self, value: Any) -> Any:
        if isinstance(value, Handle):
            if value._conn is not self.conn:
                raise TypeError("an object of one candidate host cannot be passed to another")
            return {"o": value._id}
        if isinstance(value, Method):
            return {"mo": [self.encode_object(value._handle)["o"], value._name]}
        if isinstance(value, ModuleProxy):
            return {"o": value._tui_module()._id}
        if isinstance(value, types.ModuleType):
            return {"x": f"the module {value.__name__}"}
        if isinstance(value, type):
            return {"x": f"the class {value.__name__}"}
        if isinstance(value, (Placeholder, Refused)):
            return {"x": repr(value)}
        cls = type(value)
        ref: dict[str, Any] = {"r": self.conn.ep.exports.export(value), "c": id(cls)}
        if cls not in self._lent_described:
            self._lent_described.add(cls)
            ref["cm"] = sorted(lent_methods(cls))
        return ref

    def lend_exception(self, exc: BaseException) -> int | None:
        oid = next(self._exc_ids)
        self._lent_exc[oid] = exc
        while len(self._lent_exc) > LENT_EXCEPTIONS:
            self._lent_exc.popitem(last=False)
        return oid

    # --- host -> judge ---------------------------------------------------------------------

    def original_exception(self, oid: int) -> BaseException:
        exc = self._lent_exc.get(oid)
        if exc is None:
            return CandidateBaseException("an exception the tests raised came back unrecognised")
        if not isinstance(exc, Exception):
            # pytest.skip(), pytest.fail(), SystemExit... raised by a test's fake and held by
            # the candidate's code: never replayed as themselves (a skip is the test's to make).
            return self._stand_in(type(exc).__name__)(f"{type(exc).__name__}: {exc}")
        return exc

    def map_class(self, cls: type) -> type:
        if issubclass(cls, Exception):
            return cls
        return self._stand_in(cls.__name__)

    def _stand_in(self, name: str) -> type:
        made = self._base_stand_ins.get(name)
        if made is None:
            made = type(name, (CandidateBaseException,), {"__module__": "candidate"})
            self._base_stand_ins[name] = made
        return made

    def decode_tagged(self, raw: dict[str, Any], depth: int) -> Any:
        if "r" in raw:
            oid = P._as_int(raw["r"])
            cid = raw.get("c")
            methods = raw.get("cm")
            if type(cid) is int and isinstance(methods, list):
                self._host_methods[cid] = frozenset(
                    m for m in methods[:500] if type(m) is str and m.isidentifier()
                )
            known = self._host_methods.get(cid, frozenset()) if type(cid) is int else frozenset()
            return self.conn.ep.imports.proxy(oid, lambda: Handle(self.conn, oid, known))
        if "o" in raw and len(raw) == 1:
            try:
                return self.conn.ep.exports.get(P._as_int(raw["o"]))
            except KeyError:
                raise P.ProtocolError("an object the tests never lent") from None
        return super().decode_tagged(raw, depth)

    def decode_exception(self, body: dict[str, Any], depth: int) -> BaseException:
        exc = super().decode_exception(body, depth)
        tb = body.get("tb")
        if type(tb) is str and tb.strip() and hasattr(exc, "add_note"):
            exc.add_note("Raised in your code:\n" + tb[-3000:].rstrip())
        return exc

    def decode_refused(self, what: str) -> Any:
        return Refused(what[:200])

    def decode_own_method(self, oid: int, name: str) -> Any:
        try:
            obj = self.conn.ep.exports.get(oid)
        except KeyError:
            raise P.ProtocolError("an object the tests never lent") from None
        return lent_attribute(obj, name)


def lent_methods(cls: type) -> set[str]:
    """Public methods of a lent object's class that the host may call."""
    allowed = getattr(cls, "__host_methods__", None)
    names = set()
    for name in dir(cls):
        if name.startswith("_") or (allowed is not None and name not in allowed):
            continue
        if issubclass(cls, (sqlite3.Connection,)) and name in _SQLITE_REFUSED:
            continue
        attr = getattr(cls, name, None)
        if callable(attr) and not isinstance(attr, type):
            names.add(name)
    return names


def lent_attribute(obj: Any, name: str) -> Any:
    """`obj.name` for the host, if the lending rules allow it (else AttributeError)."""
    if name.startswith("_"):
        raise AttributeError(f"{name!r}: only public attributes of the tests' objects are lent")
    allowed = getattr(type(obj), "__host_methods__", None)
    if allowed is not None and name not in allowed:
        raise AttributeError(f"{name!r} is not among this object's __host_methods__")
    if isinstance(obj, sqlite3.Connection) and name in _SQLITE_REFUSED:
        raise AttributeError(f"{name!r} of an SQLite connection lent by the tests is not allowed")
    value = getattr(obj, name)
    if isinstance(value, types.ModuleType):
        return Refused(f"the module {value.__name__}")
    return value


class HostConnection:
    """One candidate host: the process, the protocol endpoint, the modules imported from it."""

    def __init__(self, sock: socket.socket, pid: int, name: str = "host") -> None:
        self.name = name
        self.pid = pid
        self.collecting = False
        self.exit_description: Callable[[], str] = lambda: ""
        self.codec = JudgeCodec(self)
        self.ep = P.Endpoint(
            sock,
            self.codec,
            self._serve,
            sign=+1,
            max_peer_threads=MAX_HOST_THREADS,
            name=f"judge-{name}",
        )
        self.modules: dict[str, ModuleProxy] = {}
        self._modules_lock = threading.Lock()
        self.extra_ops: dict[str, Callable[..., Any]] = {}

    @classmethod
    def start(
        cls, spawn: Callable[[int], int], name: str = "host", timeout: float = HELLO_TIMEOUT_S
    ) -> HostConnection:
        """Start a host with `spawn(fd) -> pid` (fd: the host's end of the socket) and wait
        for its greeting. Call it from the judge's main thread (it becomes chain 1)."""
        ours, theirs = socket.socketpair()
        try:
            pid = spawn(theirs.fileno())
        finally:
            theirs.close()
        ours.settimeout(timeout)
        try:
            hello = P.recv_frame(ours)
        except (OSError, P.ProtocolError) as exc:
            ours.close()
            raise HostDied(f"the candidate's process did not start ({exc})") from None
        if not (isinstance(hello, list) and hello[:2] == ["hi", P.VERSION]):
            ours.close()
            raise HostDied("the candidate's process did not start (no greeting)")
        ours.settimeout(None)
        conn = cls(ours, pid, name)
        conn.ep.start()
        conn.request("stats")  # this thread (the main one) is chain 1 from now on
        return conn

    @classmethod
    def dead(cls, reason: str, name: str = "host") -> HostConnection:
        """A connection to a host that never started: every call fails with `reason`."""
        ours, theirs = socket.socketpair()
        theirs.close()
        conn = cls(ours, 0, name)
        conn.ep._mark_gone(reason)
        return conn

    # --- calls into the host ---------------------------------------------------------------

    def request(self, op: str, *args: Any) -> Any:
        try:
            return self.ep.request(op, *args)
        except P.PeerGone:
            raise HostDied(self.why_gone()) from None

    def why_gone(self) -> str:
        reason = self.ep.gone_reason or "it stopped answering"
        extra = self.exit_description()
        who = "the candidate's process" if self.name == "host" else f"the {self.name} host"
        return f"{who} is gone ({reason}{'; ' + extra if extra else ''})"

    def module(self, name: str, origin: str | None = None) -> ModuleProxy:
        with self._modules_lock:
            proxy = self.modules.get(name)
            if proxy is None:
                proxy = ModuleProxy(name, self, origin)
                self.modules[name] = proxy
            return proxy

    def stats(self) -> dict[str, int]:
        self.ep.flush()
        return self.request("stats")  # type: ignore[no-any-return]

    def close(self) -> None:
        self.ep.close()

    # --- the host's calls into the judge (lent objects) --------------------------------------

    def _serve(self, op: str, args: list[Any]) -> Any:
        extra = self.extra_ops.get(op)
        if extra is not None:
            return extra(*args)
        if not args or not self.ep.exports.holds(args[0]):
            raise TypeError(f"{op!r} is only allowed on objects lent by the tests")
        obj = args[0]
        if op == "get" and len(args) == 2:
            return lent_attribute(obj, P.Codec.check_name(args[1]))
        if op == "meth" and len(args) == 4 and type(args[3]) is dict:
            return _call(lent_attribute(obj, P.Codec.check_name(args[1])), args[2], args[3])
        if op == "call" and len(args) == 3 and type(args[2]) is dict:
            return _call(obj, args[1], args[2])
        if len(args) == 1 and op in _UNARY:
            return _UNARY[op](obj)
        if op == "nextn" and len(args) == 2 and type(args[1]) is int:
            return _next_items(obj, args[1])
        if op == "getitem" and len(args) == 2:
            return obj[args[1]]
        if op == "contains" and len(args) == 2:
            return args[1] in obj
        if op == "exit" and len(args) == 2:
            exc = args[1]
            if exc is not None and not isinstance(exc, BaseException):
                raise TypeError("exit needs an exception or None")
            return type(obj).__exit__(obj, type(exc) if exc else None, exc, None) is True
        raise TypeError(f"{op!r} is not allowed on objects lent by the tests")


def _call(fn: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    if isinstance(fn, type) or not callable(fn):
        raise TypeError("only callables lent by the tests can be called")
    if type(args) is not list or not all(type(k) is str for k in kwargs):
        raise TypeError("bad call arguments")
    return fn(*args, **kwargs)


def _next_items(obj: Any, most: int) -> list[Any]:
    """The next items of a lent iterator: up to `most` rows of an SQLite cursor (reading a
    result set ahead changes nothing), else one item; [] at the end."""
    if isinstance(obj, sqlite3.Cursor):
        return obj.fetchmany(max(1, min(most, 1024)))
    try:
        return [next(obj)]
    except StopIteration:
        return []


def _repr(obj: Any) -> str:
    return P._cap(repr(obj), MAX_REPR)


_UNARY: dict[str, Callable[[Any], Any]] = {
    "len": len,
    "iter": iter,
    "next": next,
    "enter": lambda obj: type(obj).__enter__(obj),
    "repr": _repr,
    "str": lambda obj: P._cap(str(obj), MAX_REPR),
}


class WorkspaceFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of the candidate's modules, as proxies. Goes at the END of sys.meta_path."""

    def __init__(self, workspace: Path, conn: HostConnection) -> None:
        self.workspace = Path(workspace)
        self.conn = conn

    def _origin(self, name: str) -> tuple[str, bool] | None:
        base = self.workspace / name
        if (base / "__init__.py").is_file():
            return str(base / "__init__.py"), True
        if base.is_dir():
            return str(base), True
        if base.with_suffix(".py").is_file():
            return str(base.with_suffix(".py")), False
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if Path(str(base) + suffix).is_file():
                return str(base) + suffix, False
        return None

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        top, _, rest = fullname.partition(".")
        if not top.isidentifier():
            return None
        if rest:
            parent = sys.modules.get(fullname.rpartition(".")[0])
            if not isinstance(parent, ModuleProxy) or parent._tui_conn is not self.conn:
                return None
            found = self._origin(fullname.replace(".", os.sep))
        else:
            found = self._origin(top)
        if found is None:
            return None
        origin, is_package = found
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=origin, is_package=is_package)
        if is_package:
            spec.submodule_search_locations = []
        return spec

    def create_module(self, spec: Any) -> Any:
        return self.conn.module(spec.name, spec.origin)

    def exec_module(self, module: Any) -> None:
        # Nothing runs in the judge: the host imports the module now. If it cannot, the test
        # module that imported it still loads (so every test is known) and the failure is
        # kept, for each test that uses the module to fail with it.
        try:
            module._tui_module()
        except (ImportError, HostDied) as exc:
            object.__setattr__(module, "_tui_error", exc)


def _authorize(action: int, arg1: Any, arg2: Any, db: Any, trigger: Any) -> int:
    # VACUUM INTO attaches its target file, so refusing ATTACH of any named file covers both;
    # plain VACUUM attaches an unnamed temporary database, which stays allowed.
    if action == sqlite3.SQLITE_ATTACH and arg1:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and arg2 == "load_extension":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def guard_sqlite() -> Callable[[], None]:
    """From now on every SQLite connection this process opens refuses ATTACH, VACUUM INTO and
    extension loading, so SQL from the candidate that a test executes (a `schema.sql`, or
    through a lent connection) gets no more rights than the host has. Returns an undo."""
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = original(*args, **kwargs)
        conn.set_authorizer(_authorize)
        return conn

    connect.__doc__ = original.__doc__
    sqlite3.connect = connect  # type: ignore[assignment]
    sqlite3.dbapi2.connect = connect  # type: ignore[assignment]

    def undo() -> None:
        sqlite3.connect = original
        sqlite3.dbapi2.connect = original

    return undo


def _process_clock(pid: int) -> float | None:
    """CPU time of one process (all its threads, live or ended), in nanosecond resolution:
    the kernel's per-process CPU clock, read from outside (clock_getcpuclockid)."""
    clock_id = ((~pid) << 3) | 2  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    try:
        return time.clock_gettime(clock_id)
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and everything it started, measured from outside."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        precise = _process_clock(p.pid)
        total += precise if precise is not None else t.user + t.system
        total += t.children_user + t.children_system  # children it has already waited for
    return total
