"""The shipped brief: its rules as a program can check them, and its three outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief import citations as cit
from policybrief import evidence
from policybrief.cli import main
from policybrief.model import Project
from policybrief.pipeline import load

from conftest import REPO
from test_pipeline import docx_footnotes, pdf_text

KINDS = {"summary", "background", "motives", "opportunities", "challenges", "scenarios",
         "implications", "method"}


@pytest.fixture(scope="module")
def checked():  # type: ignore[no-untyped-def]
    return load(Project(REPO))


def test_the_brief_checks_clean_even_under_strict(checked) -> None:  # type: ignore[no-untyped-def]
    assert checked.errors == [] and checked.warnings == []


def test_every_section_kind_appears(checked) -> None:  # type: ignore[no-untyped-def]
    assert {s.kind for s in checked.brief.sections} == KINDS


def test_every_analysis_paragraph_has_a_citation(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for text, cited in evidence.analysis_paragraphs(section):
            assert cited, f"{section.path}: uncited paragraph: {text[:80]}"


def test_every_citation_carries_a_verified_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for c in checked.brief.citations:
        assert c.quote, f"{c.path}:{c.line}: citation of {c.key} without a quote"
        assert c in checked.evidence.matches
        assert len(c.quote.split()) <= 25, f"{c.path}:{c.line}: quote too long for fair use"


def test_every_structured_item_has_an_evidence_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for name in ("items", "judgments", "scenarios"):
            for item in section.fields.get(name, []) or []:
                assert item["citations"], f"{section.path}: {name} entry without citations"
                assert all(ref.get("quote") for ref in item["citations"])


def test_every_scenario_is_complete(checked) -> None:  # type: ignore[no-untyped-def]
    scenarios = [s for sec in checked.brief.sections if sec.kind == "scenarios"
                 for s in sec.fields["scenarios"]]
    assert len(scenarios) == 3
    for s in scenarios:
        for field in ("likelihood", "confidence", "attribution", "narrative"):
            assert s[field].strip()
        for field in ("drivers", "indicators", "implications"):
            assert len(s[field]) >= 2, f"scenario {s['id']}: too few {field}"


def test_summary_has_three_to_five_judgments(checked) -> None:  # type: ignore[no-untyped-def]
    summary = next(s for s in checked.brief.sections if s.kind == "summary")
    assert 3 <= len(summary.fields["judgments"]) <= 5


def test_no_bare_handles_and_no_placeholder_text() -> None:
    for path in sorted((REPO / "report").rglob("*.md")):
        text = path.read_text("utf-8")
        assert not cit.parse(text)[1], f"{path}: citation syntax problems"
        for word in ("lorem", "ipsum", "TODO", "TBD", "XXX"):
            assert word not in text, f"{path} contains {word}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    for name in ("report", "seeds", "templates"):
        shutil.copytree(REPO / name, root / name, symlinks=True)
    shutil.copy(REPO / "bibliography.bib", root / "bibliography.bib")
    assert main(["-C", str(root), "-q", "build"]) == 0
    return root / "build"


@pytest.mark.slow
def test_real_brief_renders_every_section_in_every_format(built: Path, checked) -> None:  # type: ignore[no-untyped-def]
    import docx

    titles = [s.title for s in checked.brief.sections]
    text = " ".join(pdf_text(built / "brief.pdf").split())
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html_h2 = [" ".join(h.text_content().split()) for h in page.xpath("//main//h2")]
    document = docx.Document(str(built / "brief.docx"))
    docx_h = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    for title in titles:
        assert title in text
        assert title in html_h2
        assert title in docx_h
    html_notes = page.xpath('//section[@id="footnotes"]//li')
    assert len(html_notes) == len(docx_footnotes(built / "brief.docx")) >= 40
    for label in ("Rasanah – International Institute for Iranian Studies. Rifts Within",
                  "Wikipedia contributors. ‘Sadrist–Khomeinist Conflict’"):
        assert label in text
        assert label in page.text_content()
