"""What the head of publications found reading the PDF, DOCX and HTML of a brief: notes
on the brief's own judgments and side by side ("return.⁴²⁴³"), the same source and
paragraph twice in one note, "para. 4,https://…" in Word, the contents' page numbers in
Word, "key judgment 2, key judgment 3", and straight apostrophes outside the body. Each
test builds a small project and opens what was written."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lhtml

from policybrief import citations as cit
from policybrief.commands.cli import main
from policybrief.typography import smart

from conftest import make_tiny, write
from test_pipeline import docx_footnotes, pdf_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# an item whose text cites twice in one group (one paragraph twice, then the next
# paragraph), then ends with the brief's own judgment; its structured citation joins the
# text's last group
MOTIVES = """\
---
kind: motives
title: "Motives and drivers"
items:
  - title: "A framework divided over Gaza"
    text: |
      The Coordination Framework split over how far to escalate against US targets.[@rasanah2024rifts, ¶ 3; @rasanah2024rifts, ¶ 3; @rasanah2024rifts, ¶ 4] [It will stay split.]{.own}
    citations:
      - key: "rasanah2024rifts"
        quote: "revealed a stark division among Shiite groups"
---
"""


def build(root: Path, formats: str) -> Path:
    assert main(["-q", "-C", str(root), "build", "--format", formats]) == 0
    return root / "build"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tiny(tmp_path_factory.mktemp("review") / "tiny")
    write(root / "report" / "sections" / "02-motives.md", MOTIVES)
    return build(root, "pdf,html,docx")


def note_calls(page: lhtml.HtmlElement) -> list[lhtml.HtmlElement]:
    return page.xpath('//main//span[@class="citation"][.//a[contains(@class, "footnote-ref")]]')


def test_item_citations_join_the_texts_last_note_not_the_own_judgment(built: Path) -> None:
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    calls = note_calls(page)
    assert len(calls) == 3  # two in the background, one in the item (was two)
    own = page.xpath('//main//span[contains(@class, "own")]')
    assert own and all(o.getnext() is None or o.getnext().get("class") != "citation"
                       for o in own)
    for call in calls:  # never two notes side by side ("return.⁴²⁴³")
        following = call.getnext()
        assert not (following is not None and following.get("class") == "citation"
                    and not (call.tail or "").strip())
    # the item's note keeps every evidence link: its text's and its structured quote's
    item_note = page.xpath('//section[@id="footnotes"]//li')[-1]
    assert "revealed%20a%20stark%20division" in lhtml.tostring(item_note, encoding="unicode")
    assert len(docx_footnotes(built / "brief.docx")) == 3


def test_a_note_names_a_source_and_paragraph_once(built: Path) -> None:
    """"para. 3; … para. 3" is one "para. 3"; consecutive paragraphs of one source are
    one reference with several locators ("paras 3, 4, 13"), in every format."""
    notes = docx_footnotes(built / "brief.docx")
    item = notes[-1]
    assert item.count("Rifts Within Iraqi Shiite Parties") == 1, item
    assert re.search(r"paras?\.? 3, 4, 13\b", item), item
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html_note = page.xpath('//section[@id="footnotes"]//li')[-1].text_content()
    assert html_note.count("Rifts Within Iraqi Shiite Parties") == 1
    assert re.search(r"paras?\.? 3, 4, 13\b", pdf_text(built / "brief.pdf"))


def test_to_pandoc_drops_exact_repeats_and_joins_paragraphs() -> None:
    def resolve(c: cit.Cite) -> tuple[str | None, str | None]:
        return c.locator, f"ev-{c.quote}" if c.quote else None

    text = ('A.[@a, ¶ 39, quote "x"; @a, ¶ 39, quote "y"] B.[@a, ¶ 4; @a, ¶ 13; @b, ¶ 2; '
            '@a, p. 5; @a, p. 5]')
    assert cit.to_pandoc(text, resolve) == (
        'A.[@a, ¶ 39 []{.ev data-ev="ev-x"}[]{.ev data-ev="ev-y"}] '
        'B.[@a, ¶ 4, 13; @b, ¶ 2; @a, p. 5]')


def test_docx_notes_keep_the_space_before_a_link(built: Path) -> None:
    notes = docx_footnotes(built / "brief.docx")
    linked = [n for n in notes if "https://" in n]
    assert linked
    for note in linked:
        assert not re.search(r"\S(?=https://)", note), note  # "para. 4,https://…"


def test_docx_asks_word_to_update_the_contents_page_numbers(built: Path) -> None:
    with zipfile.ZipFile(built / "brief.docx") as archive:
        settings = etree.fromstring(archive.read("word/settings.xml"))
        document = archive.read("word/document.xml")
    found = settings.find(f"{W}updateFields")
    assert found is not None and found.get(f"{W}val") == "true"
    # in the schema's order: before the notes' properties, compat and rsids
    names = [etree.QName(c).localname for c in settings if isinstance(c.tag, str)]
    later = [n for n in ("footnotePr", "endnotePr", "compat", "rsids") if n in names]
    assert all(names.index("updateFields") < names.index(n) for n in later)
    assert b'TOC \\o' in document or b"TOC" in document  # the contents field is still there


def test_recommendations_name_several_judgments_once(tmp_path: Path) -> None:
    from test_recommendations import project, recommendations

    root = project(tmp_path / "p", recommendations('"split"\n      - "no-deal"'))
    page = lhtml.fromstring((build(root, "html") / "brief.html").read_bytes())
    rests = [" ".join(s.text_content().split(" ")) for s in
             page.xpath('//main//span[contains(@class, "rests-on")]')]
    assert rests[0] == "Rests on key\u00a0judgments\u00a01 and\u00a02."
    assert rests[1] == "Rests on key\u00a0judgment\u00a01."


def test_cover_and_figures_print_typographic_apostrophes(built: Path, tmp_path: Path) -> None:
    """The cover's fields (Jinja, not pandoc) and the figures' labels (SVG) print
    "Iraq’s", as the body does; the DOCX cover agrees."""
    text = pdf_text(built / "brief.pdf")
    assert "Iraq’s" in text and "'" not in text
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    assert "'" not in page.xpath('string(//header)') + page.xpath('string(//footer)')
    with zipfile.ZipFile(built / "brief.docx") as archive:
        body = etree.fromstring(archive.read("word/document.xml"))
    assert "'" not in "".join(t.text or "" for t in body.iter(f"{W}t"))


def test_figure_labels_are_typographic(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    write(root / "report" / "timeline.yaml", TIMELINE)
    built = build(root, "html")
    svg = (built / "figures" / "timeline.svg").read_text("utf-8")
    labels = "".join(etree.fromstring(svg.encode()).itertext())
    assert "Asa’ib" in labels and "'" not in labels
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    assert "Asa’ib" in page.text_content()


TIMELINE = """\
events:
  - date: "2006"
    label: "Qais al-Khazali founds Asa'ib Ahl al-Haq"
    citation:
      key: "wikipedia-sadrist-khomeinist"
      quote: "Qais al-Khazali founded Asa'ib Ahl al-Haq (AAH)"
  - date: "2024"
    label: "Maliki's overtures to Sadr disclosed"
    citation:
      key: "rasanah2024rifts"
      quote: "Shiite circles in Iraq have disclosed efforts by former Prime Minister Nouri al-Maliki"
"""


def test_smart_quotes() -> None:
    assert smart("Maliki's \"hedge\" ('quiet')") == "Maliki’s “hedge” (‘quiet’)"
    assert smart("Mohammad Shia' al-Sudani") == "Mohammad Shia’ al-Sudani"
