"""`tui-assess session ...` through the real command (subprocess): exit codes and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_session_support import connect, rows, sample_session

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui_assess", "session", *args],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "s.tasession"
    sample_session(path)
    return path


def test_verify_intact_exits_0(session: Path) -> None:
    r = run("verify", str(session))
    assert r.returncode == 0 and r.stdout.startswith("intact:") and r.stderr == ""
    r = run("verify", str(session), "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["ok"] is True and doc["sidecar"] == "match"


def test_verify_flipped_character_exits_1_naming_the_event(session: Path,
                                                            tmp_path: Path) -> None:
    bad = tmp_path / "bad.tasession"
    bad.write_bytes(session.read_bytes())
    seq = next(r[0] for r in rows(session) if r[3] == "edit")
    c = connect(bad)
    c.execute("UPDATE events SET payload = replace(payload, '42', '43') WHERE seq = ?", (seq,))
    c.close()
    r = run("verify", str(bad))
    assert r.returncode == 1
    assert r.stdout.splitlines()[0].startswith(f"TAMPERED: event {seq} (edit)")
    r = run("verify", str(bad), "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["ok"] is False and doc["first_bad_seq"] == seq


def test_verify_not_a_session_exits_2_with_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tasession"
    junk.write_text("hello")
    for target in (junk, tmp_path / "absent.tasession"):
        for extra in ([], ["--json"]):
            r = run("verify", str(target), *extra)
            assert r.returncode == 2 and r.stdout == ""
            assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("tui-assess: ")
            assert "Traceback" not in r.stderr


def test_info_text_and_json(session: Path) -> None:
    r = run("info", str(session))
    assert r.returncode == 0 and "slow-query (practice)" in r.stdout and "large_paste" in r.stdout
    doc = json.loads(run("info", str(session), "--json").stdout)
    assert doc["challenge"] == "slow-query" and doc["runs"] == 1 and doc["submitted"] is True
    assert doc["candidate"] == "ada" and doc["events"] == len(rows(session))


def test_export_to_stdout_and_file(session: Path, tmp_path: Path) -> None:
    r = run("export", str(session), "--format", "jsonl")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(rows(session))
    assert json.loads(lines[-1])["kind"] == "session_end"
    out = tmp_path / "s.cast"
    r = run("export", str(session), "--format", "asciicast", "-o", str(out))
    assert r.returncode == 0 and json.loads(out.read_text().splitlines()[0])["version"] == 2
    r = run("export", str(session), "--format", "yaml")
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1


def test_every_session_command_has_help() -> None:
    for cmd in ("verify", "info", "export"):
        r = run(cmd, "--help")
        assert r.returncode == 0 and "Usage:" in r.stdout
