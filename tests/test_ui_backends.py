"""The UI's headless helpers: progress store, SQL console, HTTP console, highlighting."""

from __future__ import annotations

import shutil
from pathlib import Path

from fixtures.ui_support import fixture
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_assess.ui.http_service import AppServer, find_app_module, parse_headers, send_request
from tui_assess.ui.progress import ProgressStore, format_duration
from tui_assess.ui.sql import find_sources, run_query
from tui_assess.ui.widgets.code_editor import CodeEditor, build_highlights


def test_progress_counts_attempts_and_keeps_the_best_time(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "p.sqlite")
    assert store.get("x").status == "new"
    store.opened("x")
    assert store.get("x").status == "attempted"
    store.submitted("x", solved=False, elapsed_s=50)
    store.submitted("x", solved=True, elapsed_s=300)
    store.submitted("x", solved=True, elapsed_s=400)  # slower: the best stays
    p = ProgressStore(tmp_path / "p.sqlite").get("x")  # survives reopening
    assert (p.attempts, p.solved, p.best_time_s, p.status) == (3, True, 300, "solved")
    assert store.hint_shown("x", 2).hints_shown == 2
    assert store.hint_shown("x", 1).hints_shown == 2  # never goes back
    assert format_duration(3725) == "1:02:05" and format_duration(65) == "1:05"


def test_sql_reads_database_files_read_only(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(fixture("fix-orders").starter_dir, ws)
    (source,) = find_sources(ws)
    assert source.name == "orders.db"
    r = run_query(source, "SELECT COUNT(*) FROM orders;")
    assert r.rows == [(5,)] and r.columns == ["COUNT(*)"] and not r.error
    assert r.plan and r.elapsed_ms >= 0
    bad = run_query(source, "UPDATE orders SET total = 0")
    assert "readonly" in bad.error
    assert run_query(source, "SELECT nonsense FROM nowhere").error
    assert run_query(source, "  ").error == "Type a query first."
    capped = run_query(source, "SELECT * FROM orders", max_rows=2)
    assert len(capped.rows) == 2 and capped.truncated


def test_sql_scripts_load_into_memory_when_there_is_no_database(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2);"
    )
    (tmp_path / "queries.sql").write_text("SELECT * FROM t;")
    source, scratch = find_sources(tmp_path)
    assert (source.name, scratch.name) == ("schema.sql", "queries.sql")
    assert run_query(source, "SELECT SUM(a) FROM t").rows == [(3,)]
    assert not (tmp_path / "schema.db").exists()


def test_http_console_serves_make_app_and_reports_start_errors(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "def make_app(db_path, files_dir):\n"
        "    import os\n"
        "    assert os.path.isdir(files_dir) and db_path.endswith('.sqlite')\n"
        "    def app(environ, start_response):\n"
        "        body = (environ['REQUEST_METHOD'] + ' ' + environ['PATH_INFO']).encode()\n"
        "        start_response('201 Created', [('X-Test', 'yes')])\n"
        "        return [body]\n"
        "    return app\n"
    )
    assert find_app_module(tmp_path) == "app"
    server = AppServer(tmp_path, "app")
    sock = server.start()
    try:
        r = send_request(sock, "post", "hello", parse_headers("X-A: 1\nbad line"), "x")
        assert (r.status, r.body) == (201, "POST /hello")
        assert ("X-Test", "yes") in r.headers
    finally:
        server.stop()
    assert not server.running
    (tmp_path / "app.py").write_text("raise SystemExit('boom')\n")
    broken = AppServer(tmp_path, "app")
    try:
        broken.start()
        raise AssertionError("a crashing app must not start")
    except RuntimeError as exc:
        assert "did not start" in str(exc) and "boom" in str(exc)
    finally:
        broken.stop()


HOSTILE_APP = """
import os, socket

def app(environ, start_response):
    what = environ["PATH_INFO"].strip("/")
    try:
        if what == "net":
            socket.create_connection(("127.0.0.1", int(environ["QUERY_STRING"])), timeout=2).close()
        elif what == "write":
            open("planted.txt", "w").write("x")
        elif what == "read":
            open(environ["QUERY_STRING"]).read()
        elif what == "fork":
            pid = os.fork()
            if pid == 0:
                import time
                time.sleep(600)
        result = "done"
    except OSError as exc:
        result = f"refused: {type(exc).__name__}"
    start_response("200 OK", [])
    return [result.encode()]
"""


def test_http_console_app_runs_in_the_sandbox(tmp_path: Path) -> None:
    """The console serves candidate code: it works on a copy (the workspace is never changed),
    cannot read the data folder or reach the machine's loopback (in the isolating modes), and
    nothing it starts outlives the console."""
    import os
    import socket

    import psutil

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text(HOSTILE_APP)
    secret = Path(os.environ["TUI_ASSESS_HOME"]) / "progress.sqlite"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("private")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server = AppServer(ws, "app")
    server.start()
    try:
        assert server.request("GET", "/write").body == "done"  # into its own copy
        assert not (ws / "planted.txt").exists()
        read = server.request("GET", f"/read?{secret}").body
        net = server.request("GET", f"/net?{listener.getsockname()[1]}").body
        if server.sandbox_mode in ("namespaces", "landlock"):
            assert read.startswith("refused"), read
            assert net.startswith("refused"), net
        assert server.request("GET", "/fork").body == "done"
        served = [
            p for p in psutil.process_iter(["cmdline"])
            if "serve.py" in " ".join(p.info["cmdline"] or []) and "--unix" in (p.info["cmdline"] or [])
        ]
        assert len(served) >= 2, "the app and the child it forked"
    finally:
        server.stop()
        listener.close()
    assert not server.running
    gone, alive = psutil.wait_procs(served, timeout=5)
    assert not alive, alive


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([*"ab é😀\t#'\"=:(", "\n", "def ", "x = 1", '"""']),
                max_size=40).map("".join))
def test_highlights_stay_inside_their_lines(text: str) -> None:
    lexer = CodeEditor._lexer_for("x.py")
    assert lexer is not None
    lines = text.split("\n")
    for row, spans in build_highlights(lexer, text).items():
        width = len(lines[row].encode("utf-8"))
        for start, end, name in spans:
            assert 0 <= start < (end or width + 1) <= width, (row, start, end, name)


def test_readme_names_only_files_in_the_repository() -> None:
    """Every relative file or link the README points a reader to exists in the repository
    (issue 13: it once linked to a design note outside it), and it says where the command is."""
    import re

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\]\(([^)#\s]+)", readme))  # markdown links
    named |= set(re.findall(r"`((?:\.\./|docs/|tests/|benchmarks/|\.ci/)[^`\s]*)`", readme))
    named |= {m for m in re.findall(r"`([A-Z][A-Z_]*\.md)`", readme)}
    local = [n for n in named if "://" not in n]
    assert local, "the README names no files at all?"
    missing = [
        n for n in sorted(local) if not (any(root.glob(n)) if "*" in n else (root / n).exists())
    ]
    assert not missing, missing
    assert ".venv/bin/tui-assess" in readme
