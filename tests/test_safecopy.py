"""Copies that never leave their source: init, the run copy and snapshots (issue 8, item 5).

Every refusal is checked three ways: the library raises UserError naming the path in one line;
the command (`init` for a starter, `check` for a workspace) prints that line on stderr with exit
code 2 and no traceback; a snapshot of the same tree skips the entry and never fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui_assess.challenge.model import load_challenge
from tui_assess.challenge.workspace import init_workspace
from tui_assess.errors import UserError
from tui_assess.safecopy import (
    _DIR_FLAGS,
    _FILE_FLAGS,
    MAX_DEPTH,
    _Walk,
    copy_tree,
    read_tree,
    show,
)
from tui_assess.session.hooks import read_workspace
from tui_assess.snapshot import digest_tree, not_workspace, read_workspace_bytes

SECRET = b"outside-secret: this must never be copied\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the tree, holding what a hostile link would reach for."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_bytes(SECRET)
    (out / "lib").mkdir()
    (out / "lib" / "big.so").write_bytes(SECRET * 10)
    return out


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """An ordinary workspace: files, a subfolder, an executable, links that stay inside."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "orders.py").write_text("def total(xs):\n    return sum(xs)\n")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "alias.py").symlink_to("pkg/util.py")
    (root / "pkg2").symlink_to("pkg")
    (root / "pkg" / "up.py").symlink_to("../orders.py")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "orders.cpython-311.pyc").write_bytes(b"\0" * 10)
    return root


def tree_contents(root: Path) -> dict[str, tuple[str, str | bytes]]:
    """Every entry, links not followed: ('link', target) / ('file', bytes) / ('dir', '')."""
    out: dict[str, tuple[str, str | bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", p.read_bytes())
    return out


# --------------------------------------------------------------------------- what is copied


def test_copy_keeps_files_modes_and_inside_links_as_links(tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy"
    stats = copy_tree(tree, dest, skip=not_workspace)
    got = tree_contents(dest)
    assert got["orders.py"] == ("file", (tree / "orders.py").read_bytes())
    assert got["alias.py"] == ("link", "pkg/util.py")
    assert got["pkg2"] == ("link", "pkg")
    assert got["pkg/up.py"] == ("link", "../orders.py")
    assert "__pycache__" not in got
    assert os.access(dest / "run.sh", os.X_OK)
    assert (dest / "pkg2" / "util.py").read_text() == "X = 1\n"
    assert (stats.files, stats.links, stats.folders) == (4, 3, 1)


def test_absolute_link_inside_is_rewritten_relative(tree: Path, tmp_path: Path) -> None:
    """A link to the source's own file by absolute path must not point back at the source."""
    (tree / "abs.py").symlink_to(tree / "orders.py")
    dest = tmp_path / "copy"
    copy_tree(tree, dest)
    assert os.readlink(dest / "abs.py") == "orders.py"
    (tree / "orders.py").write_text("changed in the source\n")
    assert (dest / "abs.py").read_text().startswith("def total")


def test_link_into_a_skipped_folder_is_dropped_like_its_target(tree: Path, tmp_path: Path) -> None:
    (tree / "cached.pyc.txt").symlink_to("__pycache__/orders.cpython-311.pyc")
    copy_tree(tree, tmp_path / "copy", skip=not_workspace)
    assert not (tmp_path / "copy" / "cached.pyc.txt").is_symlink()
    assert "cached.pyc.txt" not in read_workspace_bytes(tree)


def test_virtualenv_in_the_workspace_is_not_copied(tree: Path, tmp_path: Path) -> None:
    """A venv holds links out (bin/python); it is tool litter, not the candidate's work."""
    (tree / ".venv" / "bin").mkdir(parents=True)
    (tree / ".venv" / "bin" / "python").symlink_to(sys.executable)
    copy_tree(tree, tmp_path / "copy", skip=not_workspace)
    assert not (tmp_path / "copy" / ".venv").exists()


def test_setuid_bits_are_not_copied(tree: Path, tmp_path: Path) -> None:
    (tree / "run.sh").chmod(0o4755)
    copy_tree(tree, tmp_path / "copy")
    assert (tmp_path / "copy" / "run.sh").stat().st_mode & 0o7777 == 0o755


def test_readonly_folders_stay_removable(tree: Path, tmp_path: Path) -> None:
    (tree / "pkg").chmod(0o555)
    try:
        copy_tree(tree, tmp_path / "copy")
    finally:
        (tree / "pkg").chmod(0o755)
    assert (tmp_path / "copy" / "pkg").stat().st_mode & 0o700 == 0o700
    shutil.rmtree(tmp_path / "copy")


# --------------------------------------------------------------------------- refusals


def _link_out(root: Path, outside: Path) -> str:
    (root / "shadow").symlink_to(outside / "secret.txt")
    return "shadow"


def _link_up(root: Path, outside: Path) -> str:
    (root / "pkg" / "lib").symlink_to(Path("..") / ".." / "outside" / "lib")
    return "pkg/lib"


def _link_to_system(root: Path, outside: Path) -> str:
    (root / "usrlib").symlink_to("/usr/lib")
    return "usrlib"


def _dangling(root: Path, outside: Path) -> str:
    (root / "gone").symlink_to("nowhere")
    return "gone"


def _self_loop(root: Path, outside: Path) -> str:
    (root / "loop").symlink_to("loop")
    return "loop"


def _folder_loop(root: Path, outside: Path) -> str:
    (root / "pkg" / "up").symlink_to("..")
    return "pkg/up"


def _two_link_loop(root: Path, outside: Path) -> str:
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "a" / "x").symlink_to("../b")
    (root / "b" / "y").symlink_to("../a")
    return ""  # either link may be named: both are on the loop


def _fifo(root: Path, outside: Path) -> str:
    os.mkfifo(root / "pipe")
    return "pipe"


def _socket(root: Path, outside: Path) -> str:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(root / "sock"))
    s.close()
    return "sock"


def _device(root: Path, outside: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(root / "null", 0o600 | 0o020000, os.makedev(1, 3))
    return "null"


def _non_utf8(root: Path, outside: Path) -> str:
    (root / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    return "caf\\xe9.py"


def _deep(root: Path, outside: Path) -> str:
    os.makedirs(root / "/".join(["d"] * (MAX_DEPTH + 2)))
    return "d/d/d"


REFUSALS: dict[str, tuple[Callable[[Path, Path], str], str]] = {
    "link to a file outside": (_link_out, "outside"),
    "relative link climbing out": (_link_up, "outside"),
    "link to /usr/lib": (_link_to_system, "outside"),
    "dangling link": (_dangling, "does not exist"),
    "self loop": (_self_loop, "loops back"),
    "link to an ancestor folder": (_folder_loop, "a loop"),
    "two links in a cycle": (_two_link_loop, "a loop"),
    "fifo": (_fifo, "named pipe"),
    "socket": (_socket, "a socket"),
    "device": (_device, "a device"),
    "non-UTF-8 name": (_non_utf8, "not valid UTF-8"),
    "nested too deep": (_deep, "nest more than"),
}


def assert_one_sentence(message: str, *parts: str) -> None:
    assert "\n" not in message and message.endswith("."), message
    for part in parts:
        assert part in message, (part, message)


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_copy_refuses_with_one_sentence_naming_the_path(
    case: str, tree: Path, outside: Path, tmp_path: Path
) -> None:
    make, expected = REFUSALS[case]
    rel = make(tree, outside)
    with pytest.raises(UserError) as info:
        copy_tree(tree, tmp_path / "copy", skip=not_workspace)
    assert_one_sentence(str(info.value), expected, show(tree) + "/" + rel.strip("/"))
    copied = [p for p in (tmp_path / "copy").rglob("*") if p.is_file() and not p.is_symlink()]
    assert all(SECRET not in p.read_bytes() for p in copied)


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_snapshot_skips_what_a_copy_refuses(
    case: str, tree: Path, outside: Path, tmp_path: Path
) -> None:
    """Recording never fails: the snapshot equals the snapshot of the tree without the entry."""
    before = read_workspace_bytes(tree)
    make, _ = REFUSALS[case]
    make(tree, outside)
    after = read_workspace_bytes(tree)
    assert after == before
    assert all(SECRET not in content for content in after.values())
    assert set(read_workspace(tree)) == set(after)


def test_a_hostile_name_cannot_break_the_line_or_reach_the_terminal(
    tree: Path, tmp_path: Path
) -> None:
    os.mkfifo(tree / "a\nb\x1b[2Jc")
    with pytest.raises(UserError) as info:
        copy_tree(tree, tmp_path / "copy")
    assert_one_sentence(str(info.value), "a\\nb\\x1b[2Jc", "named pipe")
    assert "\x1b" not in str(info.value)


def test_cap_refuses_a_large_file(tree: Path, tmp_path: Path) -> None:
    (tree / "big.bin").write_bytes(b"x" * (2 * 2**20))
    with pytest.raises(UserError) as info:
        copy_tree(tree, tmp_path / "copy", max_bytes=2**20, cap_name="[limits] disk_mb")
    assert_one_sentence(str(info.value), "1 MB limit ([limits] disk_mb)", "big.bin", str(tree))


def test_cap_counts_many_empty_files(tree: Path, tmp_path: Path) -> None:
    """200k empty files cost no bytes but plenty to create and remove: each counts a block."""
    many = tree / "many"
    many.mkdir()
    for i in range(300):
        (many / f"f{i}").touch()
    with pytest.raises(UserError, match="limit"):
        copy_tree(tree, tmp_path / "copy", max_bytes=256 * 4096)
    copy_tree(tree, tmp_path / "copy2", max_bytes=400 * 4096)


def test_refused_init_leaves_no_workspace(tiny_challenge: Path, outside: Path, tmp_path: Path) -> None:
    (tiny_challenge / "starter" / "shadow.txt").symlink_to(outside / "secret.txt")
    ch = load_challenge(tiny_challenge)
    with pytest.raises(UserError, match="shadow.txt"):
        init_workspace(ch, tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError):
        init_workspace(ch, tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []


@pytest.mark.parametrize("part", ["starter", "solution"])
def test_init_refuses_a_starter_or_layer_that_is_a_link_out(
    part: str, tiny_challenge: Path, outside: Path, tmp_path: Path
) -> None:
    """A hostile challenge whose starter/ is a link to ~/.ssh must not copy the keys in."""
    shutil.copy(tiny_challenge / part / "orders.py", outside)  # the manifest names it
    shutil.rmtree(tiny_challenge / part)
    (tiny_challenge / part).symlink_to(outside)
    ch = load_challenge(tiny_challenge)
    layer = ch.solution_dir if part == "solution" else None
    with pytest.raises(UserError) as info:
        init_workspace(ch, tmp_path / "ws", layer)
    assert_one_sentence(str(info.value), f"{part}: leads outside the challenge folder")
    assert not (tmp_path / "ws").exists()


def test_init_accepts_a_starter_linked_inside_the_challenge(
    tiny_challenge: Path, tmp_path: Path
) -> None:
    (tiny_challenge / "starter").rename(tiny_challenge / "starter-files")
    (tiny_challenge / "starter").symlink_to("starter-files")
    init_workspace(load_challenge(tiny_challenge), tmp_path / "ws")
    assert (tmp_path / "ws" / "orders.py").is_file()


def test_init_cap_is_the_challenges_disk_limit(tiny_challenge: Path, tmp_path: Path) -> None:
    manifest = tiny_challenge / "challenge.toml"
    manifest.write_text(manifest.read_text().replace("output_kb = 256", "output_kb = 256\ndisk_mb = 1"))
    (tiny_challenge / "starter" / "data.bin").write_bytes(b"\0" * 2**20)
    with pytest.raises(UserError, match=r"1 MB limit \(\[limits\] disk_mb\)"):
        init_workspace(load_challenge(tiny_challenge), tmp_path / "ws")


# --------------------------------------------------------------------------- snapshots


def test_snapshot_of_a_copy_equals_the_snapshot_of_its_source(tree: Path, tmp_path: Path) -> None:
    copy_tree(tree, tmp_path / "copy", skip=not_workspace)
    files = read_workspace_bytes(tree)
    assert files["alias.py"] == b"X = 1\n"  # a link to a file reads as that file
    assert "pkg2/util.py" not in files  # a link to a folder is not read through
    assert "__pycache__/orders.cpython-311.pyc" not in files
    assert read_workspace_bytes(tmp_path / "copy") == files
    assert digest_tree(tmp_path / "copy") == digest_tree(tree)


def test_snapshot_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert read_tree(tmp_path / "nope") == {}


# --------------------------------------------------------------------------- races


def _racer(root: Path, outside: Path, stop: threading.Event) -> None:
    """Swap a file for a link out (and back) as fast as possible, atomically each time."""
    victim, tmp_link, tmp_file = root / "victim.txt", root / ".l", root / ".f"
    while not stop.is_set():
        tmp_link.symlink_to(outside / "secret.txt")
        os.replace(tmp_link, victim)
        tmp_file.write_bytes(b"innocent\n")
        os.replace(tmp_file, victim)


def test_a_file_swapped_for_a_link_mid_copy_is_never_followed(
    tree: Path, outside: Path, tmp_path: Path
) -> None:
    """A candidate's process racing the copy: each copy either refuses or holds no secret."""
    (tree / "victim.txt").write_bytes(b"innocent\n")
    for i in range(60):  # more files per folder: a wider window between listing and open
        (tree / f"pad{i}.py").write_text("pass\n")
    stop = threading.Event()
    racer = threading.Thread(target=_racer, args=(tree, outside, stop))
    racer.start()
    outcomes = {"copied": 0, "refused": 0}
    try:
        for i in range(30):
            dest = tmp_path / f"copy{i}"
            try:
                copy_tree(tree, dest)
                outcomes["copied"] += 1
            except UserError as exc:
                assert "\n" not in str(exc)
                outcomes["refused"] += 1
            for p in dest.rglob("*"):
                if p.is_file() and not p.is_symlink():
                    assert SECRET not in p.read_bytes(), p
            assert SECRET not in b"".join(read_tree(tree).values())
            shutil.rmtree(dest, ignore_errors=True)
    finally:
        stop.set()
        racer.join()
    assert outcomes["copied"] + outcomes["refused"] == 30


@pytest.mark.parametrize("swap", ["link out", "another file", "fifo"])
def test_an_entry_swapped_after_listing_is_not_opened(
    swap: str, tree: Path, outside: Path
) -> None:
    """The walk opens what it listed or nothing: O_NOFOLLOW, then the inode is compared."""
    victim = tree / "orders.py"
    listed = os.lstat(victim)
    victim.unlink()
    if swap == "link out":
        victim.symlink_to(outside / "secret.txt")
    elif swap == "another file":
        (outside / "secret.txt").rename(victim)
    else:
        os.mkfifo(victim)
    for strict in (True, False):
        walk = _Walk(tree, None, strict=strict)
        try:
            if strict:
                with pytest.raises(UserError, match="changed while it was being read"):
                    walk._open(walk.root_fd, "orders.py", "orders.py", _FILE_FLAGS, listed)
            else:
                assert walk._open(walk.root_fd, "orders.py", "orders.py", _FILE_FLAGS, listed) is None
        finally:
            walk.close()


def test_a_folder_swapped_for_a_link_after_listing_is_not_entered(tree: Path, outside: Path) -> None:
    listed = os.lstat(tree / "pkg")
    shutil.rmtree(tree / "pkg")
    (tree / "pkg").symlink_to(outside / "lib")
    walk = _Walk(tree, None, strict=True)
    try:
        with pytest.raises(UserError, match="changed while it was being read"):
            walk._open(walk.root_fd, "pkg", "pkg", _DIR_FLAGS, listed)
    finally:
        walk.close()


# --------------------------------------------------------------------------- the commands


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_assess", *args], capture_output=True, text=True, cwd=cwd
    )


def assert_refused(proc: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert_one_sentence(lines[0], *parts)


def test_init_refuses_a_starter_link_to_etc_shadow(tiny_challenge: Path, tmp_path: Path) -> None:
    """Issue 8: a starter symlink copied /etc/shadow into the workspace on `init`."""
    (tiny_challenge / "starter" / "shadow.txt").symlink_to("/etc/shadow")
    proc = cli("init", str(tiny_challenge), str(tmp_path / "ws"))
    assert_refused(proc, "starter/shadow.txt", "/etc/shadow", "outside")
    assert not (tmp_path / "ws").exists()


@pytest.fixture
def workspace(tiny_challenge: Path, tmp_path: Path) -> Path:
    return init_workspace(load_challenge(tiny_challenge), tmp_path / "ws")


COMMAND_CASES = {
    "link to /etc/shadow": (lambda ws, ch: (ws / "shadow").symlink_to("/etc/shadow"), "shadow"),
    "link to the hidden tests": (
        lambda ws, ch: (ws / "hidden").symlink_to(ch / "tests" / "hidden"), "hidden"),
    "link to /usr/lib": (lambda ws, ch: (ws / "lib").symlink_to("/usr/lib"), "lib"),
    "loop": (lambda ws, ch: (ws / "loop").symlink_to("loop"), "loop"),
    "dangling": (lambda ws, ch: (ws / "gone").symlink_to("nowhere"), "gone"),
    "non-UTF-8 name": (
        lambda ws, ch: (ws / os.fsdecode(b"\xff\xfe.py")).write_text(""), "\\xff\\xfe.py"),
    "fifo": (lambda ws, ch: os.mkfifo(ws / "pipe"), "pipe"),
}


@pytest.mark.parametrize("case", sorted(COMMAND_CASES))
def test_check_refuses_a_hostile_workspace(
    case: str, tiny_challenge: Path, workspace: Path
) -> None:
    """Issue 8: each of these was copied into the run (or a traceback) before."""
    make, rel = COMMAND_CASES[case]
    make(workspace, tiny_challenge)
    proc = cli("check", str(tiny_challenge), "--workspace", str(workspace), "--hidden", "--json")
    assert_refused(proc, f"{workspace}/{rel}")


def test_check_refuses_a_workspace_over_disk_mb(tiny_challenge: Path, workspace: Path) -> None:
    manifest = tiny_challenge / "challenge.toml"
    manifest.write_text(manifest.read_text().replace("output_kb = 256", "output_kb = 256\ndisk_mb = 1"))
    (workspace / "data.bin").write_bytes(b"\0" * (2 * 2**20))
    proc = cli("check", str(tiny_challenge), "--workspace", str(workspace))
    assert_refused(proc, "[limits] disk_mb", "data.bin")


def test_check_runs_with_links_inside_the_workspace(tiny_challenge: Path, workspace: Path) -> None:
    """Links that stay inside are copied as links: the tests import through them."""
    shutil.copy(tiny_challenge / "solution" / "orders.py", workspace / "real_orders.py")
    (workspace / "orders.py").unlink()
    (workspace / "orders.py").symlink_to("real_orders.py")
    proc = cli("check", str(tiny_challenge), "--workspace", str(workspace), "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- as a candidate

USER = "tui-assess-ci"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder other users can reach (pytest's own temporary root is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="tui-assess-safecopy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_refusals_as_an_unprivileged_user(shared_dir: Path) -> None:
    """What holds on a candidate's laptop: an unreadable file and a link to /etc/shadow are one
    sentence and exit 2, not a PermissionError traceback."""
    if os.geteuid() != 0:
        pytest.skip("the suite is not running as root, so it is already unprivileged")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is not installed")
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        pytest.skip(f"no user {USER} (tests/test_hostile_unprivileged.py makes it under root)")
    challenge = shared_dir / "tiny-sum"
    shutil.copytree(Path(__file__).parent / "fixtures" / "challenges" / "tiny-sum", challenge)
    ws, home = shared_dir / "cand", shared_dir / "home"
    ws.mkdir()
    home.mkdir()
    shutil.copy(challenge / "starter" / "orders.py", ws)
    (ws / "notes.txt").write_text("mine\n")
    subprocess.run(["chown", "-R", USER, str(ws), str(home)], check=True)
    (ws / "notes.txt").chmod(0o000)

    def as_user(*args: str) -> subprocess.CompletedProcess[str]:
        env = [f"PATH={os.environ.get('PATH', '/usr/bin:/bin')}", f"HOME={home}",
               f"TUI_ASSESS_HOME={home}", f"TMPDIR={home}"]
        return subprocess.run(
            ["runuser", "-u", USER, "--", "env", "-i", *env, sys.executable, "-m", "tui_assess",
             *args],
            capture_output=True, text=True, cwd=home,
        )

    probe = as_user("--version")
    if probe.returncode != 0:
        pytest.skip(f"{USER} cannot run this interpreter: {probe.stderr.strip()[-200:]}")
    proc = as_user("check", str(challenge), "--workspace", str(ws))
    assert_refused(proc, f"{ws}/notes.txt", "cannot be read (Permission denied)")
    (ws / "notes.txt").chmod(0o644)
    (ws / "shadow").symlink_to("/etc/shadow")
    proc = as_user("check", str(challenge), "--workspace", str(ws))
    assert_refused(proc, f"{ws}/shadow", "outside")
