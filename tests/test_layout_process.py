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


@pytest.fixture(autouse=True)
def _faces_let_go() -> Any:
    """Each test's faces let go with it (as a build lets go of its own)."""
    yield
    pdf._FACES.clear()


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


def test_binding_beside_the_running_heads_gives_the_same_pdf(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A short page's parts are bound while a layout process still lays out its running
    heads (pdf.BESIDE); a long one's once every layout is done. The same bytes either
    way."""
    import shutil

    from policybrief.commands.cli import main

    from conftest import make_project

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796137044")
    root = make_project(tmp_path / "brief", "tiny")
    outputs = {}
    for beside in (pdf.BESIDE, 0):
        monkeypatch.setattr(pdf, "BESIDE", beside)
        shutil.rmtree(root / "build", ignore_errors=True)
        assert main(["-C", str(root), "-q", "build", "--format", "pdf"]) == 0
        outputs[beside] = (root / "build" / "brief.pdf").read_bytes()
    assert outputs[pdf.BESIDE] == outputs[0]


def test_the_running_heads_are_asked_for_once_the_parts_are_joined() -> None:
    import io

    import pikepdf

    from policybrief.render.pdf import binding

    def one_page(text: str) -> bytes:
        return lay(page("", f"<p>{text}</p>")).pdf

    parts = [one_page("first"), one_page("second")]
    asked: list[int] = []
    sheets = lay(page("", "<p>x</p><p style='break-before: page'>y</p>")).pdf

    def furniture() -> bytes:
        asked.append(1)
        return sheets

    bound = binding.bind(parts, [frozenset(), frozenset()], [(), ()], furniture)
    assert asked == [1]
    assert len(pikepdf.open(io.BytesIO(bound)).pages) == 2
    assert bound == binding.bind(parts, [frozenset(), frozenset()], [(), ()], sheets)


def _interrupt_handler() -> Any:
    import signal

    return signal.getsignal(signal.SIGINT)


def test_a_layout_process_leaves_ctrl_c_to_the_build(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group; the build answers it (it ends its layout
    processes and says "interrupted"), so a layout process ignores it rather than print
    a traceback of its own, waiting for work or laying out."""
    import signal

    for fresh in (False, True):
        workers = pdf.Workers(2, eager=1, build=tmp_path / "build")
        try:
            assert workers.ready.wait(60) and workers.pool is not None
            if fresh:
                workers.one_task_each()
            assert workers.submit(_interrupt_handler).result(60) == signal.SIG_IGN
        finally:
            workers.close(kill=True)


def test_a_layout_process_killed_from_outside_is_one_clear_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A layout process killed while it works (the system's out-of-memory killer, say):
    the build says so in one line, exit status 1, and the outputs stay as they were;
    not an internal error."""
    import dying
    from policybrief.commands.cli import main

    from conftest import make_project

    root = make_project(tmp_path / "brief", "real")
    monkeypatch.setattr(pdf, "WORKERS", 2)
    monkeypatch.setattr(pdf, "_lay_out_part", dying.lay_out_part)
    assert main(["-C", str(root), "-q", "build", "--format", "pdf"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[render]: a process laying out the PDF ended before its part "
                          "was done"), err
    assert "Traceback" not in err and "internal error" not in err
    assert not (root / "build" / "brief.pdf").exists()


def test_glyph_lists_are_made_without_a_c_type_per_length(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Subsetting a face makes arrays of glyphs of every length; cffi would parse a type
    for each new length (pycparser, milliseconds each). The layout asks for none, and
    its PDFs are the bytes of WeasyPrint's own arrays."""
    import re

    import weasyprint.pdf.fonts as fonts

    lengths = ["Ab", "Ab cd ef", "Ab cd ef gh ij", "Ab cd ef gh ij kl mn op"]  # new glyphs
    documents = [page("", f"<p>{t} <em>{t}</em> <strong>{t}</strong></p>") for t in lengths]
    pdf._glyph_arrays_once()
    asked: list[str] = []
    real = fonts.ffi._ffi
    wrapped = fonts.ffi

    class Counting:
        def new(self, ctype: Any, init: Any = None) -> Any:
            asked.append(ctype)
            return real.new(ctype, init)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(wrapped, "_ffi", Counting())
    kept = [lay(html) for html in documents]
    subsets = [c for c in asked if c.startswith("hb_codepoint_t")]
    assert subsets and set(subsets) == {"hb_codepoint_t[]"}  # one type, whatever the length

    # the same documents with WeasyPrint's own arrays, a type for each length
    monkeypatch.setattr(pdf, "_glyph_arrays_once", lambda: None)
    asked.clear()
    monkeypatch.setattr(fonts, "ffi", Counting())
    pdf._FACES.clear()
    plain = [lay(html) for html in documents]
    assert len({c for c in asked if re.fullmatch(r"hb_codepoint_t\[\d+\]", c)}) > 3
    assert [k.pdf for k in kept] == [p.pdf for p in plain]


def test_glyph_arrays_hold_the_values_asked_for() -> None:
    """The wrapped ``ffi`` sizes an array by its values only when the type says that many;
    anything else is cffi's own answer (an empty array of a size, a type it cannot read)."""
    from weasyprint.text.ffi import ffi

    arrays = pdf._Arrays(ffi)
    values = [5, 3, 9, 70000]
    made = arrays.new(f"hb_codepoint_t[{len(values)}]", values)
    assert list(made) == values and ffi.sizeof(made) == ffi.sizeof("hb_codepoint_t") * 4
    zeros = arrays.new("hb_codepoint_t[3]")  # no values: three zeros, as cffi makes them
    assert list(zeros) == [0, 0, 0]
    with pytest.raises(IndexError):  # more values than the type holds: cffi's own error
        arrays.new("hb_codepoint_t[2]", values)
    assert arrays.sizeof("int") == ffi.sizeof("int")


def test_a_weasyprint_whose_fonts_module_has_no_ffi_is_left_as_it_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another WeasyPrint (its subsetting moved or rewritten): the layout goes on with
    it unchanged, rather than failing on the fix meant for this one."""
    import weasyprint.pdf.fonts as fonts

    monkeypatch.delattr(fonts, "ffi")
    pdf._glyph_arrays_once()
    assert not hasattr(fonts, "ffi")


def test_glyph_arrays_read_a_length_as_c_reads_it() -> None:
    """A length written with a leading zero is octal in C (``int[010]`` holds eight): the
    wrapped ``ffi`` gives what cffi gives, never an array of the decimal reading."""
    from weasyprint.text.ffi import ffi

    arrays = pdf._Arrays(ffi)
    with pytest.raises(IndexError):  # ten values for eight places: cffi's own error
        ffi.new("int[010]", list(range(10)))
    with pytest.raises(IndexError):
        arrays.new("int[010]", list(range(10)))
    made = arrays.new("int[010]", list(range(8)))
    assert list(made) == list(range(8)) and ffi.sizeof(made) == ffi.sizeof("int[8]")
    assert list(arrays.new("int[0]", [])) == []
