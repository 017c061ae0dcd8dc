"""What challenge tests may import: `from tui_assess.judge import candidate, hosted`.

    candidate.module("os")       # a module as the candidate's process sees it (a proxy):
                                 # monkeypatch.setattr(candidate.module("os"), "replace", fail)
    candidate.process()          # psutil.Process of the candidate's process, from outside
    candidate.cpu_seconds()      # CPU time its processes have used so far, from outside
    hosted("_reference")         # a module of the suite's folder, in a host of its own,
                                 # sandboxed like the candidate's (for performance ratios)
    host_of(module).cpu_seconds()  # the same measurements for the host of any module proxy

Only usable while the judge runs a suite (inside `python -m tui_assess.judge`).
"""

from __future__ import annotations

import shutil
import types
from typing import TYPE_CHECKING, Any

from tui_assess.judge.proxy import HostConnection, ModuleProxy, cpu_seconds

if TYPE_CHECKING:
    from tui_assess.judge.plugin import JudgePlugin

_plugin: JudgePlugin | None = None


def _install(plugin: JudgePlugin | None) -> None:
    global _plugin
    _plugin = plugin


def _require() -> JudgePlugin:
    if _plugin is None:
        raise RuntimeError("the judge API is only available while the judge runs a suite")
    return _plugin


class Host:
    """A candidate host, as a test sees it: its modules, its process, its CPU time."""

    def __init__(self, conn: HostConnection | None = None) -> None:
        self._conn = conn

    @property
    def conn(self) -> HostConnection:
        if self._conn is not None:
            return self._conn
        conn = _require().conn
        if conn is None:
            raise RuntimeError("the candidate's process has not been started")
        return conn

    def module(self, name: str) -> types.ModuleType:
        """Any module as this host sees it (imported there on first use): a proxy."""
        return self.conn.module(name)

    def process(self) -> Any:
        """A psutil.Process of the host, measured from outside (open files, memory, threads)."""
        import psutil

        return psutil.Process(self.conn.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the host and every process it started."""
        return cpu_seconds(self.conn.pid)

    def __repr__(self) -> str:
        return f"<candidate host pid={self.conn.pid}>"


candidate = Host()
"""The candidate's host (the process that imported the workspace's modules)."""


def hosted(name: str) -> types.ModuleType:
    """The module `name` of the suite's folder (`name.py` or a package), imported in a host of
    its own that is sandboxed like the candidate's, so that timings of both go through the
    same boundary. One host per name per run."""
    plugin = _require()
    conn = plugin.hosted.get(name)
    if conn is None:
        source = plugin.config.tests / f"{name}.py"
        package = plugin.config.tests / name
        if not name.isidentifier() or not (source.is_file() or package.is_dir()):
            raise ModuleNotFoundError(f"no module {name!r} in the suite's folder", name=name)
        folder = plugin.config.workspace.parent / f"hosted-{name}"
        folder.mkdir(exist_ok=True)
        if source.is_file():
            shutil.copy2(source, folder / source.name)
        else:
            shutil.copytree(package, folder / name, dirs_exist_ok=True)
        conn = plugin.start_host(f"hosted-{name}", folder)
        plugin.hosted[name] = conn
    return conn.module(name)


def host_of(module: types.ModuleType) -> Host:
    """The host a module proxy lives in (`candidate` for the workspace's modules)."""
    if not isinstance(module, ModuleProxy):
        raise TypeError(f"{module!r} is not a module of a candidate host")
    return Host(module._tui_conn)
