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


def _started(workers: pdf.Workers, where: Path, count: int) -> list[Any]:
    """``count`` tasks of 30 s, each in a process of its own, running (not queued: a
    queued one is cancelled, not waited for)."""
    import time

    import dying

    where.mkdir(exist_ok=True)
    busy = [workers.submit(dying.busy, str(where)) for _ in range(count)]
    deadline = time.monotonic() + 60
    while len(list(where.iterdir())) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(where.iterdir())) == count
    return busy


def test_killed_layout_processes_are_gone_when_close_returns(tmp_path: Path) -> None:
    """A build stopped (Ctrl-C, SIGTERM, a layout that failed) kills its layout
    processes, then sweeps build/.tmp of the folders of processes that have ended
    (pipeline.py): a process killed but still on its way out would look alive, and its
    folder (the faces' copies, megabytes) be left behind. close(kill=True) returns when
    they are gone, each time (the race was one stop in five in a loop)."""
    from policybrief import scratch

    build = tmp_path / "build"
    for round in range(3):
        workers = pdf.Workers(2, eager=2, build=build)
        try:
            assert workers.ready.wait(60) and workers.pool is not None
            busy = _started(workers, tmp_path / f"busy{round}", 2)
            folders = [p.name for p in (build / scratch.TMP).iterdir()]
            assert len(folders) == 2  # one for each process
        finally:
            workers.close(kill=True)
        scratch.sweep(build)
        assert list((build / scratch.TMP).iterdir()) == [], folders
        assert all(future.done() for future in busy)


def test_a_replaced_pool_and_an_interrupted_close_leave_no_process(tmp_path: Path) -> None:
    """The processes of a pool replaced by one_task_each (a long brief), still laying
    out, are killed with the others; Ctrl-C while close() waits for its processes kills
    them rather than leave them to die with the build, their folders behind."""
    import os
    import signal
    import threading

    from policybrief import scratch

    build = tmp_path / "build"
    workers = pdf.Workers(2, eager=2, build=build)
    assert workers.ready.wait(60) and workers.pool is not None
    old = _started(workers, tmp_path / "old", 2)
    workers.one_task_each()
    workers.close(kill=True)
    scratch.sweep(build)
    assert list((build / scratch.TMP).iterdir()) == []
    assert all(future.done() for future in old)

    workers = pdf.Workers(2, eager=2, build=build)
    assert workers.ready.wait(60) and workers.pool is not None
    busy = _started(workers, tmp_path / "busy", 2)
    # (a signal, as Ctrl-C sends: it breaks the wait, where interrupt_main would not)
    ctrl_c = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.close()  # (waits for the tasks of 30 s: interrupted)
    finally:
        ctrl_c.cancel()
    scratch.sweep(build)
    assert list((build / scratch.TMP).iterdir()) == []
    assert all(future.done() for future in busy)


def test_a_build_stopped_while_its_layout_processes_start_leaves_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build stopped (Ctrl-C, SIGTERM, a content error) while its layout processes
    are still starting: close() kills those started and returns when they are gone, so
    the build's sweep of build/.tmp that follows removes their folders. (It left them
    to the thread that starts them, which killed them once they were up: after the
    sweep, or never, the build having ended; their folders stayed, one stop in four.)"""
    import time

    import dying
    from policybrief import scratch

    monkeypatch.setattr(pdf, "_process_start", dying.slow_start)
    build = tmp_path / "build"
    workers = pdf.Workers(2, eager=2, build=build)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
                not (build / scratch.TMP).is_dir()
                or len(list((build / scratch.TMP).iterdir())) < 2):
            time.sleep(0.02)
        assert len(list((build / scratch.TMP).iterdir())) == 2  # one for each process
        assert not workers.ready.is_set()  # (started, still starting: 30 s)
    finally:
        start = time.monotonic()
        workers.close()
        took = time.monotonic() - start
    scratch.sweep(build)
    assert list((build / scratch.TMP).iterdir()) == []
    assert took < pdf.KILLED
    assert workers.ready.wait(30) and workers.pool is None
    assert workers.submit(int) is None  # (none started after)


def test_the_forkserver_leaves_a_stop_to_the_build(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM to the whole process group (a terminal, a service manager's
    stop, `timeout`): the build answers it, killing its layout processes and waiting,
    through their forkserver, for them to be gone before it sweeps build/.tmp. The
    forkserver ignores both (a SIGTERM ended it, and the build's wait with it: their
    folders could be left); a layout process ignores Ctrl-C and keeps SIGTERM's default
    (the pool ends the others with it when one breaks, and waits for them)."""
    import os
    import signal
    import time
    from multiprocessing import forkserver

    from policybrief import scratch

    workers = pdf.Workers(2, eager=2, build=tmp_path / "build")
    try:
        assert workers.ready.wait(60) and workers.pool is not None
        server = forkserver._forkserver._forkserver_pid
        assert server is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            os.kill(server, signum)
        time.sleep(0.5)
        assert scratch.alive(server)  # (not a zombie either)
        workers.one_task_each()  # (each task now in a process forked after the signals)
        assert workers.submit(signal.getsignal, signal.SIGINT).result(60) == signal.SIG_IGN
        assert workers.submit(signal.getsignal, signal.SIGTERM).result(60) == signal.SIG_DFL
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


FIGURE = ('<svg xmlns="http://www.w3.org/2000/svg" width="120mm" height="40mm" '
          'viewBox="0 0 120 40" font-family="Noto Sans" font-size="5">'
          '<text x="4" y="10">Tolerance AVA <tspan font-weight="bold">Wave</tspan> end'
          '</text><text x="60" y="20" text-anchor="middle">centred To</text>'
          '<text x="4 10 16 22" y="32">WAVE</text></svg>')


def _figure_text(data: bytes) -> tuple[int, list[tuple[str, float]]]:
    """The PDF's text-showing operators (in its pages and forms, drawn once each) and
    its characters with their left edges, as a reader of the PDF finds them."""
    import io

    import pdfplumber
    import pikepdf

    shown = {pikepdf.Operator(name) for name in ("Tj", "TJ", "'", '"')}

    def shows(content: Any, seen: set[tuple[int, int]]) -> int:
        count = sum(op in shown for _, op in pikepdf.parse_content_stream(content))
        xobjects = content.get("/Resources", {}).get("/XObject", {})
        for name in xobjects:
            form = xobjects[name]
            if form.get("/Subtype") == "/Form" and form.objgen not in seen:
                seen.add(form.objgen)
                count += shows(form, seen)
        return count

    with pikepdf.open(io.BytesIO(data)) as document:
        operators = sum(shows(p.obj, set()) for p in document.pages)
    with pdfplumber.open(io.BytesIO(data)) as read:
        chars = [(c["text"], round(c["x0"], 2)) for c in read.pages[0].chars]
    return operators, chars


def test_an_svg_text_is_drawn_in_one_run_unless_it_places_its_letters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A text that places no letter of its own is drawn as one run (one operator for the
    whole text, its words kerned), at the place WeasyPrint draws its first letter; one
    that places its letters (``x="4 10 16 22"``) is drawn letter by letter, as before."""
    import sys

    import weasyprint.svg as package

    html = page("", f"<p>Figure:</p>{FIGURE}")
    pdf._svg_text_in_runs_once()
    runs = _figure_text(lay(html).pdf)
    # WeasyPrint's own drawing: every letter a layout and an operator of its own
    own = sys.modules["weasyprint.svg.text"].text  # (its module keeps the original)
    monkeypatch.setattr(pdf, "_svg_text_in_runs_once", lambda: None)
    monkeypatch.setattr(package, "text", own)
    monkeypatch.setattr(package, "TAGS", {t: own if getattr(f, "_policybrief", False)
                                          else f for t, f in package.TAGS.items()})
    letters = _figure_text(lay(html).pdf)

    text, own_text = "".join(c for c, _ in runs[1]), "".join(c for c, _ in letters[1])
    assert text.replace(" ", "") == own_text.replace(" ", "")
    # the words apart, as a reader copies them (letter by letter, the spaces are lost)
    assert "Tolerance AVA Wave end" in text and "centred To" in text and "WAVE" in text
    assert "Tolerance AVA" not in own_text
    # one operator per run (the paragraph's and the page number's, the 3 runs of the
    # first text, the centred one, and one for each of the 4 placed letters), against
    # one per letter
    assert runs[0] == 2 + 3 + 1 + 4
    assert letters[0] == 2 + len("ToleranceAVAWaveendcentredTo") + 4  # (a space: none)
    # each text starts where WeasyPrint starts it (the centred one by half its kerning:
    # "To" is kerned)
    assert abs(runs[1][7][1] - letters[1][7][1]) < 0.01  # (the T after "Figure:")
    centred = [i for i, (c, _) in enumerate(runs[1]) if c == "c"][-1]
    assert abs(runs[1][centred][1] - letters[1][centred - 3][1]) < 1  # (3 spaces)
    placed = [x for c, x in runs[1] if c in "WAVE"][-4:]
    assert placed == [x for c, x in letters[1] if c in "WAVE"][-4:]


def test_an_svg_text_with_a_line_separator_is_drawn_letter_by_letter() -> None:
    """A line or paragraph separator in an SVG text (U+2028, U+2029, U+0085: what some
    drawing programs write for a line break) would end the run's one line, the words
    after it lost, or be drawn as a missing glyph (an error): such a text is drawn
    letter by letter, as WeasyPrint draws it, every word kept."""
    import io

    import pdfplumber

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="120mm" height="40mm" '
           'viewBox="0 0 120 40" font-family="Noto Sans" font-size="5">'
           '<text x="4" y="10">one&#x2028;two</text><text x="4" y="20">three&#x2029;four'
           '</text><text x="4" y="30">five&#x85;six</text></svg>')
    pdf._svg_text_in_runs_once()
    laid = lay(page("", f"<p>Figure:</p>{svg}"))  # (a missing glyph: RenderError)
    with pdfplumber.open(io.BytesIO(laid.pdf)) as read:
        text = "".join(c["text"] for c in read.pages[0].chars)
    assert all(word in text for word in ("one", "two", "three", "four", "five", "six"))


def _stopped_in_a_figure(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ctrl-C (a KeyboardInterrupt) the moment WeasyPrint draws a figure's first shape."""
    import weasyprint.svg as package

    drawn: list[str] = []
    original = package.SVG.draw_node

    def draw_node(self: Any, node: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(node.tag)
        if len(drawn) == 1:
            raise KeyboardInterrupt
        return original(self, node, *args, **kwargs)

    monkeypatch.setattr(package.SVG, "draw_node", draw_node)
    return drawn


def test_a_stop_while_a_figure_is_drawn_stops_the_layout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint draws an SVG inside an ``except BaseException`` that logs "Failed to
    render SVG image": a Ctrl-C there was lost, and the layout went on. It stops it."""
    drawn = _stopped_in_a_figure(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        lay(page("", f"<p>Figure:</p>{FIGURE}<p>After.</p>"))
    assert drawn
    drawn.clear()  # (a figure drawn after: no stop, drawn as before)
    drawn.append("svg")
    laid = lay(page("", f"<p>Figure:</p>{FIGURE}<p>After.</p>"))
    assert laid.pdf.startswith(b"%PDF") and len(drawn) > 1


def test_a_build_stopped_while_it_draws_a_figure_says_interrupted(
        real: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The brief laid out in the build's own process (one free core, or
    POLICYBRIEF_PDF_WORKERS=1), Ctrl-C as a figure is drawn: the build stops, says
    "interrupted" (130), and writes nothing; it used to end with "WeasyPrint: Failed to
    render SVG image" (1), as if the figure were broken."""
    from policybrief.commands.cli import main

    monkeypatch.setattr(pdf, "WORKERS", 1)
    drawn = _stopped_in_a_figure(monkeypatch)
    assert main(["-C", str(real), "build", "--format", "pdf"]) == 130
    assert drawn
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == "interrupted", err
    assert "SVG" not in err
    assert not (real / "build" / "brief.pdf").exists()
