"""The challenge loader: every malformed manifest gives one clear line and exit code 2."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_assess.challenge.catalog import list_challenges, resolve
from tui_assess.challenge.model import (
    FIELDS,
    LIMIT_FIELDS,
    LIMIT_RANGES,
    SCORING_FIELDS,
    SEED_FIELDS,
    load_challenge,
)
from tui_assess.errors import UserError

GOOD = (Path(__file__).parent / "fixtures/challenges/tiny-sum/challenge.toml").read_text()


def write_manifest(folder: Path, text: str) -> Path:
    (folder / "challenge.toml").write_text(text)
    return folder


def replace_line(text: str, key: str, new: str | None) -> str:
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
    if new is not None:
        lines.insert(1, new)
    return "\n".join(lines) + "\n"


def test_fixture_loads(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    assert ch.id == "tiny-sum"
    assert ch.limits.timeout_seconds == 30 and ch.limits.processes == 16
    assert [g.group for g in ch.scoring] == ["correctness", "edge-cases"]
    assert ch.group_of("test_edge_cases.py") == "edge-cases"
    assert ch.group_of("test_other.py") == "other"
    assert set(ch.mutants) == {"off-by-one", "ignores-negatives"}
    assert len(ch.content_hash()) == 64


MALFORMED = [
    ("not toml", "this is = = not toml", "not valid TOML"),
    ("unknown field", GOOD + "\ncolour = 'red'\n", "unknown field 'colour'"),
    ("missing title", replace_line(GOOD, "title", None), "missing required field 'title'"),
    ("missing id", replace_line(GOOD, "id", None), "missing required field 'id'"),
    ("wrong type", replace_line(GOOD, "time_limit_minutes", 'time_limit_minutes = "20"'),
     "field 'time_limit_minutes' must be integer, not a string"),
    ("bool as int", replace_line(GOOD, "time_limit_minutes", "time_limit_minutes = true"),
     "must be integer, not a boolean"),
    ("bad category", replace_line(GOOD, "category", 'category = "cooking"'),
     "field 'category' must be one of"),
    ("bad difficulty", replace_line(GOOD, "difficulty", 'difficulty = "extreme"'),
     "field 'difficulty' must be one of"),
    ("id mismatch", replace_line(GOOD, "id", 'id = "other-name"'), "folder is named"),
    ("bad slug", replace_line(GOOD, "id", 'id = "Tiny Sum"'), "must be a slug"),
    ("version", replace_line(GOOD, "format_version", "format_version = 2"),
     "reads format_version 1"),
    ("time range", replace_line(GOOD, "time_limit_minutes", "time_limit_minutes = 0"),
     "between 1 and 600"),
    ("hints type", replace_line(GOOD, "hints", "hints = [1, 2]"),
     "field 'hints' must be array of strings"),
    ("limit unknown", GOOD.replace("processes = 16", "procs = 16"), "unknown field 'limits.procs'"),
    ("limit negative", GOOD.replace("memory_mb = 512", "memory_mb = -1"),
     "'limits.memory_mb' must be greater than 0"),
    ("limit 2**63 processes", GOOD.replace("processes = 16", "processes = 9223372036854775808"),
     "'limits.processes' must be at most 4096 (past that a process limit no longer stops"),
    ("limit nan", GOOD.replace("timeout_seconds = 30", "timeout_seconds = nan"),
     "'limits.timeout_seconds' must be a finite number, not nan"),
    ("limit inf", GOOD.replace("timeout_seconds = 30", "timeout_seconds = inf"),
     "'limits.timeout_seconds' must be a finite number, not inf"),
    ("limit -inf", GOOD.replace("timeout_seconds = 30", "timeout_seconds = -inf"),
     "'limits.timeout_seconds' must be a finite number, not -inf"),
    ("limit bool", GOOD.replace("processes = 16", "processes = true"),
     "'limits.processes' must be integer, not a boolean"),
    ("limit bool number", GOOD.replace("timeout_seconds = 30", "timeout_seconds = true"),
     "'limits.timeout_seconds' must be number, not a boolean"),
    ("limit fraction", GOOD.replace("memory_mb = 512", "memory_mb = 1.5"),
     "'limits.memory_mb' must be integer, not a number"),
    ("limit zero", GOOD.replace("timeout_seconds = 30", "timeout_seconds = 0.0"),
     "'limits.timeout_seconds' must be greater than 0"),
    ("limit timeout max", GOOD.replace("timeout_seconds = 30", "timeout_seconds = 3600.5"),
     "'limits.timeout_seconds' must be at most 3600"),
    ("limit memory max", GOOD.replace("memory_mb = 512", "memory_mb = 65537"),
     "'limits.memory_mb' must be at most 65536"),
    ("limit huge int", GOOD.replace("memory_mb = 512", "memory_mb = " + "9" * 30),
     "'limits.memory_mb' must be at most 65536"),
    ("limit processes min", GOOD.replace("processes = 16", "processes = 1"),
     "'limits.processes' must be at least 2 (pytest itself is one)"),
    ("limit disk max", GOOD.replace("output_kb = 256", "output_kb = 256\ndisk_mb = 8193"),
     "'limits.disk_mb' must be at most 8192"),
    ("limit open_files min", GOOD.replace("output_kb = 256", "output_kb = 256\nopen_files = 8"),
     "'limits.open_files' must be at least 32"),
    ("limit open_files max", GOOD.replace("output_kb = 256", "output_kb = 256\nopen_files = 2e6"),
     "'limits.open_files' must be integer, not a number"),
    ("limit output max", GOOD.replace("output_kb = 256", "output_kb = 70000"),
     "'limits.output_kb' must be at most 65536"),
    ("limit cpu max", GOOD.replace("output_kb = 256", "output_kb = 256\ncpu_seconds = 1e9"),
     "'limits.cpu_seconds' must be at most 3600"),
    ("limit type", GOOD.replace("memory_mb = 512", 'memory_mb = "lots"'),
     "'limits.memory_mb' must be integer"),
    ("scoring missing weight", GOOD.replace("weight = 30\n", ""),
     "[[scoring]] entry 2: missing required field 'weight'"),
    ("scoring unknown", GOOD.replace("weight = 30", "weight = 30\npoints = 3"),
     "[[scoring]] entry 2: unknown field 'points'"),
    ("scoring dup", GOOD.replace('group = "edge-cases"', 'group = "correctness"'),
     "defined twice"),
    ("files missing", replace_line(GOOD, "files", 'files = ["nope.py"]'), "not in starter/"),
    ("files escape", replace_line(GOOD, "files", 'files = ["../x.py"]'), "relative path inside"),
    ("empty title", replace_line(GOOD, "title", 'title = "  "'), "must not be empty"),
]


@pytest.mark.parametrize("label,text,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_manifest(tiny_challenge: Path, label: str, text: str, expected: str) -> None:
    write_manifest(tiny_challenge, text)
    with pytest.raises(UserError) as info:
        load_challenge(tiny_challenge)
    message = str(info.value)
    assert expected in message
    assert "challenge.toml" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "remove,expected",
    [
        ("brief.md", "the brief is missing"),
        ("starter", "starter: required folder is missing"),
        ("tests/hidden", "hidden: required folder is missing"),
        ("tests/visible", "visible: required folder is missing"),
        ("solution", "solution: required folder is missing"),
        ("challenge.toml", "has no challenge.toml"),
    ],
)
def test_missing_parts(tiny_challenge: Path, remove: str, expected: str) -> None:
    import shutil

    target = tiny_challenge / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(UserError, match=re.escape(expected)):
        load_challenge(tiny_challenge)


def test_not_utf8(tiny_challenge: Path) -> None:
    (tiny_challenge / "challenge.toml").write_bytes(b"title = '\xff\xfe'\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_challenge(tiny_challenge)


toml_values = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=2),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(FIELDS)), value=toml_values)
def test_any_wrong_value_is_a_user_error_or_valid(tiny_challenge: Path, key: str, value) -> None:
    """Whatever value a field gets, loading either succeeds or raises UserError (never crashes)."""
    data = tomllib.loads(GOOD)
    data[key] = value
    write_manifest(tiny_challenge, _dump(data))
    try:
        load_challenge(tiny_challenge)
    except UserError as exc:
        assert "challenge.toml" in str(exc) and "\n" not in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_never_crashes(tiny_challenge: Path, text: str) -> None:
    write_manifest(tiny_challenge, text)
    with pytest.raises(UserError):
        load_challenge(tiny_challenge)


def _dump(data: dict) -> str:
    """A tiny TOML writer for the shapes used here (scalars, arrays, tables, array of tables)."""
    import json

    def scalar(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        return repr(v)

    out, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append(f"[{k}]\n" + "".join(f"{a} = {scalar(b)}\n" for a, b in v.items()))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                tables.append(f"[[{k}]]\n" + "".join(f"{a} = {scalar(b)}\n" for a, b in item.items()))
        else:
            out.append(f"{k} = {scalar(v)}")
    return "\n".join(out) + "\n\n" + "\n".join(tables)


def test_limit_defaults_and_new_fields(tiny_challenge: Path) -> None:
    assert load_challenge(tiny_challenge).limits.disk_mb == LIMIT_FIELDS["disk_mb"][1] == 256
    assert load_challenge(tiny_challenge).limits.open_files == LIMIT_FIELDS["open_files"][1]
    manifest = tiny_challenge / "challenge.toml"
    manifest.write_text(GOOD.replace(
        "output_kb = 256", "output_kb = 256\ndisk_mb = 8192\nopen_files = 32\ncpu_seconds = 3600"
    ))
    limits = load_challenge(tiny_challenge).limits
    assert (limits.disk_mb, limits.open_files, limits.cpu_seconds) == (8192, 32, 3600)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(LIMIT_FIELDS)), value=st.one_of(
    st.integers(-2**70, 2**70), st.floats(), st.booleans(), st.text("abc1", max_size=3)))
def test_any_limit_loads_within_its_range_or_is_one_sentence(
    tiny_challenge: Path, key: str, value
) -> None:
    data = tomllib.loads(GOOD)
    data["limits"] = {key: value}
    write_manifest(tiny_challenge, _dump(data))
    try:
        loaded = getattr(load_challenge(tiny_challenge).limits, key)
    except UserError as exc:
        assert f"'limits.{key}'" in str(exc) and "\n" not in str(exc)
        return
    least, most, _ = LIMIT_RANGES[key]
    assert isinstance(loaded, int | float) and not isinstance(loaded, bool)
    assert math.isfinite(loaded) and loaded > 0 and least <= loaded <= most


def test_documented_fields_match_the_loader() -> None:
    doc = (Path(__file__).parents[1] / "docs/challenge-format.md").read_text()
    for name in [*FIELDS, *LIMIT_FIELDS, *SCORING_FIELDS, *SEED_FIELDS]:
        assert f"| `{name}` |" in doc, f"{name} is not documented in docs/challenge-format.md"


def test_resolve_unknown_slug() -> None:
    with pytest.raises(UserError, match="unknown challenge 'no-such-thing'"):
        resolve("no-such-thing")


def test_resolve_folder_path(tiny_challenge: Path) -> None:
    assert resolve(str(tiny_challenge)).id == "tiny-sum"


def test_bundled_challenges_all_load() -> None:
    for ch in list_challenges():
        assert ch.path.name == ch.id


def cli(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_assess", *args], capture_output=True, text=True, **kw
    )


@pytest.mark.parametrize("label,text,expected", MALFORMED[:6], ids=[m[0] for m in MALFORMED[:6]])
def test_cli_malformed_is_one_line_exit_2(
    tiny_challenge: Path, tmp_path: Path, label: str, text: str, expected: str
) -> None:
    write_manifest(tiny_challenge, text)
    proc = cli("init", str(tiny_challenge), str(tmp_path / "ws"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in proc.stderr
