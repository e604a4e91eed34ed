"""Stage 6b, the PDF: WeasyPrint lays out the finished HTML with the paged-media CSS.

WeasyPrint fetches whatever the HTML points at (``file://`` included) and only logs a
resource it cannot load. Here its URL fetcher serves ``data:`` URLs and files under the
project's template and asset folders and nothing else, and any warning it logs while
rendering fails the build.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
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

            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(
                f"the brief refers to '{url}', which is outside the project's templates "
                "and assets; only files there and data: URLs are allowed")

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


def write_pdf(html: str, base: Path, allowed: Iterable[Path], language: str,
              identifier: bytes) -> bytes:
    """Lay out ``html`` and return the PDF bytes (tagged, fonts embedded and subset).

    The house faces come from ``fonts/fonts.css`` (see :func:`font_stylesheet`), so the
    PDF looks the same on any machine whatever fonts it has installed.
    """
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
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
        fonts = FontConfiguration()
        url_fetcher = fetcher(allowed)
        stylesheets = []
        faces = font_stylesheet([base, *allowed])
        if faces is not None:
            stylesheets.append(weasyprint.CSS(filename=str(faces), url_fetcher=url_fetcher,
                                              font_config=fonts))
        document = weasyprint.HTML(string=html, base_url=base.as_uri() + "/",
                                   url_fetcher=url_fetcher)
        data = document.write_pdf(stylesheets=stylesheets, font_config=fonts, pdf_tags=True,
                                  pdf_identifier=identifier, custom_metadata=True,
                                  pdf_variant="pdf/ua-1")
    except FatalURLFetchingError as exc:
        raise RenderError(str(exc).split("\n")[0], "templates", 1) from None
    except RecursionError:
        raise RenderError("the document is nested too deeply for the PDF layout",
                          "report/sections", 1) from None
    finally:
        gc.set_threshold(*thresholds)
        logger.removeHandler(collector)
    problems = [m for m in collector.messages if "Ignored" not in m or "url" in m.lower()]
    if problems:
        raise RenderError(f"WeasyPrint: {problems[0]}", "templates", 1)
    assert isinstance(data, bytes)
    return data
