"""Exam packs: sealed with the start code, nothing readable without it, no solutions inside.

Most packs here are built through the API with a cheap scrypt cost (the format records the
cost, so opening them is the same code path); the command-line tests use the installed command
and the real cost.
"""

from __future__ import annotations

import bz2
import json
import lzma
import os
import subprocess
import sys
import tomllib
import zlib
from pathlib import Path

import pytest

from tui_assess.challenge.catalog import bundled_dir, list_challenges, resolve
from tui_assess.challenge.model import Challenge, load_challenge
from tui_assess.errors import UserError
from tui_assess.exam import codes
from tui_assess.exam.pack import (
    MAGIC,
    SCRYPT_N,
    WrongCode,
    build_pack,
    manifest_toml,
    open_pack,
    read_header,
)
from tui_assess.exam.policy import ExamPolicy

CHEAP = 2**10
TEXT_SUFFIXES = (".py", ".md", ".sql", ".txt", ".toml", ".json", ".csv")


def cli() -> list[str]:
    script = Path(sys.executable).parent / "tui-assess"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui_assess"]


def run_cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TUI_ASSESS_HOME": str(home)}
    return subprocess.run([*cli(), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def challenge_with_mutants() -> Challenge:
    for ch in list_challenges():
        if ch.mutants:
            return ch
    raise AssertionError("no bundled challenge has mutants")


def secret_strings(ch: Challenge) -> list[str]:
    """What must not be readable in a sealed pack: every file name of the brief, starter and
    tests, every substantial line of the brief and of the tests."""
    found: set[str] = set()
    for folder in ("starter", "tests/visible", "tests/hidden"):
        for p in (ch.path / folder).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                found.add(p.relative_to(ch.path).as_posix())
                if len(p.name) >= 6:
                    found.add(p.name)
                if folder.startswith("tests") and p.suffix in TEXT_SUFFIXES:
                    found.update(line.strip() for line in p.read_text().splitlines()
                                 if len(line.strip()) >= 24)
    found.update(line.strip() for line in ch.brief().splitlines() if len(line.strip()) >= 24)
    return sorted(found)


def decompressions(data: bytes) -> list[bytes]:
    """Everything the stdlib decompressors make of the pack, from every offset (zlib, raw
    deflate and gzip) and as a whole (bz2, lzma)."""
    out = []
    for start in range(len(data)):
        for wbits in (15, -15, 31):
            d = zlib.decompressobj(wbits)
            try:
                got = d.decompress(data[start:], 1 << 20)
            except zlib.error:
                continue
            if len(got) >= 16:
                out.append(got)
    for decompress in (bz2.decompress, lzma.decompress):
        try:
            out.append(decompress(data))
        except (OSError, ValueError, lzma.LZMAError):
            pass
    return out


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Challenge]:
    ch = challenge_with_mutants()
    out = tmp_path_factory.mktemp("pack") / "exam.tapack"
    built = build_pack([ch], out, ExamPolicy(time_minutes=30), scrypt_n=CHEAP)
    return out, built.start_code, ch


def test_round_trip_holds_brief_starter_and_tests_but_never_solution_or_mutants(
    sealed: tuple[Path, str, Challenge],
) -> None:
    path, code, ch = sealed
    opened = open_pack(path, code)
    assert opened.pack_id == read_header(path).pack_id
    [packed] = opened.challenges
    assert packed.id == ch.id and packed.title == ch.title
    assert packed.content_hash == ch.content_hash()
    expected = {"brief.md": ch.brief_path.read_bytes()}
    for folder in ("starter", "tests/visible", "tests/hidden"):
        for p in (ch.path / folder).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                expected[p.relative_to(ch.path).as_posix()] = p.read_bytes()
    assert packed.files == expected
    assert packed.hidden_suite() == {
        p.relative_to(ch.tests_dir("hidden")).as_posix(): p.read_bytes()
        for p in ch.tests_dir("hidden").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    assert not any(rel.startswith(("solution", "mutants")) for rel in packed.files)
    solution = {p.read_bytes() for p in ch.solution_dir.rglob("*.py")}
    assert not solution & set(packed.files.values()), "a solution file's content is in the pack"
    manifest = tomllib.loads(ch.manifest_path.read_text())
    manifest.pop("hints", None)
    assert packed.manifest == manifest  # hints are off by default: not even sealed


def test_hints_are_sealed_only_when_the_policy_has_them(tmp_path: Path) -> None:
    ch = next(c for c in list_challenges() if c.hints)
    on = build_pack([ch], tmp_path / "on.tapack", ExamPolicy(30, hints=True), scrypt_n=CHEAP)
    off = build_pack([ch], tmp_path / "off.tapack", ExamPolicy(30), scrypt_n=CHEAP)
    assert open_pack(on.path, on.start_code).challenges[0].manifest["hints"] == list(ch.hints)
    assert "hints" not in open_pack(off.path, off.start_code).challenges[0].manifest
    assert read_header(on.path).policy.hints and not read_header(off.path).policy.hints


def test_raw_and_decompressed_bytes_hold_no_brief_test_or_file_name(
    sealed: tuple[Path, str, Challenge],
) -> None:
    path, _code, ch = sealed
    data = path.read_bytes()
    secrets = secret_strings(ch)
    assert len(secrets) > 20, "the check must look for something"
    views = [data, *decompressions(data)]
    for view in views:
        text = view.decode("latin-1")
        leaked = [s for s in secrets if s in text or s.encode("utf-16-le").decode("latin-1") in text]
        assert not leaked, f"readable without the code: {leaked[:3]}"
    header = json.loads(read_header(path).raw)
    assert set(header) == {"format", "format_version", "pack_id", "created", "tool_version",
                           "titles", "policy", "kdf", "cipher", "nonce", "key_check"}
    assert header["titles"] == [ch.title]


def test_a_wrong_code_opens_nothing(sealed: tuple[Path, str, Challenge]) -> None:
    path, code, _ = sealed
    canonical = codes.normalise(code)
    assert canonical is not None
    wrong = canonical[:-1] + ("0" if canonical[-1] != "0" else "1")
    with pytest.raises(WrongCode, match="does not open this exam"):
        open_pack(path, wrong)
    with pytest.raises(WrongCode, match="16 letters and digits"):
        open_pack(path, "hello")
    # Case, spaces, dashes and the look-alikes O/I/L do not matter.
    loose = " ".join(canonical.lower().replace("0", "o").replace("1", "l"))
    assert open_pack(path, loose).challenges


def test_the_header_is_authenticated_with_the_contents(
    sealed: tuple[Path, str, Challenge], tmp_path: Path,
) -> None:
    path, code, _ = sealed
    data = path.read_bytes()
    longer = data.replace(b'"time_minutes":30', b'"time_minutes":90')
    assert longer != data
    forged = tmp_path / "forged.tapack"
    forged.write_bytes(longer)
    assert read_header(forged).policy.time_minutes == 90  # readable...
    with pytest.raises(UserError, match="changed after it was built"):
        open_pack(forged, code)  # ...but it no longer opens
    flipped = bytearray(data)
    flipped[-40] ^= 1
    forged.write_bytes(bytes(flipped))
    with pytest.raises(UserError, match="changed after it was built"):
        open_pack(forged, code)


@pytest.mark.parametrize("change, why", [
    ((b'"n":1024', b'"n":1073741824'), "scrypt parameters are out of bounds"),
    ((b'"r":8', b'"r":4096'), "scrypt parameters are out of bounds"),
    ((b'"cipher":"AES-256-GCM"', b'"cipher":"ROT13"'), "cipher"),
    ((b'"format":"tui-assess-pack"', b'"format":"zip"'), "does not name the pack format"),
])
def test_hostile_headers_are_refused_before_any_work(
    sealed: tuple[Path, str, Challenge], tmp_path: Path, change: tuple[bytes, bytes], why: str,
) -> None:
    path, code, _ = sealed
    data = path.read_bytes()
    assert change[0] in data
    bad = data.replace(*change)
    head = len(MAGIC)
    size = int.from_bytes(data[head : head + 4], "big") + len(change[1]) - len(change[0])
    bad = bad[:head] + size.to_bytes(4, "big") + bad[head + 4 :]
    forged = tmp_path / "bad.tapack"
    forged.write_bytes(bad)
    with pytest.raises(UserError, match=why):
        open_pack(forged, code)


@pytest.mark.parametrize("content", [b"", b"TUIAPACK", b"TUIAPACK\xff\xff\xff\xff{}", b"PK\x03\x04zip",
                                     b"TUIAPACK\x00\x00\x00\x02{}"])
def test_files_that_are_not_packs(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "x.tapack"
    bad.write_bytes(content)
    with pytest.raises(UserError, match="not a tui-assess exam pack"):
        read_header(bad)


def test_manifests_survive_being_written_back_as_toml() -> None:
    for folder in sorted(bundled_dir().iterdir()):
        if (folder / "challenge.toml").is_file():
            data = tomllib.loads((folder / "challenge.toml").read_text())
            assert tomllib.loads(manifest_toml(data)) == data, folder.name
    tricky = {"title": 'quotes " and \\ and \x7f and \u2028 and 😀', "hints": ["a\nb", ""],
              "limits": {"timeout_seconds": 1.5}, "scoring": [{"group": "g", "weight": 1}]}
    assert tomllib.loads(manifest_toml(tricky)) == tricky


def test_build_refuses_duplicates_and_existing_files(tmp_path: Path) -> None:
    ch = resolve("slow-query")
    with pytest.raises(UserError, match="given twice"):
        build_pack([ch, ch], tmp_path / "a.tapack", ExamPolicy(30), scrypt_n=CHEAP)
    (tmp_path / "b.tapack").write_text("keep me")
    with pytest.raises(UserError, match="already exists"):
        build_pack([ch], tmp_path / "b.tapack", ExamPolicy(30), scrypt_n=CHEAP)
    assert (tmp_path / "b.tapack").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["b.tapack"]  # no temp file left


@pytest.mark.parametrize("policy, why", [
    ({"time_minutes": 0}, "between 1 and 600"),
    ({"time_minutes": 30, "submissions": 0}, "submissions must be between"),
    ({"time_minutes": 30, "feedback": "all"}, "feedback must be one of"),
])
def test_policy_bounds(policy: dict[str, object], why: str) -> None:
    with pytest.raises(UserError, match=why):
        ExamPolicy(**policy)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the installed command


def test_cli_build_json_and_inspect(tmp_path: Path, tiny_challenge: Path) -> None:
    home = tmp_path / "home"
    built = run_cli("pack", "build", str(tiny_challenge), "slow-query", "--out", "exam.tapack",
                    "--time", "45", "--feedback", "names", "--submissions", "3", "--ai",
                    "allowed", "--record-processes", "--json", home=home, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    doc = json.loads(built.stdout)  # one JSON document, nothing else on stdout
    assert set(doc) == {"pack", "pack_id", "start_code", "challenges"}
    assert codes.normalise(doc["start_code"]) is not None
    assert [c["id"] for c in doc["challenges"]] == ["tiny-sum", "slow-query"]
    pack = tmp_path / "exam.tapack"

    inspected = run_cli("pack", "inspect", str(pack), "--json", home=home, cwd=tmp_path)
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["pack"] == doc["pack_id"] and info["time_minutes"] == 45
    assert info["challenges"] == [load_challenge(tiny_challenge).title,
                                  resolve("slow-query").title]
    assert info["policy"] == {"time_minutes": 45, "feedback": "names", "submissions": 3,
                              "hints": False, "ai_assistants": True, "record_processes": True,
                              "solutions": "never"}
    assert info["sealed"]["kdf"]["n"] == SCRYPT_N
    assert doc["start_code"] not in inspected.stdout
    words = run_cli("pack", "inspect", str(pack), home=home, cwd=tmp_path)
    assert "AI assistants".lower() in words.stdout and "Allowed." in words.stdout



@pytest.mark.parametrize("args, why", [
    (["pack", "build", "no-such-challenge", "--out", "x.tapack"], "unknown challenge"),
    (["pack", "build", "slow-query", "--out", "x.tapack", "--time", "0"], "between 1 and 600"),
    (["pack", "inspect", "missing.tapack"], "does not exist"),
    (["pack", "inspect", "README.md"], "not a tui-assess exam pack"),
])
def test_cli_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, args: list[str], why: str) -> None:
    (tmp_path / "README.md").write_text("# not a pack\n")
    proc = run_cli(*args, home=tmp_path / "home", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert why in proc.stderr and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
