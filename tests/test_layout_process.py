"""What a layout process keeps from one document to the next, and what it starts with.

A layout process lays out many documents (the parts of the page, the running heads):
it parses the house style once (pdf._stylesheets_once) and starts with the house faces
loaded by the forkserver it is forked from (warmed.py). Neither may change a byte of
what it lays out, nor let a file that a layout reads go unrecorded (the layout cache
trusts that record).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


# Run in a fresh interpreter: the forkserver is started once per process, by the first
# build that asks for layout processes, and loads that build's faces.
FORKED = r"""
import gc, json, os, sys
from pathlib import Path

def probe():
    from policybrief.render.pdf import _FACES, warmed
    inherited = warmed.KEPT[0][0] if warmed.KEPT else None
    folder = getattr(inherited, "_folder", None)
    _FACES.clear()  # as a process does that is handed other faces
    gc.collect()
    return (os.getpid(), len(warmed.KEPT), folder is not None and Path(folder).is_dir(),
            os.environ.get("POLICYBRIEF_LAYOUT_FACES"))

def lay(html, templates):
    from policybrief.render import pdf
    return pdf._lay_out_part(html, templates, [templates], pdf.PART, 60, 2000).pdf

if __name__ == "__main__":
    from policybrief.render import pdf
    templates = Path(sys.argv[1])
    workers = pdf.Workers(2, faces=templates / "fonts" / "fonts.css", allowed=[templates])
    try:
        assert workers.ready.wait(120) and workers.pool is not None
        left = os.environ.get("POLICYBRIEF_LAYOUT_FACES")
        probes = [workers.submit(probe).result() for _ in range(2)]
        html = sys.argv[2]
        forked = workers.submit(lay, html, templates).result()
    finally:
        workers.close()
    pdf._FACES.clear()
    here = pdf._lay_out_part(html, templates, [templates], pdf.PART, 60, 2000).pdf
    print(json.dumps({"left": left, "probes": probes, "same": forked == here}))
"""


def test_layout_processes_start_with_the_faces_loaded(tmp_path: Path) -> None:
    script = tmp_path / "forked.py"
    script.write_text(FORKED, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "POLICYBRIEF_PDF_WORKERS"}
    done = subprocess.run([sys.executable, str(script), str(TEMPLATES), DOCUMENTS[0]],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # the variable that told the forkserver which faces is gone once it has started
    assert found["left"] is None
    for _, kept, folder_there, variable in found["probes"]:
        # forked with the faces loaded; a process letting go of them frees nothing its
        # siblings use; the variable is not in the processes' environment either
        assert kept == 1 and folder_there and variable is None
    assert found["same"]  # the same PDF as laid out here, faces loaded here
