"""Command line: thin click commands, each one call into the layers below.

Errors a user can cause (UserError) print one sentence on stderr and exit with code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tui_assess import __version__
from tui_assess.errors import UserError


class AssessGroup(click.Group):
    """A click group that turns UserError (and click's usage errors) into one line, exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except UserError as exc:
            click.echo(f"tui-assess: {exc}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("tui-assess: aborted.", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            msg = exc.format_message().strip().replace("\n", " ")
            click.echo(f"tui-assess: {msg} (see --help).", err=True)
            sys.exit(2)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)


def emit_json(doc: Any) -> None:
    """Every --json output: one JSON document on stdout, nothing else."""
    click.echo(json.dumps(doc, indent=2, sort_keys=False))


@click.group(cls=AssessGroup, invoke_without_command=True)
@click.version_option(__version__, prog_name="tui-assess")
@click.pass_context
def main(ctx: click.Context) -> None:
    """tui-assess: timed backend challenges in the terminal, with sandboxed tests."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(practice_cmd, challenge=None)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def list_cmd(as_json: bool) -> None:
    """List the bundled challenges."""
    from tui_assess.challenge.catalog import list_challenges

    challenges = list_challenges()
    if as_json:
        emit_json([c.catalog_entry() for c in challenges])
        return
    if not challenges:
        click.echo("No challenges found.")
        return
    width = max(len(c.id) for c in challenges)
    for c in challenges:
        click.echo(
            f"{c.id:<{width}}  {c.category:<13} {c.difficulty:<6} "
            f"{c.time_limit_minutes:>3} min  {c.title}"
        )


@main.command("init")
@click.argument("challenge")
@click.argument("directory", type=click.Path(path_type=Path))
def init_cmd(challenge: str, directory: Path) -> None:
    """Copy CHALLENGE's starter workspace into DIRECTORY (new or empty)."""
    from tui_assess.challenge.catalog import resolve
    from tui_assess.challenge.workspace import init_workspace

    ch = resolve(challenge)
    init_workspace(ch, directory)
    click.echo(f"Workspace for {ch.id} ready in {directory}.")


STATUS_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "skip"}


@main.command("check")
@click.argument("challenge")
@click.option(
    "--workspace",
    "workspace",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder with the candidate's files.",
)
@click.option("--hidden", is_flag=True, help="Run the hidden tests instead of the visible ones.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def check_cmd(challenge: str, workspace: Path, hidden: bool, as_json: bool) -> None:
    """Run CHALLENGE's visible (or hidden) tests on a workspace, in the sandbox.

    Exit code 0 when every test passed, 1 otherwise, 2 for bad input.
    """
    from tui_assess.challenge.catalog import resolve
    from tui_assess.challenge.check import run_check

    ch = resolve(challenge)
    result = run_check(ch, workspace, "hidden" if hidden else "visible")
    if as_json:
        emit_json(result.to_json())
    else:
        for t in result.tests:
            click.echo(f"{STATUS_MARK[t.status]:<5} {t.duration_s:6.2f}s  [{t.group}] {t.name}")
            if t.message and t.status in ("fail", "error"):
                for line in t.message.splitlines()[-6:]:
                    click.echo(f"              {line}")
        r = result.resources
        click.echo(
            f"\n{result.suite} tests: {result.status}; score {result.score:g}/{result.max_score:g}"
        )
        for g, (got, total) in result.groups.items():
            click.echo(f"  {g}: {got:g}/{total:g}")
        click.echo(
            f"resources: {r.wall_s:.2f} s wall, {r.cpu_s:.2f} s CPU, {r.peak_rss_mb:.0f} MB peak, "
            f"{r.max_procs} processes; sandbox: {result.run.sandbox}"
        )
        if result.reason:
            click.echo(result.reason)
    sys.exit(0 if result.passed else 1)


@main.group("challenge")
def challenge_group() -> None:
    """Authoring: validate or scaffold challenges."""


@challenge_group.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--repeat",
    default=1,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Run the solution's hidden suite N times in a row to catch flaky tests (1: no rerun).",
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Validate this many challenges at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def validate_cmd(paths: tuple[Path, ...], repeat: int, jobs: int, as_json: bool) -> None:
    """Check challenge folders: manifest, brief, starter fails, solution passes, mutants caught.

    Exit code 0 when every check passes, 1 otherwise.
    """
    from tui_assess.challenge.validate import format_table, validate

    folders = [p for p in paths if p.is_dir()]
    missing = [p for p in paths if not p.is_dir()]
    if missing:
        raise UserError(f"{missing[0]}: no such challenge folder.")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_folder = list(pool.map(lambda f: validate(f, repeat=repeat), folders))
    rows = [row for folder_rows in per_folder for row in folder_rows]
    if as_json:
        emit_json({"ok": all(r.ok for r in rows), "checks": [r.to_json() for r in rows]})
    else:
        click.echo(format_table(rows))
        bad = [r for r in rows if not r.ok]
        click.echo(
            f"\n{len(rows) - len(bad)} of {len(rows)} checks passed"
            + (f"; {len(bad)} failed." if bad else ".")
        )
    sys.exit(0 if all(r.ok for r in rows) else 1)


@challenge_group.command("new")
@click.argument("slug")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to create SLUG in (default: ./challenges if it exists, else the current folder).",
)
def new_cmd(slug: str, parent: Path | None) -> None:
    """Scaffold a new challenge folder SLUG that passes `challenge validate` as it is.

    It holds a small worked example (a pagination bug) with TODO markers to replace: manifest,
    brief, starter, visible and hidden tests, solution and two mutants. See docs/authoring.md.
    """
    from tui_assess.challenge.scaffold import default_parent, new_challenge

    dest = new_challenge(slug, parent if parent is not None else default_parent())
    click.echo(f"Created {dest}/: an example challenge that already passes validation.")
    click.echo(f"Replace its TODOs (grep -rn TODO {dest}), then check it with:")
    click.echo(f"  tui-assess challenge validate {dest} --repeat 20")


@main.group("session")
def session_group() -> None:
    """Verify, inspect and export recorded session files (*.tasession)."""


@session_group.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def session_verify_cmd(file: Path, as_json: bool) -> None:
    """Check FILE's hash chain and blobs: exit 0 intact, 1 tampered or damaged, 2 not a session."""
    from tui_assess.session.verify import verify

    report = verify(file)
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(report.reason if report.ok else f"TAMPERED: {report.reason}")
        for note in report.notes:
            click.echo(f"note: {note}")
    if not report.ok:
        sys.exit(1)


@session_group.command("info")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def session_info_cmd(file: Path, as_json: bool) -> None:
    """Summarise FILE: challenge, candidate, times, runs, integrity signals."""
    from tui_assess.session.timeline import Timeline

    with Timeline.open(file) as tl:
        info = tl.summary()
    if as_json:
        emit_json(info)
        return
    last = info["last_run"]
    rows = [
        ("challenge", f"{info['challenge']} ({info['mode']})"),
        ("candidate", info["candidate"] or "-"),
        ("started", info["started"]),
        ("last event", info["last_event"]),
        ("deadline", info["deadline"] or "-"),
        ("duration", f"{info['duration_s']:.0f} s"),
        ("events", str(info["events"])),
        ("test runs", str(info["runs"]) + (f", last: {last['suite']} {last['status']}"
                                           if last else "")),
        ("submitted", "yes" if info["submitted"] else "no"),
        ("ended", "yes" if info["ended"] else "no (still open, or it crashed)"),
        ("files", ", ".join(info["files"]) or "-"),
        ("final link", info["final_link"]),
    ]
    for key, value in rows:
        click.echo(f"{key:<11} {value}")
    signals = info["signals"]
    click.echo(f"signals     {len(signals)}")
    for s in signals:
        click.echo(f"  event {s['seq']:>6}  {s['t']:>9.1f} s  {s['kind']:<16} {s['detail']}")


@session_group.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "asciicast"]), required=True,
              help="jsonl: one event per line; asciicast: a v2 recording with markers.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of stdout.")
def session_export_cmd(file: Path, fmt: str, output: Path | None) -> None:
    """Export FILE's events as JSON Lines or as an asciicast v2 recording."""
    from tui_assess.session.export import export
    from tui_assess.session.timeline import Timeline

    with Timeline.open(file) as tl:
        if output is None:
            export(tl, fmt, sys.stdout)
            return
        try:
            with output.open("w", encoding="utf-8") as out:
                export(tl, fmt, out)
        except OSError as exc:
            raise UserError(f"{output} cannot be written: {exc.strerror or exc}.") from None


@main.command("replay")
@click.argument("session", type=click.Path(path_type=Path))
@click.option("--challenge", "challenge", default=None,
              help="The challenge (bundled slug or folder) whose tests r re-runs, when the "
                   "recorded one is not bundled here.")
def replay_cmd(session: Path, challenge: str | None) -> None:
    """Replay SESSION in the TUI: watch, seek, search and diff it, see where every line came
    from, and re-run the tests on the code at any moment. Opens files that fail verify too
    (and says so first)."""
    from tui_assess.challenge.catalog import bundled_dir, resolve
    from tui_assess.session.timeline import Timeline

    timeline = Timeline.open(session)
    try:
        recorded = str((timeline.session_start or {}).get("challenge_id") or "")
        if challenge is not None:
            ch = resolve(challenge)
        elif recorded and (bundled_dir() / recorded).is_dir():
            ch = resolve(recorded)
        else:
            ch = None
        from tui_assess.ui.app import AssessApp
        from tui_assess.ui.screens.replay import ReplayScreen

        AssessApp(start_screen=ReplayScreen(timeline, challenge=ch)).run()
    finally:
        timeline.close()


@main.command("practice")
@click.argument("challenge", required=False)
def practice_cmd(challenge: str | None) -> None:
    """Practise CHALLENGE (a bundled slug or a folder) in the TUI; without one, the catalog.

    The workspace is kept in the data folder (TUI_ASSESS_HOME/workspaces/<id>/), so you can
    stop and come back; progress (attempts, solved, best time) is kept there too.
    """
    import shutil

    from tui_assess.challenge.catalog import list_challenges, resolve
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.ui.app import AssessApp

    start = resolve(challenge) if challenge is not None else None
    size = shutil.get_terminal_size()
    hooks = RecorderHooks(terminal_size=(size.columns, size.lines))
    if start is None:
        app = AssessApp(challenges=list_challenges(), hooks=hooks)  # type: ignore[arg-type]
    else:
        app = AssessApp(start=start, hooks=hooks)  # type: ignore[arg-type]
    # The recorder's writer thread reports a full disk or a read-only folder at once, in words.
    def recording_failed(message: str) -> None:
        try:
            app.call_from_thread(
                app.notify, message, title="Session recording", severity="error", timeout=30
            )
        except RuntimeError:  # the app is not running (any more): say it on the terminal
            click.echo(f"tui-assess: session recording: {message}", err=True)

    hooks.on_error = recording_failed
    app.run()
    if hooks.path is not None and hooks.final_link is not None:
        click.echo(f"Session recorded in {hooks.path}")
        click.echo(f"Final link (keep it to prove the file is unchanged): {hooks.final_link}")
