"""Citations that prove themselves, on the real seeds: quotes, locators, the appendix."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lhtml
from pypdf import PdfReader

from policybrief.commands.cli import main

from conftest import make_tiny, write
from test_pipeline import pdf_text


def background(body: str) -> str:
    return f'---\nkind: background\ntitle: "Background"\n---\n{body}\n'


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


@pytest.mark.parametrize("quote", [
    # spans the PDF page break "pow-" / blank lines / "er" in the position paper
    "the pillars of Sadr's power and his formidable leverage",
    # curly apostrophe in the brief, straight one in the source
    "the pillars of Sadr’s power",
])
def test_quote_verifies_across_page_break_and_quote_styles(tiny: Path, quote: str,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    write(tiny / "report/sections/01-background.md",
          background(f'Sadr keeps real leverage.[@rasanah2024rifts, quote "{quote}"]'))
    assert run(tiny, "check") == 0, capsys.readouterr().err
    assert "2 quotes verified" in capsys.readouterr().out


def test_curly_quote_delimiters_are_accepted(tiny: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    write(tiny / "report/sections/01-background.md",
          background("Sadr keeps leverage.[@rasanah2024rifts, quote “pillars of Sadr's power”]"))
    assert run(tiny, "check") == 0, capsys.readouterr().err


def test_changed_word_fails_with_the_closest_passage(tiny: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    write(tiny / "report/sections/01-background.md", background(
        'Sadr keeps leverage.[@rasanah2024rifts, quote "the pillars of Sadr\'s power and his '
        'enormous leverage"]'))
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert "report/sections/01-background.md:5:23: error[quote.not-found]: quote not found in " \
           "'rasanah2024rifts'" in err
    assert "did you mean “the pillars of Sadr's power and his formidable leverage" in err
    assert "(¶ 22, 87%)" in err


def test_wrong_paragraph_number_is_caught_and_fixed(tiny: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny / "report/sections/02-motives.md"
    text = path.read_text("utf-8").replace(
        '      - key: "rasanah2024rifts"\n',
        '      - key: "rasanah2024rifts"\n        locator: "¶ 12"\n')
    path.write_text(text, "utf-8")
    write(tiny / "report/sections/01-background.md", background(
        'Militias split.[@wikipedia-sadrist-khomeinist, ¶ 9, quote "Iraqi Shia militias '
        'disagreed over Iran"]'))
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert ("report/sections/01-background.md:5:18: error[locator.mismatch]: locator ¶ 9 of "
            "'wikipedia-sadrist-khomeinist' does not match the quote, which is in ¶ 3") in err
    assert "02-motives.md:11:9: error[locator.mismatch]: locator ¶ 12 of 'rasanah2024rifts' " \
           "does not match" in err
    assert run(tiny, "check", "--fix-locators") == 0
    assert '¶ 3, quote "Iraqi Shia militias' in \
        (tiny / "report/sections/01-background.md").read_text("utf-8")
    assert 'locator: "¶ 13"' in path.read_text("utf-8")
    assert run(tiny, "check") == 0


def test_paragraph_that_does_not_exist_is_an_error(tiny: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write(tiny / "report/sections/01-background.md",
          background("A claim.[@wikipedia-sadrist-khomeinist, ¶ 400]"))
    assert run(tiny, "check") == 1
    assert "'wikipedia-sadrist-khomeinist' has no ¶ 400" in capsys.readouterr().err


def test_missing_locator_is_filled_in_from_the_quote(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    assert run(root, "build", "--format", "html") == 0
    page = lhtml.fromstring((root / "build/brief.html").read_bytes())
    notes = [li.text_content() for li in page.xpath('//section[@id="footnotes"]//li')]
    assert "para. 3" in notes[0] and "para. 13" in notes[2]


def appendix_rows_html(path: Path) -> list[list[str]]:
    page = lhtml.fromstring(path.read_bytes())
    section = page.get_element_by_id("evidence-appendix")
    return [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
            for tr in section.xpath(".//tbody/tr")]


def test_evidence_appendix_has_the_same_rows_in_every_format(tmp_path: Path) -> None:
    import docx

    root = make_tiny(tmp_path / "p")
    assert run(root, "build") == 0
    rows = appendix_rows_html(root / "build/brief.html")
    assert [r[1:3] for r in rows] == [["Wikipedia (n.d.)", "¶ 3"], ["Rasanah (2024)", "¶ 3"],
                                      ["Rasanah (2024)", "¶ 13"]]
    assert rows[2][3] == "“revealed a stark division among Shiite groups”"
    document = docx.Document(str(root / "build/brief.docx"))
    docx_rows = [[" ".join(c.text.split()) for c in row.cells]
                 for table in document.tables for row in table.rows[1:]]
    assert docx_rows == rows
    text = " ".join(pdf_text(root / "build/brief.pdf").split())
    assert "Evidence appendix" in text
    for row in rows:
        assert row[1] in text and row[2] in text
    assert "3 of 3 analysis paragraphs carry a citation; 2 of 3 citations carry a verified " \
           "quote; 2 of 2 sources are cited." in text
    assert PdfReader(root / "build/brief.pdf").metadata is not None
