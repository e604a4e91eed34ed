"""The quote index: exact and normalised matches, near misses, locating by ¶ number."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policybrief.check.quotes import QuoteIndex
from policybrief.load.sources import normalise, read_source, split_passages
from policybrief.model import Source

ROOT = Path(__file__).resolve().parent.parent
RASANAH = "seeds/rasanah-2024-maliki-sadr-overtures.md"
WIKIPEDIA = "seeds/sadrist-khomeinist-conflict.wikipedia.txt"


@pytest.fixture(scope="module")
def index() -> QuoteIndex:
    return QuoteIndex({
        "rasanah": read_source(ROOT / RASANAH, RASANAH),
        "wiki": read_source(ROOT / WIKIPEDIA, WIKIPEDIA),
    })


def source_of(text: str) -> Source:
    return Source("s.md", "S", "0" * 64, split_passages(text, "s.md"))


def test_exact(index: QuoteIndex) -> None:
    quote = "pillars of Sadr's power and his formidable leverage"
    match = index.find("rasanah", quote)
    assert match is not None and match.mode == "exact"
    assert match.passage.number == 22
    assert match.passage.text[match.start:match.end] == quote


def test_exact_with_other_whitespace(index: QuoteIndex) -> None:
    match = index.find("rasanah", "  the established equation\n   governing Iraqi politics ")
    assert match is not None and match.mode == "exact" and match.passage.number == 12
    assert match.passage.text[match.start:match.end] == (
        "the established equation governing Iraqi politics"
    )


def test_joined_continuation(index: QuoteIndex) -> None:
    quote = "a risk of provoking a retaliatory response from the United States"
    match = index.find("rasanah", quote)
    assert match is not None and match.passage.number == 19


def test_straight_quote_finds_curly(index: QuoteIndex) -> None:
    match = index.find("wiki", "Asa'ib Ahl al-Haq, Kata'ib Hezbollah, and the Badr Brigades")
    assert match is not None and match.mode == "normalised"
    assert match.passage.number == 8 and match.passage.heading == ("History",)
    assert match.passage.text[match.start:match.end] == (
        "Asa’ib Ahl al-Haq, Kata'ib Hezbollah, and the Badr Brigades"
    )


def test_curly_quote_finds_straight(index: QuoteIndex) -> None:
    match = index.find("rasanah", "Maliki’s pivot toward reconciliation")
    assert match is not None and match.mode == "normalised" and match.passage.number == 12
    assert match.passage.text[match.start:match.end] == "Maliki's pivot toward reconciliation"


def test_dash_and_case_are_normalised(index: QuoteIndex) -> None:
    match = index.find("wiki", "the sadrist-khomeinist conflict refer to")
    assert match is not None and match.mode == "normalised" and match.passage.number == 2
    assert match.passage.text[match.start:match.end] == "The Sadrist–Khomeinist conflict refer to"


def test_first_occurrence_wins(index: QuoteIndex) -> None:
    match = index.find("wiki", "Mahdi Army")
    assert match is not None and match.passage.number == 1  # the infobox
    match = index.find("rasanah", "Coordination Framework")
    assert match is not None and match.passage.number == 5


def test_one_changed_word_is_a_near_miss(index: QuoteIndex) -> None:
    quote = "it recognizes the pillars of Sadr's strength and his formidable leverage"
    assert index.find("rasanah", quote) is None
    near = index.closest("rasanah", quote)
    assert near is not None and near.passage.number == 22
    assert 0.8 < near.similarity < 1


def test_quote_across_two_passages_is_not_found(index: QuoteIndex) -> None:
    assert index.find("wiki", "there was much pressure on the Mahdi Army. The Mahdi") is None
    assert index.find("wiki", "Mahdi Army.\nThe Mahdi Army was accused") is None


def test_locate(index: QuoteIndex) -> None:
    history = index.locate("wiki", 3)
    assert history is not None and history.text.startswith("During their opposition")
    assert index.locate("wiki", 0) is None and index.locate("wiki", 11) is None


def test_unknown_key_and_empty_quote(index: QuoteIndex) -> None:
    assert index.find("nope", "Sadr") is None
    assert index.closest("nope", "Sadr") is None
    assert index.locate("nope", 1) is None
    assert index.find("wiki", "  ") is None and index.closest("wiki", "") is None


def test_span_maps_through_ligatures_and_invisibles() -> None:
    text = "The ﬀ ofﬁce’s \u201cﬁnal\u201d  word \u2014 said ■ no\u00adbody, sure."
    index = QuoteIndex({"k": source_of(text)})
    match = index.find("k", "office's \"final\" word - said nobody")
    assert match is not None and match.mode == "normalised"
    span = match.passage.text[match.start:match.end]
    assert span == "ofﬁce’s \u201cﬁnal\u201d word \u2014 said ■ no\u00adbody"


def test_index_is_built_lazily_per_key() -> None:
    class Sources(dict[str, Source]):
        asked: ClassVar[list[str]] = []

        def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
            self.asked.append(key)
            return super().get(key, default)

    sources = Sources(a=source_of("Alpha text."), b=source_of("Beta text."))
    index = QuoteIndex(sources)
    assert index.find("a", "alpha") is not None and index.find("a", "Alpha") is not None
    assert sources.asked == ["a"]


_SWAP = str.maketrans({"'": "’", "’": "'", "-": "–", "–": "-"})


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_substring_is_found_with_a_faithful_span(
    index: QuoteIndex, data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(["rasanah", "wiki"]))
    passage = index.locate(key, data.draw(st.integers(1, 10)))
    assert passage is not None
    start = data.draw(st.integers(0, len(passage.text) - 1))
    end = data.draw(st.integers(start + 1, min(len(passage.text), start + 120)))
    quote = passage.text[start:end].translate(_SWAP)
    assume(quote.strip())
    upper = data.draw(st.booleans())
    match = index.find(key, quote.upper() if upper else quote)
    assert match is not None
    # Exact matches are preferred over normalised ones, so the passage found may come
    # after the one drawn from; but it holds the quote, and the span covers exactly it.
    assert normalise(match.passage.text[match.start:match.end]) == normalise(quote)
