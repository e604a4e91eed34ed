"""Stage 6b, the PDF: WeasyPrint lays out the finished HTML with the paged-media CSS.

WeasyPrint fetches whatever the HTML points at (``file://`` included) and only logs a
resource it cannot load. Here its URL fetcher serves ``data:`` URLs and files under the
project's template and asset folders and nothing else, and what it logs while rendering
is sorted record by record (:func:`sort_record`): a resource refused or not loaded, or
content lost from the page, fails the build; CSS it ignores is a warning at the
template's line; how it subset the fonts is a notice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import logging
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import scratch
from ...errors import BriefError, RenderError


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# --- WeasyPrint's log, sorted ---------------------------------------------------------
#
# WeasyPrint logs, and goes on, where the build must not: a resource it could not load
# (refused by the fetcher, missing, unreadable) leaves a hole in the PDF, and content it
# discards is lost. Those stay errors. CSS it ignores in a template is a warning at the
# template's line (``--strict`` fails on it). That it subset a font with fontTools rather
# than HarfBuzz, and other notes on how it did the work, are notices: printed, never a
# failure (the PDF is the same to a reader; only its bytes may differ).

# Messages (WeasyPrint's format strings, as they begin) that are only notices.
NOTICES = (
    "Using fontTools instead of HarfBuzz-Subset",
    "Unable to subset",
    "Please install HarfBuzz",
    "Unable to instantiate",
    "Unable to save emoji font",
)
# CSS WeasyPrint ignored or cannot apply; located ``at LINE:COLUMN`` when it says so.
CSS_MODULES = ("css", "svg")
CSS_MESSAGES = ("Subgrids are unsupported", '"auto-fit" and "auto-fill" are unsupported',
                "Baseline alignment is not supported", "Inline grids are not supported",
                "Expected a media type")
AT = re.compile(r" at (\d+):(\d+)")
DECLARATION = re.compile(r"`([-\w]+)\s*:")
STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
# rendering.py puts this comment before each template in the PDF's <style>
MARKER = re.compile(r"/\* template: ([\w./-]+) \*/")


@dataclass(frozen=True)
class Note:
    """A WeasyPrint record that does not fail the build: a ``warning`` (CSS ignored,
    at ``path:line`` when known) or a ``notice``."""

    severity: str
    message: str
    path: str = ""
    line: int = 0


def sort_record(record: logging.LogRecord) -> str:
    """``error``, ``warning`` or ``notice``: what WeasyPrint's ``record`` means here."""
    template = str(record.msg)
    if template.startswith(NOTICES) or record.levelno < logging.WARNING:
        return "notice"
    if record.levelno >= logging.ERROR:
        return "error"  # resources not loaded or refused, content discarded
    parts = Path(record.pathname).parts
    package = parts[parts.index("weasyprint") + 1] if "weasyprint" in parts[:-1] else ""
    if (package in CSS_MODULES and AT.search(record.getMessage())) or \
            template.startswith(CSS_MESSAGES):
        return "warning"
    return "error"  # a glyph no font has, cells dropped, an anchor twice: content lost


@dataclass(frozen=True)
class _Places:
    """Where the files behind a laid-out page are: to name a message's real place."""

    folders: tuple[Path, ...]  # the template folders, the project's first
    root: Path | None          # the project (the folder of assets/), when known

    @classmethod
    def of(cls, base: Path, allowed: list[Path]) -> _Places:
        folders = tuple(dict.fromkeys(p for p in (base, *allowed) if p.name != "assets"))
        root = next((p.parent for p in allowed if p.name == "assets"), None)
        return cls(folders, root)

    def show(self, path: Path) -> str:
        if self.root is not None and path.resolve().is_relative_to(self.root.resolve()):
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        return str(path)

    def template(self, name: str) -> Path | None:
        return next((f / name for f in self.folders if (f / name).is_file()), None)

    def files(self) -> Iterator[Path]:
        """The templates, then the sections: every file a page's text can come from."""
        for folder in self.folders:
            if folder.is_dir():
                yield from sorted(p for p in folder.rglob("*")
                                  if p.suffix in (".j2", ".css", ".html") and p.is_file())
        if self.root is not None:
            yield from sorted((self.root / "report" / "sections").glob("*.md"))

    def find(self, needle: str) -> tuple[str, int] | None:
        """The first line of a template or section that holds ``needle``."""
        if not needle.strip():
            return None
        for path in self.files():
            try:
                lines = path.read_text("utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                continue
            for number, text in enumerate(lines, start=1):
                if needle in text:
                    return self.show(path), number
        return None

    def css(self, html: str, message: str) -> tuple[str, int] | None:
        """The template and line of a CSS message ``at LINE:COLUMN`` (WeasyPrint counts
        the lines of the <style> element that holds the rule)."""
        at = AT.search(message)
        if at is None:
            return None
        line = int(at.group(1))
        declared = DECLARATION.search(message)
        name = declared.group(1) if declared else ""
        for style in STYLE.finditer(html):
            lines = style.group(1).split("\n")
            if not 0 < line <= len(lines) or name not in lines[line - 1]:
                continue
            text = lines[line - 1].strip()
            for above in range(line - 2, -1, -1):
                marker = MARKER.search(lines[above])
                if marker is None:
                    continue
                path = self.template(marker.group(1))
                if path is None:
                    break
                source = path.read_text("utf-8").split("\n")
                number = line - 1 - above  # the template's line 1 follows the marker
                if not (0 < number <= len(source) and name in source[number - 1]):
                    # a Jinja block above moved the lines: the line with the same text
                    same = [i for i, row in enumerate(source, start=1)
                            if row.strip() == text or (name and f"{name}:" in row)]
                    if not same:
                        break
                    number = min(same, key=lambda i: abs(i - number))
                return self.show(path), number
            return self.find(text) if text else None  # a <style> written in a template
        return None


def _url_of(record: logging.LogRecord) -> str:
    args = record.args if isinstance(record.args, tuple) else ()
    return str(args[0]) if args and str(record.msg).startswith(("Failed to load",)) else ""


def _needles(url: str) -> Iterator[str]:
    """What a template or section may have written for ``url``: itself, or its path."""
    from urllib.parse import unquote, urlsplit

    yield url
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        name = Path(unquote(parts.path)).name
        if name:
            yield name


def _locate_url(places: _Places, url: str) -> tuple[str, int] | None:
    for needle in _needles(url):
        found = places.find(needle)
        if found is not None:
            return found
    return None


def _sorted_log(records: list[logging.LogRecord], html: str,
                places: _Places) -> tuple[Note, ...]:
    """The notes of a layout; raise RenderError for the first record that is an error."""
    notes: list[Note] = []
    for record in records:
        kind = sort_record(record)
        message = record.getMessage().split("\n")[0]
        if kind == "error":
            url = _url_of(record)
            where = _locate_url(places, url) if url else None
            if where is None and not url:
                glyph = re.search(r'unsupported by fonts: "(.+)" \(U\+', message)
                where = places.find(glyph.group(1)) if glyph else None
            path, line = where if where else (None, None)
            raise RenderError(f"WeasyPrint: {message}", path, line)
        if kind == "warning":
            where = places.css(html, message)
            path, line = where if where else ("", 0)
            notes.append(Note("warning", f"WeasyPrint ignored CSS: {message}", path, line))
        else:
            notes.append(Note("notice", f"WeasyPrint: {message}"))
    return tuple(dict.fromkeys(notes))


def fetcher(allowed: Iterable[Path], served: dict[str, str] | None = None) -> Any:
    """A URL fetcher that serves ``data:`` URLs and files inside ``allowed`` only; each
    file it serves is added to ``served`` with the sha256 of the bytes it served (what a
    layout depends on: cache.py)."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    roots = [p.resolve() for p in allowed]

    class Fetcher(URLFetcher):
        fetched = 0  # URLs asked for so far (_stylesheets_once: a parse that fetched)

        def fetch(self, url: str, headers: Any = None) -> Any:
            from urllib.parse import unquote, urlsplit

            from ...links import shown

            self.fetched += 1
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            inside = False
            if parts.scheme == "file" and parts.netloc in ("", "localhost") and roots:
                path = Path(unquote(parts.path)).resolve()
                inside = any(path.is_relative_to(root) for root in roots)
                if inside and path.is_file():
                    response = super().fetch(url, headers)
                    if served is None:
                        return response
                    try:  # the bytes served are the bytes recorded
                        data = response.read()
                    finally:
                        response.close()
                    served[str(path)] = hashlib.sha256(data).hexdigest()
                    return URLFetcherResponse(response.url, data, response.headers,
                                              response.status)
            if inside:  # named as the project names it: templates/x.png
                root = next(r for r in roots if path.is_relative_to(r))
                named = path.relative_to(root.parent).as_posix()
            refused = FatalURLFetchingError(
                f"the brief refers to '{named}', which does not exist" if inside else
                f"the brief refers to '{shown(url)}', which is outside the project's "
                "templates and assets; only files there and data: URLs are allowed")
            refused.url = url  # (to find where it is written)
            raise refused

    return Fetcher(allowed_protocols=("data", "file"), allow_redirects=False)


def font_stylesheet(folders: Iterable[Path]) -> Path | None:
    """``fonts/fonts.css`` in the first of ``folders`` that has one (the project's
    templates before the packaged defaults): the @font-face rules of the house faces."""
    for folder in folders:
        candidate = folder / "fonts" / "fonts.css"
        if candidate.is_file():
            return candidate
    return None


def _page_references_once() -> None:
    """pydyf's ``PDF.page_references`` builds the tuple of every page's reference each
    time it is read, and WeasyPrint reads it for every tagged element and link: work
    quadratic in the pages (3 s at 240 pages, over a minute at 1,100). Here the same
    tuple is built once per page count. Same values, so the same PDF bytes."""
    import pydyf

    if not isinstance(pydyf.PDF.__dict__.get("page_references"), property) or \
            getattr(pydyf.PDF, "_policybrief_page_references", False):
        return

    def page_references(self: Any) -> tuple[bytes, ...]:
        kids = self.pages["Kids"]
        key = (len(kids), kids[-3] if kids else None)
        cached: tuple[Any, tuple[bytes, ...]] | None = self.__dict__.get("_policybrief_refs")
        if cached is None or cached[0] != key:
            refs = tuple(f"{number} 0 R".encode("ascii") for number in kids[::3])
            cached = self.__dict__["_policybrief_refs"] = (key, refs)
        return cached[1]

    pydyf.PDF.page_references = property(page_references)
    pydyf.PDF._policybrief_page_references = True


def _keep_pushed_line_notes() -> None:
    """WeasyPrint 70 loses a note: when a line does not fit at the foot of a page, it
    moves the page's last notes to the next page to make room and keeps the line; but
    the notes whose calls are in that line are then never laid out, and the PDF has no
    text for them (parity finds one note fewer). Here such notes go to the next page
    with the ones moved before them, as they would have if laid out."""
    import weasyprint.layout.block as block

    original = getattr(block, "_linebox_layout", None)
    if original is None or getattr(original, "_policybrief", False):
        return

    def linebox_layout(context: Any, box: Any, index: Any, child: Any, new_children: Any,
                       *args: Any) -> Any:
        result = original(context, box, index, child, new_children, *args)
        stop, new_footnotes = result[1], result[4]
        if stop and new_children and context.footnotes and context.reported_footnotes:
            for descendant in new_children[-1].descendants():
                note = getattr(descendant, "footnote", None)
                if note is not None and note in context.footnotes:
                    context.footnotes.remove(note)
                    context.reported_footnotes.append(note)
                    new_footnotes.append(note)  # undone with the line if it is
        return result

    linebox_layout._policybrief = True  # type: ignore[attr-defined]
    block._linebox_layout = linebox_layout


def _stylesheets_once() -> None:
    """WeasyPrint parses a document's ``<style>`` elements for every document it lays
    out; the parts of the page (parts.py) and the running heads all carry the same house
    style, 15 kB of CSS that takes 16 ms to parse, each time. Here a layout process
    parses a style element once per font configuration (what ``@font-face`` rules load
    into) and hands the next document with the same element the same parsed sheet, with
    the ``@counter-style`` and ``@color-profile`` rules it added to the document the
    first time. Each sheet keeps its own ``@page`` rules (WeasyPrint gives every sheet of
    a document one shared list, and reads it once per sheet: the same cascade).

    A sheet is kept only when its parsing depended on nothing but its text: it fetched
    nothing (an ``@import`` or a face is read again for each document, and so recorded in
    the layout cache's list of files), WeasyPrint said nothing of it (a warning or an
    error about the style is said for every document, as WeasyPrint says it: a rebuild
    in ``brief watch`` fails as a clean build does), and it has no ``@layer`` (a layer's
    order depends on the sheets before it). Every other sheet is parsed as WeasyPrint
    parses it, on the document's list of layers; a document with a ``<link>`` is read by
    WeasyPrint itself."""
    import weasyprint.css as css
    from weasyprint.css import media_queries

    original = css.find_stylesheets
    if getattr(original, "_policybrief", False):
        return

    def find_stylesheets(wrapper_element: Any, device_media_type: Any, url_fetcher: Any,
                         base_url: Any, font_config: Any, counter_style: Any,
                         color_profiles: Any, page_rules: Any, layers: Any) -> Any:
        elements = [w.etree_element for w in wrapper_element.query_all("style", "link")]
        kept = getattr(font_config, "_policybrief_sheets", None)
        if getattr(url_fetcher, "fetched", None) is None or kept is None or \
                any(e.tag != "style" for e in elements):
            return list(original(wrapper_element, device_media_type, url_fetcher,
                                 base_url, font_config, counter_style, color_profiles,
                                 page_rules, layers))
        sheets = []
        for element in elements:  # (as find_stylesheets reads a <style>)
            if element.get("type", "text/css").split(";", 1)[0].strip() != "text/css":
                continue
            media = [m.strip() for m in (element.get("media", "").strip() or "all")
                     .split(",")]
            if not media_queries.evaluate_media_query(media, device_media_type):
                continue
            content = css.get_child_text(element)
            key = (device_media_type, base_url, content)
            known = kept.get(key)
            if known is None:
                counters, profiles = dict(counter_style), dict(color_profiles)
                fetched = url_fetcher.fetched
                with _said() as said:
                    sheet = css.CSS(string=content, base_url=base_url,
                                    url_fetcher=url_fetcher, media_type=device_media_type,
                                    font_config=font_config, counter_style=counter_style,
                                    color_profiles=color_profiles, page_rules=[],
                                    layers=layers)
                known = (sheet,
                         {k: v for k, v in counter_style.items() if counters.get(k) is not v},
                         {k: v for k, v in color_profiles.items() if profiles.get(k) is not v})
                if url_fetcher.fetched == fetched and not said and \
                        not LAYERED.search(content) and len(content) > 2_000:
                    if len(kept) >= 8:
                        kept.clear()
                    kept[key] = known
            else:
                counter_style.update(known[1])
                color_profiles.update(known[2])
            sheet = known[0]
            page_rules.extend(sheet.page_rules)
            sheets.append(sheet)
        return sheets

    find_stylesheets._policybrief = True  # type: ignore[attr-defined]
    find_stylesheets.original = original  # type: ignore[attr-defined]
    css.find_stylesheets = find_stylesheets


# an @layer rule, or an at-rule written with an escape (which may spell one)
LAYERED = re.compile(r"@(?:layer|\\)", re.I)


def _glyph_arrays_once() -> None:
    """WeasyPrint subsets each face a document uses (``pdf/fonts.py``), and makes its
    lists of glyphs with ``ffi.new(f"hb_codepoint_t[{n}]", values)``: a C type of its
    own for every length, which cffi parses (pycparser, about 2.5 ms) the first time it
    meets it. Laid out in parts, a page subsets its faces once per part: some fifty
    lengths a build, each layout process parsing those of its own parts. Here the
    module's ``ffi`` makes such an array from one type parsed once, ``hb_codepoint_t[]``,
    sized by the values: the same array, the same subset, the same PDF bytes."""
    import weasyprint.pdf.fonts as fonts

    ffi = getattr(fonts, "ffi", None)
    if ffi is None or isinstance(ffi, _Arrays):  # (another WeasyPrint: left as it is)
        return
    fonts.ffi = _Arrays(ffi)


class _Arrays:
    """An ``ffi`` whose ``new("T[n]", values)``, with ``n`` the number of values, is
    ``new("T[]", values)``; everything else is the ``ffi`` it wraps."""

    # a decimal length (one with a leading zero is octal in C: left to cffi)
    SIZED = re.compile(r"([\w ]+)\[([1-9]\d*|0)\]")

    def __init__(self, ffi: Any) -> None:
        self._ffi = ffi

    def new(self, ctype: Any, init: Any = None) -> Any:
        found = self.SIZED.fullmatch(ctype) if isinstance(ctype, str) else None
        if found is not None and isinstance(init, (list, tuple)) and \
                len(init) == int(found.group(2)):
            return self._ffi.new(found.group(1).rstrip() + "[]", init)
        return self._ffi.new(ctype, init)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ffi, name)


def _svg_stops_kept() -> None:
    """WeasyPrint draws an SVG image (a figure, on the page or in Word's PNG) inside an
    ``except BaseException`` that logs "Failed to render SVG image" and goes on
    (``images.py``): a Ctrl-C or SIGTERM that lands while a figure is drawn was lost
    there, and the build, laying out the page in its own process, went on to fail with
    that error (exit 1) instead of stopping (130, "interrupted"). Here what stops the
    process (KeyboardInterrupt, SystemExit) is raised again once WeasyPrint's handler is
    done; every other error is WeasyPrint's to report, as before."""
    import weasyprint.images as images

    image: Any = getattr(images, "SVGImage", None)
    original = getattr(image, "draw", None)
    if image is None or not callable(original) or getattr(original, "_policybrief", False):
        return  # (done, or another WeasyPrint: left as it is)

    def draw(self: Any, *args: Any, **kwargs: Any) -> Any:
        svg = getattr(self, "_svg", None)
        if svg is None:
            return original(self, *args, **kwargs)
        drawing, stops = svg.draw, []

        def kept(*a: Any, **k: Any) -> Any:
            try:
                return drawing(*a, **k)
            except (KeyboardInterrupt, SystemExit) as exc:
                stops.append(exc)
                raise

        svg.draw = kept  # (this image's own, for this call)
        try:
            result = original(self, *args, **kwargs)
        finally:
            del svg.draw
        if stops:
            raise stops[0]
        return result

    draw._policybrief = True  # type: ignore[attr-defined]
    image.draw = draw


def _svg_text_in_runs_once() -> None:
    """WeasyPrint draws an SVG ``<text>`` letter by letter (``svg/text.py``): each
    character laid out by Pango on its own and placed after the one before, so that
    ``x="1 9 17"``, ``rotate`` or ``textLength`` can move each. A figure of a few hundred
    labels is then some 1,500 layouts (a fifth of a figure's drawing, in the PDF and in
    Word's PNG), its words shaped without their kerning, and each letter a text object
    of its own in the PDF. A text that positions no letter of its own (at most one
    ``x``, ``y``, ``dx``, ``dy``, no ``rotate``, ``textLength`` or ``letter-spacing``)
    and holds no line or paragraph separator is drawn here as WeasyPrint draws one
    letter: the whole run in one layout, at the same place, shaped and kerned as a line
    of the page is. Any other text is WeasyPrint's to draw, letter by letter."""
    import sys

    import weasyprint.svg as package

    module = sys.modules.get("weasyprint.svg.text")
    found: Any = getattr(module, "text", None)
    if not callable(found) or getattr(found, "_policybrief", False) or \
            getattr(package, "text", None) != found:  # (the same function)
        return  # (done, or another WeasyPrint: left as it is)
    original: Callable[..., Any] = found
    from weasyprint.svg.utils import normalize

    def positions_letters(svg: Any, node: Any, font_size: float) -> bool:
        if any(name in node.attrib for name in ("rotate", "textLength")):
            return True
        if any(len(normalize(node.attrib[name]).split()) > 1
               for name in ("x", "y", "dx", "dy") if name in node.attrib):
            return True
        return bool(svg.length(node.get("letter-spacing"), font_size))

    def text(svg: Any, node: Any, font_size: float) -> Any:
        characters = node.text
        element = getattr(node, "_etree_node", None)
        if not isinstance(characters, str) or not characters or \
                characters.splitlines() != [characters] or element is None or \
                positions_letters(svg, node, font_size):
            # (a line or paragraph separator: U+2028 or U+2029 would end the run's one
            # line there, the rest unseen, and U+2028 or U+0085 drawn as a missing
            # glyph; alone, as a letter, each is a blank WeasyPrint does not draw)
            return original(svg, node, font_size)
        element.text = _Run(characters)  # WeasyPrint's letters: the whole run, once
        try:
            return original(svg, node, font_size)
        finally:
            element.text = characters

    text._policybrief = True  # type: ignore[attr-defined]
    # (svg/__init__.py tells a text node by its drawing function: the same one for all)
    package.TAGS.update({tag: text for tag, drawn in package.TAGS.items()
                         if drawn is original})
    package.text = text


class _Run(str):
    """A text whose letters, as WeasyPrint's SVG text reads them (``for char in
    node.text``), are one: the text itself. Read any other way, it is the text."""

    __slots__ = ()

    def __iter__(self) -> Iterator[str]:
        yield str(self)


def weasyprint_fixed() -> None:
    """This module's fixes to WeasyPrint, in place (each once per process): whatever
    this process lays out or draws with WeasyPrint (a page, a part, a figure's PNG)."""
    _page_references_once()
    _keep_pushed_line_notes()
    _stylesheets_once()
    _glyph_arrays_once()
    _svg_text_in_runs_once()
    _svg_stops_kept()


@contextlib.contextmanager
def _said() -> Iterator[list[logging.LogRecord]]:
    """What WeasyPrint logs while in this block that a layout reports (_Collector's
    records; they still reach its other handlers)."""
    listener = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(listener)
    try:
        yield listener.records
    finally:
        logger.removeHandler(listener)


@dataclass(frozen=True)
class Laid:
    """A document laid out by WeasyPrint: the PDF, and what binding it to others needs."""

    pdf: bytes
    # page name, strings set, names of the strings its first element sets
    pages: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]], ...] = ()
    anchors: tuple[tuple[str, int], ...] = ()                       # id, page index
    levels: tuple[int, ...] = ()                                     # of the bookmarks
    notes: tuple[Note, ...] = ()                                     # warnings, notices
    files: tuple[tuple[str, str], ...] = ()   # the files it was laid out with, and sha256


# WeasyPrint is not made for threads: in this process, one layout at a time.
LOCK = threading.RLock()


def whole(html: str, base: Path, allowed: Iterable[Path], identifier: bytes,
          notes: list[Note] | None = None, store: Any = None) -> bytes:
    """Lay out ``html`` and return the PDF bytes (tagged, fonts embedded and subset);
    what WeasyPrint noted that does not fail the build is added to ``notes``. With a
    layout cache (``store``, cache.py), the page as it was laid out the last time.

    The house faces come from ``fonts/fonts.css`` (see :func:`font_stylesheet`), so the
    PDF looks the same on any machine whatever fonts it has installed.
    """
    key = store.key(html, f"whole {identifier.hex()}") if store is not None else ""
    laid = store.get(key) if store is not None else None
    if laid is None:
        with LOCK:
            laid = lay_out(html, base, allowed, identifier)
        if store is not None:
            store.put(key, laid)
    _add(notes, laid.notes)
    assert isinstance(laid.pdf, bytes)
    return laid.pdf


def _add(notes: list[Note] | None, more: Iterable[Note]) -> None:
    if notes is not None:
        notes.extend(n for n in more if n not in notes)


@contextlib.contextmanager
def _without_margin_boxes() -> Iterator[None]:
    """Lay out the pages without their margin boxes (running heads, page numbers): a
    part of the page cannot know them; furniture.py draws them for the whole."""
    import weasyprint.layout

    original = weasyprint.layout.make_margin_boxes

    def none(context: Any, page: Any, state: Any) -> Iterator[Any]:
        return iter(())

    weasyprint.layout.make_margin_boxes = none
    try:
        yield
    finally:
        weasyprint.layout.make_margin_boxes = original


def lay_out(html: str, base: Path, allowed: Iterable[Path], identifier: bytes,
            part: bool = False, tags: bool = True, margins: bool = True) -> Laid:
    """Lay out ``html`` with WeasyPrint. For a ``part`` of the page (parts.py), the
    margin boxes are left out and the pages' names, named strings, anchors and
    bookmark levels are recorded for binding."""
    from . import libraries

    libraries.load()
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    weasyprint_fixed()
    allowed = list(allowed)
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    # The layout makes millions of objects that live until the end; with the default
    # thresholds the cycle collector runs thousands of times over them (8% of the time
    # at 200 pages, more beyond). Young collections 70 times rarer: the same PDF, the
    # same peak memory, a fifth of the collector's time.
    thresholds = gc.get_threshold()
    if 0 < thresholds[0] < 50_000:  # (0: collection is off; leave it so)
        gc.set_threshold(50_000, *thresholds[1:])
    served: dict[str, str] = {}
    try:
        url_fetcher = fetcher(allowed, served)
        faces = font_stylesheet([base, *allowed])
        # a layout process lays out many parts: it loads the faces once
        fonts, stylesheets, face_files = _faces(faces, url_fetcher, served) if part else \
            _load_faces(faces, url_fetcher, served)
        source = weasyprint.HTML(string=html, base_url=base.as_uri() + "/",
                                 url_fetcher=url_fetcher)
        options: dict[str, Any] = {"pdf_identifier": identifier, "custom_metadata": True}
        if tags:
            options.update(pdf_tags=True, pdf_variant="pdf/ua-1")
        with contextlib.nullcontext() if margins else _without_margin_boxes():
            document = source.render(stylesheets=stylesheets, font_config=fonts, **options)
        data = document.write_pdf(**options)
        pages, anchors, levels = _records(document) if part else ((), (), ())
        laid = Laid(data, pages, anchors, levels,
                    files=tuple(sorted({**face_files, **served}.items())))
    except FatalURLFetchingError as exc:
        url = getattr(exc, "url", "")
        where = _locate_url(_Places.of(base, allowed), url) if url else None
        path, line = where if where else (None, None)
        from ...links import unblob

        raise RenderError(unblob(str(exc).split("\n")[0]), path, line) from None
    except RecursionError:
        raise RenderError("the document is nested too deeply for the PDF layout",
                          hint="flatten the most deeply nested lists, quotes or tables "
                               "in report/sections/") from None
    finally:
        gc.set_threshold(*thresholds)
        logger.removeHandler(collector)
    notes = _sorted_log(collector.records, html, _Places.of(base, allowed))
    assert isinstance(data, bytes)
    return dataclasses.replace(laid, notes=notes) if notes else laid


_FACES: dict[str, tuple[Any, list[Any], dict[str, str], dict[str, tuple[int, ...]]]] = {}


def _faces(faces: Path | None, url_fetcher: Any, served: dict[str, str]
           ) -> tuple[Any, list[Any], dict[str, str]]:
    """The font configuration and @font-face stylesheet for ``faces``, made once per
    process, and made anew when the stylesheet or any face it loaded has changed since
    (a face replaced while ``brief watch`` runs)."""
    key = str(faces)
    known = _FACES.get(key)
    if known is None or any(_signature(path) != signature
                            for path, signature in known[3].items()):
        _FACES.clear()
        fonts, css, files = _load_faces(faces, url_fetcher, served)
        known = _FACES[key] = (fonts, css, files, {p: _signature(p) for p in files})
    return known[0], known[1], known[2]


def _signature(path: str) -> tuple[int, ...]:
    """What changes when the file at ``path`` is replaced or written to."""
    try:
        status = os.stat(path)
    except OSError:
        return ()
    return (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _load_faces(faces: Path | None, url_fetcher: Any, served: dict[str, str]
                ) -> tuple[Any, list[Any], dict[str, str]]:
    """The font configuration, the @font-face stylesheet, and the files they were made
    from with the sha256 of their bytes (the stylesheet, and the faces it loads: what
    ``url_fetcher`` adds to ``served`` meanwhile)."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    folder = scratch.current()
    if folder is not None:  # the faces copied in build/.tmp (scratch.py), not elsewhere
        fonts._folder = Path(tempfile.mkdtemp(prefix="weasyprint-", dir=folder))
    fonts._policybrief_sheets = {}  # the documents' parsed styles (_stylesheets_once)
    if faces is None:
        return fonts, [], {}
    before = set(served)
    text = faces.read_bytes()
    css = weasyprint.CSS(string=text.decode("utf-8"), base_url=faces.resolve().as_uri(),
                         url_fetcher=url_fetcher, font_config=fonts)
    files = {p: d for p, d in served.items() if p not in before}
    files[str(faces.resolve())] = hashlib.sha256(text).hexdigest()
    return fonts, [css], files


def _records(document: Any) -> tuple[Any, Any, Any]:
    pages: list[tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]] = []
    anchors: list[tuple[str, int]] = []
    levels: list[int] = []
    for index, page in enumerate(document.pages):
        strings: list[tuple[str, str]] = []
        for box in page._page_box.descendants():
            if box.string_set and box.string_set != "none":
                strings.extend((name, text) for name, text in box.string_set)
        starting: list[str] = []
        box = page._page_box
        while box is not None:  # the first element of the page (string(x, start))
            if box.string_set and box.string_set != "none":
                starting.extend(name for name, _ in box.string_set)
            children = getattr(box, "children", None)
            box = children[0] if children else None
        pages.append((page._page_box.page_type.name or "", tuple(strings), tuple(starting)))
        anchors.extend((name, index) for name in page.anchors)
        levels.extend(level for level, *_ in page.bookmarks)
    return tuple(pages), tuple(anchors), tuple(levels)


# --- The page laid out in parts, side by side ------------------------------------------

# The number of layout processes: POLICYBRIEF_PDF_WORKERS, else the free cores (free_cores)
WORKERS: int | None = int(os.environ["POLICYBRIEF_PDF_WORKERS"]) \
    if os.environ.get("POLICYBRIEF_PDF_WORKERS", "").isdigit() else None
MOST = 4  # layout processes at most: beyond, binding and memory outweigh the gain
KILLED = 5.0  # seconds at most to wait for killed layout processes to be gone
STOPS = {signal.SIGINT, signal.SIGTERM}  # the build's to answer, never a layout process's
# A process that builds again and again (``brief watch``) lays the page out itself and
# keeps the faces loaded from one build to the next: see kept_warm.
WARM = False


@contextlib.contextmanager
def kept_warm() -> Iterator[None]:
    """While in this block, this process lays out the PDF itself, with no layout
    processes, and keeps WeasyPrint and the house faces loaded between builds: a rebuild
    after an edit lays out the parts that changed (cache.py) at once."""
    global WARM, WORKERS
    before = WARM, WORKERS
    WARM, WORKERS = True, 1
    try:
        yield
    finally:
        WARM, WORKERS = before
        _FACES.clear()


def laid_out_here() -> bool:
    """Whether this process has laid out a page and kept what that loads (kept_warm)."""
    return bool(_FACES)


CHUNK = 40_000  # characters of text at most in a part: bounds each process's memory
# A stretch of the page between two forced breaks is a part of its own (an edit lays
# out again the part it falls in), unless it is this short: then it joins the part
# before. The rule looks at the stretch alone, so an edit elsewhere never moves a cut.
SMALL = 1_500
FRESH = 4  # parts' worth (CHUNK) of text per process beyond which each part gets one


def free_cores(samples: int = 5, gap: float = 0.01) -> int:
    """The cores this process may run on (its CPU affinity: ``taskset``, a container's
    quota) less those busy with other work (the runnable threads of other processes,
    from /proc/loadavg less this process's own, the fewest of a few looks a moment
    apart: a process that merely passes by is not work), at least 1 and at most
    :data:`MOST`. One means no layout processes at all: the page is laid out here, with
    no process started, no WeasyPrint loaded twice, nothing to bind that a whole layout
    would not need."""
    cores = _cores()
    if cores < 2:
        return 1
    others: list[int] = []
    for look in range(samples):
        if look:
            time.sleep(gap)
        try:
            with open("/proc/loadavg", encoding="ascii") as handle:
                running = int(handle.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return min(cores, MOST)  # no way to tell: as if free
        others.append(max(0, running - _own_running()))
    return max(1, min(cores - min(others), MOST))


def _cores() -> int:
    """The cores this process may run on: its CPU affinity, else all the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _own_running() -> int:
    """How many of this process's threads are running or ready to (Linux)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat", encoding="ascii") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return max(count, 1)


def _warm(faces: Path | None, allowed: list[Path]) -> None:
    """Start-up of a layout process: WeasyPrint, fontconfig and the house faces ready
    before the work (a part's layout then starts at once)."""
    served: dict[str, str] = {}
    _faces(faces, fetcher(allowed, served), served)


def _process_start(faces: Path | None, allowed: list[Path], build: Path) -> None:
    """A layout process begins: bound to the build's life, its temporary files in
    ``build``, then warm."""
    _process_bound(build)
    # build/ full or read-only (the faces' copies are megabytes): no warm start, and the
    # first part, which loads the faces again, fails with the error the build says
    with contextlib.suppress(OSError, BriefError):
        _warm(faces, allowed)


def _process_bound(build: Path) -> None:
    """A layout process begins: bound to the build's life, its temporary files (the
    faces' copies) in ``build/.tmp`` (scratch.py)."""
    _orphan_dies()
    with contextlib.suppress(OSError, BriefError):  # (said by the work: scratch.current)
        scratch.adopt(build)


def _orphan_dies() -> None:
    """In a layout process: die with the process that started it (the forkserver, which
    ends when the build ends, killed or not), never lay out for nobody. Ctrl-C is the
    build's to answer (it ends its layout processes, and says "interrupted"): one
    waiting for work would otherwise print its own traceback on the way."""
    import ctypes
    import multiprocessing

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # (ignored in the forkserver, reaper.py: the pool ends a process with SIGTERM when
    # another broke it, and waits for it)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    # forked just as the build was killed (its forkserver gone before the line above):
    # no signal will come; the build's end shows
    build = multiprocessing.parent_process()
    if build is not None and not build.is_alive():
        os._exit(0)


def _lay_out_part(html: str, base: Path, allowed: list[Path], identifier: bytes,
                  seconds: float, megabytes: float, furniture: bool = False) -> Laid:
    """In a layout process: a part without its margin boxes, or (``furniture``) the
    margin boxes of every page, untagged (binding.py marks them as artifacts)."""
    from .. import limits

    what = "laying out the PDF's running heads" if furniture else "laying out the PDF"
    with limits.bounded(seconds, megabytes, what):
        return lay_out(html, base, allowed, identifier, part=True, tags=not furniture,
                       margins=furniture)


def _stops_blocked() -> None:
    """In the thread that starts the layout processes: Ctrl-C and SIGTERM blocked, for
    this thread and for what it starts, the forkserver (which ignores them once it is
    up: reaper.py) and the pool's threads. A stop is the build's: its main thread
    answers it, and kills its layout processes. Else a Ctrl-C pressed as the
    forkserver imported WeasyPrint (a second) printed the forkserver's traceback under
    the build's "interrupted"; a SIGTERM to the whole group (a service manager's stop,
    ``timeout``) ended the forkserver before the build had seen its processes end. The
    resource tracker first: starting it unblocks both in the thread that starts it."""
    from multiprocessing import resource_tracker

    with contextlib.suppress(Exception):
        resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)


class Workers:
    """Processes that lay out parts of the page; started as the build begins, so that
    their start-up (importing WeasyPrint, in the forkserver) overlaps the loading and
    checking of the brief. With one worker there are none: the page is laid out whole."""

    def __init__(self, count: int | None = None, faces: Path | None = None,
                 allowed: Iterable[Path] = (), eager: int | None = None, *,
                 build: Path) -> None:
        if count is None and WORKERS is not None:
            count = WORKERS
        self._asked = count  # None: as many as there are free cores (decided meanwhile)
        self.count = count if count is not None else min(_cores(), MOST)
        self._eager = eager
        self._faces = faces  # loaded by each process as it starts (_warm)
        self._allowed = list(allowed)
        self._build = build  # where the processes keep their temporary files (scratch.py)
        self.pool: Any = None
        self.ready = threading.Event()
        self.decided = threading.Event()  # self.count is final
        self._closed = False
        self._guard = threading.Lock()
        self._context: Any = None
        self._retired: list[Any] = []  # processes of a pool replaced (one_task_each)
        self.warming: Any = None  # the warm-up's Future, once sent (warm_up)
        if self.count > 1:
            threading.Thread(target=self._start, name="policybrief-workers",
                             daemon=True).start()
        else:
            self.decided.set()
            self.ready.set()

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._asked is None:  # (in this thread: the looks take a moment)
            # a build started for little work (a rebuild) takes two looks, not five: its
            # one process starts 40 ms sooner, in time to warm up before its part comes
            self.count = free_cores(2) if self._eager is not None else free_cores()
        self.decided.set()
        if self.count < 2:
            self.ready.set()
            return
        eager = self.count if self._eager is None else max(1, min(self._eager, self.count))
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["policybrief.render.pdf.libraries",
                                             "policybrief.render.pdf",
                                             "policybrief.render.pdf.reaper"])
            _stops_blocked()
            with self._guard:
                if self._closed:
                    return
                self._context = context
                self.pool = ProcessPoolExecutor(self.count, mp_context=context,
                                                initializer=_process_start,
                                                initargs=(self._faces, self._allowed,
                                                          self._build))
            warm = [self.pool.submit(int) for _ in range(eager)]  # started, warm
            for future in warm:
                future.result()
        except Exception:  # noqa: BLE001 — no processes here: the page is laid out whole
            self.pool = None
        finally:
            with self._guard:
                self.ready.set()
                if self._closed and self.pool is not None:
                    self._shut(kill=True)  # the build ended while they started

    @property
    def light(self) -> bool:
        """Started for little work (a rebuild, a short brief): one process first."""
        return self._eager == 1 and self.count >= 2

    def warm_up(self, page: str, base: Path, allowed: Iterable[Path], seconds: float,
                megabytes: float) -> None:
        """A build that is to lay out little (a rebuild, a short brief: one process
        started first) has its process lay out a few lines with the page's style while
        the build converts the brief: the layout's first-use costs (the hyphenation
        dictionary of the page's language, the style parsed, the faces' tables, the C
        types of the PDF writer, a third of a short part's layout) are paid before the
        first part comes rather than by it. ``page``: the page, its body aside. What is
        laid out is thrown away; a layout process lays out many parts, one after another,
        with the same bytes whatever came before (tests/test_layout_cache.py)."""
        if not self.light:
            return
        html = warm_page(page)

        def send() -> None:
            self.warming = self.submit(_lay_out_part, html, base, list(allowed), PART,
                                       seconds, megabytes)

        threading.Thread(target=send, name="policybrief-warm-up", daemon=True).start()

    def submit(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` in one of the processes (a Future), or None when there are none."""
        self.ready.wait()
        with self._guard:
            if self.pool is None or self._closed:
                return None
            return self.pool.submit(fn, *args)

    def one_task_each(self) -> None:
        """From now on, a new process for each task (forked from the forkserver, which
        has WeasyPrint imported, in ~30 ms). For a long brief: a process that goes on
        keeps the memory of its largest layout until the end of the build. (One task
        each, not more: with more, Python 3.11-3.14 can fail to replace a process that
        ended and hang, python/cpython#115634.)"""
        from concurrent.futures import ProcessPoolExecutor

        self.ready.wait()
        with self._guard:
            if self.pool is None or self._closed:
                return
            old, self.pool = self.pool, ProcessPoolExecutor(
                self.count, mp_context=self._context, initializer=_process_bound,
                initargs=(self._build,),
                max_tasks_per_child=1)  # (each loads the faces with its one part)
            self._retired += _processes(old)  # (a pool shut down forgets them)
        old.shutdown(wait=False)

    def close(self, kill: bool = False) -> None:
        """Stop the processes. A build that ends before they are up (a content error,
        Ctrl-C) does not wait for them to start: those started are killed, and gone
        when this returns (the build then sweeps their folders, scratch.py); none starts
        after."""
        with self._guard:
            self._closed = True
            if self.pool is not None:
                # (not ready: they are starting, in _start, which finds the pool shut
                # down and stops there; left to _start, they were killed as the build
                # ended, after its sweep, and their folders stayed in build/.tmp)
                self._shut(kill or not self.ready.is_set())

    def _shut(self, kill: bool) -> None:
        pool, self.pool = self.pool, None
        processes, self._retired = self._retired, []
        try:
            if kill:
                for process in processes:
                    process.kill()
            processes += _stop(pool, kill)
        except BaseException:  # (Ctrl-C while waiting for them: killed, then gone)
            for process in processes:
                process.kill()
            processes += _stop(pool, True)
            raise
        finally:
            # gone before the build sweeps build/.tmp (scratch.py): a process killed but
            # still on its way out looks alive, and its folder would be left there
            deadline = time.monotonic() + KILLED
            for process in processes:
                with contextlib.suppress(Exception):
                    process.join(max(0.0, deadline - time.monotonic()))


def _processes(pool: Any) -> list[Any]:
    """The processes of ``pool`` (a ProcessPoolExecutor; none once it is shut down)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _stop(pool: Any, kill: bool) -> list[Any]:
    """Shut ``pool`` down (``kill``: its processes killed, not waited for); its processes."""
    processes = _processes(pool)
    if kill:
        with pool._shutdown_lock:
            # No process started from here on. A pool of one task per process
            # replaces each that ends: a replacement started after the kill would be
            # left running, and one asked for after shutdown(wait=False) fails in the
            # pool's thread (TypeError) and the build hangs instead of exiting
            # (Python 3.11-3.13: python/cpython#119592, #132969, whose fix this is).
            pool._adjust_process_count = lambda: None
            processes = _processes(pool)
            # The thread that feeds the processes their parts may be blocked
            # writing one (a part is larger than the pipe holds) to processes now
            # killed: nothing will read it. The pool's thread, and the interpreter
            # on its way out, would wait for it forever (Python 3.11.2, Debian 12's:
            # a build whose layout failed printed its error and never exited).
            queue = getattr(pool, "_call_queue", None)
            if queue is not None:
                queue.cancel_join_thread()
        for process in processes:
            process.kill()
    pool.shutdown(wait=not kill, cancel_futures=True)
    return processes


def write_pdf(html: str, base: Path, allowed: Iterable[Path], identifier: bytes,
              workers: Workers | None, seconds: float, megabytes: float,
              notes: list[Note] | None = None, cache: Path | None = None) -> bytes:
    """The PDF of ``html``: laid out in parts by ``workers`` where the page can be cut
    (parts.py), bound into one (binding.py); else laid out whole, here. WeasyPrint's
    warnings and notices (those that do not fail the build) are added to ``notes``.
    ``cache``: the folder of the layout cache (cache.py); a part laid out before, with
    the same HTML and the same files, is taken from there and not laid out again."""
    from . import cache as caching
    from . import parts

    allowed = list(allowed)
    store = None
    if cache is not None:
        faces = font_stylesheet([base, *allowed])
        try:
            store = caching.Cache.at(cache, allowed, str(base.resolve()), str(faces))
        except OSError:  # build/ full or read-only: the outputs' writing says so
            store = None
    # The parts do not depend on the number of processes (nor does anything else in the
    # bytes): one process lays the same parts out one after another, here.
    plan = parts.plan(html, CHUNK, small=SMALL)
    try:
        if plan is None:
            return whole(html, base, allowed, identifier, notes, store)
        if workers is not None:
            workers.ready.wait()
        if workers is None or workers.pool is None:
            try:
                return _in_parts(plan, base, allowed, identifier, _Inline(), None, seconds,
                                 megabytes, notes, store)
            finally:
                if not WARM:  # a build's fonts, let go with the build (not at exit)
                    _FACES.clear()
        if sum(plan.weights) > FRESH * CHUNK * workers.count:
            workers.one_task_each()
        from concurrent.futures.process import BrokenProcessPool

        try:
            return _in_parts(plan, base, allowed, identifier, workers.pool, workers,
                             seconds, megabytes, notes, store)
        except BrokenProcessPool:  # (killed from outside: the system short of memory?)
            workers.close(kill=True)
            raise RenderError("a process laying out the PDF ended before its part was done "
                              "(stopped from outside: the system short of memory?)",
                              hint="build again; POLICYBRIEF_PDF_WORKERS=1 lays the PDF out "
                                   "in the build's own process") from None
        except BaseException:
            workers.close(kill=True)
            raise
    finally:
        if store is not None:
            store.prune()


# What a layout process lays out to warm up (Workers.warm_up): a heading, a paragraph
# of long words (hyphenated), a note, emphasis, a subsection; never shown.
WARM_BODY = (
    '<body class="target-pdf"><main><section class="level2 section">'
    '<h2 class="section">Characteristically uncompromising</h2><p>'
    + "Notwithstanding extraordinary circumstances, the representatives' "
      "characteristically uncompromising negotiations continued nevertheless. " * 6
    + '<span class="citation"><span class="footnote">A note, <em>with emphasis</em>.'
      '</span></span> <strong>Strong</strong> <em>emphasis</em> “quoted” – 2024…</p>'
    '<section class="level3"><h3>Subsection</h3><p>Interpretation.</p></section>'
    "</section></main></body></html>")


def warm_page(page: str) -> str:
    """``page`` (the brief's page, its head above all) with :data:`WARM_BODY` as body."""
    at = page.find("<body")
    return (page[:at] if at >= 0 else page) + WARM_BODY


def warm_here(page: str, base: Path, allowed: Iterable[Path], seconds: float,
              megabytes: float) -> None:
    """In this process (``brief watch``): :data:`WARM_BODY` laid out with ``page``'s
    head, as Workers.warm_up has a layout process do, bounded as every layout is; what
    is laid out is thrown away."""
    with LOCK:
        _lay_out_part(warm_page(page), base, list(allowed), PART, seconds, megabytes)


class _Inline:
    """A pool of no processes: each task runs at once, here (one layout at a time)."""

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        with LOCK:
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 — handed on in the Future
                future.set_exception(exc)
        return future


# A part's own identifier (the bound PDF gets the page's): its bytes depend on it alone.
PART = b"policybrief-part"
# Pages up to which the parts are bound while the running heads are still laid out
# (beyond, the layout processes end first: binding is the build's largest step in memory)
BESIDE = 200
TABLE = re.compile(r"<table\b", re.I)


def _in_parts(plan: Any, base: Path, allowed: list[Path], identifier: bytes,
              pool: Any, workers: Workers | None, seconds: float, megabytes: float,
              notes: list[Note] | None = None, store: Any = None) -> bytes:
    from concurrent.futures import Future

    from . import binding, furniture

    n = len(plan.ranges)

    def lay(html: str, furniture: bool = False) -> Future[Laid]:
        """``html`` laid out (a Future): from the cache, else by the pool."""
        key = store.key(html, "furniture" if furniture else "part") if store is not None \
            else ""
        laid = store.get(key) if store is not None else None
        if laid is not None:
            done: Future[Laid] = Future()
            done.set_result(laid)
            return done
        future: Future[Laid] = pool.submit(_lay_out_part, html, base, allowed, PART,
                                           seconds, megabytes, furniture)
        if store is not None:
            future.add_done_callback(  # (cancelled: a layout before it failed)
                lambda f: not f.cancelled() and f.exception() is None
                and store.put(key, f.result()))
        return future

    def submit(index: int, pages: dict[str, int] | None = None) -> Future[Laid]:
        return lay(plan.part(index, pages).html)

    # The parts that show page numbers of others wait; a first layout with stand-in
    # numbers tells how many pages they take.
    order = sorted(range(n), key=lambda i: (plan.dependent[i], -plan.weights[i]))
    futures = {i: submit(i, {t: 99 for t in plan.links[i]} if plan.dependent[i] else None)
               for i in order}
    laid: dict[int, Laid] = {i: futures[i].result() for i in order}
    dependent = [i for i in range(n) if plan.dependent[i]]
    for _ in range(3):
        # The contents with their page numbers, and the running heads and page numbers
        # of every page, side by side (the contents keep their number of pages, or
        # both are done again).
        before = [laid[i].pages for i in dependent]
        numbers = _page_numbers(plan, laid)
        final = {i: submit(i, numbers) for i in dependent}
        drawn = lay(furniture.sheets(plan.html, [p for i in range(n) for p in laid[i].pages]),
                    furniture=True)
        laid.update({i: future.result() for i, future in final.items()})
        if [laid[i].pages for i in dependent] == before:
            break
    else:
        raise RenderError("the contents do not settle on a number of pages",
                          hint="the page numbers in the contents change its length each "
                               "time: set POLICYBRIEF_PDF_WORKERS=1 to lay the page out whole")
    for index in range(n):
        _add(notes, laid[index].notes)

    def sheets() -> bytes:
        _add(notes, drawn.result().notes)
        return drawn.result().pdf

    # A short page's parts are bound while a layout process still lays out the running
    # heads, which go on last; a long page's once every layout is done and the layout
    # processes have ended (binding is the build's largest step in memory).
    beside = sum(len(laid[i].pages) for i in range(n)) <= BESIDE
    furniture_pdf: bytes | Callable[[], bytes] = sheets if beside else sheets()
    if not beside and workers is not None:
        workers.close()
    bound = binding.bind([laid[i].pdf for i in range(n)], list(plan.anchors),
                         [laid[i].levels for i in range(n)], furniture_pdf, identifier,
                         [TABLE.search(plan.html, lo, hi) is not None
                          for lo, hi in plan.ranges])
    if workers is not None:
        workers.close()
    return bound


def _page_numbers(plan: Any, laid: dict[int, Laid]) -> dict[str, int]:
    """The page number of every element laid out, as the bound PDF will have it."""
    numbers: dict[str, int] = {}
    first = 1
    for index in range(len(plan.ranges)):
        for name, page in laid[index].anchors:
            if name in plan.anchors[index]:
                numbers.setdefault(name, first + page)
        first += len(laid[index].pages)
    return numbers
