"""The challenge model (`format_version = 1`) and its loader.

Every manifest field is documented in FIELDS below and in docs/challenge-format.md; a test
checks the two agree. Loading never raises anything but UserError for bad input, whose message
names the file and the field.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError
from tui_assess.sandbox.limits import Limits

FORMAT_VERSION = 1
CATEGORIES = (
    "performance",
    "security",
    "data-modeling",
    "api",
    "integration",
    "operations",
    "debugging",
    "scalability",
)
DIFFICULTIES = ("easy", "medium", "hard")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

#: Every top-level manifest field: (type name, required, description).
FIELDS: dict[str, tuple[str, bool, str]] = {
    "format_version": ("integer", True, "Always 1 for this format."),
    "id": ("string", True, "The challenge's slug; equals the folder name."),
    "title": ("string", True, "Headline shown in the catalog and the workspace header."),
    "summary": ("string", True, "One line for the catalog."),
    "category": ("string", True, "One of: " + ", ".join(CATEGORIES) + "."),
    "difficulty": ("string", True, "One of: " + ", ".join(DIFFICULTIES) + "."),
    "time_limit_minutes": ("integer", True, "Time a candidate gets, 1 to 600 minutes."),
    "hints": ("array of strings", False, "Progressive hints, revealed one at a time."),
    "requires": ("array of strings", False, "Extra pip requirements; bundled ones need none."),
    "files": (
        "array of strings",
        False,
        "Workspace files the candidate works on, in the order the editor opens them.",
    ),
    "limits": ("table", False, "Per-test-run limits (see [limits] fields)."),
    "scoring": ("array of tables", False, "Weighted groups of hidden tests (see [[scoring]])."),
    "seed": (
        "table",
        False,
        "How the workspace's data is made: a command run once (see [seed] fields).",
    ),
}

#: [limits] fields: (type name, default, description).
LIMIT_FIELDS: dict[str, tuple[str, float | int | None, str]] = {
    "timeout_seconds": ("number", 60, "Wall-clock time for one test run."),
    "memory_mb": ("integer", 1024, "Memory for the whole run (resident, summed over processes)."),
    "processes": (
        "integer",
        64,
        "Processes and threads alive at once during a run, pytest included.",
    ),
    "output_kb": ("integer", 1024, "Captured output; past it the run is stopped."),
    "cpu_seconds": ("number", None, "CPU time per process; defaults to timeout_seconds."),
    "disk_mb": ("integer", 256, "Total writes of a run, the copy of the workspace included."),
    "open_files": ("integer", 1024, "Files open at once per process (RLIMIT_NOFILE)."),
}

#: [limits] ranges: (least, most, why the most). Numbers must also be greater than 0; past the
#: most a limit stops protecting anything (or asks for more than a laptop has).
LIMIT_RANGES: dict[str, tuple[float, float, str]] = {
    "timeout_seconds": (0, 3600, "one test run, not a whole session"),
    "cpu_seconds": (0, 3600, "one test run, not a whole session"),
    "memory_mb": (1, 65536, "64 GB, more than a laptop has"),
    "processes": (2, 4096, "past that a process limit no longer stops a fork storm"),
    "output_kb": (1, 65536, "output is held in memory and shown on screen"),
    "disk_mb": (1, 8192, "a run's writes are held in memory where the sandbox caps them"),
    "open_files": (32, 65536, "each open file costs kernel memory outside the memory limit"),
}

#: Why a least is above 1, where it is.
_LIMIT_LEAST_WHY = {
    "processes": "pytest itself is one",
    "open_files": "Python and pytest need about 16 to start",
}

#: [[scoring]] fields: (type name, description).
SCORING_FIELDS: dict[str, tuple[str, str]] = {
    "group": ("string", "Group name shown in results (correctness, security, performance...)."),
    "tests": ("string", "File glob over hidden test files, e.g. 'test_security*.py'."),
    "weight": ("integer", "Points for the group, shared equally by its tests."),
}

#: [seed] fields: (type name, required, description).
SEED_FIELDS: dict[str, tuple[str, bool, str]] = {
    "command": (
        "array of strings",
        True,
        "Run once in the workspace folder, in the sandbox; a first item 'python' is the "
        "interpreter that candidates' code runs with.",
    ),
    "creates": (
        "array of strings",
        True,
        "Workspace files the command makes; it runs when any of them is missing.",
    ),
    "database": (
        "string",
        False,
        "The SQLite file (one of creates) the SQL console opens and the HTTP console copies.",
    ),
}

DEFAULT_GROUP = "other"


@dataclass(frozen=True)
class Seed:
    """How a workspace's data is made: `command`, run once in it, makes `creates`."""

    command: tuple[str, ...]
    creates: tuple[str, ...]
    database: str | None = None


@dataclass(frozen=True)
class ScoringGroup:
    group: str
    tests: str
    weight: int

    def matches(self, test_file: str) -> bool:
        return fnmatch.fnmatch(Path(test_file).name, self.tests)


@dataclass(frozen=True)
class Challenge:
    """A loaded, well-formed challenge folder."""

    path: Path
    id: str
    title: str
    summary: str
    category: str
    difficulty: str
    time_limit_minutes: int
    hints: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    scoring: tuple[ScoringGroup, ...] = ()
    seed: Seed | None = None

    @property
    def manifest_path(self) -> Path:
        return self.path / "challenge.toml"

    @property
    def brief_path(self) -> Path:
        return self.path / "brief.md"

    @property
    def starter_dir(self) -> Path:
        return self.path / "starter"

    @property
    def solution_dir(self) -> Path:
        return self.path / "solution"

    def tests_dir(self, suite: str) -> Path:
        """The folder of the 'visible' or 'hidden' suite."""
        if suite not in ("visible", "hidden"):
            raise ValueError(f"unknown suite {suite!r}")
        return self.path / "tests" / suite

    @property
    def mutants(self) -> dict[str, Path]:
        """Mutant name -> `mutants/<name>.patch` (a diff against the solution) or
        `mutants/<name>/` (files laid over the starter), sorted by name."""
        return _mutant_paths(self.path)

    def brief(self) -> str:
        return self.brief_path.read_text(encoding="utf-8")

    def group_of(self, test_file: str) -> str:
        for g in self.scoring:
            if g.matches(test_file):
                return g.group
        return DEFAULT_GROUP

    @property
    def generated_files(self) -> tuple[str, ...]:
        """Workspace files its [seed] makes (data, never the candidate's work; see snapshot)."""
        return self.seed.creates if self.seed is not None else ()

    def folder_files(self) -> dict[str, bytes]:
        """Every file of the challenge folder by relative posix path, in order, as a copy of it
        sees them (`safecopy.read_tree`): a link that stays inside the folder reads as its
        target; links that leave it, devices and fifos are left out, never followed."""
        from tui_assess.safecopy import read_tree

        return dict(sorted(read_tree(self.path, skip=_is_cache).items()))

    def content_hash(self) -> str:
        """sha256 over every file of the challenge (paths and bytes), hidden tests included."""
        h = hashlib.sha256()
        for rel, data in self.folder_files().items():
            h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()

    def catalog_entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "category": self.category,
            "difficulty": self.difficulty,
            "time_limit_minutes": self.time_limit_minutes,
            "hints": len(self.hints),
            "path": str(self.path),
        }


def _is_cache(rel: str) -> bool:
    return "__pycache__" in rel.split("/")


def _mutant_paths(root: Path) -> dict[str, Path]:
    folder = root / "mutants"
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_dir() and not p.is_symlink():
            found.setdefault(p.name, p)
        elif p.suffix == ".patch" and p.is_file() and not p.is_symlink():
            found.setdefault(p.stem, p)
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- loading


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "array of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if type_name == "table":
        return isinstance(value, dict)
    if type_name == "array of tables":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    raise AssertionError(type_name)


def _describe(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    for t, n in names.items():
        if type(value) is t:
            return n
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def load_challenge(path: Path | str) -> Challenge:
    """Load and check a challenge folder; raise UserError naming the file and field."""
    root = Path(path)
    if not root.is_dir():
        raise UserError(f"{root}: no such challenge folder.")
    manifest = root / "challenge.toml"
    if not manifest.is_file():
        raise UserError(f"{root}: not a challenge folder (it has no challenge.toml).")
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{manifest}: the file is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{manifest}: not valid TOML ({exc}).") from None

    def bad(msg: str) -> UserError:
        return UserError(f"{manifest}: {msg}")

    for key in data:
        if key not in FIELDS:
            raise bad(f"unknown field '{key}' (known: {', '.join(FIELDS)}).")
    for key, (type_name, required, _doc) in FIELDS.items():
        if key not in data:
            if required:
                raise bad(f"missing required field '{key}' ({type_name}).")
            continue
        if not _type_ok(data[key], type_name):
            raise bad(f"field '{key}' must be {type_name}, not {_describe(data[key])}.")

    if data["format_version"] != FORMAT_VERSION:
        raise bad(
            f"field 'format_version' is {data['format_version']}; this tui-assess reads "
            f"format_version {FORMAT_VERSION}."
        )
    cid = data["id"]
    if not SLUG_RE.match(cid):
        raise bad(f"field 'id' must be a slug of lowercase letters, digits and '-' (got {cid!r}).")
    if cid != root.name:
        raise bad(f"field 'id' is {cid!r} but the folder is named {root.name!r}; they must match.")
    for key in ("title", "summary"):
        if not data[key].strip():
            raise bad(f"field '{key}' must not be empty.")
    if data["category"] not in CATEGORIES:
        raise bad(
            f"field 'category' must be one of {', '.join(CATEGORIES)} (got {data['category']!r})."
        )
    if data["difficulty"] not in DIFFICULTIES:
        raise bad(
            f"field 'difficulty' must be one of {', '.join(DIFFICULTIES)} "
            f"(got {data['difficulty']!r})."
        )
    if not 1 <= data["time_limit_minutes"] <= 600:
        raise bad("field 'time_limit_minutes' must be between 1 and 600.")

    limits = _load_limits(data.get("limits", {}), bad)
    scoring = _load_scoring(data.get("scoring", []), bad)
    seed = _load_seed(data["seed"], bad, root) if "seed" in data else None

    for folder in ("starter", "tests/visible", "tests/hidden", "solution"):
        if not (root / folder).is_dir():
            raise UserError(f"{root / folder}: required folder is missing.")
    if not (root / "brief.md").is_file():
        raise UserError(f"{root / 'brief.md'}: the brief is missing.")

    clash = sorted(
        p.stem
        for p in (root / "mutants").glob("*.patch")
        if (root / "mutants" / p.stem).is_dir()
    )
    if clash:
        raise UserError(
            f"{root / 'mutants'}: mutant {clash[0]!r} is both a folder and a .patch file; "
            "keep one."
        )

    files = tuple(data.get("files", ()))
    for rel in files:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise bad(f"field 'files' entry {rel!r} must be a relative path inside the workspace.")
        if not (root / "starter" / rel).is_file():
            raise bad(f"field 'files' names {rel!r}, which is not in starter/.")

    return Challenge(
        path=root.resolve(),
        id=cid,
        title=data["title"].strip(),
        summary=data["summary"].strip(),
        category=data["category"],
        difficulty=data["difficulty"],
        time_limit_minutes=data["time_limit_minutes"],
        hints=tuple(data.get("hints", ())),
        requires=tuple(data.get("requires", ())),
        files=files,
        limits=limits,
        scoring=scoring,
        seed=seed,
    )


def _load_limits(table: dict[str, Any], bad: Any) -> Limits:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in LIMIT_FIELDS:
            raise bad(f"unknown field 'limits.{key}' (known: {', '.join(LIMIT_FIELDS)}).")
        type_name = LIMIT_FIELDS[key][0]
        if not _type_ok(value, type_name):
            raise bad(f"field 'limits.{key}' must be {type_name}, not {_describe(value)}.")
        if isinstance(value, float) and not math.isfinite(value):
            raise bad(f"field 'limits.{key}' must be a finite number, not {value}.")
        least, most, why = LIMIT_RANGES[key]
        if value <= 0:
            raise bad(f"field 'limits.{key}' must be greater than 0, not {value}.")
        if value < least:
            raise bad(
                f"field 'limits.{key}' must be at least {least:g} ({_LIMIT_LEAST_WHY[key]}), "
                f"not {value}."
            )
        if value > most:
            raise bad(f"field 'limits.{key}' must be at most {most:g} ({why}), not {value}.")
        values[key] = value
    return Limits(**values)


def _load_seed(table: dict[str, Any], bad: Any, root: Path) -> Seed:
    for key in table:
        if key not in SEED_FIELDS:
            raise bad(f"unknown field 'seed.{key}' (known: {', '.join(SEED_FIELDS)}).")
    for key, (type_name, required, _doc) in SEED_FIELDS.items():
        if key not in table:
            if required:
                raise bad(f"missing required field 'seed.{key}' ({type_name}).")
            continue
        if not _type_ok(table[key], type_name):
            raise bad(f"field 'seed.{key}' must be {type_name}, not {_describe(table[key])}.")
    command, creates = table["command"], table["creates"]
    if not command or not command[0].strip():
        raise bad("field 'seed.command' must name a program, e.g. [\"python\", \"seed.py\"].")
    script = command[1] if command[0] in ("python", "python3") and len(command) > 1 else ""
    if script.endswith(".py") and not (root / "starter" / script).is_file():
        raise bad(f"field 'seed.command' runs {script!r}, which is not in starter/.")
    if not creates:
        raise bad("field 'seed.creates' must list the files the command makes.")
    for rel in creates:
        if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise bad(f"field 'seed.creates' entry {rel!r} must be a relative path inside it.")
        if (root / "starter" / rel).exists():
            raise bad(
                f"field 'seed.creates' names {rel!r}, which is already in starter/: the command "
                "would never run."
            )
    database = table.get("database")
    if database is not None and database not in creates:
        raise bad(f"field 'seed.database' is {database!r}, which is not one of seed.creates.")
    return Seed(tuple(command), tuple(creates), database)


def _load_scoring(entries: list[dict[str, Any]], bad: Any) -> tuple[ScoringGroup, ...]:
    groups: list[ScoringGroup] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        where = f"[[scoring]] entry {i}"
        for key in entry:
            if key not in SCORING_FIELDS:
                raise bad(f"{where}: unknown field '{key}' (known: {', '.join(SCORING_FIELDS)}).")
        for key, (type_name, _doc) in SCORING_FIELDS.items():
            if key not in entry:
                raise bad(f"{where}: missing required field '{key}' ({type_name}).")
            if not _type_ok(entry[key], type_name):
                raise bad(
                    f"{where}: field '{key}' must be {type_name}, not {_describe(entry[key])}."
                )
        if entry["weight"] < 0:
            raise bad(f"{where}: field 'weight' must not be negative.")
        if not entry["group"].strip():
            raise bad(f"{where}: field 'group' must not be empty.")
        if entry["group"] in seen:
            raise bad(f"{where}: group {entry['group']!r} is defined twice.")
        seen.add(entry["group"])
        groups.append(ScoringGroup(entry["group"], entry["tests"], entry["weight"]))
    return tuple(groups)
