"""Metadata guessed from a file's text and name (policybrief.metadata)."""

from __future__ import annotations

import pytest

from policybrief import intake, metadata


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
