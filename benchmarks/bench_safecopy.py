"""Safe copies and snapshots against the stdlib calls they replaced, measured in one run.

    python benchmarks/bench_safecopy.py [--rounds 15]

Three trees: a bundled challenge's workspace (starter + solution: what every run copies), 500
small files in 20 folders (a larger project), and 4 files of 8 MB (data). For each, the median
time of `safecopy.copy_tree` against `shutil.copytree` (the run copy before), and of
`snapshot.digest_tree` (descriptor walk) against the rglob + read_bytes digest it replaced,
alternating, with the ratio. Nothing here is compared with a number from another machine.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui_assess.safecopy import copy_tree  # noqa: E402
from tui_assess.snapshot import digest_tree, is_workspace_file, not_workspace  # noqa: E402


def old_digest(root: Path) -> str:
    """The digest as computed before (rglob, is_file, read_bytes: links followed)."""
    h = hashlib.sha256()
    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and is_workspace_file(rel):
            files[rel.as_posix()] = p.read_bytes()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def old_copy(src: Path, dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        base = Path(folder).relative_to(src)
        return {n for n in names if not is_workspace_file(base / n)}

    shutil.copytree(src, dest, ignore=ignore, symlinks=False)


def trees(base: Path) -> dict[str, Path]:
    out = {}
    ch = ROOT / "challenges" / "slow-query"
    ws = base / "workspace"
    shutil.copytree(ch / "starter", ws)
    shutil.copytree(ch / "solution", ws, dirs_exist_ok=True)
    out["bundled workspace"] = ws
    many = base / "many"
    for d in range(20):
        (many / f"pkg{d}").mkdir(parents=True)
        for f in range(25):
            (many / f"pkg{d}" / f"mod{f}.py").write_text(f"X = {f}\n" * 40)
    out["500 small files"] = many
    big = base / "big"
    big.mkdir()
    for i in range(4):
        (big / f"data{i}.bin").write_bytes(bytes(range(256)) * (8 * 2**20 // 256))
    out["4 x 8 MB"] = big
    return out


def once(fn: Callable[[], object], before: Callable[[], None] = lambda: None) -> float:
    before()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(name: str, src: Path, dest: Path, rounds: int) -> None:
    def clear() -> None:
        shutil.rmtree(dest, ignore_errors=True)

    new_c, old_c, new_d, old_d = [], [], [], []
    for _ in range(rounds):  # alternate, so drift hits both sides alike
        new_c.append(once(lambda: copy_tree(src, dest, skip=not_workspace), clear))
        old_c.append(once(lambda: old_copy(src, dest), clear))
        new_d.append(once(lambda: digest_tree(src)))
        old_d.append(once(lambda: old_digest(src)))
    assert digest_tree(src) == old_digest(src)
    for what, new, old in (("copy", new_c, old_c), ("digest", new_d, old_d)):
        n, o = statistics.median(new) * 1000, statistics.median(old) * 1000
        print(f"{name:<18} {what:<7} {n:>8.2f} {o:>8.2f} {n / o:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        print(f"{'tree':<18} {'what':<7} {'new ms':>8} {'old ms':>8} {'new/old':>8}")
        for name, src in trees(base).items():
            measure(name, src, base / "dest", args.rounds)


if __name__ == "__main__":
    main()
