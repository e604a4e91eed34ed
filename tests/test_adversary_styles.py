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
