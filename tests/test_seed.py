"""[seed]: a challenge's data made once in the workspace, in the sandbox; what the loader refuses."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tui_assess.challenge.model import load_challenge
from tui_assess.challenge.prepare import console_database, missing_seed_files, prepare_workspace
from tui_assess.challenge.validate import validate
from tui_assess.challenge.workspace import init_workspace
from tui_assess.errors import UserError

ROOT = Path(__file__).resolve().parents[1]

SEED_SCRIPT = """\
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 10) for i in range(1, 51)])
conn.commit()
print("made", sys.argv[1])
"""

SEED_TABLE = """
[seed]
command = ["python", "make_data.py", "data/orders.db"]
creates = ["data/orders.db"]
database = "data/orders.db"
"""


def with_seed(challenge: Path, script: str = SEED_SCRIPT, table: str = SEED_TABLE) -> Path:
    (challenge / "starter" / "make_data.py").write_text(script)
    (challenge / "starter" / "data").mkdir(exist_ok=True)
    manifest = challenge / "challenge.toml"
    text = manifest.read_text()
    at = text.index("[limits]")  # a top-level table must come before the others
    manifest.write_text(text[:at] + table.strip() + "\n\n" + text[at:])
    return challenge


def test_seed_runs_once_and_again_when_its_file_is_gone(tiny_challenge: Path, tmp_path: Path) -> None:
    ch = load_challenge(with_seed(tiny_challenge))
    ws = init_workspace(ch, tmp_path / "ws")
    assert missing_seed_files(ch, ws) == ["data/orders.db"]
    assert console_database(ch, ws) is None

    first = prepare_workspace(ch, ws)
    assert first.ran and first.ok, first.reason
    assert first.created == ["data/orders.db"]
    assert "made data/orders.db" in first.output
    db = console_database(ch, ws)
    assert db == ws / "data" / "orders.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), sum(total) FROM orders").fetchone() == (50, 12750)

    again = prepare_workspace(ch, ws)
    assert not again.ran and again.ok  # nothing missing: the command does not run

    db.unlink()
    redone = prepare_workspace(ch, ws)
    assert redone.ran and redone.ok and db.is_file()


def test_a_failing_seed_is_reported_in_words(tiny_challenge: Path, tmp_path: Path) -> None:
    ch = load_challenge(with_seed(tiny_challenge, "import sys\nprint('no disk')\nsys.exit(3)\n"))
    ws = init_workspace(ch, tmp_path / "ws")
    result = prepare_workspace(ch, ws)
    assert result.ran and not result.ok
    assert result.reason == "`python make_data.py data/orders.db` exited with code 3"
    assert "no disk" in result.output
    assert result.created == []


def test_a_seed_that_never_ends_is_stopped_by_the_time_limit(
    tiny_challenge: Path, tmp_path: Path
) -> None:
    with_seed(tiny_challenge, "import time\nwhile True:\n    time.sleep(0.05)\n")
    manifest = tiny_challenge / "challenge.toml"
    manifest.write_text(manifest.read_text().replace("timeout_seconds = 30", "timeout_seconds = 2"))
    ch = load_challenge(tiny_challenge)
    result = prepare_workspace(ch, init_workspace(ch, tmp_path / "ws"))
    assert not result.ok
    assert "was stopped" in result.reason and result.seconds < 15


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('[seed]\ncreates = ["x.db"]', "missing required field 'seed.command'"),
        ('[seed]\ncommand = ["python", "make_data.py"]', "missing required field 'seed.creates'"),
        ('[seed]\ncommand = []\ncreates = ["x.db"]', "must name a program"),
        ('[seed]\ncommand = ["python", "nope.py"]\ncreates = ["x.db"]', "'nope.py', which is not in"),
        ('[seed]\ncommand = ["python", "make_data.py"]\ncreates = ["orders.py"]', "already in"),
        ('[seed]\ncommand = ["python", "make_data.py"]\ncreates = ["../x.db"]', "relative path"),
        (
            '[seed]\ncommand = ["python", "make_data.py"]\ncreates = ["x.db"]\ndatabase = "y.db"',
            "not one of seed.creates",
        ),
        ('[seed]\ncommand = ["python", "make_data.py"]\ncreates = ["x.db"]\nrun = 1', "seed.run"),
        ('seed = "python make_data.py"', "field 'seed' must be table"),
    ],
)
def test_malformed_seed_is_one_clear_error(tiny_challenge: Path, table: str, error: str) -> None:
    with_seed(tiny_challenge, table=table)
    with pytest.raises(UserError, match=error.replace("(", r"\(").replace(".", r"\.")):
        load_challenge(tiny_challenge)


def test_validate_runs_the_seed_on_a_fresh_starter(tiny_challenge: Path) -> None:
    with_seed(tiny_challenge, SEED_SCRIPT.replace("CREATE TABLE", "CREATE TEMP TABLE"))
    rows = {r.check: r for r in validate(tiny_challenge)}
    seed = rows["seed"]
    assert not seed.ok and "data/orders.db has no tables" in seed.detail


def test_init_makes_the_data_or_says_why_not(tiny_challenge: Path, tmp_path: Path) -> None:
    with_seed(tiny_challenge)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tui_assess", "init", str(tiny_challenge), str(tmp_path / "ws")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "Preparing its data: python make_data.py data/orders.db" in done.stdout
    assert (tmp_path / "ws" / "data" / "orders.db").is_file()

    (tiny_challenge / "starter" / "make_data.py").write_text("raise SystemExit(4)\n")
    cmd[-1] = str(tmp_path / "ws2")
    failed = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"The workspace is in {tmp_path / 'ws2'}, but `python make_data.py data/orders.db` "
        "exited with code 4."
    ]
    assert (tmp_path / "ws2" / "orders.py").is_file()


def test_the_seeds_data_is_not_copied_into_runs_nor_recorded(tiny_challenge: Path, tmp_path: Path) -> None:
    """The seed's files are data it remakes, not the candidate's work (tests build their own):
    a run leaves them out of its copy and its snapshot, and the session's keyframes too, so a
    production-sized database is neither copied per run nor stored in every session."""
    from tui_assess.challenge.check import run_check
    from tui_assess.session import Timeline
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.snapshot import digest_tree

    ch = load_challenge(with_seed(tiny_challenge))
    ws = init_workspace(ch, tmp_path / "ws")
    assert prepare_workspace(ch, ws).ok
    assert (ws / "data" / "orders.db").stat().st_size > 0

    hooks = RecorderHooks(sessions_dir=tmp_path / "sessions", sample_interval=None)
    hooks.session_started(ch, ws, "practice", None)
    hooks.run_started("visible")
    result = run_check(ch, ws, "visible")
    hooks.run_finished("visible", result)
    hooks.submitted(result)
    hooks.session_ended()

    assert result.run.snapshot == digest_tree(ws, ["data/orders.db"]) != digest_tree(ws)
    with Timeline.open(next((tmp_path / "sessions").iterdir())) as tl:
        recorded = tl.state_at()
    assert "data/orders.db" not in recorded
    assert "make_data.py" in recorded  # the seed's script is starter code: it is kept
