"""The candidate host: imports the candidate's modules and serves the judge's calls.

Runs inside the sandbox as `python -I -S _host.py FD` with the workspace copy as its current
folder. Standard library only (the host sees no site-packages): `protocol.py` is copied next to
this file and loaded from there. Everything in this process is the candidate's to control, so
nothing here is trusted: the judge decodes what this process sends strictly and never lets it
decide a verdict.
"""

from __future__ import annotations

import collections
import importlib
import importlib.util
import os
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, NoReturn


def _load_protocol() -> Any:
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location("_tui_assess_protocol", here / "protocol.py")
    if spec is None or spec.loader is None:
        raise ImportError("protocol.py is missing next to the host")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


P = sys.modules.get("_tui_assess_protocol") or _load_protocol()

NEXT_BATCH = 256
MAX_REPR = 2000
MAX_TRACEBACK = 3000
RAISED_KEPT = 10_000


class Refused:
    """Something the judge would not lend (a module, a class): every use fails."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        raise TypeError(f"the tests passed {self._what}, which cannot be used across")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"the tests passed {self._what}, which cannot be used across")

    def __repr__(self) -> str:
        return f"<{self._what} (not lent)>"


class Lent:
    """An object of the judge, lent to the candidate's code: public methods and attributes."""

    __slots__ = ("__weakref__", "_ahead", "_host", "_id", "_methods")

    def __init__(self, host: Host, oid: int, methods: frozenset[str]) -> None:
        object.__setattr__(self, "_host", host)
        object.__setattr__(self, "_id", oid)
        object.__setattr__(self, "_methods", methods)
        object.__setattr__(self, "_ahead", collections.deque())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(f"{name!r}: only public attributes of the tests' objects are lent")
        if name in self._methods:
            return LentMethod(self, name)
        return self._host.ep.request("get", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("objects lent by the tests are read-only")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._host.ep.request("call", self, list(args), kwargs)

    def __len__(self) -> int:
        return self._host.ep.request("len", self)  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return self._host.ep.request("iter", self)

    def __next__(self) -> Any:
        # Items come in batches where the judge knows reading ahead is harmless (the rows of
        # an SQLite cursor); one at a time otherwise. An empty batch is the end.
        ahead = self._ahead
        if not ahead:
            ahead.extend(self._host.ep.request("nextn", self, NEXT_BATCH))
            if not ahead:
                raise StopIteration
        return ahead.popleft()

    def __getitem__(self, key: Any) -> Any:
        return self._host.ep.request("getitem", self, key)

    def __contains__(self, item: Any) -> bool:
        return self._host.ep.request("contains", self, item)  # type: ignore[no-any-return]

    def __enter__(self) -> Any:
        return self._host.ep.request("enter", self)

    def __exit__(self, *exc: Any) -> Any:
        return self._host.ep.request("exit", self, exc[1])

    def __repr__(self) -> str:
        try:
            return str(self._host.ep.request("repr", self))
        except Exception:  # noqa: BLE001
            return "<lent object>"


class LentMethod:
    __slots__ = ("_name", "_owner")

    def __init__(self, owner: Lent, name: str) -> None:
        self._owner = owner
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self._owner
        return owner._host.ep.request("meth", owner, self._name, list(args), kwargs)

    def __repr__(self) -> str:
        return f"<lent method {self._name}>"


def _methods_of(cls: type) -> list[str]:
    """Public names that are functions on the class (the judge calls them in one round trip)."""
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if name.startswith("_") or name in names:
                continue
            if isinstance(attr, (staticmethod, classmethod)) or (
                callable(attr) and not isinstance(attr, type)
            ):
                names.append(name)
    return names[:500]


def where_raised(exc: BaseException, workspace: str) -> str:
    """The frames of `exc`'s traceback that are in the workspace's own files, named relative
    to it: where in the candidate's code it was raised. The host's plumbing is left out."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path.startswith(workspace + os.sep):
            frame.filename = os.path.relpath(path, workspace)
            frames.append(frame)
    return "".join(traceback.StackSummary.from_list(frames).format()) if frames else ""


class HostCodec(P.Codec):  # type: ignore[name-defined,misc]
    def __init__(self, host: Host) -> None:
        super().__init__()
        self.host = host
        self.described: set[type] = set()

    def encode_object(self, value: Any) -> Any:
        host = self.host
        if isinstance(value, Lent):
            return {"o": value._id}
        if isinstance(value, LentMethod):
            return {"mo": [value._owner._id, value._name]}
        if isinstance(value, Refused):
            return {"x": value._what}
        cls = type(value)
        ref: dict[str, Any] = {"r": host.ep.exports.export(value), "c": id(cls)}
        if cls not in self.described:
            self.described.add(cls)
            ref["cn"] = P._cap(getattr(cls, "__qualname__", "?"), P.MAX_NAME)
            ref["cm"] = _methods_of(cls) if not isinstance(value, type(sys)) else []
        return ref

    def encode_error(self, exc: BaseException) -> Any:
        # The judge gets a copy; the exception itself (its traceback, the frames and what they
        # hold: open files) stays alive until the test ends, as if the caller had kept it.
        self.host.raised.append(exc)
        del self.host.raised[: -RAISED_KEPT]
        out = self.encode(exc)
        body = out.get("e") if isinstance(out, dict) else None
        if isinstance(body, dict) and "o" not in body:
            try:
                tb = where_raised(exc, self.host.workspace)
            except Exception:  # noqa: BLE001 - a traceback that cannot be read is left out
                tb = ""
            if tb:
                body["tb"] = tb[-MAX_TRACEBACK:]
        return out

    def decode_tagged(self, raw: dict[str, Any], depth: int) -> Any:
        if "r" in raw:
            oid = P._as_int(raw["r"])
            methods = raw.get("cm")
            if isinstance(methods, list):
                self.host.lent_methods[P._as_int(raw.get("c", 0))] = frozenset(
                    m for m in methods if isinstance(m, str)
                )
            known = self.host.lent_methods.get(raw.get("c"), frozenset())  # type: ignore[arg-type]
            return self.host.ep.imports.proxy(oid, lambda: Lent(self.host, oid, known))
        if "o" in raw and len(raw) == 1:
            return self.host.ep.exports.get(P._as_int(raw["o"]))
        return super().decode_tagged(raw, depth)

    def decode_refused(self, what: str) -> Any:
        return Refused(what)

    def decode_own_method(self, oid: int, name: str) -> Any:
        return getattr(self.host.ep.exports.get(oid), name)


def _short_import_error(name: str, exc: BaseException) -> str:
    """File and line first: this becomes the failure the candidate reads."""
    if isinstance(exc, SyntaxError):
        where = os.path.relpath(exc.filename) if exc.filename else f"{name}.py"
        text = f"{where}, line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
        if exc.text:
            text += "\n    " + exc.text.strip()
        return text
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(os.getcwd())
    ]
    head = f"importing {name} failed"
    if frames:
        last = frames[-1]
        head = f"{os.path.relpath(last.filename)}, line {last.lineno}"
    return f"{head}: {type(exc).__name__}: {exc}"[:P.MAX_MESSAGE]


class Host:
    def __init__(self, sock: socket.socket) -> None:
        self.workspace = os.getcwd()
        self.codec = HostCodec(self)
        self.lent_methods: dict[int, frozenset[str]] = {}
        self.raised: list[BaseException] = []
        self.ep = P.Endpoint(
            sock, self.codec, self.serve, sign=-1, on_gone=self._gone, name="host"
        )

    @staticmethod
    def _gone(reason: str) -> None:
        _exit_now()  # nobody is left to answer to

    def serve(self, op: str, args: list[Any]) -> Any:
        handler = getattr(self, "op_" + op, None)
        if handler is None:
            raise ValueError(f"unknown operation {op[:40]!r}")
        return handler(*args)

    @staticmethod
    def op_imp(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            if exc.name == name:
                raise ImportError(f"No module named {name!r} in the workspace", name=name) from None
            raise ImportError(_short_import_error(name, exc), name=name) from None
        except BaseException as exc:  # noqa: BLE001 - a broken module, whatever it raised
            raise ImportError(_short_import_error(name, exc), name=name) from None

    @staticmethod
    def op_get(obj: Any, name: str) -> Any:
        return getattr(obj, name)

    @staticmethod
    def op_set(obj: Any, name: str, value: Any) -> None:
        setattr(obj, name, value)

    @staticmethod
    def op_del(obj: Any, name: str) -> None:
        delattr(obj, name)

    @staticmethod
    def op_call(obj: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return obj(*args, **kwargs)

    @staticmethod
    def op_meth(obj: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return getattr(obj, name)(*args, **kwargs)

    @staticmethod
    def op_len(obj: Any) -> int:
        return len(obj)

    @staticmethod
    def op_iter(obj: Any) -> Any:
        return iter(obj)

    @staticmethod
    def op_next(obj: Any) -> Any:
        return next(obj)

    @staticmethod
    def op_getitem(obj: Any, key: Any) -> Any:
        return obj[key]

    @staticmethod
    def op_setitem(obj: Any, key: Any, value: Any) -> None:
        obj[key] = value

    @staticmethod
    def op_delitem(obj: Any, key: Any) -> None:
        del obj[key]

    @staticmethod
    def op_contains(obj: Any, item: Any) -> bool:
        return item in obj

    @staticmethod
    def op_enter(obj: Any) -> Any:
        return type(obj).__enter__(obj)

    @staticmethod
    def op_exit(obj: Any, exc: BaseException | None) -> Any:
        if exc is None:
            return type(obj).__exit__(obj, None, None, None)
        return type(obj).__exit__(obj, type(exc), exc, exc.__traceback__)

    @staticmethod
    def op_repr(obj: Any) -> str:
        return repr(obj)[:MAX_REPR]

    @staticmethod
    def op_str(obj: Any) -> str:
        return str(obj)[:MAX_REPR]

    @staticmethod
    def op_isinst(obj: Any, cls: Any) -> bool:
        return isinstance(obj, cls)

    @staticmethod
    def op_issub(cls: Any, base: Any) -> bool:
        return issubclass(cls, base)

    def op_endtest(self) -> None:
        """A test ended: the exceptions raised to it are no longer held."""
        self.raised.clear()

    def op_stats(self) -> dict[str, int]:
        return {
            "exports": len(self.ep.exports),
            "imports": len(self.ep.imports),
            "threads": threading.active_count(),
        }


_LOOPBACK = {
    socket.AF_INET: ("127.0.0.1", ("127.0.0.1", "localhost", "", "0.0.0.0")),
    socket.AF_INET6: ("::1", ("::1", "localhost", "", "::")),
}


def serve_from_the_judges_network(host: Host, fd_channel: socket.socket) -> None:
    """The host has a network of its own (namespaces mode), which the judge cannot reach.
    A TCP server the candidate binds on loopback gets, instead, a socket the judge bound on
    its own loopback (passed over `fd_channel`), put in place of the candidate's socket: the
    tests reach the server at the port it reports, and candidates get no other socket of the
    judge's network than a bound one."""
    original = socket.socket.bind
    lock = threading.Lock()

    def bind(self: socket.socket, address: Any) -> None:
        plan = _LOOPBACK.get(self.family)
        if (
            plan is None
            or self.type != socket.SOCK_STREAM
            or not isinstance(address, tuple)
            or address[0] not in plan[1]
        ):
            return original(self, address)
        with lock:
            port = host.ep.request("bind", int(self.family), int(address[1]))
            _, fds, _, _ = socket.recv_fds(fd_channel, 16, 1)
        if not fds:
            raise OSError("the judge did not pass the server socket")
        os.dup2(fds[0], self.fileno(), inheritable=False)
        os.close(fds[0])
        if port is None:
            raise OSError("the judge could not bind this address")

    socket.socket.bind = bind  # type: ignore[method-assign,assignment]


def _exit_now() -> NoReturn:
    """End the host at once (its threads are the candidate's: nothing waits for them), with
    what it printed flushed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream the candidate replaced or closed
            pass
    os._exit(0)


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    sys.dont_write_bytecode = True
    workspace = os.getcwd()
    if workspace not in sys.path:
        sys.path.insert(0, workspace)
    host = Host(sock)
    if len(argv) > 2:
        serve_from_the_judges_network(host, socket.socket(fileno=int(argv[2])))
    P.send_frame(sock, ["hi", P.VERSION, os.getpid()])
    host.ep.start()
    host.ep.serve_in_this_thread(1)  # the judge's main thread is chain 1
    _exit_now()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
