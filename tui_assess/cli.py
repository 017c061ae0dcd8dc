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
from tui_assess.printable import one_line


class AssessGroup(click.Group):
    """A click group that turns UserError (and click's usage errors) into one line, exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except UserError as exc:
            click.echo(f"tui-assess: {one_line(exc)}", err=True)
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
    """Copy CHALLENGE's starter workspace into DIRECTORY (new or empty), then make its data.

    A challenge with a [seed] step (a generated database) runs it once, in the sandbox, in
    DIRECTORY. Exit code 1 when that step fails (the workspace is there, without its data).
    """
    from tui_assess.challenge.catalog import resolve
    from tui_assess.challenge.prepare import prepare_workspace
    from tui_assess.challenge.workspace import init_workspace

    ch = resolve(challenge)
    init_workspace(ch, directory)
    if ch.seed is not None:
        click.echo(f"Preparing its data: {' '.join(ch.seed.command)}")
        prepared = prepare_workspace(ch, directory)
        if not prepared.ok:
            click.echo(f"The workspace is in {directory}, but {prepared.reason}.", err=True)
            sys.exit(1)
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
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail on advice (a starter that passes its visible tests, bare hidden messages).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def validate_cmd(
    paths: tuple[Path, ...], repeat: int, jobs: int, strict: bool, as_json: bool
) -> None:
    """Check challenge folders: manifest, brief, starter fails, solution passes, mutants caught.

    Exit code 0 when every required check passes (and, with --strict, every advice), 1 otherwise.
    """
    from tui_assess.challenge.validate import format_table, rows_ok, validate

    folders = [p for p in paths if p.is_dir()]
    missing = [p for p in paths if not p.is_dir()]
    if missing:
        raise UserError(f"{missing[0]}: no such challenge folder.")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        per_folder = list(pool.map(lambda f: validate(f, repeat=repeat), folders))
    rows = [row for folder_rows in per_folder for row in folder_rows]
    ok = rows_ok(rows, strict)
    if as_json:
        emit_json({"ok": ok, "strict": strict, "checks": [r.to_json() for r in rows]})
    else:
        click.echo(format_table(rows))
        bad = [r for r in rows if not r.ok and r.counts(strict)]
        advice = [r for r in rows if not r.ok and not r.counts(strict)]
        click.echo(
            f"\n{len(rows) - len(bad) - len(advice)} of {len(rows)} checks passed"
            + (f"; {len(bad)} failed" if bad else "")
            + (f"; {len(advice)} advice not followed (--strict fails on them)" if advice else "")
            + "."
        )
    sys.exit(0 if ok else 1)


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
@click.option("--receipt", default=None, metavar="CODE",
              help="An exam's receipt code, as the candidate read it out: also check that FILE "
                   "is exactly the file submitted.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def session_verify_cmd(file: Path, receipt: str | None, as_json: bool) -> None:
    """Check FILE's hash chain and blobs: exit 0 intact, 1 tampered or damaged, 2 not a session.

    With --receipt, exit 0 only when FILE is also the exact file the receipt was given for.
    """
    from tui_assess.session.verify import verify

    report = verify(file)
    # The exam's receipt (tui_assess.exam.receipt): checked only on a file verify found intact.
    checked = None
    if receipt is not None and report.ok:
        from tui_assess.exam.receipt import check_receipt

        checked = check_receipt(file, receipt)
    if as_json:
        doc = report.to_json()
        if receipt is not None:
            doc["receipt"] = checked.to_json() if checked else {
                "ok": False, "reason": "not checked: the file is not intact.", "given": receipt}
            doc["ok"] = report.ok and checked is not None and checked.ok
        emit_json(doc)
    else:
        click.echo(one_line(report.reason if report.ok else f"TAMPERED: {report.reason}"))
        for note in report.notes:
            click.echo(f"note: {one_line(note)}")
        if checked is not None:
            verdict = "receipt OK" if checked.ok else "RECEIPT MISMATCH"
            click.echo(one_line(f"{verdict}: {checked.reason}"))
            for note in checked.notes:
                click.echo(f"note: {one_line(note)}")
    if not report.ok or (checked is not None and not checked.ok):
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
        click.echo(f"{key:<11} {one_line(value)}")
    signals = info["signals"]
    click.echo(f"signals     {len(signals)}")
    for s in signals:
        click.echo(
            f"  event {s['seq']:>6}  {s['t']:>9.1f} s  {one_line(s['kind']):<16} "
            f"{one_line(s['detail'])}"
        )


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
def write_output(text: str, output: Path | None) -> None:
    """Text to a file (UTF-8; characters it cannot hold become U+FFFD) or to stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UserError(f"{output} cannot be written: {exc.strerror or exc}.") from None


def results_option(where: str) -> Any:
    return click.option("--results", type=click.Path(path_type=Path), default=None,
                        help=f"The regrade results file (default: grades.sqlite {where}).")


def receipts_option(command: str) -> Any:
    return click.option(
        "--receipts", type=click.Path(path_type=Path, dir_okay=False), default=None,
        metavar="FILE",
        help="The receipt codes candidates read out: a CSV (file,receipt) or a JSON object "
             f"mapping each session file (its name, or its path) to its code; {command}.")


challenges_option = click.option(
    "--challenges", "challenge_dirs", multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A challenge folder, or a folder of them, to look challenges up in before the "
         "bundled set (repeatable).")


@main.command("report")
@click.argument("session", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True,
              type=click.Choice(["html", "md", "json", "junit", "gradescope", "exercism",
                                 "asciicast"]),
              help="html: one self-contained page; md: Markdown; json: the documented report "
                   "document; junit: JUnit XML; gradescope / exercism: their results.json; "
                   "asciicast: a v3 recording.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of stdout.")
@results_option("beside the session")
@click.option("--receipt", default=None, metavar="CODE",
              help="For a session of an exam: the receipt code the candidate read out; the "
                   "report says whether it matches this file.")
def report_cmd(session: Path, fmt: str, output: Path | None, results: Path | None,
               receipt: str | None) -> None:
    """Write a report of SESSION: score (regraded when `grade` stored one), tests, timeline,
    resources, code with each line's origin, integrity signals, the candidate's note; for an
    exam, its rules and whether a receipt was checked."""
    from tui_assess.report.formats import render_with_note

    text, note = render_with_note(session, fmt, results=results, receipt=receipt)
    write_output(text, output)
    if note is not None:  # a format with no field for the receipt's line: say it here
        click.echo(note, err=True)


@main.command("grade")
@click.argument("sessions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Grade this many snapshots at once, each in its own process.")
@click.option("--shard", default=None, metavar="I/N",
              help="Grade only the I-th of N deterministic slices (1 <= I <= N), for a CI "
                   "matrix or a Kubernetes Indexed Job.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Send the work to this Dask scheduler (needs the [dask] extra).")
@results_option("beside the first session")
@challenges_option
@click.option("--regrade", is_flag=True, help="Grade again even when a result is stored.")
@receipts_option("an exam session whose receipt does not match is not graded (exit 1)")
def grade_cmd(sessions: tuple[Path, ...], as_json: bool, jobs: int, shard: str | None,
              dask_address: str | None, results: Path | None,
              challenge_dirs: tuple[Path, ...], regrade: bool, receipts: Path | None) -> None:
    """Regrade each SESSION (a file, or a folder of them): rebuild the submitted files, run the
    hidden tests in the sandbox, compare with what the session recorded.

    Exit code 0 when every regrade agrees; 1 when one differs (naming the tests) or a file is
    tampered; 2 when a file is not a session or its challenge cannot be found.
    """
    from tui_assess.report.exam import Receipts
    from tui_assess.report.grade import (
        describe_probe,
        expand_sessions,
        grade_sessions,
        parse_shard,
        worker_probe,
    )
    from tui_assess.report.results import default_path

    slice_ = parse_shard(shard) if shard else None
    files = expand_sessions(sessions)
    codes = (Receipts.load(receipts, files, [p for p in sessions if p.is_dir()])
             if receipts is not None else None)
    if dask_address is None:
        click.echo(f"this machine: {describe_probe(worker_probe())}; {jobs} worker process"
                   f"{'es' if jobs > 1 else ''}", err=True)

    def progress(row: Any) -> None:
        if not as_json:
            mark = {"match": "ok", "no-record": "graded"}.get(row.status, row.status.upper())
            reg = row.regraded or {}
            score = (f" {reg.get('score'):g}/{reg.get('max_score'):g}"
                     if isinstance(reg.get("score"), (int, float))
                     and isinstance(reg.get("max_score"), (int, float)) else "")
            cached = " (stored)" if row.cached else ""
            receipt = f" [{row.receipt['summary']}]" if row.receipt else ""
            click.echo(f"{mark:<12} {row.session}{score}{cached}{receipt}: {row.reason}")

    run = grade_sessions(files, results=results or default_path(files[0]),
                         jobs=jobs, shard=slice_, dask_address=dask_address,
                         challenge_dirs=list(challenge_dirs), progress=progress,
                         regrade=regrade, receipts=codes)
    if as_json:
        emit_json(run.to_json())
    else:
        for name, w in run.workers.items():
            click.echo(f"worker {name}: {describe_probe(w)}", err=True)
        counts: dict[str, int] = {}
        for row in run.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        for key in run.receipts_unmatched:
            click.echo(f"receipt for {one_line(key)}: no such session file given.", err=True)
        click.echo(f"{len(run.rows)} sessions: " + ", ".join(
            f"{n} {k}" for k, n in sorted(counts.items())) + f"; graded {run.graded} new "
            f"snapshots" + (f"; {run.skipped} left to other shards" if run.skipped else "") + ".")
    sys.exit(run.exit_code)


@main.command("review")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), default=None,
              help="Write the table as CSV to this file.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), default=None,
              help="Write a self-contained page: the table and every similar pair side by "
                   "side.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@results_option("in DIRECTORY")
@challenges_option
@receipts_option("each exam session's row says whether its receipt matches")
def review_cmd(directory: Path, csv_out: Path | None, html_out: Path | None, as_json: bool,
               results: Path | None, challenge_dirs: tuple[Path, ...],
               receipts: Path | None) -> None:
    """One row per session in DIRECTORY: candidate, challenge, score (regraded if known), time
    used, runs, integrity, signals, similar submissions; sorted by score.

    In a terminal (without --csv or --json) the table opens as a TUI whose rows open in
    replay. A tampered, truncated or corrupt file is a row that says so.
    """
    from tui_assess.report.review import collect, format_table, to_csv

    written = [p for p in (csv_out, html_out) if p is not None]
    interactive = not as_json and not written and sys.stdout.isatty() and sys.stdin.isatty()
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and total >= 20 and sys.stderr.isatty():
            bar = click.progressbar(length=total, label="reading sessions", file=sys.stderr)
            bar.__enter__()
        if bar is not None:
            bar.update(1)
            if done == total:
                bar.__exit__(None, None, None)

    review = collect(directory, results=results, challenge_dirs=list(challenge_dirs),
                     progress=progress, receipts=receipts)
    if csv_out is not None:
        write_output(to_csv(review), csv_out)
    if html_out is not None:
        from tui_assess.report.html import render_review_html

        write_output(render_review_html(review, directory.name or str(directory)), html_out)
    if as_json:
        emit_json(review.to_json())
    elif interactive:
        from tui_assess.ui.screens.review import ReviewApp

        ReviewApp(review, list(challenge_dirs)).run()
    elif not written:
        for line in format_table(review):
            click.echo(line)
    else:
        click.echo(f"{len(review.rows)} sessions written to "
                   f"{' and '.join(str(p) for p in written)}.")
        for key in review.receipts_unmatched:
            click.echo(f"receipt for {one_line(key)}: no such session file here.", err=True)


@main.command("practice")
@click.argument("challenge", required=False)
def practice_cmd(challenge: str | None) -> None:
    """Practise CHALLENGE (a bundled slug or a folder) in the TUI; without one, the catalog.

    The workspace is kept in the data folder (TUI_ASSESS_HOME/workspaces/<id>/), so you can
    stop and come back; progress (attempts, solved, best time) is kept there too.
    """
    from tui_assess.ui.launch import practice  # also the entry point's way in (entry.py)

    practice(challenge)


@main.group("pack")
def pack_group() -> None:
    """Exam packs: seal challenges for a proctored exam, or inspect a sealed pack."""


@pack_group.command("build")
@click.argument("challenges", nargs=-1, required=True)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="The pack file to write (a new file, e.g. backend-exam.tapack).")
@click.option("--time", "minutes", type=int, default=None,
              help="Minutes for the whole exam (default: the challenges' time limits added up).")
@click.option("--feedback", type=click.Choice(["none", "counts", "names"]), default="counts",
              show_default=True,
              help="What candidates see of the hidden tests when they submit: nothing, how "
                   "many pass, or which pass by name (never their code or messages).")
@click.option("--submissions", type=int, default=1, show_default=True,
              help="Submissions allowed per challenge; the last one counts.")
@click.option("--hints/--no-hints", default=False, show_default=True,
              help="Put the challenges' hints in the pack (each one revealed is recorded).")
@click.option("--ai", "ai", type=click.Choice(["allowed", "not-allowed"]), default="not-allowed",
              show_default=True,
              help="Whether AI assistants are allowed: shown to candidates, recorded, reported.")
@click.option("--record-processes", is_flag=True,
              help="Record the names of programs candidates start during the exam (announced "
                   "to them first).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def pack_build_cmd(challenges: tuple[str, ...], out: Path, minutes: int | None, feedback: str,
                   submissions: int, hints: bool, ai: str, record_processes: bool,
                   as_json: bool) -> None:
    """Seal CHALLENGES (bundled slugs or folders) and the exam's rules into one encrypted
    pack, and print its start code.

    The pack holds briefs, starters, visible and hidden tests (never solutions or mutants),
    encrypted with a key derived from the start code. Keep the code secret until the exam
    starts; it is printed once and stored nowhere.
    """
    from tui_assess.challenge.catalog import resolve
    from tui_assess.exam.pack import build_pack
    from tui_assess.exam.policy import ExamPolicy

    loaded = [resolve(c) for c in challenges]
    total = minutes if minutes is not None else min(sum(c.time_limit_minutes for c in loaded),
                                                    600)
    policy = ExamPolicy(time_minutes=total, feedback=feedback,  # type: ignore[arg-type]
                        submissions=submissions, hints=hints, ai_assistants=ai == "allowed",
                        record_processes=record_processes)
    built = build_pack(loaded, out, policy)
    if as_json:
        emit_json(built.to_json())
        return
    click.echo(f"Sealed {len(loaded)} challenge{'s' if len(loaded) > 1 else ''} into {out} "
               f"(pack {built.pack_id}, {policy.time_minutes} minutes).")
    click.echo(f"Start code: {built.start_code}")
    click.echo("Keep the start code secret until the exam starts; it is stored nowhere.")


@pack_group.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def pack_inspect_cmd(file: Path, as_json: bool) -> None:
    """What FILE says without its start code: pack id, challenge titles, time, rules."""
    from tui_assess.exam.pack import read_header

    header = read_header(file)
    if as_json:
        emit_json(header.to_json())
        return
    kdf = header.kdf
    rows = [("pack", header.pack_id),
            ("created", f"{header.created} (tui-assess {header.tool_version})")]
    rows += [(f"challenge {i}", title) for i, title in enumerate(header.titles, 1)]
    rows += [(name.lower(), meaning) for name, meaning in header.policy.rules()]
    rows.append(("sealed", f"AES-256-GCM, key from the start code by scrypt "
                           f"(N={kdf['n']}, r={kdf['r']}, p={kdf['p']})"))
    for name, value in rows:
        click.echo(f"{name:<14} {one_line(value)}")


@main.command("exam")
@click.argument("pack", type=click.Path(path_type=Path))
@click.option("--code", default=None, help="The start code the proctor announces (asked for in "
                                           "the app when left out).")
@click.option("--candidate", default=None, help="Your name or candidate id (asked for in the "
                                                "app when left out).")
def exam_cmd(pack: Path, code: str | None, candidate: str | None) -> None:
    """Sit the proctored exam sealed in PACK.

    First it shows what is recorded and the rules, then asks for your name and the start code;
    the clock starts when the code opens the pack. Closing the app (or a crash) does not stop
    the clock: run the same command again to continue. At the end it shows your receipt code.
    """
    from tui_assess.exam.runtime import Exam

    exam = Exam.load(pack)
    if exam.status == "finished":
        _print_receipts(exam, "This exam was already handed in on this computer.")
        return
    if code is not None:
        exam.check_code(code)  # a wrong code: one sentence, exit 2, nothing decrypted
    from tui_assess.ui.screens.exam import ExamApp

    app = ExamApp(exam, candidate=candidate, code_checked=code)
    app.run()
    if exam.over:
        _print_receipts(exam, "Exam handed in.")
    elif exam.parts:
        from tui_assess.ui.progress import format_duration

        left = format_duration(max(0.0, exam.seconds_left()))
        click.echo(f"The exam is not finished: {left} left, and the clock keeps running. "
                   f"Run `tui-assess exam {pack}` again to continue.")


def _print_receipts(exam: Any, why: str) -> None:
    click.echo(why)
    parts = exam.parts or exam.sessions_on_disk()
    for part in parts:
        name = getattr(part, "title", None) or getattr(part, "challenge_id", "")
        path = getattr(part, "session", None) or getattr(part, "path", "")
        click.echo(f"receipt {part.receipt}  {one_line(name)}  ({path})")
