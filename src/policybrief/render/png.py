"""The figures and the logo as PNG, for Word (which takes no SVG).

In: an SVG (a figure's print SVG, the house logo) and its size. Out: PNG bytes, drawn
by WeasyPrint as a one-page PDF and rasterised by PDFium, one WeasyPrint at a time in
this process (:data:`policybrief.render.pdf.LOCK`).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..assemble.figures import Figure
    from ..model import House

DPI = 200  # the PNG for Word


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def to_png(svg: str, width: float, height: float, dpi: int = DPI) -> bytes:
    """Rasterise an SVG of ``width`` × ``height`` mm: WeasyPrint's PDF, then PDFium."""
    import io

    import pypdfium2

    from .pdf import libraries

    libraries.load()
    import weasyprint

    uri = "data:image/svg+xml;base64," + _b64(svg.encode("utf-8"))
    page = (f"<style>@page {{ size: {width}mm {height}mm; margin: 0 }} body {{ margin: 0 }}"
            f"img {{ display: block; width: {width}mm; height: {height}mm }}</style>"
            f'<img src="{uri}" alt="">')
    import logging

    from ..errors import RenderError
    from .pdf import LOCK, _Collector, fetcher, sort_record, weasyprint_fixed

    weasyprint_fixed()  # (drawn as in the PDF)
    collector = _Collector()
    logger = logging.getLogger("weasyprint")
    with LOCK:
        # the one confining fetcher, with no folder at all: the figure is a data: URL,
        # and whatever it refers to beyond (an <image href>) is refused; WeasyPrint only
        # logs an image it could not draw, which is an error here
        logger.addHandler(collector)
        try:
            pdf = weasyprint.HTML(string=page, url_fetcher=fetcher([])).write_pdf()
        finally:
            logger.removeHandler(collector)
    # what does not fail a PDF (a font subset with fontTools, …) does not fail an image
    failed = [r.getMessage() for r in collector.records if sort_record(r) == "error"]
    if failed:
        from ..links import shown, unblob

        raise RenderError("the image could not be drawn: " + shown(unblob(failed[0]), 160))
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    # zlib's default level: optimize=True saves 2% of the bytes for four times the time
    image.convert("RGB").save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


def figure_png(figure: Figure) -> bytes:
    return to_png(*figure.png_source)


def stand_in(png: bytes) -> bytes:
    """A small PNG that tells pandoc all it reads of ``png`` to place it in a DOCX: the
    size in pixels and the resolution, from which it sizes the drawing. The pixels are
    blank, one bit each; a text chunk carries the real image's digest, so two figures
    share a stand-in only if they share the image (pandoc would put a shared one in the
    package once). pandoc parses a data: URL of a few hundred bytes instead of one of
    hundreds of kilobytes; the real PNG replaces it in the package
    (:func:`policybrief.render.docx.finished`)."""
    import io

    from PIL import Image, PngImagePlugin

    with Image.open(io.BytesIO(png)) as real:  # (the header only: the pixels are not read)
        size, dpi = real.size, real.info.get("dpi")
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "stand-in for " + hashlib.sha256(png).hexdigest())
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG", optimize=True, pnginfo=text,
                              **({"dpi": dpi} if dpi else {}))
    return out.getvalue()


def logo_png(house: House, width_px: int = 600) -> bytes:
    """The logo as PNG, for Word (which takes no SVG): SVG is drawn by WeasyPrint."""
    if house.logo_type != "image/svg+xml":
        return house.logo_bytes
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(house.logo_bytes, parser)
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        width, height = (float(box[2]), float(box[3])) if len(box) == 4 else (
            float(str(root.get("width", "300")).rstrip("px")),
            float(str(root.get("height", "100")).rstrip("px")))
    except ValueError:
        width, height = 300.0, 100.0
    if not (0 < width < 10_000 and 0 < height < 10_000):
        width, height = 300.0, 100.0
    return to_png(house.logo_bytes.decode("utf-8"), width, height,
                  dpi=max(72, round(width_px / max(width, 1) * 96)))
