"""`tui-assess exam` from the shell: a wrong start code is one sentence, exit 2, and leaves
nothing decrypted on disk (the installed command, the real scrypt cost)."""

from __future__ import annotations

import json
from pathlib import Path

from test_pack import run_cli, secret_strings

from tui_assess.challenge.catalog import resolve
from tui_assess.challenge.model import load_challenge
from tui_assess.exam import codes


def test_a_wrong_code_is_one_sentence_exit_2_and_nothing_on_disk(
    tmp_path: Path, tiny_challenge: Path,
) -> None:
    home = tmp_path / "home"
    built = run_cli("pack", "build", str(tiny_challenge), "slow-query", "--out", "exam.tapack",
                    "--json", home=home, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    code = codes.normalise(json.loads(built.stdout)["start_code"]) or ""
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    pack = tmp_path / "exam.tapack"
    for attempt in (wrong, "not-a-code"):
        refused = run_cli("exam", str(pack), "--code", attempt, "--candidate", "ada",
                          home=home, cwd=tmp_path)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert refused.stderr.startswith("tui-assess: ")
    assert "does not open this exam" in run_cli(
        "exam", str(pack), "--code", wrong, home=home, cwd=tmp_path).stderr
    # Nothing decrypted on disk: only the refused codes' times were kept, to be recorded.
    kept = [p for p in home.rglob("*") if p.is_file()]
    assert [p.name for p in kept] == ["refused-codes.jsonl"]
    lines = kept[0].read_text().splitlines()
    assert len(lines) == 3 and all(set(json.loads(line)) == {"wall"} for line in lines)
    secrets = secret_strings(load_challenge(tiny_challenge)) + secret_strings(resolve("slow-query"))
    for p in tmp_path.rglob("*"):
        if p.is_file() and p != pack and not p.is_relative_to(tiny_challenge):
            text = p.read_bytes().decode("latin-1")
            assert not [s for s in secrets if s in text], p


def test_not_a_pack_is_one_sentence_exit_2(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# not a pack\n")
    proc = run_cli("exam", "README.md", home=tmp_path / "home", cwd=tmp_path)
    assert proc.returncode == 2 and "not a tui-assess exam pack" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    missing = run_cli("exam", "missing.tapack", home=tmp_path / "home", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
