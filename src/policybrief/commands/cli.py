"""The ``brief`` command: a thin layer over the library.

Heavy imports stay inside the commands, so ``brief --help`` starts fast. Errors from
the library are caught here and only here, and mapped to exit statuses:
0 ok, 1 content errors (or warnings under --strict), 2 usage.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import BriefError, ContentError, UsageError
from ..progress import Progress

FORMATS = ("pdf", "html", "docx")
# The project folder of this run, for the lines the messages show.
_ROOT: dict[str, Path] = {}


class Ui:
    """Progress and messages: a live display on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.fancy = (sys.stderr.isatty() and not os.environ.get("CI") and not quiet)
        self._status: Any = None

    def stage(self, name: str) -> None:
        if self.quiet:
            return
        if self.fancy:
            if self._status is None:
                from rich.console import Console

                self._status = Console(stderr=True).status(name)
                self._status.start()
            self._status.update(f"[bold]{name}[/bold] …")
            if self.verbose:
                click.echo(f"· {name}", err=True)
        else:
            click.echo(f"· {name}", err=True)

    def done(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text)

    def warn(self, text: str) -> None:
        click.echo(text, err=True)


def find_root(start: Path) -> Path:
    """The nearest folder, from ``start`` up, that holds ``report/brief.yaml``."""
    for folder in (start, *start.parents):
        if (folder / "report" / "brief.yaml").is_file():
            return folder
    return start


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "-C", type=click.Path(file_okay=False, path_type=Path),
              help="The brief project's folder (default: found from the current one).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and warnings.")
@click.option("--verbose", "-v", is_flag=True, help="Print every stage as a line.")
@click.version_option(package_name="policybrief", prog_name="brief")
@click.pass_context
def cli(ctx: click.Context, project: Path | None, quiet: bool, verbose: bool) -> None:
    """policybrief: section files and cited sources in, checked PDF, HTML and DOCX out."""
    root = (project or find_root(Path.cwd())).resolve()
    _ROOT["root"] = root
    ctx.obj = {"root": root, "ui": Ui(quiet, verbose)}


def _project(ctx: click.Context) -> Any:
    from ..model import Project

    return Project(ctx.obj["root"])


def _formats(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in FORMATS:
            from ..messages import suggest

            hint = suggest(name, FORMATS)
            raise click.BadParameter(f"'{name}' is not one of: {', '.join(FORMATS)}"
                                     + (f"; {hint}" if hint else ""))
    return names


def _system(formats: list[str]) -> None:
    """The PDF (and the DOCX's figures) need Pango and its kin: checked first."""
    if "pdf" in formats or "docx" in formats:
        from . import system

        system.check()


def _report_findings(ui: Ui, findings: Any, root: Path) -> None:
    from ..messages import render_all

    if findings:
        ui.warn(render_all(findings, root))


def _ignore(names: tuple[str, ...]) -> tuple[str, ...]:
    """``--ignore RULE``: warning rules only; an error rule or an unknown name is refused."""
    from ..messages import check_ignorable

    for name in names:
        why = check_ignorable(name)
        if why:
            raise UsageError(f"--ignore {name}: {why}",
                             hint="only warnings can be ignored; docs/checks.md lists the "
                                  "rules, each marked error or warning")
    return names


STALE_HELP = ("Build even when quotes vanished from changed sources: mark those citations "
              "unverified and report them as warnings.")
STALE_CHECK_HELP = ("Pass even when quotes vanished from changed sources: report those "
                    "citations as warnings, not errors.")
IGNORE_HELP = "Leave out the warnings of RULE (repeatable); errors cannot be ignored."


def _progress(ui: Ui) -> Progress:
    """Each stage on the progress display; a report (the sources changed) on stderr,
    clear of the progress display."""
    def notice(text: str) -> None:
        ui.done()
        ui.warn(text)
    return Progress(ui.stage, notice)


@cli.command(short_help="Check the brief, then render PDF, HTML and DOCX into build/.")
@click.option("--format", "-f", "formats", default="pdf,html,docx", show_default=True,
              help="Comma-separated formats to build: pdf, html, docx.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--allow-stale", is_flag=True, help=STALE_HELP)
@click.option("--ignore", "ignore", multiple=True, metavar="RULE", help=IGNORE_HELP)
@click.pass_context
def build(ctx: click.Context, formats: str, strict: bool, allow_stale: bool,
          ignore: tuple[str, ...]) -> None:
    """Check the brief, then render the requested formats into build/."""
    from .. import pipeline

    ui: Ui = ctx.obj["ui"]
    wanted = _formats(formats)
    _system(wanted)
    try:
        options = pipeline.BuildOptions(tuple(wanted), strict, allow_stale, _ignore(ignore))
        result = pipeline.build(_project(ctx), options, _progress(ui))
    finally:
        ui.done()
    _report_findings(ui, result.warnings, ctx.obj["root"])
    for name in result.written:
        ui.say(f"wrote build/{name}")
    if result.skipped and not result.written:
        ui.say("nothing changed: " + ", ".join(f"build/{n}" for n in result.skipped)
               + " already current")
    elif result.skipped:
        ui.say("unchanged: " + ", ".join(f"build/{n}" for n in result.skipped))


@cli.command(short_help="Load and check everything; write only the change report.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--fix-locators", is_flag=True,
              help="Correct ¶ locators that do not match where their quote is found.")
@click.option("--allow-stale", is_flag=True, help=STALE_CHECK_HELP)
@click.option("--parity", is_flag=True,
              help="Also compare the built PDF, HTML and DOCX; write build/parity.md.")
@click.option("--ignore", "ignore", multiple=True, metavar="RULE", help=IGNORE_HELP)
@click.pass_context
def check(ctx: click.Context, strict: bool, fix_locators: bool, allow_stale: bool,
          parity: bool, ignore: tuple[str, ...]) -> None:
    """Load and check everything; write only build/changes.md (and with --fix-locators,
    --parity, what they write)."""
    from .. import pipeline

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    try:
        if fix_locators:
            from . import locators

            loaded = pipeline.load(project, pipeline.BuildOptions(ignore=_ignore(ignore)),
                                   _progress(ui))
            for citation, locator in locators.fix(project.root, loaded.evidence.fixes):
                ui.say(f"fixed {citation.path}:{citation.line}: {citation.key} "
                       f"{citation.locator} → {locator}")
        checked = pipeline.check(project, pipeline.BuildOptions(
            strict=strict, allow_stale=allow_stale, ignore=_ignore(ignore)), _progress(ui))
    finally:
        ui.done()
    _report_findings(ui, checked.warnings, project.root)
    brief = checked.brief
    ui.say(f"ok: {len(brief.sections)} sections, {len(brief.citations)} citations, "
           f"{len(checked.evidence.matches)} quotes verified, "
           f"{len(checked.warnings)} warning{'' if len(checked.warnings) == 1 else 's'}")
    if parity:
        _parity(project, ui)


def _parity(project: Any, ui: Ui) -> None:
    """Compare the three built outputs; fail (exit 1) when they differ."""
    from ..publish import outputs
    from . import parity as parity_stage

    build_dir = project.build
    for name in ("brief.pdf", "brief.html", "brief.docx"):
        if not (build_dir / name).is_file():
            raise BriefError(f"build/{name} is missing: run 'brief build' first",
                             f"build/{name}", 1, rule="parity")
    report = parity_stage.compare((build_dir / "brief.pdf").read_bytes(),
                                  (build_dir / "brief.html").read_text("utf-8"),
                                  (build_dir / "brief.docx").read_bytes())
    with outputs.locked(build_dir):
        outputs.publish(build_dir, {"parity.md": report.markdown().encode("utf-8")}, {})
    if report.ok:
        ui.say("parity: the PDF, HTML and DOCX agree (build/parity.md)")
        return
    for row in report.differences:
        ui.warn(f"build/parity.md:1: {row.name}: {parity_stage.first_difference(row)}")
    raise BriefError("the outputs differ; see build/parity.md", "build/parity.md", 1, rule="parity")


@cli.group(short_help="Add sources to seeds/ and the bibliography; lock them.")
def sources() -> None:
    """Add sources to seeds/ and the bibliography; lock their state."""


@sources.command("add", short_help="Store a document as a source and add its entry.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", help="The citation key (default: author + year + title word).")
@click.option("--title", default="", help="Title (default: from the document).")
@click.option("--author", default="", help="Author(s), 'A and B' (default: from the document).")
@click.option("--date", default="", help="Date published, YYYY-MM-DD (default: from the "
              "document).")
@click.option("--url", default="", help="Where the original is online.")
@click.option("--added", help="The day it was added, for the lock (default: "
              "SOURCE_DATE_EPOCH or today).")
@click.pass_context
def sources_add(ctx: click.Context, path: Path, key: str | None, title: str, author: str,
                date: str, url: str, added: str | None) -> None:
    """Store a .txt, .md, .html or .pdf file as a source and add its entry."""
    from .. import pipeline
    from ..check import changes
    from . import intake

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    done = intake.add_source(project, path, key,
                             intake.Metadata(title, author, date, url), added)
    for rel in done.written:
        ui.say(f"wrote {rel}")
    ui.say(f"added @{done.entry_type}{{{done.key}}}: {done.fields.get('title', '')}")
    ui.say(intake.entry_text(done.key, done.entry_type, done.fields).rstrip())
    _say_guessed(ui, done)
    try:
        sections = pipeline.load(project).brief.sections
    except BriefError as exc:  # the brief itself has problems: skip the ranking
        ui.warn(f"(no ranking: {exc.message})")
        return
    pairs = tuple(changes.rank(done.source, sections))
    ui.warn(changes.Report(new=(changes.New(done.key, done.source.path, True, 0, pairs),))
            .text())


def _say_guessed(ui: Ui, done: Any) -> None:
    """Where each field of the new entry came from, so that it can be corrected."""
    guessed = {k: v for k, v in done.guessed.items() if not v.startswith("--")}
    if not guessed:
        return
    ui.say("guessed (check them, and correct the entry in bibliography.bib if need be):")
    for name, origin in guessed.items():
        ui.say(f"  {name:<12} {done.fields[name]!s:<40} from {origin}")


@sources.command("lock", short_help="Accept the sources as they are: seeds/sources.lock.")
@click.option("--added", "--date", "added",
              help="The day to record for sources new to the lock (default: "
                   "SOURCE_DATE_EPOCH or today).")
@click.option("--force", is_flag=True,
              help="Lock even while a cited source is missing or a quote has vanished.")
@click.pass_context
def sources_lock(ctx: click.Context, added: str | None, force: bool) -> None:
    """Accept the current state of all sources: rewrite seeds/sources.lock.

    Refuses while a cited source file is missing or a quoted passage has vanished from
    a changed source (it says which), unless --force.
    """
    from ..load import lockfile
    from . import lock

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    locked, changed = lock.accept(project, added, force)
    rel = project.rel(lockfile.lock_path(project))
    ui.say(f"{'wrote' if changed else 'unchanged:'} {rel} ({len(locked)} sources)")


@cli.command(short_help="Rebuild on every save; serve build/ with live reload.")
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Serve build/ on http://127.0.0.1:PORT.")
@click.option("--format", "-f", "formats", default="html", show_default=True,
              help="Comma-separated formats to rebuild on each save.")
@click.option("--allow-stale", is_flag=True, help=STALE_HELP)
@click.option("--ignore", "ignore", multiple=True, metavar="RULE", help=IGNORE_HELP)
@click.pass_context
def watch(ctx: click.Context, port: int, formats: str, allow_stale: bool,
          ignore: tuple[str, ...]) -> None:
    """Rebuild on every save and serve build/ with automatic reload.

    A finding is printed once; after that each rebuild says only what changed
    ("2 new warnings, 1 fixed").
    """
    from . import watch as watching

    ui: Ui = ctx.obj["ui"]
    _system(_formats(formats))
    try:
        watching.run(_project(ctx), port, _formats(formats), allow_stale=allow_stale,
                     say=ui.say, warn=ui.warn, ignore=_ignore(ignore))
    except KeyboardInterrupt:
        ui.say("stopped")


@cli.group(short_help="Bring an editor's returned DOCX back to the section files.")
def review() -> None:
    """Take an editor's returned DOCX (tracked changes, comments) back to the sources."""


@review.command("import", short_help="Map a returned DOCX's changes to files and lines.")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--apply", "apply_changes", is_flag=True,
              help="Write the changes that map unambiguously into the section files "
                   "(a backup of each goes to build/review-backup/), then check the brief.")
@click.option("--force", is_flag=True,
              help="Go on although the section files changed since the DOCX was built.")
@click.pass_context
def review_import(ctx: click.Context, file: Path, apply_changes: bool, force: bool) -> None:
    """Map the changes and comments in FILE (a returned brief.docx) to files and lines.

    Writes build/review.md; with --apply, also edits the section files.
    """
    from .. import pipeline
    from ..errors import ContentError
    from ..publish import outputs
    from . import review as reviewing

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    shown = project.rel(file)  # relative to the project when inside it, else as given
    found = reviewing.read(project, file, shown, force)
    applied = reviewing.apply(project, found) if apply_changes else None
    with outputs.locked(project.build):
        outputs.publish(project.build, {"review.md": reviewing.markdown(found, applied)
                                        .encode("utf-8")}, {})
    for change in found.changes:
        ui.say(reviewing.summary_line(change))
    for comment in found.comments:
        ui.say(f"{comment.where}: comment by {comment.author}: "
               f"{reviewing.quote(comment.text, 100)}"
               + "".join(f"\n  reply by {r.author}: {reviewing.quote(r.text, 100)}"
                         for r in comment.replies))
    can = len(found.applicable)
    ui.say(f"{_count(len(found.changes), 'change')} ({can} can be applied mechanically), "
           f"{_count(len(found.comments), 'comment')}: wrote build/review.md")
    if applied is None:
        return
    if not applied.files:
        ui.say("nothing applied: no change maps unambiguously onto the sources")
        return
    done = sum(1 for c in found.changes if c.applied)
    ui.say(f"applied {_count(done, 'change')} to {', '.join(applied.files)}; the files as "
           f"they were are in {applied.backup}/ (copy them back to undo)")
    try:
        checked = pipeline.check(project, progress=Progress(ui.stage))
    except ContentError as exc:
        ui.done()
        _report_findings(ui, exc.findings, project.root)
        raise BriefError(f"the applied changes leave {len(exc.findings)} problem"
                         f"{'' if len(exc.findings) == 1 else 's'} in the brief (above)",
                         hint=f"fix them, or undo with the copies in {applied.backup}/") from None
    finally:
        ui.done()
    _report_findings(ui, checked.warnings, project.root)
    ui.say("check: the brief still checks after the changes")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- starting and growing a project (policybrief.scaffold) ----------------------------


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from ..schemas import KINDS

    return [k for k in KINDS if k.startswith(incomplete)]


def _complete_templates(ctx: click.Context, param: click.Parameter,
                        incomplete: str) -> list[str]:
    from .scaffold import packaged_templates

    return [n for n in packaged_templates() if n.startswith(incomplete)]


@cli.command(short_help="Start a new brief project in a new or empty folder.")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", "-t", default="",
              help="The brief's title (default: from the folder's name).")
@click.pass_context
def init(ctx: click.Context, directory: Path, title: str) -> None:
    """Start a new brief project in DIRECTORY (new or empty), ready to build."""
    from .scaffold import init as scaffold_init

    ui: Ui = ctx.obj["ui"]
    written = scaffold_init(directory, title)
    ui.say(f"started a brief in {directory}: {len(written)} files, every section a stub")
    go = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    ui.say(f"next: {go}brief build    (then fill in report/sections/)")


@cli.command("new-section", short_help="Add a stub section; list it in brief.yaml.")
@click.argument("kind", shell_complete=_complete_kinds)
@click.argument("title")
@click.pass_context
def new_section(ctx: click.Context, kind: str, title: str) -> None:
    """Add a stub section of KIND titled TITLE and list it in report/brief.yaml.

    KIND is one of: summary, background, motives, opportunities, challenges, scenarios,
    implications, method.
    """
    from .scaffold import new_section as scaffold_new_section

    ui: Ui = ctx.obj["ui"]
    added = scaffold_new_section(_project(ctx), kind, title)
    ui.say(f"wrote {added.path} (a stub: fill it in, then delete 'status: stub')")
    ui.say(f"listed {added.name} at the end of sections: in report/brief.yaml")


@cli.group(short_help="List the packaged templates; copy one to change it.")
def templates() -> None:
    """List the packaged templates and stylesheets; copy one into templates/ to change it."""


@templates.command("list", short_help="The packaged templates, and which are copied.")
@click.pass_context
def templates_list(ctx: click.Context) -> None:
    """Every packaged template and stylesheet, and which ones the project overrides."""
    from .scaffold import list_templates

    found = list_templates(_project(ctx))
    width = max(len(t.name) for t in found)
    for t in found:
        where = "project" if not t.packaged else "copied " if t.overridden else "default"
        click.echo(f"{t.name:<{width}}  {where}  {t.description or '—'}")


@templates.command("copy", short_help="Copy packaged templates into templates/.")
@click.argument("names", nargs=-1, required=True, metavar="NAME...",
                shell_complete=_complete_templates)
@click.option("--force", is_flag=True, help="Overwrite the project's own copy.")
@click.pass_context
def templates_copy(ctx: click.Context, names: tuple[str, ...], force: bool) -> None:
    """Copy packaged templates (a file, or a folder such as sections) into templates/."""
    from .scaffold import copy_templates

    ui: Ui = ctx.obj["ui"]
    for rel in copy_templates(_project(ctx), list(names), force):
        ui.say(f"wrote {rel}")


@cli.command(short_help="Print the shell completion script.")
@click.argument("shell", required=False, type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str | None) -> None:
    """Print the shell completion script: eval "$(brief completion bash)"."""
    from click.shell_completion import get_completion_class

    if shell is None:
        name = Path(os.environ.get("SHELL", "bash")).name
        shell = name if name in ("bash", "zsh", "fish") else "bash"
    complete = get_completion_class(shell)
    assert complete is not None
    script = complete(cli, {}, "brief", "_BRIEF_COMPLETE").source()
    click.echo(script, nl=not script.endswith("\n"))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status (tests call this directly)."""
    try:
        cli.main(args=argv, prog_name="brief", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click's name for Ctrl-C
            click.echo("interrupted", err=True)
            return 130
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except BriefError as exc:
        from ..messages import render, render_all

        root = _ROOT.get("root")
        if isinstance(exc, ContentError):
            click.echo(render_all(exc.findings, root), err=True)
        else:
            click.echo(render(exc, root), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 — never a bare traceback: one line, and a log file
        from .crash import INTERNAL, internal

        click.echo(internal(exc, _build_folder(argv)), err=True)
        return INTERNAL
    return 0


def run() -> None:
    """The ``brief`` command: :func:`main`, then the process ends at once.

    When a command returns, its work is done: the outputs written and synced, the
    layout processes stopped. The exit handlers run (they remove the temporary folders);
    what is left, WeasyPrint's and pikepdf's objects and every module, the interpreter
    would take down one object at a time (a tenth of a second after a build): here the
    streams are flushed and the operating system takes it back whole. A command that
    failed or was interrupted ends the usual way, whatever it left half-started cleaned
    up. (Tests call main(), which returns.) SIGTERM stops a command the way Ctrl-C does,
    and its status says so. The first of them stops the command; those that follow
    (Ctrl-C pressed again, a second SIGTERM) are let go: the stop under way, its layout
    processes killed and waited for (a few seconds at most), its temporary folders
    removed, is not cut short halfway."""
    import _thread
    import signal

    stopped: list[int] = []  # the first stop's signal
    raised: list[bool] = []  # its KeyboardInterrupt raised, and not lost

    def stop(signum: int, frame: Any) -> None:
        # a service manager, an editor's stop button, `kill`: the way out of Ctrl-C
        # (layout processes stopped, temporary folders removed), not a death that
        # leaves them to the next build
        if not stopped:
            stopped.append(signum)
        if raised:  # (stopping already: a second KeyboardInterrupt would break off
            return  # the clean-up, in a finally or an exit handler, and leave its rest)
        if frame is not None and (frame.f_code in (stop.__code__, lost.__code__) or
                                  frame.f_code.co_filename.startswith("<frozen importlib")):
            # (the import system's own locks: raised there, the import lock stayed
            # held, every other thread's import waited for good, the build with them)
            again(signum)
            return
        raised.append(True)
        raise KeyboardInterrupt

    def lost(unraisable: Any) -> None:
        # raised where Python cannot raise (a weak reference's callback, a __del__):
        # printed as "Exception ignored" and lost, the build going on, deaf to the
        # next Ctrl-C; said nowhere, and raised again at the next line that can
        if unraisable.exc_type is KeyboardInterrupt and raised:
            raised.clear()
            again(stopped[0])
            return
        hook(unraisable)

    def again(signum: int) -> None:  # (raised again in 10 ms, from the main thread's code)
        import threading

        threading.Timer(0.01, _thread.interrupt_main, (signal.Signals(signum),)).start()

    hook = sys.unraisablehook
    sys.unraisablehook = lost
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = main()
    # its work done or stopped: what is left is the exit handlers' clean-up, which no
    # signal interrupts (nor ends the process by itself, the clean-up not done)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stopped and stopped[0] == signal.SIGTERM and status == 130:
        status = 128 + signal.SIGTERM
    if status != 0:  # a failure, an interruption: the usual way out, every finalizer run
        sys.exit(status)
    import atexit
    import contextlib

    # the exit handlers, still: they remove the temporary folders (the build's, in
    # build/.tmp, and multiprocessing's, which holds the layout processes' socket)
    atexit._run_exitfuncs()

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more
            stream.flush()
    os._exit(status)


def _build_folder(argv: list[str] | None) -> Path | None:
    """The project's build/ folder (which may not exist yet), for the internal error's
    log; None outside a project, or when build/ is a link."""
    args = list(sys.argv[1:] if argv is None else argv)
    root: Path | None = None
    for index, arg in enumerate(args):
        if arg in ("-C", "--project") and index + 1 < len(args):
            root = Path(args[index + 1])
        elif arg.startswith("--project="):
            root = Path(arg.split("=", 1)[1])
    try:
        folder = (root or find_root(Path.cwd())).resolve() / "build"
    except OSError:
        return None
    if not (folder.parent / "report").is_dir() or folder.is_symlink():
        return None
    return folder


if __name__ == "__main__":
    sys.exit(main())
