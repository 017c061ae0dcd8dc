"""Bounded inflation: a zlib bomb in a session file is damage naming its event, in verify,
replay (Timeline) and export, and never a gigabyte allocation (peak memory measured in a child
process)."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from test_session_support import rows, sample_session

from tui_assess.errors import UserError
from tui_assess.session import Timeline, store, verify
from tui_assess.session.export import export_asciicast

ROOT = Path(__file__).resolve().parents[1]
BOMB_BYTES = 2 * 2**30  # what the bomb inflates to: 2 GiB of zeros


def zlib_bomb(megabytes: int = BOMB_BYTES // 2**20) -> bytes:
    """A real zlib stream of ``megabytes`` MiB of zeros (~1 KB per MiB), made in milliseconds:
    one full-flushed deflate block of 1 MiB of zeros repeated, with the right Adler-32."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(bytes(2**20)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(2**20)) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()
    n = megabytes * 2**20
    adler = ((n % 65521) << 16) | 1  # Adler-32 of n zero bytes
    return b"\x78\xda" + first + again * (megabytes - 1) + end + struct.pack(">I", adler)


def test_the_bomb_is_real() -> None:
    small = zlib_bomb(3)
    assert zlib.decompress(small) == bytes(3 * 2**20)
    assert len(zlib_bomb()) < 3 * 2**20  # 2 GiB inside about 2 MB


@pytest.fixture
def bombed(tmp_path: Path) -> tuple[Path, int, str]:
    """A real session whose start keyframe's report.py blob was replaced by the bomb (its
    recorded size left as it was)."""
    path = tmp_path / "bomb.tasession"
    sample_session(path)
    kf = next(r for r in rows(path) if r[3] == "keyframe")
    digest = json.loads(kf[4])["files"]["report.py"]
    with store_connection(path) as db:
        db.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (zlib_bomb(), digest))
    return path, kf[0], digest


def store_connection(path: Path):  # type: ignore[no-untyped-def]
    import sqlite3

    return sqlite3.connect(path)


def test_verify_replay_and_export_name_the_event(bombed: tuple[Path, int, str]) -> None:
    path, seq, digest = bombed
    rep = verify(path)
    assert not rep.ok and rep.first_bad_seq == seq and rep.first_bad_kind == "keyframe"
    assert f"blob {digest[:12]} inflates beyond its recorded size" in rep.reason
    assert f"event {seq} (keyframe) refers to it" in rep.reason
    with Timeline.open(path) as tl:
        for read in (lambda: tl.state_at(seq=seq), tl.origin_index, lambda: tl.search("x"),
                     lambda: export_asciicast(tl, open(os.devnull, "w"))):  # noqa: SIM115
            with pytest.raises(UserError, match=rf"event {seq} \(keyframe\) refers to blob "
                                                rf"{digest[:12]}, which inflates beyond"):
                read()


def test_a_blob_claiming_a_huge_size_is_not_read(bombed: tuple[Path, int, str]) -> None:
    path, seq, digest = bombed
    with store_connection(path) as db:
        db.execute("UPDATE blobs SET size = ? WHERE sha256 = ?", (BOMB_BYTES, digest))
    with Timeline.open(path) as tl, pytest.raises(UserError, match="more than replay reads"):
        tl.state_at(seq=seq)


def test_a_blob_with_no_usable_size_stops_at_the_cap(bombed: tuple[Path, int, str]) -> None:
    path, seq, digest = bombed
    with store_connection(path) as db:
        db.execute("UPDATE blobs SET size = 'unknown' WHERE sha256 = ?", (digest,))
    rep = verify(path)
    assert not rep.ok and f"inflates beyond {store.MAX_BLOB_BYTES} bytes (no usable size" \
        in rep.reason


PEAK = """
import resource, sys
from tui_assess.session import Timeline, verify
from tui_assess.session.export import export
from tui_assess.errors import UserError
import io
path = sys.argv[1]
with Timeline.open(path) as tl:
    tl.kind_counts()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert not verify(path).ok
for fmt in ("asciicast", "jsonl"):
    with Timeline.open(path) as tl:
        try:
            export(tl, fmt, io.StringIO())
        except UserError:
            pass
with Timeline.open(path) as tl:
    for call in (tl.state_at, tl.origin_index, tl.summary):
        try:
            call()
        except UserError:
            pass
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


@pytest.mark.parametrize("size", ["recorded", "none"])
def test_peak_memory_stays_small(bombed: tuple[Path, int, str], size: str) -> None:
    path, _seq, digest = bombed
    if size == "none":  # the cap bounds it: at most MAX_BLOB_BYTES, never the 2 GiB
        with store_connection(path) as db:
            db.execute("UPDATE blobs SET size = 'unknown' WHERE sha256 = ?", (digest,))
    r = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert r.returncode == 0, r.stderr
    grown_mb = int(r.stdout.strip())
    limit = 32 if size == "recorded" else store.MAX_BLOB_BYTES // 2**20 + 32
    assert grown_mb < limit, f"peak memory grew {grown_mb} MB reading a 2 GiB zlib bomb"
