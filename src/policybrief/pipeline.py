"""The pipeline: the only place where the stages are chained.

load (brief.yaml, bibliography, sources, sections, figures) → check → assemble →
render → publish. Everything is loaded and checked before anything is rendered, and
everything is rendered before anything is written (MkDocs' ``build()`` does the same).
:func:`build` reads as that list; each step hands the next a named value
(:class:`Loaded`, :class:`~policybrief.check.checked.Checked`, :class:`Assembled`,
the rendered files, :class:`Result`). What a build is asked to do is one frozen
:class:`BuildOptions`; what it says while it runs goes to a
:class:`~policybrief.progress.Progress`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, confine, kept, schemas, scratch
from .check.checked import Checked
from .errors import BriefError, ContentError
from .load.seeds import load_sources, named_files
from .model import Brief, Citation, Entry, Finding, House, Meta, Project, Section, Source
from .progress import QUIET, Progress

if TYPE_CHECKING:
    from .assemble.figures import Figures
    from .publish import inputs
    from .render.pdf import Note, Workers

FORMATS = ("pdf", "html", "docx")
# what stops the outputs being written: the disk full, build/ read-only or not ours
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                errno.EPERM}


@dataclass(frozen=True)
class BuildOptions:
    """What a build (or a check) is asked to do.

    ``formats``: the outputs wanted, kept in the order of :data:`FORMATS`; ``strict``:
    warnings fail too; ``allow_stale``: a citation of a changed source is a warning,
    not an error; ``ignore``: warning rules left out, on top of ``brief.yaml``'s
    ``ignore:`` list.
    """

    formats: tuple[str, ...] = FORMATS
    strict: bool = False
    allow_stale: bool = False
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        wanted = set(self.formats)
        object.__setattr__(self, "formats", tuple(f for f in FORMATS if f in wanted))
        object.__setattr__(self, "ignore", tuple(sorted(set(self.ignore))))


DEFAULTS = BuildOptions()


@dataclass(frozen=True)
class Loaded:
    """What loading hands to checking: every input read, and what could not be."""

    project: Project
    meta: Meta
    entries: dict[str, Entry]
    sources: dict[str, Source]
    sections: tuple[Section, ...]
    figures: Figures
    figure_citations: list[Citation]
    findings: list[Finding]


@dataclass(frozen=True)
class Assembled:
    """What assembling hands to rendering: the document as pandoc Markdown, the
    templates' context (for the HTML page), and each output's input digest."""

    markdown: str
    context: dict[str, Any]
    digests: dict[str, str]


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


def load(project: Project, options: BuildOptions = DEFAULTS,
         progress: Progress = QUIET) -> Checked:
    """Load and check everything; raise only when nothing more can be checked.

    A file that cannot be read (its encoding, its YAML) is a finding like any other, so
    that one run reports every such file; when the bibliography or a source cannot be
    read, the citations are not checked (every one would be reported) and the loading
    problems are raised together. ``options.ignore``: warning rules to leave out, on
    top of the brief's own ``ignore:`` list.
    """
    return examine(read(project, progress), options, progress)


def read(project: Project, progress: Progress = QUIET) -> Loaded:
    """Stage 1: every input read (brief.yaml, the bibliography, the stored sources, the
    sections, the figures); ContentError when the bibliography or a source cannot be."""
    from .assemble import figures
    from .load import bibliography, sections

    report = progress.stage
    # nothing is read through a link that leads out of the project's folders
    confine.check_tree(project)
    schemas.remember(kept.cache_folder(project.build, kept.SCHEMA_CACHE))
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
    return Loaded(project, meta, entries, sources, loaded, drawn, figure_citations, findings)


def examine(inputs: Loaded, options: BuildOptions = DEFAULTS,
            progress: Progress = QUIET) -> Checked:
    """Stage 2: every check run on what was loaded; the house style resolved last."""
    from .check import checks, claims, tradecraft
    from .load import house, names

    report = progress.stage
    project, meta, entries, sources = inputs.project, inputs.meta, inputs.entries, \
        inputs.sources
    loaded, drawn, figure_citations = inputs.sections, inputs.figures, \
        inputs.figure_citations
    findings = list(inputs.findings)
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
    return Checked(brief, evidence,
                   tuple(_ordered(_ignored(findings, meta, options.ignore))))


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings; each by file and line; each said once."""
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (f.severity != "error", f.path, f.line, f.col))


def _ignored(findings: list[Finding], meta: Meta, ignore: Iterable[str]) -> list[Finding]:
    """Without the warnings of the rules ``ignore`` and the brief's ``ignore:`` name."""
    names = set(ignore)
    listed = meta.get("ignore")
    if isinstance(listed, list):
        names.update(n for n in listed if isinstance(n, str))
    if not names:
        return findings
    return [f for f in findings if f.severity == "error" or f.rule not in names]


def check(project: Project, options: BuildOptions = DEFAULTS,
          progress: Progress = QUIET) -> Checked:
    """Load and check, then weigh the sources' changes (``seeds/sources.lock``) and
    publish ``build/changes.md``; ContentError for the errors (and, ``strict``, the
    warnings)."""
    from .check import changes
    from .publish import report as changes_file

    try:
        checked = changes.reconcile(load(project, options, progress), options.allow_stale)
    except BriefError as exc:  # build/changes.md must not keep saying what no longer holds
        changes_file.write_report(project, None, exc)
        raise
    changes_file.write_report(project, checked.changes)
    if checked.changes is not None and not checked.changes.empty:
        progress.notice(checked.changes.text())
    _stop_on(checked.findings, options.strict)
    return checked


def warm_up(project: Project, options: BuildOptions = DEFAULTS) -> None:
    """``brief watch``, before the first edit: the brief loaded and checked, its HTML
    converted as a rebuild converts it (section by section, into pandoc's store: the
    build before may have converted it whole and kept nothing), and a few lines laid out
    with its page (rendering.warm_up): the first rebuild after an edit is then as quick
    as the next ones. Nothing is published. Raises what loading raises (the caller
    ignores it: the rebuild reports it)."""
    from .render import rendering

    checked = load(project, options)
    context, markdown = _document(checked, options)
    # (not under build/'s lock: a `brief build` meanwhile is not refused; this adds
    # entries to pandoc's store, each written whole, and writes nothing else)
    with tempfile.TemporaryDirectory(prefix="render-", dir=scratch.claim(project.build)) \
            as tmp:
        rendering.warm_up(checked.brief, context, markdown, Path(tmp))


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


def build(project: Project, options: BuildOptions = DEFAULTS,
          progress: Progress = QUIET) -> Result:
    """Check, render and write the requested formats; skip outputs that are current.

    When no input file has changed since the last build (``inputs``), and its outputs are
    still in place, the findings it recorded are replayed and nothing is loaded at all.
    """
    from .publish import inputs, outputs

    # what builds that were killed left behind goes first, whether this one succeeds,
    # fails or finds nothing to do (and nothing at all while build/ holds a planted link)
    outputs.tidy(project.build)
    epoch = source_epoch(project)
    record = inputs.read(project.build)
    scanned = inputs.scan(project, _salt(options, epoch), record)  # the inputs' fingerprint
    if record is not None and record.fingerprint == scanned.fingerprint:
        replayed = _replay(project, record, options, progress)
        if replayed is not None:
            return replayed
    with _layout_processes(project, options) as workers, _write_errors(project):
        before = inputs.changes_digest(project.build)
        checked = check(project, options, progress)  # load, check; writes changes.md
        changed = inputs.changes_digest(project.build) != before
        assembled = assemble(checked, options, progress, scanned, epoch)
        return publish(checked, assembled, options, progress, workers, epoch, scanned,
                       record.extras if record is not None else (), changed)


def _salt(options: BuildOptions, epoch: int) -> str:
    """What, besides the files, makes a build's outputs what they are."""
    return f"allow_stale={options.allow_stale}\0epoch={epoch}" + \
        (f"\0ignore={','.join(options.ignore)}" if options.ignore else "")


def _replay(project: Project, record: inputs.Record, options: BuildOptions,
            progress: Progress) -> Result | None:
    """The last build's findings, when its outputs are all still the current ones."""
    from .publish import inputs, outputs

    state = outputs.read_state(project.build)
    names = [f"brief.{f}" for f in options.formats]
    if not all(name in record.outputs and outputs.unchanged(
            project.build, name, record.outputs[name], state) for name in names) \
            or inputs.changes_digest(project.build) != record.changes:
        return None
    progress.stage("nothing changed")
    if record.notice:
        progress.notice(record.notice)
    _stop_on(record.findings, options.strict)
    return Result(record.findings, [], names)


@contextmanager
def _layout_processes(project: Project, options: BuildOptions) -> Iterator[Workers | None]:
    """The processes that lay out the PDF, started now: their start-up (importing
    WeasyPrint, loading the house faces) overlaps the loading and checking. A build that
    stops early stops them."""
    from .render import pdf, rendering

    workers = None
    if "pdf" in options.formats:
        base, allowed = rendering.pdf_folders(project)
        # with parts laid out before, a rebuild is likely to need few, and a short brief
        # has few: one process started now, the others only if the work asks for them
        cached = rendering.layout_cache(project)
        again = cached is not None and cached.is_dir() and any(os.scandir(cached))
        workers = pdf.Workers(faces=pdf.font_stylesheet([base, *allowed]), allowed=allowed,
                              build=project.build,
                              eager=1 if again or _short(project) else None)
    try:
        yield workers
    finally:
        if workers is not None:
            workers.close()
            scratch.sweep(project.build)  # the temporary folders of processes now ended


SHORT = 20_000  # bytes of section files under which a brief is laid out in a part or two


def _short(project: Project) -> bool:
    """A brief whose section files are short (a page or two of text)."""
    total = 0
    try:
        for entry in os.scandir(project.root / "report" / "sections"):
            if entry.name.endswith(".md") and entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        return False
    return total < SHORT


@contextmanager
def _write_errors(project: Project) -> Iterator[None]:
    """build/ read-only, the disk full: a BriefError, and the outputs stay as they were
    (publish.outputs)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        where = exc.filename if isinstance(exc.filename, str) else ""
        rel = project.rel(Path(where)) if where and Path(where).is_relative_to(
            project.root) else "build"
        raise BriefError(f"cannot write the outputs: {exc.strerror or exc}", rel, None,
                         hint="free some disk space, or make build/ writable",
                         rule="build.write") from None


def assemble(checked: Checked, options: BuildOptions, progress: Progress,
             scanned: inputs.Scan, epoch: int) -> Assembled:
    """Stage 3: the document as pandoc Markdown, and each output's input digest (the
    templates and bibliography as ``scanned``, the brief as assembled, the epoch)."""
    from .publish import inputs

    brief = checked.brief
    project = brief.project
    progress.stage("assemble")
    context, markdown = _document(checked, options)
    # the templates (the project's and the package's) and the bibliography as scanned
    scanned_files = inputs.digest_of(scanned, "templates/", "<package>/", "bibliography.bib")
    inputs_digest = _digest(__version__, markdown, scanned_files, str(epoch),
                            repr(brief.meta.fields),
                            brief.figures.fingerprint if brief.figures is not None else "",
                            (brief.house or House()).fingerprint())
    # the HTML comes with the source pages, which show each source's text
    texts = repr(sorted((k, s.sha256) for k, s in brief.sources.items()))
    # the DOCX's review anchors give each paragraph's file and line: the section files
    # as written (a moved line changes them, not the text)
    anchored = repr([(s.path, hashlib.sha256((project.root / s.path).read_bytes()).hexdigest())
                     for s in brief.sections])
    by_format = {"html": texts, "docx": anchored}
    digests = {f"brief.{fmt}": _digest(inputs_digest, fmt, by_format.get(fmt, ""))
               for fmt in FORMATS}
    return Assembled(markdown, context, digests)


def _document(checked: Checked, options: BuildOptions) -> tuple[dict[str, Any], str]:
    """The templates' context and the whole brief as pandoc Markdown."""
    from .assemble import assembly, variables

    brief, evidence = checked.brief, checked.evidence
    context = variables.context(brief, evidence.locators)
    stale = checked.changes.stale if options.allow_stale and checked.changes is not None \
        else frozenset()
    return context, assembly.assemble(brief, evidence.locators, evidence.matches, context,
                                      stale)


def publish(checked: Checked, assembled: Assembled, options: BuildOptions,
            progress: Progress, workers: Workers | None, epoch: int, scanned: inputs.Scan,
            scanned_extras: tuple[str, ...], changes_written: bool) -> Result:
    """Stages 4 and 5, under build/'s lock: render the outputs that are not current
    (in a temporary folder), publish them with ``build/changes.md`` when it changed,
    and record the inputs that made them."""
    from .assemble import assembly
    from .check import changes
    from .publish import inputs, outputs
    from .render import rendering

    brief = checked.brief
    project = brief.project
    report = progress.stage
    findings = checked.findings
    digests = assembled.digests
    report_written = ["changes.md"] if changes_written else []
    extras = inputs.extras(project, named_files(project, brief.entries))
    build_dir = project.build
    with outputs.locked(build_dir):
        state = outputs.read_state(build_dir)
        todo = [f for f in options.formats
                if not outputs.unchanged(build_dir, f"brief.{f}", digests[f"brief.{f}"], state)]
        skipped = [f"brief.{f}" for f in options.formats if f not in todo]
        report_file = changes.pending(build_dir, checked.changes)  # only when it changed
        if not todo:
            report("nothing changed")
            written = outputs.publish(build_dir, report_file, {}) if report_file else []
        else:
            notes: list[Note] = []
            with tempfile.TemporaryDirectory(prefix="render-",
                                             dir=scratch.claim(build_dir)) as tmp:
                files = rendering.render(brief, checked.evidence, assembled.markdown, todo,
                                         Path(tmp), epoch, assembled.context, progress,
                                         workers, notes)
            rendered = _rendering_notes(notes, progress)
            _stop_on(rendered, options.strict)  # before anything is written
            findings = (*findings, *rendered)
            files.update(report_file)
            report("write")
            kept = {k: v for k, v in digests.items() if k in files}
            try:
                written = outputs.publish(build_dir, files, kept)
            except OSError as exc:
                # the disk full: the layout cache gives its room to the outputs, once
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or \
                        not rendering.drop_caches(project):
                    raise
                written = outputs.publish(build_dir, files, kept)
        written = sorted({*written, *report_written})
        assembly.keep_compiled(project)  # (what the build compiled: it has published)
        schemas.keep_valid()
        # the fingerprint was taken before loading: it is recorded only when no input
        # changed while the build read them (a save, even one undone before the end,
        # makes the next build load again). Sources found outside the scanned folders for
        # the first time are scanned by the next build, which records them.
        said = checked.changes.text() if checked.changes is not None \
            and not checked.changes.empty else ""
        settled = extras == scanned_extras and inputs.still(project, scanned)
        inputs.write(build_dir, inputs.Record(
            fingerprint=scanned.fingerprint if settled else "",
            outputs=digests, changes=inputs.changes_digest(build_dir),
            findings=findings, notice=said,
            extras=extras, files=scanned.files))
    return Result(findings, written, skipped, checked)


def _rendering_notes(notes: Iterable[Note], progress: Progress) -> tuple[Finding, ...]:
    """WeasyPrint's notes (pdf.Note): the notices printed now, the warnings as findings."""
    warnings = []
    for note in notes:
        if note.severity == "notice":
            progress.notice(f"note: {note.message}")
        else:
            warnings.append(Finding("warning", note.path, note.line, note.message,
                                    rule="pdf.css-ignored"))
    return tuple(warnings)
