"""The judge <-> candidate host boundary, against a real host subprocess.

One host serves the whole module (it is started like the judge starts it, minus the sandbox);
the tests that break a connection use hosts of their own or a fake host written in the test.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gc
import json
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
from collections import namedtuple
from pathlib import Path

import pytest

from tui_assess.judge import protocol as P
from tui_assess.judge.proxy import (
    CandidateBaseException,
    Handle,
    HostConnection,
    HostDied,
    ModuleProxy,
    WorkspaceFinder,
    guard_sqlite,
)

HOST = Path(__file__).resolve().parent.parent / "tui_assess" / "judge" / "_host.py"

CANDIDATE = '''
import sqlite3
import threading


class LimitError(ValueError):
    """The candidate's own exception class."""


class Throttled(LimitError):
    def __init__(self, retry_after):
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


class Stop(BaseException):
    pass


class EqualsEverything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __bool__(self):
        return False

    def __repr__(self):
        return "Z" * 100_000


class Cache:
    """Read-through cache: one upstream load per key, however many callers miss at once."""

    def __init__(self, service):
        self.service = service
        self.lock = threading.Lock()
        self.values = {}
        self.loading = {}

    def get(self, key):
        with self.lock:
            if key in self.values:
                return self.values[key]
            event = self.loading.get(key)
            if event is None:
                event = self.loading[key] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            event.wait(20)
            return self.values[key]
        value = self.service.get(key)
        with self.lock:
            self.values[key] = value
            del self.loading[key]
        event.set()
        return value

    def __len__(self):
        return len(self.values)


def echo(value):
    return value


def types_of(value):
    return [type(v).__name__ for v in value]


def call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def raise_(kind, *args):
    raise {"value": ValueError, "key": KeyError, "os": OSError, "limit": LimitError,
           "throttled": Throttled, "exit": SystemExit, "kbd": KeyboardInterrupt,
           "stop": Stop, "genexit": GeneratorExit}[kind](*args)


def call_and_reraise(fn):
    try:
        fn()
    except Exception as exc:
        held.append(exc)
        raise


held = []


def reraise_held():
    raise held.pop()


def query(conn, sql):
    return [tuple(row) for row in conn.execute(sql)]


def query_in_thread(conn, sql):
    out = []
    def run():
        try:
            out.append(query(conn, sql))
        except Exception as exc:
            out.append(exc)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out[0]


def many_objects(n):
    return [object() for _ in range(n)]


def from_threads(fn, n):
    """fn() from n threads of the candidate's own, started together."""
    barrier = threading.Barrier(n)
    out = [None] * n
    def run(i):
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as exc:
            out[i] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def reach(obj, *names):
    for name in names:
        obj = getattr(obj, name)
    return obj


def set_on(obj, name, value):
    setattr(obj, name, value)


def main_thread():
    return threading.current_thread() is threading.main_thread()
'''


def spawn_host(workspace: Path) -> tuple[HostConnection, list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(fd: int) -> int:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(HOST), str(fd)], cwd=workspace, pass_fds=(fd,)
        )
        procs.append(proc)
        return proc.pid

    return HostConnection.start(spawn), procs


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory):
    ws = tmp_path_factory.mktemp("ws")
    (ws / "cand.py").write_text(CANDIDATE)
    conn, procs = spawn_host(ws)
    finder = WorkspaceFinder(ws, conn)
    sys.meta_path.append(finder)
    yield conn
    sys.meta_path.remove(finder)
    sys.modules.pop("cand", None)
    conn.close()
    procs[0].wait(10)


@pytest.fixture(scope="module")
def cand(host: HostConnection):
    import cand  # the proxy: the module lives in the host

    assert isinstance(cand, ModuleProxy)
    return cand


# ------------------------------------------------------------------ values


Point = namedtuple("Point", "x y")


class Sneaky(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


PLAIN = [
    None,
    True,
    0,
    -(2**70),
    1.5,
    float("inf"),
    "héllo \udcff",
    b"\x00\xff bytes",
    [1, [2, [3]]],
    (1, "a", None),
    {"k": 1, 2: "two", (1, 2): [3], None: b"x", 1.5: True},
    {1, 2, 3},
    frozenset({"a"}),
    Path("/tmp/some/where.db"),
    dt.datetime(2024, 3, 1, 12, 30, 15, 123, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.date(2024, 2, 29),
    dt.time(23, 59, 1),
    dt.timedelta(days=-1, seconds=5, microseconds=7),
    decimal.Decimal("1234.5600"),
]


@pytest.mark.parametrize("value", PLAIN, ids=[type(v).__name__ for v in PLAIN])
def test_plain_data_crosses_by_value_both_ways(cand, value) -> None:
    back = cand.echo(value)
    assert back == value and type(back) is type(value) or (
        isinstance(value, Path) and isinstance(back, Path) and back == value
    )


def test_nan_crosses_and_subclasses_arrive_as_their_base_type(cand) -> None:
    back = cand.echo(float("nan"))
    assert back != back
    assert cand.types_of([Point(1, 2), Sneaky("x"), True, 3]) == ["tuple", "str", "bool", "int"]
    assert type(cand.echo(Sneaky("x"))) is str and cand.echo(Sneaky("x")) != "y"


def test_values_too_deep_do_not_cross(cand) -> None:
    deep: list = []
    for _ in range(P.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        cand.echo(deep)


# ------------------------------------------------------------------ handles


def test_handles_compare_by_identity_never_by_the_candidates_eq(cand) -> None:
    obj = cand.EqualsEverything()
    assert isinstance(obj, Handle)
    assert obj != 1 and (obj == 1) is False and obj != cand.EqualsEverything()
    assert obj == obj and bool(obj) is True
    assert hash(obj) == hash(obj)
    assert cand.echo(obj) is obj  # the same host object comes back as the same handle
    with pytest.raises(TypeError):
        _ = obj < obj
    assert len(repr(obj)) <= 1000
    assert isinstance(obj, cand.EqualsEverything) and not isinstance(1, cand.EqualsEverything)


def test_handle_forwards_attributes_calls_len_and_items(cand) -> None:
    cache = cand.Cache({"a": 1})  # a dict is data: the host gets a copy
    assert len(cache) == 0
    cache.values = {"x": 9}
    assert cache.get("x") == 9 and len(cache) == 1
    assert "x" in cache.values  # cache.values is a plain dict, copied
    with pytest.raises(AttributeError):
        _ = cache.nothing_here


def test_a_handle_describes_itself_with_strings_and_nothing_more(cand) -> None:
    fn = cand.echo
    assert (fn.__name__, fn.__qualname__) == ("echo", "echo")
    assert cand.Cache.__name__ == "Cache"
    with pytest.raises(AttributeError):
        _ = fn.__globals__  # other dunders are the judge's business, never forwarded
    with pytest.raises(AttributeError):
        _ = fn.__dict__


def test_released_handles_are_released_in_the_host(host: HostConnection, cand) -> None:
    gc.collect()
    before = host.stats()["exports"]
    objs = cand.many_objects(300)
    assert len(objs) == 300 and all(isinstance(o, Handle) for o in objs)
    assert host.stats()["exports"] == before + 300
    del objs
    gc.collect()
    assert host.stats()["exports"] == before


# ------------------------------------------------------------------ threads


class SlowService:
    """Holds every load until released, and records the judge thread each load ran on."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def get(self, key: str) -> str:
        with self.lock:
            self.calls.append((key, threading.get_ident()))
        self.entered.set()
        assert self.gate.wait(20)
        return key.upper()


def test_twenty_judge_threads_calling_a_handle_that_calls_back(cand) -> None:
    """The cache-layer thundering herd: 20 callers, one upstream load, no deadlock."""
    service = SlowService()
    cache = cand.Cache(service)
    results: dict[int, object] = {}
    barrier = threading.Barrier(20)

    def caller(i: int) -> None:
        barrier.wait(10)
        try:
            results[i] = cache.get("sku")
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    assert service.entered.wait(20)
    service.gate.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "deadlock: callers never returned"
    assert results == {i: "SKU" for i in range(20)}
    assert len(service.calls) == 1
    # The callback ran on the judge thread whose call was waiting for it.
    assert service.calls[0][1] in {t.ident for t in threads}


def test_callbacks_on_many_keys_run_in_parallel_on_their_callers_threads(cand) -> None:
    service = SlowService()
    service.gate.set()
    cache = cand.Cache(service)
    idents: dict[str, int] = {}

    def caller(key: str) -> None:
        idents[key] = threading.get_ident()
        assert cache.get(key) == key.upper()

    threads = [threading.Thread(target=caller, args=(f"k{i}",)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(k for k, _ in service.calls) == sorted(idents)
    assert all(idents[key] == ident for key, ident in service.calls)


def test_reentrant_lock_held_across_the_boundary_stays_reentrant(cand) -> None:
    lock = threading.RLock()

    def inner() -> str:
        with lock:  # the same judge thread: re-entering succeeds
            return "inside"

    with lock:
        assert cand.call(inner) == "inside"


def test_lent_sqlite_connection_works_on_the_thread_that_made_it(cand) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(5)])
    assert cand.query(conn, "SELECT sum(x) FROM t") == [(10,)]
    # From a thread the candidate starts: a mirror thread of the judge, not the owner.
    err = cand.query_in_thread(conn, "SELECT 1")
    assert isinstance(err, sqlite3.ProgrammingError)
    conn.close()


def test_a_lent_cursor_is_read_in_batches_and_a_generator_one_item_at_a_time(
    host: HostConnection, cand
) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
    before = host.ep.served
    rows = cand.query(conn, "SELECT x FROM t ORDER BY x")
    assert rows == [(i,) for i in range(2000)]
    assert host.ep.served - before <= 12  # execute, iter, 8 batches of rows, the end
    pulled: list[int] = []

    def numbers():
        for i in range(5):
            pulled.append(i)
            yield i

    gen = numbers()
    assert cand.call(next, gen) == 0 and pulled == [0]  # nothing read ahead of the candidate
    assert cand.echo(list(range(3))) == [0, 1, 2]
    conn.close()


def test_candidate_threads_get_bounded_mirror_threads(cand) -> None:
    seen: set[int] = set()
    lock = threading.Lock()
    gate = threading.Barrier(8, timeout=20)

    def note() -> int:
        with lock:
            seen.add(threading.get_ident())
        gate.wait()  # all 8 at once: each has a judge thread of its own
        return 1

    assert cand.from_threads(note, 8) == [1] * 8
    assert len(seen) == 8 and threading.get_ident() not in seen


def test_too_many_candidate_threads_are_refused_not_hung(host: HostConnection, cand) -> None:
    release = threading.Event()
    refused_before = host.ep.refused_threads

    def hold() -> str:
        release.wait(20)
        return "ok"

    def watch() -> None:  # hold every mirror thread until the judge has refused one
        while host.ep.refused_threads == refused_before and not release.wait(0.01):
            pass
        release.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out = cand.from_threads(hold, 80)
    release.set()
    refused = [r for r in out if isinstance(r, RuntimeError)]
    assert len(out) == 80
    assert refused and "threads called across at once" in str(refused[0])
    assert out.count("ok") >= 64 - 10  # the mirror limit, less mirrors still finishing


def test_the_judge_main_thread_is_served_by_the_host_main_thread(cand) -> None:
    assert cand.main_thread() is True
    other: list = []
    t = threading.Thread(target=lambda: other.append(cand.main_thread()))
    t.start()
    t.join(10)
    assert other == [False]


# ------------------------------------------------------------------ exceptions


def test_builtin_exceptions_arrive_as_themselves(cand) -> None:
    with pytest.raises(ValueError, match="bad value"):
        cand.raise_("value", "bad value")
    with pytest.raises(KeyError):
        cand.raise_("key", "k")
    with pytest.raises(FileNotFoundError) as info:
        cand.raise_("os", 2, "No such file")
    assert info.value.errno == 2 and info.value.strerror == "No such file"


def test_candidate_exception_classes_are_judge_classes_reachable_through_the_module(cand) -> None:
    assert issubclass(cand.LimitError, ValueError)
    assert issubclass(cand.Throttled, cand.LimitError)
    assert cand.Throttled is cand.Throttled
    with pytest.raises(cand.LimitError) as info:
        cand.raise_("throttled", 30)
    assert type(info.value) is cand.Throttled
    assert info.value.retry_after == 30 and str(info.value) == "retry in 30 s"
    notes = "".join(getattr(info.value, "__notes__", []))
    # Where it was raised: the candidate's own frames, named as in the workspace; the host's
    # plumbing and the run's folders are left out.
    assert notes.startswith("Raised in your code:"), notes
    assert 'File "' in notes and "raise" in notes, notes
    assert "_host.py" not in notes and "protocol.py" not in notes and "/tmp" not in notes, notes


def test_a_judge_exception_comes_back_as_the_original_object(cand) -> None:
    class UpstreamError(Exception):
        pass

    original = UpstreamError("provider timed out")

    def failing() -> None:
        raise original

    with pytest.raises(UpstreamError) as info:
        cand.call_and_reraise(failing)
    assert info.value is original
    with pytest.raises(UpstreamError) as again:
        cand.reraise_held()
    assert again.value is original


@pytest.mark.parametrize("kind", ["exit", "kbd", "genexit", "stop"])
def test_base_exceptions_never_cross_as_themselves(cand, kind: str) -> None:
    with pytest.raises(CandidateBaseException) as info:
        cand.raise_(kind, 0)
    assert isinstance(info.value, Exception)
    assert type(info.value).__name__ in {"SystemExit", "KeyboardInterrupt", "GeneratorExit", "Stop"}


def test_a_pytest_outcome_raised_by_a_fake_is_not_replayed_as_a_skip(cand) -> None:
    def skipper() -> None:
        pytest.skip("from a fake")

    with pytest.raises(CandidateBaseException):
        cand.call_and_reraise(skipper)


# ------------------------------------------------------------------ lent objects


class Fake:
    __host_methods__ = ("get", "value")

    def __init__(self) -> None:
        self.value = 41
        self.secret = "not for the host"

    def get(self) -> int:
        return self.value + 1

    def put(self, v: int) -> None:
        self.value = v


@pytest.mark.parametrize(
    "names",
    [
        ("__dict__",),
        ("get", "__globals__"),
        ("get", "__func__"),
        ("_private",),
        ("put",),  # public, but not in __host_methods__
        ("secret",),
    ],
)
def test_lent_objects_give_no_reach_beyond_their_public_api(cand, names) -> None:
    with pytest.raises(AttributeError):
        cand.reach(Fake(), *names)


def test_lent_objects_serve_their_allowed_methods_and_refuse_writes(cand) -> None:
    fake = Fake()
    assert cand.call(fake.get) == 42
    assert cand.reach(fake, "value") == 41
    with pytest.raises(AttributeError, match="read-only"):
        cand.set_on(fake, "value", 0)
    assert fake.value == 41


def test_lent_functions_expose_only_a_call(cand) -> None:
    def helper() -> str:
        return "called"

    assert cand.call(helper) == "called"
    for name in ("__globals__", "__code__", "__closure__"):
        with pytest.raises(AttributeError):
            cand.reach(helper, name)


def test_modules_and_classes_are_never_lent(cand) -> None:
    with pytest.raises(TypeError, match="cannot be used across"):
        cand.reach(sys, "modules")
    with pytest.raises(TypeError, match="cannot be used across"):
        cand.call(Fake)


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE '{tmp}/other.db' AS other",
        "VACUUM INTO '{tmp}/copy.db'",
        "SELECT load_extension('libsomething')",
    ],
)
def test_a_lent_sqlite_connection_refuses_attach_vacuum_into_and_extensions(
    cand, tmp_path: Path, sql: str
) -> None:
    restore = guard_sqlite()
    try:
        conn = sqlite3.connect(tmp_path / "main.db")
        conn.execute("CREATE TABLE t (x)")
        with pytest.raises(sqlite3.DatabaseError, match="not authorized|authorization denied"):
            cand.query(conn, sql.format(tmp=tmp_path))
        assert not (tmp_path / "other.db").exists() and not (tmp_path / "copy.db").exists()
        for method in ("set_authorizer", "enable_load_extension", "set_trace_callback"):
            with pytest.raises(AttributeError):
                cand.reach(conn, method)
        conn.execute("VACUUM")  # plain VACUUM (an internal temporary database) still works
        conn.close()
    finally:
        restore()


# ------------------------------------------------------------------ a host that misbehaves


def _fake_host(frame: bytes, then_close: bool):
    """A 'host' that answers the judge's first request with `frame` (raw bytes)."""
    ours, theirs = socket.socketpair()

    def run() -> None:
        try:
            theirs.recv(65536)  # the judge's first request
            theirs.sendall(frame)
            if then_close:
                theirs.close()
            else:
                theirs.recv(65536)
        except OSError:
            pass

    threading.Thread(target=run, daemon=True).start()
    return ours, theirs


def _frame(obj: object) -> bytes:
    raw = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
    return struct.pack(">I", len(raw)) + raw


MALFORMED = {
    "not json": _frame(b"{nope"),
    "huge length": struct.pack(">I", P.MAX_FRAME + 1) + b"x",
    "not an array": _frame({"a": 1}),
    "NaN literal": _frame(b'["a", 1, 1, NaN]'),
    "deep nesting": _frame(b"[" * 5000 + b"]" * 5000),
    "unknown kind": _frame(["zz", 1]),
    "answer nobody asked for": _frame(["a", 1, 999, 0]),
    "unknown tag": _frame(["a", 1, 1, {"evil": "__import__('os')"}]),
    "object never lent": _frame(["a", 1, 1, {"o": 12345}]),
    "error that is not an exception": _frame(["x", 1, 1, 7]),
    "truncated, then closed": struct.pack(">I", 100) + b"[1,",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_frames_are_a_dead_host_never_a_judge_crash(name: str) -> None:
    closes = "closed" in name
    ours, theirs = _fake_host(MALFORMED[name], then_close=closes)
    conn = HostConnection(ours, 0)
    conn.ep.start()
    with pytest.raises(HostDied) as info:
        conn.request("stats")
    assert "the candidate's process is gone" in str(info.value)
    assert ("truncated" if closes else "broke the protocol") in str(info.value)
    with pytest.raises(HostDied):  # and stays dead
        conn.request("stats")
    conn.close()
    theirs.close()


def test_a_host_that_exits_mid_call_fails_the_call_with_a_plain_reason(tmp_path: Path) -> None:
    (tmp_path / "quits.py").write_text("import os\ndef now():\n    os._exit(0)\n")
    conn, procs = spawn_host(tmp_path)
    handle = conn.request("imp", "quits")
    with pytest.raises(HostDied, match="gone"):
        conn.request("meth", handle, "now", [], {})
    procs[0].wait(10)
    conn.close()


def test_a_syntax_error_comes_back_with_file_and_line_first(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("x = 1\ndef f(:\n    pass\n")
    conn, procs = spawn_host(tmp_path)
    with pytest.raises(ImportError) as info:
        conn.request("imp", "broken")
    first = str(info.value).splitlines()[0]
    assert first.startswith("broken.py, line 2: SyntaxError")
    conn.close()
    procs[0].wait(10)
