"""The pipeline: the only place where the stages are chained.

load sources → load bibliography → load sections → check → assemble → render → write.
Everything is loaded and checked before anything is rendered, and everything is
rendered before anything is written (MkDocs' ``build()`` does the same).
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, confine
from .errors import BriefError, ContentError
from .model import Brief, Finding, Project, Source

if TYPE_CHECKING:
    from . import checks, inputs

FORMATS = ("pdf", "html", "docx")
# what stops the outputs being written: the disk full, build/ read-only or not ours
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                errno.EPERM}
Reporter = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Checked:
    """A loaded and checked brief, with everything the checks found."""

    brief: Brief
    evidence: checks.Evidence
    findings: tuple[Finding, ...]
    changes: Any = None  # changes.Report when seeds/sources.lock exists

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


@dataclass(frozen=True)
class Result:
    """What a build wrote, what it left, and what the checks found.

    ``checked`` is None when nothing had changed since the last build and its findings
    were replayed from the record rather than checked again.
    """

    findings: tuple[Finding, ...]
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    checked: Checked | None = None

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def load_sources(project: Project, entries: Mapping[str, object]) -> tuple[
        dict[str, Source], list[Finding]]:
    """The stored copy of every bibliography entry that names one (``file`` field)."""
    from .model import Entry
    from .sources import read_source

    found: dict[str, Source] = {}
    findings: list[Finding] = []
    named = {path.resolve() for path in named_files(project, entries)}
    for key, entry in entries.items():
        assert isinstance(entry, Entry)
        if not entry.file:
            continue
        path = project.root / entry.file
        line = entry.line + entry.lines.get("file", 0)
        if confine.inside(project, entry.file, ("seeds",)) is None:
            findings.append(Finding("error", entry.path, line,
                                    f"'{key}' points at '{entry.file}', which is outside "
                                    "the project's seeds/", "store the source in seeds/ "
                                    "(brief sources add does) and name it there; a symbolic "
                                    "link may not point out of seeds/", "source.outside"))
            continue
        original = entry.fields.get("original")
        if original and confine.inside(project, original, ("seeds",)) is None:
            findings.append(Finding("error", entry.path, entry.line + entry.lines.get(
                "original", 0), f"'{key}' names the original '{original}', which is "
                "outside the project's seeds/", "keep the original in seeds/",
                "source.outside"))
            continue
        if not path.is_file():
            findings.append(Finding("error", entry.path, entry.line,
                                    f"'{key}' points at '{entry.file}', which does not exist",
                                    "fix the file field, or restore the source into seeds/",
                                    "source.missing"))
            continue
        try:
            found[key] = read_source(path, project.rel(path))
        except BriefError as exc:  # reported with every other source's problem
            findings.append(exc.finding())
    if project.seeds.is_dir():
        for path in sorted(project.seeds.iterdir()):
            if path.suffix in (".md", ".txt", ".html", ".pdf") and path.resolve() not in named \
                    and not path.name.startswith(("SOURCES", "README", ".")) \
                    and not path.name.endswith(".extracted.txt"):
                findings.append(Finding("warning", project.rel(path), 1,
                                        "this source has no bibliography entry",
                                        "add one with 'brief sources add', or give an "
                                        "entry a file field pointing here",
                                        "source.no-entry"))
    return found, findings


def named_files(project: Project, entries: Mapping[str, Any]) -> list[Path]:
    """The stored copy each entry names (``file``), and the .html/.pdf it came from."""
    paths = []
    for entry in entries.values():
        if entry.file:
            paths.append(project.root / entry.file)
            if entry.fields.get("original"):
                paths.append(project.root / entry.fields["original"])
    return paths


def load(project: Project, report: Reporter = _quiet, ignore: Iterable[str] = ()) -> Checked:
    """Load and check everything; raise only when nothing more can be checked.

    A file that cannot be read (its encoding, its YAML) is a finding like any other, so
    that one run reports every such file; when the bibliography or a source cannot be
    read, the citations are not checked (every one would be reported) and the loading
    problems are raised together. ``ignore``: warning rules to leave out, on top of the
    brief's own ``ignore:`` list.
    """
    from . import bibliography, checks, claims, figures, house, names, sections, tradecraft

    # nothing is read through a link that leads out of the project's folders
    confine.check_tree(project)
    report("load the brief")
    meta, findings = sections.load_meta(project)
    report("load the bibliography")
    unreadable: list[Finding] = []
    try:
        entries = bibliography.load_bibliography(project.bibliography,
                                                 project.rel(project.bibliography))
    except ContentError as exc:
        unreadable += exc.findings
        entries = {}
    except BriefError as exc:
        if exc.exit_code != 1:
            raise
        unreadable.append(exc.finding())
        entries = {}
    report("load the sources")
    sources, more = load_sources(project, entries)
    unreadable += [f for f in more if f.rule in ("file.binary", "encoding",
                                                 "source.unreadable")]
    findings += [f for f in more if f not in unreadable]
    report("load the sections")
    loaded, more = sections.load_sections(project, meta)
    findings += more
    report("load the figures")
    drawn, figure_citations, more = figures.load(project)
    findings += more
    if unreadable:
        raise ContentError(_ordered(f for f in unreadable + findings if f.severity == "error"))
    findings += tradecraft.check(loaded, entries)
    findings += names.check(project, [s.path for s in loaded])
    report("check citations and quotes")
    evidence = checks.check_citations(loaded, entries, sources, figure_citations)
    findings += evidence.findings
    findings += checks.check_coverage(loaded, entries, project.rel(project.bibliography),
                                      figure_citations)
    report("check claims against their passages")
    texts = [p.text for s in sources.values() for p in s.passages]
    texts += [text for s in loaded for text, _ in tradecraft.texts(s)]
    known = claims.load_names(project.root, entries, texts)
    claimed = claims.check(loaded, evidence.matches, sources, known, entries)
    findings += claimed.findings
    style, more = house.resolve(project, meta)
    findings += more
    brief = Brief(project, meta, loaded, entries, sources, evidence.matches,
                  figures=drawn, figure_citations=tuple(figure_citations), house=style,
                  claim_notes=claimed.notes)
    return Checked(brief, evidence, tuple(_ordered(_ignored(findings, meta, ignore))))


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings; each by file and line; each said once."""
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (f.severity != "error", f.path, f.line, f.col))


def _ignored(findings: list[Finding], meta: Any, ignore: Iterable[str]) -> list[Finding]:
    """Without the warnings of the rules ``ignore`` and the brief's ``ignore:`` name."""
    names = set(ignore)
    listed = meta.get("ignore")
    if isinstance(listed, list):
        names.update(n for n in listed if isinstance(n, str))
    if not names:
        return findings
    return [f for f in findings if f.severity == "error" or f.rule not in names]


def check(project: Project, strict: bool = False, report: Reporter = _quiet,
          allow_stale: bool = False, notice: Reporter = _quiet,
          ignore: Iterable[str] = ()) -> Checked:
    from . import changes

    try:
        checked = changes.reconcile(load(project, report, ignore), allow_stale)
    except BriefError as exc:  # build/changes.md must not keep saying what no longer holds
        changes.write_report(project, None, exc)
        raise
    changes.write_report(project, checked.changes)
    if checked.changes is not None and not checked.changes.empty:
        notice(checked.changes.text())
    _stop_on(checked.findings, strict)
    return checked


def _stop_on(findings: Iterable[Finding], strict: bool) -> None:
    """Raise ContentError for the errors, and (``strict``) the warnings too."""
    failing = [f for f in findings if f.severity == "error" or strict]
    if failing:
        raise ContentError(failing)


def source_epoch(project: Project) -> int:
    """``SOURCE_DATE_EPOCH``, else the last commit's time, else the brief's date."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=project.root,
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return int(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return 0


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def build(project: Project, formats: Iterable[str] = FORMATS, strict: bool = False,
          report: Reporter = _quiet, allow_stale: bool = False,
          notice: Reporter = _quiet, ignore: Iterable[str] = ()) -> Result:
    """Check, render and write the requested formats; skip outputs that are current.

    When no input file has changed since the last build (``inputs``), and its outputs are
    still in place, the findings it recorded are replayed and nothing is loaded at all.
    """
    from . import inputs, outputs

    # what builds that were killed left behind goes first, whether this one succeeds,
    # fails or finds nothing to do (and nothing at all while build/ holds a planted link)
    outputs.tidy(project.build)
    wanted = [f for f in FORMATS if f in set(formats)]
    epoch = source_epoch(project)
    ignore = tuple(sorted(set(ignore)))
    salt = f"allow_stale={allow_stale}\0epoch={epoch}" + \
        (f"\0ignore={','.join(ignore)}" if ignore else "")
    record = inputs.read(project.build)
    scanned = inputs.scan(project, salt, record)
    if record is not None and record.fingerprint == scanned.fingerprint:
        replayed = _replay(project, record, wanted, strict, report, notice)
        if replayed is not None:
            return replayed
    return _build(project, wanted, strict, report, allow_stale, notice, epoch, scanned,
                  record.extras if record is not None else (), ignore)


def _replay(project: Project, record: inputs.Record, wanted: list[str], strict: bool,
            report: Reporter, notice: Reporter) -> Result | None:
    """The last build's findings, when its outputs are all still the current ones."""
    from . import inputs, outputs

    state = outputs.read_state(project.build)
    names = [f"brief.{f}" for f in wanted]
    if not all(name in record.outputs and outputs.unchanged(
            project.build, name, record.outputs[name], state) for name in names) \
            or inputs.changes_digest(project.build) != record.changes:
        return None
    report("nothing changed")
    if record.notice:
        notice(record.notice)
    _stop_on(record.findings, strict)
    return Result(record.findings, [], names)


def _build(project: Project, wanted: list[str], strict: bool, report: Reporter,
           allow_stale: bool, notice: Reporter, epoch: int, scanned: inputs.Scan,
           scanned_extras: tuple[str, ...], ignore: tuple[str, ...] = ()) -> Result:
    from . import pdf

    # The processes that lay out the PDF start now: their start-up (importing
    # WeasyPrint) overlaps the loading and checking. A build that stops early stops them.
    workers = pdf.Workers() if "pdf" in wanted else None
    try:
        return _checked_build(project, wanted, strict, report, allow_stale, notice, epoch,
                              scanned, scanned_extras, workers, ignore)
    except OSError as exc:
        # build/ read-only, the disk full: the outputs stay as they were (outputs.py)
        if exc.errno not in WRITE_ERRORS:
            raise
        where = exc.filename if isinstance(exc.filename, str) else ""
        rel = project.rel(Path(where)) if where and Path(where).is_relative_to(
            project.root) else "build"
        raise BriefError(f"cannot write the outputs: {exc.strerror or exc}", rel, None,
                         hint="free some disk space, or make build/ writable",
                         rule="build.write") from None
    finally:
        if workers is not None:
            workers.close()


def _checked_build(project: Project, wanted: list[str], strict: bool, report: Reporter,
                   allow_stale: bool, notice: Reporter, epoch: int, scanned: inputs.Scan,
                   scanned_extras: tuple[str, ...], workers: Any,
                   ignore: tuple[str, ...] = ()) -> Result:
    from . import assembly, changes, inputs, outputs, rendering

    before = inputs.changes_digest(project.build)
    checked = check(project, strict, report, allow_stale, notice, ignore)  # writes changes.md
    report_written = ["changes.md"] if inputs.changes_digest(project.build) != before else []
    brief = checked.brief
    findings = checked.findings
    report("assemble")
    context = rendering.context(brief, checked.evidence.locators)
    stale = checked.changes.stale if allow_stale and checked.changes is not None else ()
    markdown = assembly.assemble(brief, checked.evidence.locators, checked.evidence.matches,
                                 context, stale)
    # the templates (the project's and the package's) and the bibliography as scanned
    scanned_files = inputs.digest_of(scanned, "templates/", "<package>/", "bibliography.bib")
    inputs_digest = _digest(__version__, markdown, scanned_files, str(epoch),
                            repr(brief.meta.fields), brief.figures.fingerprint,
                            brief.house.fingerprint())
    # the HTML comes with the source pages, which show each source's text
    texts = repr(sorted((k, s.sha256) for k, s in brief.sources.items()))
    # the DOCX's review anchors give each paragraph's file and line: the section files
    # as written (a moved line changes them, not the text)
    anchored = repr([(s.path, hashlib.sha256((project.root / s.path).read_bytes()).hexdigest())
                     for s in brief.sections])
    by_format = {"html": texts, "docx": anchored}
    digests = {f"brief.{fmt}": _digest(inputs_digest, fmt, by_format.get(fmt, ""))
               for fmt in FORMATS}
    extras = inputs.extras(project, named_files(project, brief.entries))
    build_dir = project.build
    with outputs.locked(build_dir):
        state = outputs.read_state(build_dir)
        todo = [f for f in wanted
                if not outputs.unchanged(build_dir, f"brief.{f}", digests[f"brief.{f}"], state)]
        skipped = [f"brief.{f}" for f in wanted if f not in todo]
        report_file = changes.pending(build_dir, checked.changes)  # only when it changed
        if not todo:
            report("nothing changed")
            written = outputs.publish(build_dir, report_file, {}) if report_file else []
        else:
            notes: list[Any] = []
            with tempfile.TemporaryDirectory(prefix="policybrief-") as tmp:
                files = rendering.render(brief, checked.evidence, markdown, todo, Path(tmp),
                                         epoch, context, report, workers, notes)
            rendered = _rendering_notes(notes, notice)
            _stop_on(rendered, strict)  # before anything is written
            findings = (*findings, *rendered)
            files.update(report_file)
            report("write")
            written = outputs.publish(build_dir, files,
                                      {k: v for k, v in digests.items() if k in files})
        written = sorted({*written, *report_written})
        # the fingerprint was taken before loading: it is recorded only when no input
        # changed while the build read them (a save, even one undone before the end,
        # makes the next build load again). Sources found outside the scanned folders for
        # the first time are scanned by the next build, which records them.
        has_changes = checked.changes is not None and not checked.changes.empty
        settled = extras == scanned_extras and inputs.still(project, scanned)
        inputs.write(build_dir, inputs.Record(
            fingerprint=scanned.fingerprint if settled else "",
            outputs=digests, changes=inputs.changes_digest(build_dir),
            findings=findings, notice=checked.changes.text() if has_changes else "",
            extras=extras, files=scanned.files))
    return Result(findings, written, skipped, checked)


def _rendering_notes(notes: Iterable[Any], notice: Reporter) -> tuple[Finding, ...]:
    """WeasyPrint's notes (pdf.Note): the notices printed now, the warnings as findings."""
    warnings = []
    for note in notes:
        if note.severity == "notice":
            notice(f"note: {note.message}")
        else:
            warnings.append(Finding("warning", note.path, note.line, note.message,
                                    rule="pdf.css-ignored"))
    return tuple(warnings)
