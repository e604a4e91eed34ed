"""Adversarial checks of pdf._stylesheets_once (a layout process keeps parsed styles):
the PDF must be the bytes WeasyPrint's own parsing gives."""

from __future__ import annotations

from typing import Any

import pytest

from policybrief.render import pdf
from test_layout_process import HOUSE, lay, page


def _both(monkeypatch: pytest.MonkeyPatch, documents: list[str]) -> tuple[list[Any], list[Any]]:
    import weasyprint.css as css

    pdf._FACES.clear()
    kept = [lay(html) for html in documents]
    monkeypatch.setattr(css, "find_stylesheets", css.find_stylesheets.original)
    monkeypatch.setattr(pdf, "_stylesheets_once", lambda: None)
    pdf._FACES.clear()
    plain = [lay(html) for html in documents]
    pdf._FACES.clear()
    return kept, plain


def test_layers_across_two_style_elements_cascade_as_weasyprint_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint orders the @layer of every <style> of a document in one list (the
    later a layer is declared, the stronger); each style parsed on its own list gives the
    second style's first layer the order 0, weaker than the house style's second layer."""
    house = ("@layer base, house;\n@layer house { h1 { color: #0000ff } }\n"
             "@layer base { h1 { color: #ff0000 } }\n" + HOUSE)
    own = "@layer brand { h1 { color: #00aa00 } }"
    documents = [page(own, "<h1>Layered heading</h1>", house)] * 2
    kept, plain = _both(monkeypatch, documents)
    assert [k.pdf for k in kept] == [p.pdf for p in plain]


def test_each_layout_reports_the_css_weasyprint_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document laid out with a kept house style must still carry the house style's
    pdf.css-ignored note: the layout cache stores each part's notes, and a warm process
    (``brief watch``) lays out an edited part with the sheet kept from the last build."""
    house = "p { colr: red }\n" + HOUSE
    documents = [page("", "<p>First.</p>", house), page("", "<p>Second.</p>", house)]
    kept, plain = _both(monkeypatch, documents)
    assert [bool(p.notes) for p in plain] == [True, True]  # WeasyPrint's own: each time
    assert [k.notes for k in kept] == [p.notes for p in plain]


@pytest.mark.parametrize("rule", [
    "p { colr: red }",  # a warning (pdf.css-ignored): --strict fails on it
    '@font-face { font-family: Nope; src: local("No Such Font Zz") }',  # an error
])
def test_a_warm_rebuild_fails_as_a_cold_build_does(tmp_path: Any, rule: str) -> None:
    """``brief watch --format pdf`` (pdf.kept_warm): a house style WeasyPrint warns
    about (or fails on) as it parses it fails every ``--strict`` build, as a cold build
    does. Observed: after an edit of the section titles, the warm rebuild lays the parts
    out with the sheet kept from the failed build, WeasyPrint says nothing, and the
    rebuild passes (brief watch reports the warning "fixed"; with the face, a PDF is
    written that a clean build refuses)."""
    import re

    from policybrief.commands.cli import main

    from conftest import make_project

    root = make_project(tmp_path / "brief", "real")
    assert main(["-C", str(root), "-q", "templates", "copy", "print.css"]) == 0
    with (root / "templates" / "print.css").open("a", encoding="utf-8") as css:
        css.write(rule + "\n")
    with pdf.kept_warm():
        assert main(["-C", str(root), "-q", "build", "--strict", "--format", "pdf"]) == 1
        for section in sorted((root / "report" / "sections").glob("*.md")):
            section.write_text(re.sub(r'^title: "', 'title: "Edited ', section.read_text(
                "utf-8"), count=1, flags=re.M), "utf-8")
        assert main(["-C", str(root), "-q", "build", "--strict", "--format", "pdf"]) == 1


def test_a_failed_layout_prints_no_traceback(tmp_path: Any) -> None:
    """(Not one of today's changes: the layout cache's callback, since the cache came.)
    When one layout fails, the build cancels the others; the cache's done-callback asks
    each cancelled future for its exception, which raises CancelledError, and
    concurrent.futures logs "exception calling callback" with a traceback, once per
    cancelled part, before the one clear message."""
    import os
    import subprocess
    import sys

    from conftest import make_project

    root = make_project(tmp_path / "brief", "real")
    (root / "templates").mkdir(exist_ok=True)
    from policybrief.assemble import assembly

    css = (assembly.default_templates() / "print.css").read_text("utf-8")
    (root / "templates" / "print.css").write_text(
        css + '\n@font-face { font-family: Nope; src: local("No Such Font Zz") }\n', "utf-8")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1796137044", "CI": "1",
           "POLICYBRIEF_PDF_WORKERS": "2"}
    done = subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root), "build",
                           "--format", "pdf"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 1
    assert "cannot be loaded" in done.stderr
    assert "Traceback" not in done.stderr
