"""What a layout process keeps from one document to the next.

A layout process lays out many documents (the parts of the page, the running heads):
it parses the house style once (pdf._stylesheets_once). That may not change a byte of
what it lays out, nor let a file that a layout reads go unrecorded (the layout cache
trusts that record).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policybrief.assemble import assembly
from policybrief.render import pdf

TEMPLATES = assembly.default_templates()
FACES = TEMPLATES / "fonts" / "fonts.css"
# a house style long enough to be kept (over 2 kB), with what parsing adds to the
# document beside the sheet: an @page rule with a margin box, a counter style
HOUSE = ("@page { size: A5; margin: 20mm; @bottom-right { content: 'p. ' counter(page); "
         "font-family: 'Noto Sans'; font-size: 8pt } }\n"
         "@counter-style thumbs { system: cyclic; symbols: '*' '+'; suffix: ' '; }\n"
         "body { font-family: 'Noto Serif'; font-size: 10pt; hyphens: auto }\n"
         "ol.t { list-style: thumbs }\n"
         + "".join(f".filler-{i} {{ margin-left: {i}px; color: #123456 }}\n"
                   for i in range(80)))


def page(own: str, body: str, house: str = HOUSE) -> str:
    return (f'<!DOCTYPE html><html lang="en-GB"><head><style>{house}</style>'
            f"<style>{own}</style></head><body>{body}</body></html>")


DOCUMENTS = [
    page("h1 { color: #a00 }", "<h1>First</h1><ol class=t><li>one</li><li>two</li></ol>"
         "<p>" + "A paragraph long enough to be hyphenated and broken. " * 30 + "</p>"),
    page("@page :first { @top-left { content: 'Second' } } h1 { color: #0a0 }",
         "<h1>Second</h1><ol class=t><li>three</li></ol><p>Another text.</p>"),
    page("h1 { color: #00a }", "<h1>Third</h1><p>" + "Short. " * 400 + "</p>"),
]


def lay(html: str) -> Any:
    return pdf.lay_out(html, TEMPLATES, [TEMPLATES], pdf.PART, part=True)


def test_the_house_style_is_parsed_once_and_the_pdfs_are_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint.css as css

    pdf._FACES.clear()
    kept = [lay(html) for html in DOCUMENTS]
    fonts = pdf._FACES[str(FACES)][0]
    sheets = fonts._policybrief_sheets
    assert len(sheets) == 1  # the house style; each document's own style is too short
    (house_sheet, _, _), = sheets.values()
    assert house_sheet.page_rules  # the @page rules stay with their sheet

    # the same documents, each parsed whole by WeasyPrint itself
    monkeypatch.setattr(css, "find_stylesheets", css.find_stylesheets.original)
    monkeypatch.setattr(pdf, "_stylesheets_once", lambda: None)
    pdf._FACES.clear()
    plain = [lay(html) for html in DOCUMENTS]
    pdf._FACES.clear()
    assert [k.pdf for k in kept] == [p.pdf for p in plain]
    assert [k.pages for k in kept] == [p.pages for p in plain]


def test_a_style_that_fetches_is_read_for_each_document(tmp_path: Path) -> None:
    """A style element that imports a file is parsed again for each document, so that
    each layout records the file it read (a changed import lays the part out again)."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "more.css").write_text("h1 { color: #a00 }", "utf-8")
    house = '@import url("more.css");\n' + HOUSE
    pdf._FACES.clear()
    try:
        for _ in range(2):
            laid = pdf.lay_out(page("", "<h1>Imported</h1>", house), templates,
                               [templates, TEMPLATES], pdf.PART, part=True)
            assert str((templates / "more.css").resolve()) in dict(laid.files)
        (fonts, *_), = pdf._FACES.values()
        assert fonts._policybrief_sheets == {}
    finally:
        pdf._FACES.clear()


def test_a_link_to_a_stylesheet_is_read_as_weasyprint_reads_it(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "house.css").write_text(HOUSE, "utf-8")
    html = ('<!DOCTYPE html><html lang="en"><head><link rel="stylesheet" href="house.css"><style>'
            + HOUSE + "</style></head><body><p>Linked.</p></body></html>")
    pdf._FACES.clear()
    try:
        for _ in range(2):
            laid = pdf.lay_out(html, templates, [templates, TEMPLATES], pdf.PART, part=True)
            assert str((templates / "house.css").resolve()) in dict(laid.files)
        (fonts, *_), = pdf._FACES.values()
        assert fonts._policybrief_sheets == {}
    finally:
        pdf._FACES.clear()
