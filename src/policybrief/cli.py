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
            raise click.BadParameter(f"'{name}' is not one of: {', '.join(FORMATS)}")
    return names


def _report_findings(ui: Ui, findings: Any) -> None:
    for finding in findings:
        ui.warn(str(finding))


@cli.command()
@click.option("--format", "-f", "formats", default="pdf,html,docx", show_default=True,
              help="Comma-separated formats to build: pdf, html, docx.")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_context
def build(ctx: click.Context, formats: str, strict: bool) -> None:
    """Check the brief, then render the requested formats into build/."""
    from . import pipeline

    ui: Ui = ctx.obj["ui"]
    wanted = _formats(formats)
    try:
        result = pipeline.build(_project(ctx), wanted, strict, ui.stage)
    finally:
        ui.done()
    _report_findings(ui, result.checked.warnings)
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
@click.pass_context
def check(ctx: click.Context, strict: bool, fix_locators: bool) -> None:
    """Load and check everything; write nothing (but --fix-locators)."""
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
        checked = pipeline.check(project, strict, ui.stage)
    finally:
        ui.done()
    _report_findings(ui, checked.warnings)
    brief = checked.brief
    ui.say(f"ok: {len(brief.sections)} sections, {len(brief.citations)} citations, "
           f"{len(checked.evidence.matches)} quotes verified, "
           f"{len(checked.warnings)} warnings")


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
