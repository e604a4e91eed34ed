"""Metadata guessed from a file's text and name (policybrief.load.metadata)."""

from __future__ import annotations

import pytest

from policybrief.commands import intake
from policybrief.load import metadata


@pytest.mark.parametrize(("text", "fields"), [
    ("Title line\n\nShafaq News, 2022-06-26\n\nBody.",
     {"title": "Title line", "date": "2022-06-26", "organization": "Shafaq News"}),
    ("# A heading\n\nJune 26, 2022 — Rudaw\n\nBody.",
     {"title": "A heading", "date": "2022-06-26", "organization": "Rudaw"}),
    ("Home | Politics | Iraq\n\nThe real title\n\nPublished: 3 March 2024\n\nBody.",
     {"title": "The real title", "date": "2024-03-03"}),
    ("Title\n\nBy Staff Writer, Shafaq News\n\n26 June 2022\n\nBody.",  # no made-up author
     {"title": "Title", "date": "2022-06-26", "organization": "Shafaq News"}),
    ("Title\n\nBy Jane Smith\n\nSource: https://example.org/a.\n",
     {"title": "Title", "author": "Jane Smith", "url": "https://example.org/a",
      "organization": "example.org"}),
    # a sentence that mentions a date is not a dateline; a span of dates is not one either
    ("Title\n\nIn June 2022 the deputies resigned.\n\n- Date: 30 July 2022 – 13 October 2022\n",
     {"title": "Title"}),
    ("Title\n\n2022-02-30\n", {"title": "Title"}),  # not a day of the calendar
])
def test_from_text(text: str, fields: dict[str, str]) -> None:
    assert metadata.from_text(text).fields == fields


@pytest.mark.parametrize(("stem", "date", "slug"), [
    ("shafaq-2022-06-26", "2022-06-26", "shafaq"),
    ("20230105_baghdad_notes", "2023-01-05", "baghdad notes"),
    ("report-2024", "2024", "report"),
    ("notes-2022-13-45", "", "notes 2022 13 45"),
    ("article", "", "article"),
])
def test_from_name(stem: str, date: str, slug: str) -> None:
    guess = metadata.from_name(stem)
    assert (guess.get("date"), guess.get("slug")) == (date, slug)


def test_keys_are_readable_and_stable() -> None:
    assert intake.make_key("", "2022-06-26", "Coordination Framework convenes",
                           organization="Shafaq News") == "shafaq2022coordination"
    assert intake.make_key("", "2024", "Iraq", organization="The Washington Post") == \
        "washington2024iraq"
    assert intake.make_key("", "", "Notes from Baghdad", slug="baghdad notes") == \
        "baghdadndnotes"
    assert intake.make_key("", "", "") == "anonndsource"  # nothing at all to go on


def test_pdf_metadata_from_xmp_then_the_first_page(tmp_path: object) -> None:
    import io

    import pikepdf
    import weasyprint

    data = weasyprint.HTML(string="<html><body><h1>A printed title</h1><p>Gaza, 5 April "
                                  "2023</p><p>Body text of the report, long enough to "
                                  "read as a paragraph of its own.</p></body></html>"
                           ).write_pdf()
    guess = metadata.from_pdf(data)
    assert guess.fields == {"title": "A printed title", "date": "2023-04-05"}
    assert guess.origins["title"] == "the largest type on the first page"
    pdf = pikepdf.open(io.BytesIO(data))
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = "The XMP title"
        meta["dc:creator"] = ["Jane Analyst"]
        meta["xmp:CreateDate"] = "2023-04-01T10:00:00Z"
    out = io.BytesIO()
    pdf.save(out)
    guess = metadata.from_pdf(out.getvalue())
    assert guess.fields == {"title": "The XMP title", "author": "Jane Analyst",
                            "date": "2023-04-01"}
    assert guess.origins["title"] == "the XMP metadata"
