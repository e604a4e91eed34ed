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

from .errors import BriefError

FORMATS = ("pdf", "html", "docx")


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
    ctx.obj = {"root": (project or find_root(Path.cwd())).resolve(), "ui": Ui(quiet, verbose)}


def _project(ctx: click.Context) -> Any:
    from .model import Project

    return Project(ctx.obj["root"])


def _formats(value: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    for name in names:
        if name not in FORMATS:
            from .schemas import suggest

            hint = suggest(name, FORMATS)
            raise click.BadParameter(f"'{name}' is not one of: {', '.join(FORMATS)}"
                                     + (f"; {hint}" if hint else ""))
    return names


def _report_findings(ui: Ui, findings: Any) -> None:
    for finding in findings:
        ui.warn(str(finding))


STALE_HELP = ("Build even when quotes vanished from changed sources: mark those citations "
              "unverified and report them as warnings.")


def _notice(ui: Ui) -> Any:
    """Print a report (the sources changed) on stderr, clear of the progress display."""
    def notice(text: str) -> None:
        ui.done()
        ui.warn(text)
    return notice


@cli.command()
@click.option("--format", "-f", "formats", default="pdf,html,docx", show_default=True,
              help="Comma-separated formats to build: pdf, html, docx.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--allow-stale", is_flag=True, help=STALE_HELP)
@click.pass_context
def build(ctx: click.Context, formats: str, strict: bool, allow_stale: bool) -> None:
    """Check the brief, then render the requested formats into build/."""
    from . import pipeline

    ui: Ui = ctx.obj["ui"]
    wanted = _formats(formats)
    try:
        result = pipeline.build(_project(ctx), wanted, strict, ui.stage, allow_stale,
                                _notice(ui))
    finally:
        ui.done()
    _report_findings(ui, result.warnings)
    for name in result.written:
        ui.say(f"wrote build/{name}")
    if result.skipped and not result.written:
        ui.say("nothing changed: " + ", ".join(f"build/{n}" for n in result.skipped)
               + " already current")
    elif result.skipped:
        ui.say("unchanged: " + ", ".join(f"build/{n}" for n in result.skipped))


@cli.command()
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--fix-locators", is_flag=True,
              help="Correct ¶ locators that do not match where their quote is found.")
@click.option("--allow-stale", is_flag=True, help=STALE_HELP)
@click.option("--parity", is_flag=True,
              help="Also compare the built PDF, HTML and DOCX; write build/parity.md.")
@click.pass_context
def check(ctx: click.Context, strict: bool, fix_locators: bool, allow_stale: bool,
          parity: bool) -> None:
    """Load and check everything; write nothing (but --fix-locators, --parity)."""
    from . import pipeline

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    try:
        if fix_locators:
            from . import locators

            loaded = pipeline.load(project, ui.stage)
            for citation, locator in locators.fix(project.root, loaded.evidence.fixes):
                ui.say(f"fixed {citation.path}:{citation.line}: {citation.key} "
                       f"{citation.locator} → {locator}")
        checked = pipeline.check(project, strict, ui.stage, allow_stale, _notice(ui))
    finally:
        ui.done()
    _report_findings(ui, checked.warnings)
    brief = checked.brief
    ui.say(f"ok: {len(brief.sections)} sections, {len(brief.citations)} citations, "
           f"{len(checked.evidence.matches)} quotes verified, "
           f"{len(checked.warnings)} warning{'' if len(checked.warnings) == 1 else 's'}")
    if parity:
        _parity(project, ui)


def _parity(project: Any, ui: Ui) -> None:
    """Compare the three built outputs; fail (exit 1) when they differ."""
    from . import outputs
    from . import parity as parity_stage

    build_dir = project.build
    for name in ("brief.pdf", "brief.html", "brief.docx"):
        if not (build_dir / name).is_file():
            raise BriefError(f"build/{name} is missing: run 'brief build' first",
                             f"build/{name}", 1)
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
    raise BriefError("the outputs differ; see build/parity.md", "build/parity.md", 1)


@cli.group()
def sources() -> None:
    """Add sources to seeds/ and the bibliography; lock their state."""


@sources.command("add")
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
    from . import changes, intake, pipeline

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    done = intake.add_source(project, path, key,
                             intake.Metadata(title, author, date, url), added)
    for rel in done.written:
        ui.say(f"wrote {rel}")
    ui.say(f"added @{done.entry_type}{{{done.key}}}: {done.fields.get('title', '')}")
    try:
        sections = pipeline.load(project).brief.sections
    except BriefError as exc:  # the brief itself has problems: skip the ranking
        ui.warn(f"(no ranking: {exc})")
        return
    pairs = tuple(changes.rank(done.source, sections))
    ui.warn(changes.Report(new=(changes.New(done.key, done.source.path, True, 0, pairs),))
            .text())


@sources.command("lock")
@click.option("--added", "--date", "added",
              help="The day to record for sources new to the lock (default: "
                   "SOURCE_DATE_EPOCH or today).")
@click.pass_context
def sources_lock(ctx: click.Context, added: str | None) -> None:
    """Accept the current state of all sources: rewrite seeds/sources.lock."""
    from . import lock

    ui: Ui = ctx.obj["ui"]
    project = _project(ctx)
    locked, changed = lock.accept(project, added)
    rel = project.rel(lock.lock_path(project))
    ui.say(f"{'wrote' if changed else 'unchanged:'} {rel} ({len(locked)} sources)")


@cli.command()
@click.option("--port", "-p", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Serve build/ on http://127.0.0.1:PORT.")
@click.option("--format", "-f", "formats", default="html", show_default=True,
              help="Comma-separated formats to rebuild on each save.")
@click.option("--allow-stale", is_flag=True, help=STALE_HELP)
@click.pass_context
def watch(ctx: click.Context, port: int, formats: str, allow_stale: bool) -> None:
    """Rebuild on every save and serve build/ with automatic reload."""
    from . import watch as watching

    ui: Ui = ctx.obj["ui"]
    try:
        watching.run(_project(ctx), port, _formats(formats), allow_stale=allow_stale,
                     say=ui.say, warn=ui.warn)
    except KeyboardInterrupt:
        ui.say("stopped")


# --- starting and growing a project (policybrief.scaffold) ----------------------------


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from .schemas import KINDS

    return [k for k in KINDS if k.startswith(incomplete)]


def _complete_templates(ctx: click.Context, param: click.Parameter,
                        incomplete: str) -> list[str]:
    from .scaffold import packaged_templates

    return [n for n in packaged_templates() if n.startswith(incomplete)]


@cli.command()
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


@cli.command("new-section")
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


@cli.group()
def templates() -> None:
    """List the packaged templates and stylesheets; copy one into templates/ to change it."""


@templates.command("list")
@click.pass_context
def templates_list(ctx: click.Context) -> None:
    """Every packaged template and stylesheet, and which ones the project overrides."""
    from .scaffold import list_templates

    found = list_templates(_project(ctx))
    width = max(len(t.name) for t in found)
    for t in found:
        where = "project" if not t.packaged else "copied " if t.overridden else "default"
        click.echo(f"{t.name:<{width}}  {where}  {t.description or '—'}")


@templates.command("copy")
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


@cli.command()
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
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except BriefError as exc:
        click.echo(str(exc), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # never a bare traceback: one line, and a log file
        from .crash import INTERNAL, internal

        click.echo(internal(exc, _build_folder(argv)), err=True)
        return INTERNAL
    return 0


def _build_folder(argv: list[str] | None) -> Path | None:
    """The project's build/ folder, for the internal error's log (None if unknown)."""
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
    return folder if folder.is_dir() and not folder.is_symlink() else None


if __name__ == "__main__":
    sys.exit(main())
