"""A plain, non-editable install (wheel into a fresh venv) finds the bundled challenges."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    # Reuse this environment's packages (textual, psutil...) so the test needs no network.
    venv.create(env_dir, with_pip=False, system_site_packages=True)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
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
