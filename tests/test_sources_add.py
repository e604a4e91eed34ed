"""``brief sources add`` and ``brief sources lock``: a new source arrives."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from policybrief.commands import intake
from policybrief.commands.cli import main

from conftest import BIB

ADDED = "1718409600"  # 2024-06-15, as SOURCE_DATE_EPOCH

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<title>Sadr's return – Example News</title>
<meta name="citation_title" content="Sadr's Return and the Coordination Framework">
<meta name="citation_author" content="Smith, Jane">
<meta name="citation_author" content="Doe, John">
<meta name="citation_publication_date" content="2024/06/01">
<meta property="og:site_name" content="Example News">
<meta property="og:url" content="https://example.org/og">
<link rel="canonical" href="https://example.org/sadr-return">
<style>p { color: red }</style><script>var tracking = "SCRIPT TEXT";</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World NAV LINK</a></nav></header>
<aside>ASIDE Most read today</aside>
<main><article>
<h1>Sadr's return</h1>
<p>The <b>Sadrist movement</b> may rejoin <a href="#">electoral politics</a> in 2025.</p>
<h2>The Gaza escalation</h2>
<p>The Coordination Framework split over how far to escalate against US targets,
and the factions that wanted restraint prevailed.</p>
<ul><li>First point</li><li>Second point</li></ul>
<form><label>Subscribe FORM</label><input name="mail"></form>
</article></main>
<footer>FOOTER © 2024 Example News</footer>
</body></html>
"""

NOTE = """# Restraint in Baghdad

Maliki sought overtures with Sadr in the spring of 2024, and the Sadrists listened.

The Coordination Framework remained wary of Sadr's return.
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def make_pdf(path: Path) -> Path:
    import weasyprint

    html = """<html><head><title>Militias and the Gaza Escalation</title>
    <meta name="author" content="Jane Analyst">
    <meta name="dcterms.created" content="2024-06-10"></head><body>
    <h1>Militias and the Gaza Escalation</h1>
    <p>Iraqi armed factions escalated attacks against US forces after October 2023. The
    Coordination Framework was divided over how far to go in escalating against US
    targets, and several factions chose restraint.</p>
    <p>Sadr denounced the attacks and called for foreign forces to leave by political
    means rather than by militia action.</p></body></html>"""
    path.write_bytes(weasyprint.HTML(string=html).write_pdf())
    return path


def parse_bib(root: Path) -> dict[str, object]:
    import bibtexparser

    library = bibtexparser.parse_string((root / "bibliography.bib").read_text("utf-8"))
    assert not library.failed_blocks
    return {e.key: e for e in library.entries}


def field(entry: object, name: str) -> str:
    return str(entry.fields_dict[name].value)  # type: ignore[attr-defined]


def test_a_source_added_three_ways(tiny: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", ADDED)
    old_bib = (tiny / "bibliography.bib").read_bytes()
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "restraint-note.md").write_text(NOTE, "utf-8")
    (incoming / "sadr-return.html").write_text(PAGE, "utf-8")
    make_pdf(incoming / "militias.pdf")

    assert run(tiny, "sources", "add", str(incoming / "restraint-note.md"),
               "--author", "Omar Writer", "--date", "2024-07-01") == 0
    assert run(tiny, "sources", "add", str(incoming / "sadr-return.html")) == 0
    assert run(tiny, "sources", "add", str(incoming / "militias.pdf"),
               "--url", "https://example.org/militias.pdf") == 0
    out, err = capsys.readouterr()
    assert "added @misc{writer2024restraint}" in out
    assert "added @online{smith2024sadrs}" in out
    assert "added @report{analyst2024militias}" in out
    # the report of each add: the new source and the section it bears on most
    assert "new: smith2024sadrs" in err
    # each hit: the brief's file:line, its sentence, the passage and the shared terms
    assert ("report/sections/02-motives.md:7 (Motives and drivers)\n"
            "          brief: “The Coordination Framework split over how far to escalate against "
            "US targets.”") in err
    shared = [line for line in err.splitlines() if line.strip().startswith("shared:")]
    assert any({"escalate", "Coordination", "targets", "Framework"} <= set(
        line.split(":")[1].replace(",", " ").split()) for line in shared)

    # the old entries stay byte for byte; the new ones are parsed back
    new_bib = (tiny / "bibliography.bib").read_bytes()
    assert new_bib.startswith(old_bib) and old_bib == BIB.encode()
    entries = parse_bib(tiny)
    assert list(entries)[:2] == ["rasanah2024rifts", "wikipedia-sadrist-khomeinist"]
    note, page, pdf = (entries[k] for k in ("writer2024restraint", "smith2024sadrs",
                                            "analyst2024militias"))
    assert (note.entry_type, field(note, "title"), field(note, "file")) == \
        ("misc", "Restraint in Baghdad", "seeds/restraint-note.md")
    assert field(note, "author") == "Omar Writer" and field(note, "date") == "2024-07-01"
    assert "original" not in note.fields_dict
    assert (page.entry_type, field(page, "title"), field(page, "file"), field(page, "original")) \
        == ("online", "Sadr's Return and the Coordination Framework", "seeds/sadr-return.txt",
            "seeds/sadr-return.html")
    assert field(page, "author") == "Smith, Jane and Doe, John"
    assert field(page, "date") == "2024-06-01"
    assert field(page, "url") == "https://example.org/sadr-return"  # canonical over og:url
    assert field(page, "organization") == "Example News"
    assert (pdf.entry_type, field(pdf, "title"), field(pdf, "file"), field(pdf, "original")) == \
        ("report", "Militias and the Gaza Escalation", "seeds/militias.txt",
         "seeds/militias.pdf")
    assert field(pdf, "author") == "Jane Analyst" and field(pdf, "date") == "2024-06-10"

    # the stored files: the original, and the extracted main text
    seeds = tiny / "seeds"
    assert (seeds / "sadr-return.html").read_text("utf-8") == PAGE
    text = (seeds / "sadr-return.txt").read_text("utf-8")
    assert text.startswith("# Sadr's return\n\nThe Sadrist movement may rejoin electoral "
                           "politics in 2025.\n\n## The Gaza escalation\n\n")
    assert text.endswith("prevailed.\n\n- First point\n\n- Second point\n")
    for chrome in ("NAV LINK", "ASIDE", "FOOTER", "FORM", "SCRIPT TEXT", "color: red"):
        assert chrome not in text
    assert "Iraqi armed factions escalated attacks" in (seeds / "militias.txt").read_text()

    # the lock: the sources that were there, and the three new ones
    lock = (seeds / "sources.lock").read_text("utf-8")
    assert lock.endswith("}\n") and lock.startswith('{\n  "sources": {\n    "')
    data = json.loads(lock)
    assert sorted(data["sources"]) == ["analyst2024militias", "rasanah2024rifts",
                                       "smith2024sadrs", "wikipedia-sadrist-khomeinist",
                                       "writer2024restraint"]
    stored = (seeds / "sadr-return.txt").read_bytes()
    assert data["sources"]["smith2024sadrs"] == {
        "key": "smith2024sadrs", "path": "seeds/sadr-return.txt", "added": "2024-06-15",
        "sha256": hashlib.sha256(stored).hexdigest(), "passages": 4}
    assert data["sources"]["analyst2024militias"]["passages"] == 2  # the title is a heading
    assert lock == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    # the brief checks, the originals are not "sources with no entry", and the report
    # written with the build names the new sources and where they bear
    assert run(tiny, "check") == 0
    err = capsys.readouterr().err
    assert "no bibliography entry" not in err
    assert "new: analyst2024militias — seeds/militias.txt, in the lock, not cited yet" in err
    assert run(tiny, "-q", "build", "--format", "html") == 0
    report = (tiny / "build" / "changes.md").read_text("utf-8")
    assert "## New: `smith2024sadrs`" in report
    assert "`report/sections/02-motives.md:7` (Motives and drivers), score" in report
    assert "   - brief: “The Coordination Framework split over how far to escalate" in report


def test_an_existing_key_is_an_error_not_an_overwrite(tiny: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    doc = tmp_path / "other.md"
    doc.write_text(NOTE, "utf-8")
    before = (tiny / "bibliography.bib").read_bytes()
    for key in ("rasanah2024rifts", "Rasanah2024Rifts"):
        assert run(tiny, "sources", "add", str(doc), "--key", key) == 1
        assert "already in the bibliography" in capsys.readouterr().err
    assert (tiny / "bibliography.bib").read_bytes() == before
    assert not (tiny / "seeds" / "other.md").exists()
    assert not (tiny / "seeds" / "sources.lock").exists()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"  \n\n", "the document is empty"),
    ("blank.html", b"<html><body><nav>Home</nav><script>x()</script></body></html>",
     "no text found in the document"),
    ("broken.pdf", b"%PDF-1.7\nnot really a pdf", "cannot read the PDF"),
    ("latin1.txt", "Caf\xe9 society".encode("latin-1"),
     "error[encoding]: the document is Latin-1 (ISO-8859-1), not UTF-8 (byte 0xe9 is “é” "
     "in Latin-1)\n    1 | Café society\n      |    ^\n  hint: convert it to UTF-8: iconv "
     "-f LATIN1 -t UTF-8 "),
    ("utf16.txt", "Caf\xe9 society".encode("utf-16"),
     "error[encoding]: the document is UTF-16 (little-endian, with a byte-order mark), "
     "not UTF-8"),
    ("table.csv", b"a,b\n1,2\n", "cannot add a '.csv' file"),
])
def test_an_empty_or_unreadable_document_is_an_error(tiny: Path, tmp_path: Path, name: str,
                                                     data: bytes, message: str,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    doc = tmp_path / name
    doc.write_bytes(data)
    before = (tiny / "bibliography.bib").read_bytes()
    assert run(tiny, "sources", "add", str(doc)) == 1
    assert message in capsys.readouterr().err
    assert (tiny / "bibliography.bib").read_bytes() == before
    assert sorted(p.name for p in (tiny / "seeds").iterdir()) == [
        "rasanah-2024-maliki-sadr-overtures.md", "sadrist-khomeinist-conflict.wikipedia.txt"]


def test_the_same_document_twice_is_an_error(tiny: Path, tmp_path: Path) -> None:
    doc = tmp_path / "note.md"
    doc.write_text(NOTE, "utf-8")
    assert run(tiny, "-q", "sources", "add", str(doc)) == 0
    assert run(tiny, "-q", "sources", "add", str(doc), "--key", "again") == 1


def test_generated_keys() -> None:
    assert intake.make_key("{Rasanah – International Institute for Iranian Studies}",
                           "2024-05-05", "Rifts Within Iraqi Shiite Parties") == \
        "rasanah2024rifts"
    assert intake.make_key("Smith, Jane and Doe, John", "2024-06-01",
                           "The Return of Sadr") == "smith2024return"
    assert intake.make_key("Jane Analyst", "", "Sadrist–Khomeinist conflict") == \
        "analystndsadrist"
    assert intake.make_key("", "2023", "L’économie de guerre", "https://www.example.org/x") == \
        "example2023leconomie"


def test_html_title_and_dates_fall_back_to_the_page() -> None:
    text, meta = intake.html_text(
        b'<html><head><title>A page</title><meta property="article:published_time" '
        b'content="2024-03-02T10:00:00Z"><meta name="author" content="Ada Writer">'
        b'<meta property="og:url" content="https://example.org/a"></head><body>'
        b'<article><p>One.</p><p>Two<br>lines.</p></article>'
        b'<article><h3>Longer</h3><p>The longest article is the main text here.</p>'
        b'</article></body></html>')
    assert meta == intake.Metadata("A page", "Ada Writer", "2024-03-02",
                                   "https://example.org/a", "")
    assert text == "### Longer\n\nThe longest article is the main text here.\n"


def test_lock_accepts_the_current_state(tiny: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tiny, "sources", "lock", "--date", "2024-05-20") == 0
    lock = tiny / "seeds" / "sources.lock"
    data = json.loads(lock.read_text("utf-8"))
    assert data["version"] == 1
    assert data["sources"]["wikipedia-sadrist-khomeinist"] == {
        "key": "wikipedia-sadrist-khomeinist", "added": "2024-05-20", "passages": 10,
        "path": "seeds/sadrist-khomeinist-conflict.wikipedia.txt",
        "sha256": hashlib.sha256((tiny / "seeds/sadrist-khomeinist-conflict.wikipedia.txt")
                                 .read_bytes()).hexdigest()}
    assert data["sources"]["rasanah2024rifts"]["passages"] == 41
    before = lock.read_bytes()
    assert run(tiny, "sources", "lock", "--date", "2025-01-01") == 0  # added dates stay
    assert lock.read_bytes() == before
    assert "unchanged: seeds/sources.lock (2 sources)" in capsys.readouterr().out
    assert run(tiny, "sources", "lock", "--date", "20 May") == 1


SHAFAQ = """Coordination Framework convenes after Sadrist resignations

Shafaq News, 2022-06-26

Shafaq News/ Leaders of the Coordination Framework met in Baghdad on Sunday to discuss the formation of the next government, two weeks after the 73 Sadrist lawmakers resigned their seats at the request of Muqtada al-Sadr.

The replacements sworn in on Thursday gave the Framework the largest bloc in the chamber.
"""


def test_a_text_with_a_dateline_gets_a_full_entry(tiny: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "article.txt"
    doc.write_text(SHAFAQ, "utf-8")
    assert run(tiny, "sources", "add", str(doc)) == 0
    out = capsys.readouterr().out
    entry = parse_bib(tiny)["shafaq2022coordination"]  # not anon…: the publisher names it
    assert field(entry, "title") == "Coordination Framework convenes after Sadrist resignations"
    assert field(entry, "date") == "2022-06-26"
    assert field(entry, "organization") == "Shafaq News"
    # the entry as written, and where each field was guessed from
    assert "@misc{shafaq2022coordination,\n  title        = {Coordination Framework" in out
    assert "date         2022-06-26" in out
    assert "from the dateline (line 3: “Shafaq News, 2022-06-26”)" in out
    assert "from the first line (line 1)" in out


def test_a_dated_file_name_gives_the_date_and_the_key(tiny: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    doc = tmp_path / "shafaq-2022-06-26.txt"
    doc.write_text("# Framework convenes\n\nBy Ali Hassan, Shafaq News\n\nLeaders met in "
                   "Baghdad on Sunday to discuss the next government.\n\nSource: "
                   "https://shafaq.com/en/Iraq-News/framework-convenes\n", "utf-8")
    assert run(tiny, "sources", "add", str(doc)) == 0
    out = capsys.readouterr().out
    entry = parse_bib(tiny)["hassan2022framework"]
    assert field(entry, "date") == "2022-06-26"
    assert field(entry, "author") == "Ali Hassan"
    assert field(entry, "organization") == "Shafaq News"
    assert field(entry, "url") == "https://shafaq.com/en/Iraq-News/framework-convenes"
    assert entry.entry_type == "online"
    assert "from the file name (shafaq-2022-06-26)" in out
    # with no author, the file name's words name the key; still not anon…
    bare = tmp_path / "baghdad-notes-20230105.md"
    bare.write_text("Notes from Baghdad\n\nThe talks went on through the night.\n", "utf-8")
    assert run(tiny, "-q", "sources", "add", str(bare)) == 0
    entry = parse_bib(tiny)["baghdad2023notes"]
    assert field(entry, "date") == "2023-01-05"


def test_dates_are_checked(tiny: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "note.md"
    doc.write_text(NOTE, "utf-8")
    before = (tiny / "bibliography.bib").read_bytes()
    assert run(tiny, "sources", "add", str(doc), "--date", "2022-13-45") == 2
    assert "--date: '2022-13-45' has no month 13" in capsys.readouterr().err
    assert run(tiny, "sources", "add", str(doc), "--date", "2023-02-29") == 2
    assert "'2023-02-29' is not a day of the calendar" in capsys.readouterr().err
    assert (tiny / "bibliography.bib").read_bytes() == before
    assert not (tiny / "seeds" / "note.md").exists()
    # every date, year and urldate of the bibliography, at its own line
    bib = tiny / "bibliography.bib"
    text = bib.read_text("utf-8").replace("date = {2024-05-05},",
                                          "date = {2024-05-05},\n  urldate = {2024-02-30},")
    text = text.replace("  file = {seeds/sadrist", "  year = {24},\n  file = {seeds/sadrist")
    bib.write_text(text, "utf-8")
    assert run(tiny, "check") == 1
    err = capsys.readouterr().err
    assert ("bibliography.bib:7:3: error[bibliography.date]: field 'urldate' of 'rasanah2024rifts' is not a valid date: "
            "'2024-02-30' is not a day of the calendar") in err
    assert "bibliography.bib:17:3: error[bibliography.date]: field 'year' of 'wikipedia-sadrist-khomeinist' is not a " \
           "valid date: '24' is not a four-digit year" in err


@pytest.mark.parametrize(("value", "problem"), [
    ("2022", ""), ("2022-06", ""), ("2022-06-26", ""), ("2022-06-26/2022-07-01", ""),
    ("2022-06/", ""), ("../2022", ""), ("2022?", ""), ("2022-06~", ""),
    ("2022-13", "has no month 13"), ("2022-02-30", "not a day of the calendar"),
    ("26 June 2022", "is not YYYY, YYYY-MM or YYYY-MM-DD"), ("2022/2021", "ends before"),
    ("", "empty"), ("2022-06-26/2022-07-01/2023", "more than one"),
])
def test_date_problems(value: str, problem: str) -> None:
    from policybrief.load.bibliography import date_problem

    found = date_problem(value)
    assert (problem in found and found) if problem else found == ""
