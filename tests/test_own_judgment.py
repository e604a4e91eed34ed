"""The brief's own judgment, marked as a span ``[sentence]{.own}`` or a fenced div
``::: own`` … ``:::``: checked like any other paragraph, invisible in every output."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief.commands.cli import main
from policybrief.model import Project
from policybrief.pipeline import load

from conftest import make_tiny
from test_pipeline import pdf_text

BODY = """\
---
kind: background
title: "Background"
---
The rivalry took shape during the civil war [@wikipedia-sadrist-khomeinist, quote "Iraqi Shia militias disagreed over Iran"]. [In our reading the split still shapes 2024.]{.own}

::: own
The withdrawal of 2022 looks tactical to us{CITE}.
:::

::: own
Compact divs are paragraphs too{CITE}.
:::
"""
CITE = ' [@rasanah2024rifts, quote "Sadr\'s own retirement from politics"]'


def project(root: Path, cite: str) -> Path:
    make_tiny(root)
    (root / "report" / "sections" / "01-background.md").write_text(
        BODY.replace("{CITE}", cite), "utf-8")
    return root


def test_an_own_paragraph_still_cites_what_it_rests_on(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "")
    warnings = load(Project(root)).warnings
    lines = (root / "report/sections/01-background.md").read_text().splitlines()
    assert [(f.rule, f.line) for f in warnings] == [
        ("paragraph.uncited", lines.index("The withdrawal of 2022 looks tactical to us.") + 1),
        ("paragraph.uncited", lines.index("Compact divs are paragraphs too.") + 1)]


@pytest.mark.slow
def test_own_spans_and_divs_leave_no_mark_in_any_format(tmp_path: Path) -> None:
    import docx

    root = project(tmp_path / "p", CITE)
    assert main(["-C", str(root), "-q", "build", "--strict"]) == 0
    build = root / "build"
    page = lhtml.fromstring((build / "brief.html").read_bytes())
    assert page.xpath('//span[@class="own"]') and page.xpath('//div[@class="own"]')
    document = docx.Document(str(build / "brief.docx"))
    texts = [" ".join(pdf_text(build / "brief.pdf").split()),
             " ".join(page.text_content().split()),
             " ".join(" ".join(p.text for p in document.paragraphs).split())]
    for text in texts:
        assert "In our reading the split still shapes 2024." in text
        assert "The withdrawal of 2022 looks tactical to us" in text
        for mark in (":::", "{.own}", ".own", "own}"):
            assert mark not in text
