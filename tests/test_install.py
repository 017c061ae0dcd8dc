"""A plain, non-editable install (wheel into a fresh venv) finds the bundled challenges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_wheel_install_lists_bundled_challenges(tmp_path: Path) -> None:
    bundled = sorted(p.name for p in (ROOT / "challenges").iterdir() if (p / "challenge.toml").exists())
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
         str(ROOT)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(dist.glob("tui_assess-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Reuse this environment's dependencies (textual, psutil, click...) so the test needs no
    # network. A path listed in a .pth file comes after the venv's own site-packages, and its
    # own .pth files (this checkout's editable install) are not read: tui_assess can only come
    # from the wheel.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", site, str(wheel)],
                   capture_output=True, text=True, check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(py), "-m", "tui_assess", "list", "--json"], capture_output=True,
                          text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert sorted(c["id"] for c in listed) == bundled
    for c in listed:
        assert "_bundled_challenges" in c["path"], "listed from the checkout, not the install"
