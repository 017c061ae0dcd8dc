"""The trusted side of a test run: pytest, the suite's fixtures and every assertion run here,
outside the sandbox; the candidate's modules live in a candidate host inside it.

`from tui_assess.judge import candidate, hosted` is the API for challenge tests (api.py).
"""

from __future__ import annotations

from typing import Any

__all__ = ["candidate", "host_of", "hosted"]


def __getattr__(name: str) -> Any:
    # Lazy: the runner imports tui_assess.judge.run without pulling in the judge's side.
    if name in __all__:
        from tui_assess.judge import api

        return getattr(api, name)
    raise AttributeError(name)
