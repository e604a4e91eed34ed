"""Stage 6b, the PDF: WeasyPrint lays out the finished HTML with the paged-media CSS.

WeasyPrint fetches whatever the HTML points at (``file://`` included) and only logs a
resource it cannot load. Here its URL fetcher serves ``data:`` URLs and files under the
project's template and asset folders and nothing else, and any warning it logs while
rendering fails the build.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RenderError


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def fetcher(allowed: Iterable[Path]) -> Any:
    """A URL fetcher that serves ``data:`` URLs and files inside ``allowed`` only."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    roots = [p.resolve() for p in allowed]

    class Fetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            from urllib.parse import unquote, urlsplit

            from .links import shown

            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost") and roots:
                path = Path(unquote(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(
                f"the brief refers to '{shown(url)}', which is outside the project's "
                "templates and assets; only files there and data: URLs are allowed")

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
        cached = self.__dict__.get("_policybrief_refs")
        if cached is None or cached[0] != key:
            refs = tuple(f"{number} 0 R".encode("ascii") for number in kids[::3])
            cached = self.__dict__["_policybrief_refs"] = (key, refs)
        return cached[1]

    pydyf.PDF.page_references = property(page_references)
    pydyf.PDF._policybrief_page_references = True


@dataclass(frozen=True)
class Laid:
    """A document laid out by WeasyPrint: the PDF, and what binding it to others needs."""

    pdf: bytes
    pages: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # page name, strings set
    anchors: tuple[tuple[str, int], ...] = ()                       # id, page index
    levels: tuple[int, ...] = ()                                     # of the bookmarks


# WeasyPrint is not made for threads: in this process, one layout at a time.
LOCK = threading.RLock()


def whole(html: str, base: Path, allowed: Iterable[Path], identifier: bytes) -> bytes:
    """Lay out ``html`` and return the PDF bytes (tagged, fonts embedded and subset).

    The house faces come from ``fonts/fonts.css`` (see :func:`font_stylesheet`), so the
    PDF looks the same on any machine whatever fonts it has installed.
    """
    with LOCK:
        return lay_out(html, base, allowed, identifier).pdf


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
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    _page_references_once()
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
    try:
        url_fetcher = fetcher(allowed)
        faces = font_stylesheet([base, *allowed])
        # a layout process lays out many parts: it loads the faces once
        fonts, stylesheets = _faces(faces, url_fetcher) if part else \
            _load_faces(faces, url_fetcher)
        source = weasyprint.HTML(string=html, base_url=base.as_uri() + "/",
                                 url_fetcher=url_fetcher)
        options: dict[str, Any] = {"pdf_identifier": identifier, "custom_metadata": True}
        if tags:
            options.update(pdf_tags=True, pdf_variant="pdf/ua-1")
        with contextlib.nullcontext() if margins else _without_margin_boxes():
            document = source.render(stylesheets=stylesheets, font_config=fonts, **options)
        data = document.write_pdf(**options)
        laid = Laid(data, *(_records(document) if part else ()))
    except FatalURLFetchingError as exc:
        from .links import unblob

        raise RenderError(unblob(str(exc).split("\n")[0]), "templates", 1) from None
    except RecursionError:
        raise RenderError("the document is nested too deeply for the PDF layout",
                          "report/sections", 1) from None
    finally:
        gc.set_threshold(*thresholds)
        logger.removeHandler(collector)
    problems = [m for m in collector.messages if "Ignored" not in m or "url" in m.lower()]
    if problems:
        from .links import unblob

        raise RenderError(f"WeasyPrint: {unblob(problems[0])}", "templates", 1)
    assert isinstance(data, bytes)
    return laid


_FACES: dict[tuple[str, float], tuple[Any, list[Any]]] = {}


def _faces(faces: Path | None, url_fetcher: Any) -> tuple[Any, list[Any]]:
    """The font configuration and @font-face stylesheet for ``faces``, made once per
    process (and per version of the file)."""

    key = (str(faces), faces.stat().st_mtime if faces is not None else 0.0)
    if key not in _FACES:
        _FACES.clear()
        _FACES[key] = _load_faces(faces, url_fetcher)
    return _FACES[key]


def _load_faces(faces: Path | None, url_fetcher: Any) -> tuple[Any, list[Any]]:
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return fonts, [] if faces is None else [weasyprint.CSS(
        filename=str(faces), url_fetcher=url_fetcher, font_config=fonts)]


def _records(document: Any) -> tuple[Any, Any, Any]:
    pages: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    anchors: list[tuple[str, int]] = []
    levels: list[int] = []
    for index, page in enumerate(document.pages):
        strings: list[tuple[str, str]] = []
        for box in page._page_box.descendants():
            if box.string_set and box.string_set != "none":
                strings.extend((name, text) for name, text in box.string_set)
        pages.append((page._page_box.page_type.name or "", tuple(strings)))
        anchors.extend((name, index) for name in page.anchors)
        levels.extend(level for level, *_ in page.bookmarks)
    return tuple(pages), tuple(anchors), tuple(levels)


# --- The page laid out in parts, side by side ------------------------------------------

WORKERS = int(os.environ.get("POLICYBRIEF_PDF_WORKERS", str(min(os.cpu_count() or 1, 4))))
CHUNK = 40_000  # characters of text at most in a part: bounds each process's memory
FRESH = 4  # parts per process beyond which each part gets a process of its own


def _warm() -> None:
    """Start-up of a layout process: WeasyPrint and fontconfig ready before the work."""
    from weasyprint.text.fonts import FontConfiguration

    FontConfiguration()


def _orphan_dies() -> None:
    """In a layout process: die with the process that started it (the forkserver, which
    ends when the build ends, killed or not), never lay out for nobody."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def _lay_out_part(html: str, base: Path, allowed: list[Path], identifier: bytes,
                  seconds: float, megabytes: float, furniture: bool = False) -> Laid:
    """In a layout process: a part without its margin boxes, or (``furniture``) the
    margin boxes of every page, untagged (binding.py marks them as artifacts)."""
    from . import limits

    what = "laying out the PDF's running heads" if furniture else "laying out the PDF"
    with limits.bounded(seconds, megabytes, what):
        return lay_out(html, base, allowed, identifier, part=True, tags=not furniture,
                       margins=furniture)


class Workers:
    """Processes that lay out parts of the page; started as the build begins, so that
    their start-up (importing WeasyPrint, in the forkserver) overlaps the loading and
    checking of the brief. With one worker there are none: the page is laid out whole."""

    def __init__(self, count: int | None = None) -> None:
        self.count = count = WORKERS if count is None else count
        self.pool: Any = None
        self.ready = threading.Event()
        self._closed = False
        self._guard = threading.Lock()
        self._context: Any = None
        if count > 1:
            threading.Thread(target=self._start, name="policybrief-workers",
                             daemon=True).start()
        else:
            self.ready.set()

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["weasyprint", "policybrief.pdf",
                                             "policybrief.reaper"])
            with self._guard:
                if self._closed:
                    return
                self._context = context
                self.pool = ProcessPoolExecutor(self.count, mp_context=context,
                                                initializer=_orphan_dies)
            warm = [self.pool.submit(_warm) for _ in range(self.count)]
            for future in warm:
                future.result()
        except Exception:  # no processes here: the page is laid out whole
            self.pool = None
        finally:
            with self._guard:
                self.ready.set()
                if self._closed and self.pool is not None:
                    self._shut(kill=True)  # the build ended while they started

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
                self.count, mp_context=self._context, initializer=_orphan_dies,
                max_tasks_per_child=1)
        old.shutdown(wait=False)

    def close(self, kill: bool = False) -> None:
        """Stop the processes. A build that ends before they are up (a content error)
        does not wait for them: they stop as soon as they have started."""
        with self._guard:
            self._closed = True
            if self.ready.is_set() and self.pool is not None:
                self._shut(kill)

    def _shut(self, kill: bool) -> None:
        pool, self.pool = self.pool, None
        if kill:
            with pool._shutdown_lock:
                # No process started from here on. A pool of one task per process
                # replaces each that ends: a replacement started after the kill would be
                # left running, and one asked for after shutdown(wait=False) fails in the
                # pool's thread (TypeError) and the build hangs instead of exiting
                # (Python 3.11-3.13: python/cpython#119592, #132969, whose fix this is).
                pool._adjust_process_count = lambda: None
                processes = list(getattr(pool, "_processes", {}).values())
            for process in processes:
                process.kill()
        pool.shutdown(wait=not kill, cancel_futures=True)


def write_pdf(html: str, base: Path, allowed: Iterable[Path], identifier: bytes,
              workers: Workers | None, seconds: float, megabytes: float) -> bytes:
    """The PDF of ``html``: laid out in parts by ``workers`` where the page can be cut
    (parts.py), bound into one (binding.py); else laid out whole, here."""
    from . import parts

    allowed = list(allowed)
    if workers is not None:
        workers.ready.wait()
    # The parts do not depend on the number of processes (nor does anything else in the
    # bytes): one process lays the same parts out one after another, here.
    plan = parts.plan(html, _chunk(html))
    if plan is None:
        return whole(html, base, allowed, identifier)
    if workers is None or workers.pool is None:
        try:
            return _in_parts(plan, base, allowed, identifier, _Inline(), None, seconds,
                             megabytes)
        finally:
            _FACES.clear()  # a build's fonts, let go with the build (not at exit)
    if len(plan.ranges) > FRESH * workers.count:
        workers.one_task_each()
    try:
        return _in_parts(plan, base, allowed, identifier, workers.pool, workers, seconds,
                         megabytes)
    except BaseException:
        workers.close(kill=True)
        raise


class _Inline:
    """A pool of no processes: each task runs at once, here (one layout at a time)."""

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        future: Future[Any] = Future()
        with LOCK:
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:
                future.set_exception(exc)
        return future


# the page is cut into about this many parts (more where CHUNK or the forced page breaks
# say so) on any machine, whatever its number of cores: the plan of the benchmark's
# two-core machine, so its figures hold
PARTS = 2


def _chunk(html: str) -> int:
    """Characters of text per part: the same for any number of layout processes, so
    that the parts, and with them the PDF's bytes, are the same on every machine."""
    from . import parts

    total = parts._weight(html, 0, len(html))
    return max(4_000, min(CHUNK, total // PARTS + 1))


def _in_parts(plan: Any, base: Path, allowed: list[Path], identifier: bytes,
              pool: Any, workers: Workers | None, seconds: float, megabytes: float) -> bytes:
    from . import binding, furniture

    n = len(plan.ranges)

    def submit(index: int, pages: dict[str, int] | None = None) -> Any:
        part = plan.part(index, pages)
        return pool.submit(_lay_out_part, part.html, base, allowed, identifier, seconds,
                           megabytes)

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
        sheets = furniture.sheets(plan.html, [p for i in range(n) for p in laid[i].pages])
        drawn = pool.submit(_lay_out_part, sheets, base, allowed, identifier, seconds,
                            megabytes, furniture=True)
        laid.update({i: future.result() for i, future in final.items()})
        if [laid[i].pages for i in dependent] == before:
            break
    else:
        raise RenderError("the contents do not settle on a number of pages", "templates", 1)
    sheets_pdf = drawn.result().pdf
    # every layout is done: the layout processes end before the binding, the build's
    # largest step in memory
    if workers is not None:
        workers.close()
    return binding.bind([laid[i].pdf for i in range(n)], list(plan.anchors),
                        [laid[i].levels for i in range(n)], sheets_pdf)


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
