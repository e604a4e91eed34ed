"""Stage 1, load sources: reading, repairing and splitting source documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policybrief.errors import BriefError
from policybrief.load import sources
from policybrief.load.sources import normalise, read_source, split_passages
from policybrief.model import Source

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
RASANAH = "seeds/rasanah-2024-maliki-sadr-overtures.md"
WIKIPEDIA = "seeds/sadrist-khomeinist-conflict.wikipedia.txt"


@pytest.fixture(scope="module")
def rasanah() -> Source:
    return read_source(SEEDS.parent / RASANAH, RASANAH)


@pytest.fixture(scope="module")
def wikipedia() -> Source:
    return read_source(SEEDS.parent / WIKIPEDIA, WIKIPEDIA)


def holding(source: Source, words: str) -> list[int]:
    return [p.number for p in source.passages if words in p.text]


# --- the real seeds ------------------------------------------------------------------


def test_rasanah_passages(rasanah: Source) -> None:
    assert len(rasanah.passages) == 41
    assert rasanah.title.startswith("RIFTS WITHIN IRAQI SHIITE PARTIES: WILL MALIKI'S")
    assert rasanah.path == RASANAH
    assert [p.number for p in rasanah.passages] == list(range(1, 42))
    assert all(p.anchor == f"p{p.number}" and p.path == RASANAH for p in rasanah.passages)
    assert len({p.slug for p in rasanah.passages}) == 41


def test_rasanah_page_breaks_are_joined(rasanah: Source) -> None:
    assert holding(rasanah, "pillars of Sadr's power and his formidable leverage") == [22]
    assert holding(rasanah, "the established equation governing Iraqi politics") == [12]
    assert holding(rasanah, "provoking a retaliatory response from the United States") == [19]
    assert holding(rasanah, "Sadr seeks to promote the construction") == [27]  # list item
    assert holding(rasanah, "it has actively worked") == [32]
    assert not holding(rasanah, "pow-")
    # the continued paragraphs are not passages of their own
    assert not [p for p in rasanah.passages if p.text[0].islower()]
    joined = rasanah.passage(22)
    assert joined is not None and joined.line == 87
    assert joined.text.startswith("Maliki rationally reading")  # "- " bullet gone


def test_rasanah_markup_and_debris_removed(rasanah: Source) -> None:
    texts = [p.text for p in rasanah.passages]
    for debris in ("■", "(#)", "**", "](", "www.", "@rasanah", "....", "  ", "\n"):
        assert not [t for t in texts if debris in t], debris
    assert holding(rasanah, "Sadr objectively reading the power")[0] == 23
    assert rasanah.passages[0].text == "Position Paper"  # *italic* stripped
    assert holding(rasanah, "Sadr's call for mass demonstrations")  # [text](#) -> text
    assert holding(rasanah, "delegitimizing his marjaya status")
    assert "Contents" not in {h for p in rasanah.passages for h in p.heading}


def test_rasanah_headings(rasanah: Source) -> None:
    headings = {h for p in rasanah.passages for h in p.heading}
    assert not [p for p in rasanah.passages if p.text in headings]
    first = rasanah.passage(10)
    assert first is not None
    assert first.heading == ("Motives and Drivers Behind Maliki Seeking Reconciliation With Sadr",)
    assert first.slug == "motives-and-drivers-behind-maliki-seekin/1"  # parts capped at 40
    assert rasanah.passages[3].slug == "preamble/4"  # the title heading is not in the path
    nested = rasanah.passage(13)
    assert nested is not None and nested.heading[-1].startswith("Divergent Viewpoints")
    assert len(nested.heading) == 2
    for p in rasanah.passages:
        assert p.slug.isascii() and p.slug == p.slug.lower() and " " not in p.slug


def test_wikipedia_passages(wikipedia: Source) -> None:
    assert wikipedia.title == "Sadrist–Khomeinist conflict"
    assert len(wikipedia.passages) == 10
    infobox = wikipedia.passages[0]
    assert infobox.text.startswith("Conflict: Sadrist–Khomeinist conflict; Place: Iraq;")
    assert infobox.slug == "preamble/1"
    lead = wikipedia.passages[1]
    assert lead.slug == "preamble/2" and lead.heading == ()
    history = wikipedia.passage(3)
    assert history is not None
    assert history.heading == ("History",) and history.slug == "history/1"
    assert history.text.startswith("During their opposition to Saddam Hussein")
    assert history.line == 17
    assert "==" not in " ".join(p.text for p in wikipedia.passages)
    # curly and straight apostrophes are kept as written
    assert holding(wikipedia, "Asa’ib Ahl al-Haq, Kata'ib Hezbollah") == [8]


def test_sha256_is_of_the_bytes(tmp_path: Path) -> None:
    import hashlib

    f = tmp_path / "a.md"
    f.write_bytes("# T\n\nOne ’.\n".encode())
    assert read_source(f, "a.md").sha256 == hashlib.sha256(f.read_bytes()).hexdigest()


# --- the splitter on small inputs ----------------------------------------------------


def test_small_document() -> None:
    text = (
        "Intro line one\nstill intro.\n\n# Title\n\nFirst under title.\n\n## Part *One*\n\n"
        "A para that ends mid\n\n\n\nsentence here.\n\n- item one\n- item two\n  continued\n\n"
        "* star item\n\n---\n\n## Part One\n\nSame heading again.\n\nSee [the site](http://x.org)"
        " and __bold__ or _it_ but snake_case_name stays, and 2 * 3 * 4.\n"
    )
    passages = split_passages(text, "s.md")
    got = [(p.slug, p.heading, p.line, p.text) for p in passages]
    assert got == [
        ("preamble/1", (), 1, "Intro line one still intro."),
        ("preamble/2", (), 6, "First under title."),
        ("part-one/1", ("Part One",), 10, "A para that ends mid sentence here."),
        ("part-one/2", ("Part One",), 16, "item one"),
        ("part-one/3", ("Part One",), 17, "item two continued"),
        ("part-one/4", ("Part One",), 20, "star item"),
        ("part-one-2/1", ("Part One",), 26, "Same heading again."),
        ("part-one-2/2", ("Part One",), 28, "See the site and bold or it but snake_case_name"
         " stays, and 2 * 3 * 4."),
    ]


def test_no_join_after_full_stop_or_before_capital() -> None:
    passages = split_passages("Ends here.\n\nlower start.\n\nNo stop\n\nCapital start.\n", "x")
    assert [p.text for p in passages] == [
        "Ends here.", "lower start.", "No stop", "Capital start."
    ]


def test_no_join_across_heading() -> None:
    passages = split_passages("Para with hyph-\n\n## Head\n\nen continues.\n", "x")
    assert [p.text for p in passages] == ["Para with hyph-", "en continues."]


def test_hyphen_join_across_footer() -> None:
    text = "The govern-\n\n[www.example.org](http://www.example.org)\n\ning party.\n"
    assert [p.text for p in split_passages(text, "x")] == ["The governing party."]


def test_wiki_and_contents() -> None:
    text = "= Doc =\n## Contents\nOne ..... 3\nTwo ....\t14\n\nLead.\n==Sub==\nBody.\n"
    passages = split_passages(text, "x")
    assert [(p.slug, p.text) for p in passages] == [("preamble/1", "Lead."), ("sub/1", "Body.")]


def test_contents_heading_is_left_out_of_the_path() -> None:
    text = "# T\n\n## A\n\nOne.\n\n### Contents\nX ..... 3\n\nTwo.\n\n## A\n### B\nThree.\n"
    got = [(p.slug, p.heading) for p in split_passages(text, "x")]
    assert got == [("a/1", ("A",)), ("a/2", ("A",)), ("a-2/b/1", ("A", "B"))]


def test_title_falls_back_to_stem(tmp_path: Path) -> None:
    f = tmp_path / "my-notes.txt"
    f.write_text("Just text.\n", encoding="utf-8")
    source = read_source(f, "seeds/my-notes.txt")
    assert source.title == "my-notes"
    assert [p.text for p in source.passages] == ["Just text."]


# --- bad files -----------------------------------------------------------------------


def _error(path: Path, rel: str) -> BriefError:
    with pytest.raises(BriefError) as info:
        read_source(path, rel)
    assert info.value.path == rel
    return info.value


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "e.md"
    f.write_bytes(content)
    err = _error(f, "seeds/e.md")
    assert "empty" in err.message and err.line == 1


def test_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "l.md"
    f.write_bytes("# Title\n\nCaf\u00e9 is fine.\n".encode() + b"bad \xe9 here\n")
    err = _error(f, "seeds/l.md")
    assert "UTF-8" in err.message and "0xe9" in err.message and err.line == 4
    assert str(err) == ("seeds/l.md:4:5: error[encoding]: the source is not valid UTF-8: "
                        "byte 0xe9 (“é” in Latin-1) among UTF-8 text\n"
                        "    4 | bad é here\n"
                        "      |     ^\n"
                        "  hint: the file is UTF-8 but for this character (pasted from another "
                        "program?): type it again in your editor")


def test_nul_byte(tmp_path: Path) -> None:
    f = tmp_path / "b.txt"
    f.write_bytes(b"text\nmore\x00\x01\x02")
    err = _error(f, "seeds/b.txt")
    assert "binary" in err.message and err.line == 2


def test_too_big(tmp_path: Path) -> None:
    f = tmp_path / "big.md"
    with f.open("wb") as out:  # sparse: nothing is written but the last byte
        out.seek(20 * 1024 * 1024 - 1)
        out.write(b"x")
    err = _error(f, "seeds/big.md")
    assert err.message == "source is 20.0 MB; the limit is 10 MB"


def test_limit_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "s.md"
    f.write_text("# T\n\nSome text here.\n", encoding="utf-8")
    monkeypatch.setattr(sources, "MAX_BYTES", 10)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read before size check"))
    assert "limit" in _error(f, "s.md").message


def test_other_suffix(tmp_path: Path) -> None:
    f = tmp_path / "paper.pdf"
    f.write_bytes(b"%PDF-1.7")
    assert "pdf" in _error(f, "seeds/paper.pdf").message


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in _error(tmp_path / "gone.md", "seeds/gone.md").message


# --- normalise -----------------------------------------------------------------------


def test_normalise_folds() -> None:
    text = "  Asa’ib  “Ahl”\u00a0al\u2013Haq ■ ok\u00ad\u200b "
    assert normalise(text) == 'asa\'ib "ahl" al-haq ok'
    assert normalise("ﬁne — «x» STRASSE Straße") == 'fine - "x" strasse strasse'
    assert normalise("govern- ing") == "govern- ing"  # page breaks are the splitter's job


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalise_is_total_and_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip() and "  " not in once


_MARKDOWNISH = st.lists(
    st.sampled_from(
        [*list("ab C-*_#=[]()■.!:\n\n\n \t\r\\’\xad1"), "Infobox\n", "- ", "\n\n", "pow-", "# ", "==H==\n", "](#)", "**", " ..... 4\n"]
    ),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _MARKDOWNISH))
def test_splitter_is_total(text: str) -> None:
    passages = split_passages(text, "x.md")
    assert [p.number for p in passages] == list(range(1, len(passages) + 1))
    for p in passages:
        assert p.text and p.text == p.text.strip() and p.line >= 1
        assert p.slug.isascii()


def test_a_compound_cut_at_a_page_break_is_rejoined() -> None:
    """ "pro-" / blank line / "Iran": the compound keeps its hyphen; a word is joined."""
    texts = [p.text for p in split_passages(
        "Maliki leads the pro-\n\nIran camp, and al-\n\nSadr the other; the resig-\n\n"
        "nation stands.\n\nA new paragraph.\n")]
    assert texts == ["Maliki leads the pro-Iran camp, and al-Sadr the other; the resignation "
                     "stands.", "A new paragraph."]
    # within a paragraph too
    assert [p.text for p in split_passages("the pro-\nIran camp")] == ["the pro-Iran camp"]


def test_a_line_end_u2010_hyphen_is_repaired() -> None:
    texts = [p.text for p in split_passages(
        "The escala\u2010\ntion was contained by the Frame\u2010\n\nwork parties; the "
        "pro\u2010\nIran factions objected.\n")]
    assert texts == ["The escalation was contained by the Framework parties; the "
                     "pro\u2010Iran factions objected."]
