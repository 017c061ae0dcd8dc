"""The session package is headless: importing it never imports Textual."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_session_package_imports_without_textual() -> None:
    code = (
        "import sys\n"
        "import tui_assess.session, tui_assess.session.recorder, tui_assess.session.timeline\n"
        "import tui_assess.session.verify, tui_assess.session.export\n"
        "import tui_assess.session.hooks\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
