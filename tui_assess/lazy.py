"""Package attributes imported on first use (PEP 562).

A package's ``__init__`` re-exports names from its submodules for convenience; importing them
eagerly makes every ``import pkg.submodule`` pay for all of its siblings (issue 14: the TUI's
start-up imported the whole sandbox for one dataclass). With ``__getattr__ =
lazy_exports(__name__, {...})`` the package imports a submodule when one of its names is first
used; type checkers read the same names from an ``if TYPE_CHECKING:`` import block. A name
that is also a submodule's (``session.verify``) must be imported eagerly: importing the
submodule binds its name on the package, and ``__getattr__`` is then never asked.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``; ``exports`` maps each name to its submodule."""

    def __getattr__(name: str) -> Any:
        submodule = exports.get(name)
        if submodule is None:  # an AttributeError lets `from pkg import submodule` work
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(sys.modules[package], name, value)  # once: the next lookup is a plain one
        return value

    return __getattr__
