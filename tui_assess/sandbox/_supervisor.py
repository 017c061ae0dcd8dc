"""The supervisor of one run: a fork server that starts every process of the run.

Started by the runner (tui_assess.sandbox.run) as `python -I -S _supervisor.py`, its config
(JSON) on stdin, with its end of a message socket at the fd the config names. Stdlib only: it
must not import anything a candidate could influence. One thread, one select loop:

- requests from the runner and from trusted clients (start the judge, spawn a candidate,
  forward a port, kill, stop, shut down) arrive as messages (see _wire.py);
- SIGCHLD wakes the loop; every exit is reaped here (the supervisor is a child subreaper, so
  orphaned descendants come back to it) and reported to the runner and the spawning client.

When the runner's socket closes the supervisor kills everything it started and exits; it also
dies with the runner (PR_SET_PDEATHSIG), and everything it starts dies with it.

Isolation steps, one small function each, live in _isolate.py (shared with the probe).
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import sys
import time

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

import _isolate  # noqa: E402  (stdlib-only sibling, found through the line above)
import _wire  # noqa: E402

# Annotations only: importing typing would cost the supervisor's start-up (mypy reads this).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SETUP_FAILED = 125
KILL_BUDGET_S = 3.0


def returncode(status: int) -> int:
    """subprocess's convention: the exit code, or -N when signal N killed the process."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


class Proc:
    """One process the supervisor started (the root of a candidate's or the judge's tree)."""

    def __init__(self, pid: int, name: str, kind: str, owner: socket.socket | None) -> None:
        self.pid = pid  # what waitpid returns here
        self.name = name
        self.kind = kind  # "candidate" | "trusted"
        self.owner = owner  # the client that asked for it (None: the runner)
        self.shown_pid = pid  # the pid callers see (the program itself, below any init)
        self.ns_pid = 0  # namespaces: the PID 1 of the candidate's PID namespace
        self.status_fd = -1  # namespaces: where that init writes the program's wait status
        self.netns_fd = -1  # namespaces: the candidate's network namespace


class Supervisor:
    def __init__(self, cfg: dict[str, Any], runner: socket.socket) -> None:
        self.cfg = cfg
        self.runner = runner
        self.sel = selectors.DefaultSelector()
        self.procs: dict[int, Proc] = {}
        self.clients: list[socket.socket] = []
        self.forwards: list[int] = []
        self.relay: Any = None  # namespaces: the TCP relay process (_namespaces.TcpRelay)
        self.closing = False
        self.closed_by_runner = False  # the runner's close() asked: it removes the run folder
        self.sig_r, sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(sig_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: None)  # ends the loop via the wakeup fd
        self.sel.register(self.sig_r, selectors.EVENT_READ, "signal")
        self.sel.register(runner, selectors.EVENT_READ, "runner")

    # -- the loop ---------------------------------------------------------------------------

    def serve(self) -> int:
        while True:
            for key, _ in self.sel.select():
                if key.data == "signal":
                    if self._drain_signals():
                        self.shutdown()
                        return 0
                    self.reap()
                    continue
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    msg, fds = _wire.recv(sock)
                except OSError:
                    msg, fds = None, []
                if msg is None:
                    if sock is self.runner:
                        self.shutdown()
                        return 0
                    self._drop_client(sock)
                    continue
                try:
                    self.handle(msg, fds, sock)
                finally:
                    for fd in fds:
                        _close(fd)

    def _drain_signals(self) -> bool:
        """True when a SIGTERM arrived (the runner wants everything gone now)."""
        term = False
        try:
            while True:
                data = os.read(self.sig_r, 512)
                if not data:
                    break
                term = term or signal.SIGTERM in data
        except BlockingIOError:
            pass
        return term

    def _drop_client(self, sock: socket.socket) -> None:
        self.sel.unregister(sock)
        if sock in self.clients:
            self.clients.remove(sock)
        sock.close()

    def reply(self, sock: socket.socket, msg: dict[str, Any], req: dict[str, Any]) -> None:
        msg["re"] = req.get("id")
        try:
            _wire.send(sock, msg)
        except OSError:
            pass

    def event(self, msg: dict[str, Any], fds: list[int] | tuple[int, ...] = ()) -> None:
        try:
            _wire.send(self.runner, msg, fds)
        except OSError:
            pass

    # -- requests ---------------------------------------------------------------------------

    def handle(self, msg: dict[str, Any], fds: list[int], sock: socket.socket) -> None:
        op = msg.get("op")
        from_runner = sock is self.runner
        try:
            if op == "hello":
                self.reply(sock, self.info(), msg)
            elif op == "trusted" and from_runner:
                self.reply(sock, {"pid": self.start_trusted(msg, fds)}, msg)
            elif op == "spawn":
                proc = self.spawn(msg["spec"], fds, None if from_runner else sock)
                self.reply(sock, {"pid": proc.shown_pid}, msg)
            elif op == "forward":
                self.forward(int(msg["port"]))
                self.reply(sock, {"ok": True}, msg)
            elif op == "kill":
                self.kill_candidate(int(msg["pid"]), None if from_runner else sock)
                self.reply(sock, {"ok": True}, msg)
            elif op == "stop" and from_runner:
                self.kill_all(kinds=("candidate",))
                self.reply(sock, {"ok": True}, msg)
            elif op == "shutdown" and from_runner:
                self.closed_by_runner = True
                self.kill_all(kinds=("candidate", "trusted"))
                self.reply(sock, {"ok": True}, msg)
            else:
                self.reply(sock, {"error": f"unknown or unauthorised request {op!r}"}, msg)
        except _isolate.SetupError as exc:
            self.reply(sock, {"error": str(exc)}, msg)
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the run
            self.reply(sock, {"error": f"{op}: {type(exc).__name__}: {exc}"}, msg)

    def info(self) -> dict[str, Any]:
        return {
            "mode": self.cfg["mode"],
            "area": self.cfg["area"],
            "run_dir": self.cfg["run_dir"],
            "ports": self.cfg.get("ports", []),
            "pid": os.getpid(),
        }

    def start_trusted(self, msg: dict[str, Any], fds: list[int]) -> int:
        """The judge: not sandboxed, inside the run's namespaces, with a control socket."""
        mine, theirs = _wire.pair()
        targets = [0, 1, 2, *(int(n) for n in msg.get("pass_fds", []))]
        ctl = _isolate.free_fd_number(targets)
        env = dict(msg["env"])
        env["TUI_ASSESS_SANDBOX_CTL"] = str(ctl)
        mapping = dict(zip(targets, fds, strict=True))
        mapping[ctl] = theirs.fileno()
        argv = [str(a) for a in msg["argv"]]
        program = _isolate.resolve_program(argv[0], env, self.cfg["python"])
        pid = _isolate.fork_exec(
            _isolate.trusted_child, mapping, lambda: None, argv, env, msg["cwd"], program
        )
        theirs.close()
        self.procs[pid] = Proc(pid, str(msg.get("name", "judge")), "trusted", None)
        self.clients.append(mine)
        self.sel.register(mine, selectors.EVENT_READ, "client")
        self.event({"ev": "started", "kind": "trusted", "name": "judge", "pid": pid})
        return pid

    def spawn(self, spec: dict[str, Any], fds: list[int], owner: socket.socket | None) -> Proc:
        name = str(spec["name"])
        if any(p.name == name and p.kind == "candidate" for p in self.procs.values()):
            raise _isolate.SetupError(f"a candidate named {name!r} is already running")
        tty = fds[0] if spec.get("tty") else None
        passed = fds[1:] if spec.get("tty") else fds
        mapping = dict(zip((int(n) for n in spec.get("pass_fds", [])), passed, strict=True))
        out_r = -1
        if tty is None:
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            std = (os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), out_w, out_w)
        else:
            std = (tty, tty, tty)
        mapping.update({0: std[0], 1: std[1], 2: std[2]})
        dirs = _isolate.candidate_dirs(self.cfg, name)
        plan = _isolate.CandidatePlan(self.cfg, spec, dirs, mapping, tty is not None)
        try:
            proc = Proc(0, name, "candidate", owner)
            relay_fd = self.relay.sock.fileno() if self.relay is not None else -1
            launched = _isolate.launch_candidate(plan, self.forwards, relay_fd)
            proc.pid, proc.shown_pid = launched.pid, launched.shown_pid
            proc.ns_pid, proc.status_fd = launched.ns_pid, launched.status_fd
            proc.netns_fd = launched.netns_fd
        finally:
            if tty is None:
                os.close(std[0])
                os.close(std[1])
        self.procs[proc.pid] = proc
        started = {
            "ev": "started",
            "kind": "candidate",
            "name": name,
            "pid": proc.shown_pid,
            "root": proc.pid,
            "init": proc.ns_pid,
        }
        self.event(started, [out_r] if out_r >= 0 else [])
        if out_r >= 0:
            os.close(out_r)
        return proc

    def forward(self, port: int) -> None:
        mode = self.cfg["mode"]
        if not 0 < port < 65536:
            raise _isolate.SetupError(f"{port} is not a TCP port")
        if mode == "landlock" and port not in self.cfg.get("ports", []):
            raise _isolate.SetupError(
                f"port {port} is not in this run's port pool {self.cfg.get('ports')}: "
                "bind the server to one of RunClient.ports"
            )
        if port in self.forwards:
            return
        self.forwards.append(port)
        if mode == "namespaces":
            if self.relay is None:
                from _namespaces import TcpRelay  # type: ignore[import-not-found]

                self.relay = TcpRelay.start()
                relay = {"ev": "started", "kind": "ours", "name": "relay", "pid": self.relay.pid}
                self.event(relay)
            for proc in self.procs.values():
                if proc.kind == "candidate" and proc.netns_fd >= 0:
                    self.relay.listen_in(proc.netns_fd, port)

    # -- ending processes -------------------------------------------------------------------

    def kill_candidate(self, shown_pid: int, owner: socket.socket | None) -> None:
        for proc in self.procs.values():
            if proc.shown_pid == shown_pid and proc.kind == "candidate":
                if owner is not None and proc.owner is not owner:
                    raise _isolate.SetupError("that candidate was started by someone else")
                _isolate.kill_trees([proc.pid], KILL_BUDGET_S, self.reap)
                return
        # Already gone (and reaped): nothing to do.

    def kill_all(self, kinds: tuple[str, ...]) -> None:
        roots = [p.pid for p in self.procs.values() if p.kind in kinds]
        if "trusted" in kinds:
            # Orphans (re-parented to us as subreaper) go too: everything below us.
            roots = [os.getpid()]
        _isolate.kill_trees(roots, KILL_BUDGET_S, self.reap, spare_root=os.getpid() in roots)
        self.reap()

    def reap(self) -> None:
        while True:
            try:
                pid, status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            proc = self.procs.pop(pid, None)
            if proc is None:
                continue  # an adopted orphan
            rc = returncode(status)
            if proc.status_fd >= 0:
                rc = _isolate.read_program_status(proc.status_fd, rc)
                _close(proc.status_fd)
            _close(proc.netns_fd)
            msg = {
                "ev": "exited",
                "kind": proc.kind,
                "name": proc.name,
                "pid": proc.shown_pid,
                "returncode": rc,
                "cpu_s": rusage.ru_utime + rusage.ru_stime,
                "maxrss_kb": rusage.ru_maxrss,
            }
            self.event(msg)
            if proc.owner is not None:
                try:
                    _wire.send(proc.owner, msg)
                except OSError:
                    pass

    def shutdown(self) -> None:
        self.kill_all(kinds=("candidate", "trusted"))
        if self.relay is not None:
            self.relay.stop()


def _close(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def main() -> int:
    with os.fdopen(0, "rb") as f:
        cfg = json.loads(f.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    _isolate.die_with_parent(cfg["runner_pid"])
    _isolate.become_subreaper()
    runner = socket.socket(fileno=cfg["ctl_fd"])
    os.set_inheritable(runner.fileno(), False)
    try:
        _isolate.enter_run(cfg)
    except (OSError, _isolate.SetupError) as exc:
        _wire.send(runner, {"ev": "failed", "error": str(exc)})
        return SETUP_FAILED
    _wire.send(runner, {"ev": "ready", "pid": os.getpid(), "t": time.monotonic()})
    supervisor = Supervisor(cfg, runner)
    code = supervisor.serve()
    # Not the parent's pid: the runner's thread that started this one can die first while the
    # rest of a killed runner is still exiting (PR_SET_PDEATHSIG follows the thread).
    if not supervisor.closed_by_runner:
        # The runner died without closing the run: its folder (the hidden tests in private/,
        # outside namespaces) is ours to remove, now that every process of the run is gone.
        _isolate.remove_run_dir(cfg)
    return code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as exc:
        what = "not permitted" if exc.errno == errno.EPERM else "failed"
        os.write(2, f"tui-assess-sandbox: {what}: {exc}\n".encode())
        sys.exit(SETUP_FAILED)
