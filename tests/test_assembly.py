"""The assembled documents against committed expected files (refresh: ``make golden``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policybrief.assemble import assembly, variables
from policybrief.model import Project
from policybrief.pipeline import check

from conftest import make_tiny

GOLDEN = Path(__file__).parent / "golden"


def assembled(root: Path) -> str:
    checked = check(Project(root))
    locators = checked.evidence.locators
    return assembly.assemble(checked.brief, locators, checked.evidence.matches,
                             variables.context(checked.brief, locators))


def compare(name: str, actual: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, "utf-8")
    assert path.is_file(), f"{path} is missing: run 'make golden'"
    assert actual == path.read_text("utf-8"), f"{name} changed: review, then 'make golden'"


def test_tiny_markdown(tmp_path: Path, update_golden: bool) -> None:
    compare("tiny.md", assembled(make_tiny(tmp_path / "p")), update_golden)


def test_tiny_markdown_is_plain_pandoc(tmp_path: Path) -> None:
    text = assembled(make_tiny(tmp_path / "p"))
    assert 'quote "' not in text  # the evidence syntax never reaches pandoc
    assert "[@rasanah2024rifts, ¶ 13 []{.ev" in text
    assert "{#" not in text.replace("{ #", "")  # Jinja comments never eat pandoc ids


@pytest.mark.slow
def test_tiny_html_body(tmp_path: Path, update_golden: bool) -> None:
    from lxml import html as lhtml

    from policybrief.commands.cli import main

    root = make_tiny(tmp_path / "p")
    assert main(["-C", str(root), "-q", "build", "--format", "html"]) == 0
    page = lhtml.fromstring((root / "build/brief.html").read_bytes())
    main_element = page.find(".//main")
    body = lhtml.tostring(main_element, encoding="unicode", method="html")
    compare("tiny.main.html", body, update_golden)


def test_recommendations_markdown(tmp_path: Path, update_golden: bool) -> None:
    """Key judgments with ids, recommendations linked to them, own-judgment marks and
    "About this brief" as the templates write them."""
    from test_recommendations import project, recommendations

    root = project(tmp_path / "p", recommendations())
    brief = root / "report" / "brief.yaml"
    brief.write_text(brief.read_text("utf-8") + 'about: "The Test Analysis Desk writes '
                     'briefs."\nsuggested_citation: "Ada Analyst. Rifts. Test Briefs 7."\n',
                     "utf-8")
    background = root / "report" / "sections" / "01-background.md"
    background.write_text(background.read_text("utf-8") + "\n::: own\n[Our view.]{.own} "
                          '[@rasanah2024rifts, quote "Sadr\'s own retirement from '
                          'politics"]\n:::\n', "utf-8")
    text = assembled(root)
    compare("recommendations.md", text, update_golden)
    assert "[]{ #judgment-no-deal}A Maliki" in text
    assert "[key\\ judgment\\ 2](#judgment-no-deal)" in text  # no-break spaces
