"""Scaffolding a new challenge folder (`tui-assess challenge new SLUG`).

The scaffold is a complete, small challenge — a pagination bug — rather than empty templates:
every file the format needs is there and consistent (two hidden groups matching two
[[scoring]] globs, a starter that fails a visible test and both groups, a solution that passes,
two mutants written as patches against the solution, each caught by one group, and hidden
failures that say in words what went wrong), so `tui-assess challenge validate` passes before
the author has changed anything. TODO markers show what to replace; docs/authoring.md walks
through it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tui_assess.challenge.model import CATEGORIES, DIFFICULTIES, SLUG_RE
from tui_assess.challenge.patch import make_patch
from tui_assess.errors import UserError

#: The example's module: a fixed name, never derived from the slug, so that no slug can make
#: it shadow a standard-library module (the workspace is first on sys.path during a run).
EXAMPLE_MODULE = "pagination"

_MANIFEST = """\
# The challenge's manifest. Every field is documented in docs/challenge-format.md.
# TODO (author): fill in each TODO, then `tui-assess challenge validate <folder> --repeat 20`.
format_version = 1                # always 1 for this format
id = "__SLUG__"{id_pad}# the slug; must equal the folder name
title = "TODO: the headline, as the ticket would say it (the orders API repeats pages)"
summary = "TODO: one line for the catalog: what is broken and what the candidate fixes."
# one of: __CATEGORIES__
category = "api"
# one of: __DIFFICULTIES__
difficulty = "easy"
time_limit_minutes = 20           # 1 to 600; a real challenge takes 20 to 60
hints = [                         # progressive: each one gives away a little more
    "TODO: first hint, a nudge. Example: pages are numbered from 1, not from 0.",
    "TODO: second hint, closer. Example: page p starts at item (p - 1) * per_page.",
    "TODO: last hint, nearly the fix. Example: reject page < 1 and per_page < 1 (ValueError).",
]
requires = []                     # extra pip requirements; keep it empty to work offline
files = ["pagination.py"]         # opened in the editor in this order; each is in starter/

[limits]                          # per test run: pytest and everything it starts
timeout_seconds = 60              # wall clock for the whole run
memory_mb = 1024                  # resident memory, summed over the run's processes
processes = 64                    # processes AND threads alive at once, pytest included
output_kb = 1024                  # captured output; past it the run is stopped
cpu_seconds = 60                  # CPU time per process (defaults to timeout_seconds)
disk_mb = 256                     # total writes of a run, the workspace copy included
open_files = 1024                 # files open at once per process

# Data to work with, made once in the workspace (this example needs none). Uncomment for a
# challenge whose candidates want a database in the SQL / HTTP consoles or the terminal pane:
# [seed]
# command = ["python", "seed.py", "shop.db"]   # in starter/; runs in the workspace, sandboxed
# creates = ["shop.db"]                        # runs again whenever one of these is missing
# database = "shop.db"                         # what the SQL and HTTP consoles use

# Hidden test files are grouped by these globs; a test counts in the first group that matches,
# and a group's weight is shared equally by its tests. Name every hidden file to match one.
[[scoring]]
group = "correctness"
tests = "test_correctness*.py"
weight = 60

[[scoring]]
group = "edge-cases"
tests = "test_edge*.py"
weight = 40
"""

_BRIEF = """\
<!-- TODO: this is the scaffold's example brief (a small pagination bug): replace it with your
     challenge's. A busy engineer should understand it in two minutes. Keep the four parts:
     context, task, interface, acceptance criteria. -->
# TODO: The orders API returns every order on every page

**Context.** TODO: who is hurt, and how it was noticed. Example: the mobile app pages through
a customer's orders, twenty at a time. `paginate()` in `pagination.py` was never finished:
every page returns every order, so the app shows each order many times and downloads
megabytes over slow connections.

## Your task

TODO: what to change, in one or two sentences. Example: finish `paginate()` so that each page
holds exactly its slice of the items.

## Interface (keep it)

TODO: the names and signatures the tests call. Example:

```python
from pagination import paginate

paginate(items, page, per_page) -> list   # page is numbered from 1
```

## Acceptance criteria

TODO: one testable statement per thing the hidden tests check. Example:

1. Page `p` holds the items from index `(p - 1) * per_page` up to, not including,
   `p * per_page`, in their original order; the last page may be shorter.
2. A page past the end is an empty list, not an error.
3. `page < 1` or `per_page < 1` raises `ValueError`: never answer with a wrong slice.
4. Standard library only.
"""

_STARTER = '''\
"""Paging through lists of records for the orders API."""

# TODO (author): the scaffold's example starter; replace it with yours. A real starter runs
#   but is wrong the way real code is wrong (see docs/authoring.md).

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def paginate(items: Sequence[T], page: int, per_page: int) -> list[T]:
    """Page `page` (numbered from 1) of `items`, `per_page` items per page."""
    # TODO: return only the requested page; this returns every item on every page.
    return list(items)
'''

_SOLUTION = '''\
"""Paging through lists of records for the orders API."""

# TODO (author): the scaffold's example reference solution; replace it with yours.
#   solution/ holds only the files that differ from starter/.

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def paginate(items: Sequence[T], page: int, per_page: int) -> list[T]:
    """Page `page` (numbered from 1) of `items`, `per_page` items per page."""
    if page < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    if per_page < 1:
        raise ValueError(f"per_page must be 1 or more, not {per_page}")
    start = (page - 1) * per_page
    return list(items[start : start + per_page])
'''

#: The example mutants: the solution with one plausible mistake, written as patches against it.
_MUTANT_LAST_PAGE_COMMENT = """\
The page count uses floor division, so a last page that is not full is never served. Passes the
visible tests (their pages are full); the hidden correctness group catches it.
TODO (author): an example mutant (a plausible wrong fix); replace it with yours."""

_MUTANT_NO_VALIDATION_COMMENT = """\
The slicing is right but nothing checks the arguments: page 0 quietly returns [] and page -1
returns items from the end. The hidden edge-cases group catches it.
TODO (author): an example mutant (a plausible wrong fix); replace it with yours."""

_VALIDATION = """\
    if page < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    if per_page < 1:
        raise ValueError(f"per_page must be 1 or more, not {per_page}")
"""
_START = "    start = (page - 1) * per_page\n"
_FLOOR_PAGES = """\
    pages = len(items) // per_page
    if page > pages:
        return []
"""


def _mutant_patches(module: str) -> dict[str, str]:
    """name -> patch text, each made by one edit of the solution."""
    rel = f"{module}.py"
    assert _VALIDATION in _SOLUTION and _START in _SOLUTION
    last_page = _SOLUTION.replace(_START, _FLOOR_PAGES + _START)
    no_validation = _SOLUTION.replace(_VALIDATION, "")
    return {
        "last-page-dropped": make_patch(
            _MUTANT_LAST_PAGE_COMMENT, {rel: _SOLUTION}, {rel: last_page}
        ),
        "no-validation": make_patch(
            _MUTANT_NO_VALIDATION_COMMENT, {rel: _SOLUTION}, {rel: no_validation}
        ),
    }


_VISIBLE_TEST = '''\
"""Visible tests: the happy path the candidate sees and runs (ctrl+r, `tui-assess check`)."""

# TODO (author): example tests; replace them with yours. The current directory is a copy of
#   the candidate's workspace, and it is on sys.path: import the candidate's module by name.

from pagination import paginate


def test_first_page():
    assert paginate(list(range(10)), 1, 3) == [0, 1, 2]


def test_second_page():
    assert paginate(list(range(10)), 2, 3) == [3, 4, 5]
'''

_HIDDEN_CONFTEST = '''\
"""Fixtures for the hidden tests. Data is generated at run time from a fixed seed, never
committed, so every run sees the same data."""

# TODO (author): an example fixture; replace it with yours (servers on 127.0.0.1 port 0,
#   databases in tmp_path: see docs/authoring.md). tests/visible/ needs its own conftest.py
#   if its tests use fixtures: the two suites run from separate folders.

import random

import pytest


@pytest.fixture
def orders():
    """103 order records, the same on every run (seeded); 103 is not a multiple of 7."""
    rng = random.Random(20240601)
    return [{"id": i, "total_cents": rng.randint(100, 50_000)} for i in range(1, 104)]
'''

_HIDDEN_CORRECTNESS = '''\
\"\"\"Hidden tests, group "correctness" (test_correctness*.py in challenge.toml).\"\"\"

# TODO (author): example tests; replace them with yours. Every mutant must fail at least one
#   hidden test: this group catches mutants/last-page-dropped.patch. A candidate sees only the
#   test's name and the first line of its failure, so every assert says in words what went
#   wrong (`challenge validate` reports a bare `assert 3 == 4`).

from pagination import paginate


def test_last_page_may_be_shorter():
    got = paginate(list(range(10)), 4, 3)
    assert got == [9], f"the last page is only partly filled: expected 1 item, got {len(got)}"


def test_one_page_when_per_page_exceeds_the_items():
    got = paginate(["a", "b"], 1, 50)
    assert got == ["a", "b"], f"a page larger than the list should hold all of it, got {got}"


def test_pages_cover_every_order_once_in_order(orders):
    per_page = 7
    seen = []
    for page in range(1, len(orders) + 2):  # bounded: a wrong paginate must not loop forever
        chunk = paginate(orders, page, per_page)
        assert len(chunk) <= per_page, f"page {page} has {len(chunk)} items, more than {per_page}"
        if not chunk:
            break
        seen.extend(chunk)
    missing = len([o for o in orders if o not in seen])
    assert seen == orders, (
        f"paging through {len(orders)} orders {per_page} at a time gave {len(seen)} of them "
        f"({missing} never shown), or not in their original order"
    )
'''

_HIDDEN_EDGE = '''\
\"\"\"Hidden tests, group "edge-cases" (test_edge*.py in challenge.toml).\"\"\"

# TODO (author): example tests; replace them with yours. This group catches
#   mutants/no-validation.patch.

import pytest

from pagination import paginate


def test_page_past_the_end_is_empty():
    got = paginate(list(range(10)), 5, 3)
    assert got == [], f"a page past the end should be empty, got {len(got)} items"


@pytest.mark.parametrize("page", [0, -1])
def test_page_below_one_is_rejected(page):
    with pytest.raises(ValueError):
        paginate(list(range(10)), page, 3)


def test_per_page_below_one_is_rejected():
    with pytest.raises(ValueError):
        paginate(list(range(10)), 1, 0)
'''


def scaffold_files(slug: str) -> dict[str, str]:
    """The scaffold for `slug`: relative path -> text, in the order they are written."""
    manifest = (
        _MANIFEST.replace("{id_pad}", " " * max(1, 27 - len(slug)))
        .replace("__SLUG__", slug)
        .replace("__CATEGORIES__", " | ".join(CATEGORIES))
        .replace("__DIFFICULTIES__", " | ".join(DIFFICULTIES))
    )
    m = EXAMPLE_MODULE
    return {
        "challenge.toml": manifest,
        "brief.md": _BRIEF,
        f"starter/{m}.py": _STARTER,
        f"tests/visible/test_{m}.py": _VISIBLE_TEST,
        "tests/hidden/conftest.py": _HIDDEN_CONFTEST,
        f"tests/hidden/test_correctness_{m}.py": _HIDDEN_CORRECTNESS,
        f"tests/hidden/test_edge_{m}.py": _HIDDEN_EDGE,
        f"solution/{m}.py": _SOLUTION,
        **{f"mutants/{name}.patch": text for name, text in _mutant_patches(m).items()},
    }


def default_parent(cwd: Path | None = None) -> Path:
    """Where `challenge new` puts a challenge without --dir: ./challenges if it is a folder,
    else the current folder (relative to cwd, which defaults to the current folder)."""
    base = Path(".") if cwd is None else cwd
    challenges = base / "challenges"
    return challenges if challenges.is_dir() else base


def new_challenge(slug: str, parent: Path) -> Path:
    """Create parent/slug with the example scaffold; return its path.

    Raises UserError for a slug that is not valid, a parent that is not a folder, or a
    destination that already exists; never leaves a half-written folder behind.
    """
    if not SLUG_RE.match(slug):
        raise UserError(
            f"{slug!r} is not a valid challenge slug: use 1 to 64 lowercase letters, digits "
            "and '-', starting with a letter or digit."
        )
    parent = Path(parent)
    if not parent.is_dir():
        raise UserError(f"{parent}: no such folder to create the challenge in.")
    dest = parent / slug
    try:
        dest.mkdir()  # atomic: fails if anything (file or folder) is already there
    except FileExistsError:
        raise UserError(
            f"{dest} already exists; choose another slug, or another folder with --dir."
        ) from None
    except OSError as exc:
        raise UserError(f"{dest}: cannot create the folder ({exc.strerror}).") from None
    try:
        for rel, text in scaffold_files(slug).items():
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise UserError(f"{dest}: cannot write the scaffold ({exc.strerror}).") from None
    return dest
