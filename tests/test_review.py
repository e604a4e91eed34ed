"""Editors' Word changes come home: the review anchors in the DOCX, and
``brief review import`` (with ``--apply``) on DOCX files edited the way Word stores
edits (``w:ins``, ``w:del``, ``w:moveFrom``/``w:moveTo``, comments with replies) and
through LibreOffice with change recording on (UNO bridge, one session).

The default brief is built once for the module and copied for each test.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import wordml
from policybrief.commands.cli import main
from policybrief.render import anchors

from conftest import REPO, make_tiny

W = wordml.W
HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = Path("/usr/bin/python3")
MOTIVES = "report/sections/03-motives.md"
BACKGROUND = "report/sections/02-background.md"
SCENARIOS = "report/sections/06-scenarios.md"


@pytest.fixture
def built_default(built_real: Path) -> Path:
    """The real brief, built once per test run (conftest)."""
    return built_real


@pytest.fixture
def brief(built_default: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built default brief."""
    root = tmp_path / "brief"
    shutil.copytree(built_default, root, symlinks=True)
    return root


@pytest.fixture(scope="module")
def built_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tiny(tmp_path_factory.mktemp("tiny") / "tiny")
    assert main(["-q", "-C", str(root), "build", "--format", "docx"]) == 0
    return root


@pytest.fixture
def tiny_built(built_tiny: Path, tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    shutil.copytree(built_tiny, root, symlinks=True)
    return root


def docx_of(root: Path) -> bytes:
    return (root / "build" / "brief.docx").read_bytes()


def review(root: Path, docx: Path, *extra: str) -> int:
    return main(["-q", "-C", str(root), "review", "import", str(docx), *extra])


def lines_of(root: Path, rel: str) -> list[str]:
    return (root / rel).read_text("utf-8").split("\n")


def line_holding(root: Path, rel: str, text: str) -> int:
    found = [i + 1 for i, row in enumerate(lines_of(root, rel)) if text in row]
    assert len(found) == 1, (rel, text, found)
    return found[0]


def review_md(root: Path) -> str:
    return (root / "build" / "review.md").read_text("utf-8")


# --- the anchors --------------------------------------------------------------------------


def _strip_anchors(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    ours = {b.get(f"{W}id") for b in root.iter(f"{W}bookmarkStart")
            if b.get(f"{W}name", "").startswith(anchors.PREFIX)}
    for element in list(root.iter(f"{W}bookmarkStart", f"{W}bookmarkEnd")):
        if element.get(f"{W}id") in ours:
            element.getparent().remove(element)
    return etree.tostring(root, method="c14n")


def _visible_text(xml: bytes) -> str:
    root = etree.fromstring(xml)
    return "\n".join("".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p"))


def test_anchors_change_nothing_visible(tiny_built: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    anchored = zipfile.ZipFile(io.BytesIO(docx_of(tiny_built)))
    plain_root = make_tiny(tmp_path / "plain")
    monkeypatch.setattr(anchors, "add_entries", lambda entries, brief: entries)
    assert main(["-q", "-C", str(plain_root), "build", "--format", "docx"]) == 0
    plain = zipfile.ZipFile(io.BytesIO(docx_of(plain_root)))
    for part in ("word/document.xml", "word/footnotes.xml"):
        assert _visible_text(anchored.read(part)) == _visible_text(plain.read(part))
        # our bookmarks taken out, the XML is pandoc's exactly
        assert _strip_anchors(anchored.read(part)) == \
            etree.tostring(etree.fromstring(plain.read(part)), method="c14n")
    for name in plain.namelist():  # every other part as it was
        if name not in ("word/document.xml", "word/footnotes.xml",
                        "word/_rels/document.xml.rels", "[Content_Types].xml"):
            assert anchored.read(name) == plain.read(name), name
    assert [n for n in anchored.namelist() if n not in plain.namelist()] == [
        "customXml/item1.xml", "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels"]


def test_the_docx_zipped_once_is_the_docx_zipped_twice(tiny_built: Path) -> None:
    """The DOCX is finished and anchored as parts and zipped once (docx.Entries): the
    entries keep their zip fields, so unzipping and zipping again changes no byte, and
    anchors.add on bytes gives what add_entries on the parts gives."""
    from policybrief.render import docx

    data = docx_of(tiny_built)
    assert docx.zipped(docx.unzipped(data)) == data
    package = zipfile.ZipFile(io.BytesIO(data))
    assert [i.filename for i in package.infolist()][-3:] == [
        "customXml/item1.xml", "customXml/itemProps1.xml", "customXml/_rels/item1.xml.rels"]
    assert len({i.date_time for i in package.infolist()}) == 1  # one stamp for all


def test_every_paragraph_carries_its_file_and_line(tiny_built: Path) -> None:
    package = zipfile.ZipFile(io.BytesIO(docx_of(tiny_built)))
    mapped = anchors.find_map(package)
    assert mapped is not None
    document = etree.fromstring(package.read("word/document.xml"))
    names = {b.get(f"{W}name") for b in document.iter(f"{W}bookmarkStart")}
    assert all(len(name) <= 40 for name in names)
    for rel in ("report/sections/01-background.md", "report/sections/02-motives.md"):
        assert mapped.files[rel] == hashlib.sha256((tiny_built / rel).read_bytes()).hexdigest()
    by_text = {a.text: a for a in mapped.anchors.values() if a.region != "appendix"}
    first = by_text["Rasanah later weighed in."]
    assert f"{anchors.PREFIX}{first.number}" in names
    assert [(p.file, p.line, p.field) for p in first.parts] == [
        ("report/sections/01-background.md", 7, "")]
    item = next(a for t, a in by_text.items() if t.startswith("The Coordination Framework"))
    assert [(p.file, p.line, p.field) for p in item.parts] == [
        ("report/sections/02-motives.md", 7, "items/0/text")]
    heading = by_text["A framework divided over Gaza"]
    assert [(p.line, p.field) for p in heading.parts] == [(5, "items/0/title")]
    assert by_text["Rifts in Iraq’s Shia camp"].region == "cover"
    assert by_text["Rifts in Iraq’s Shia camp"].holder == "report/brief.yaml:1"
    notes = [a for a in mapped.anchors.values() if a.story == "notes"]
    assert notes and all(a.region == "note" for a in notes)


def test_a_moved_line_rebuilds_the_docx(tiny_built: Path) -> None:
    """The anchors give lines: a section file whose text is the same but whose lines
    moved makes a new DOCX, not an 'unchanged' one."""
    path = tiny_built / "report/sections/01-background.md"
    path.write_text(path.read_text("utf-8").replace("---\nThe rivalry", "---\n\nThe rivalry"),
                    "utf-8")
    before = docx_of(tiny_built)
    assert main(["-q", "-C", str(tiny_built), "build", "--format", "docx"]) == 0
    assert docx_of(tiny_built) != before
    mapped = anchors.find_map(zipfile.ZipFile(io.BytesIO(docx_of(tiny_built))))
    assert mapped is not None
    line = next(a for a in mapped.anchors.values() if a.text == "Rasanah later weighed in."
                and a.region == "section").parts[0].line
    assert line == 8


# --- Word's own markup --------------------------------------------------------------------


def _cover_title() -> str:
    """The brief's title as brief.yaml gives it (the cover edit locates it by that)."""
    import yaml

    return str(yaml.safe_load((REPO / "report/brief.yaml").read_text("utf-8"))["title"])


# The text of the default brief these edits work on. Each is located in the section file
# with line_holding, which fails, naming the text, if a rewrite of the brief drops it.
ESCALATE = "how far to escalate against US targets"  # motives, items/0/text
# the citation after it, which stays with the sentence it backs: a sentence added after
# the one it cites goes after it
ESCALATE_CITED = 'against US targets"]. '
FATHER = " The father’s name was Muhammad Sadiq al-Sadr."  # background, a cited sentence
STAYS_OUT = " Rasanah does not treat it as a case of its own."  # scenarios/2/narrative
MUTUAL = "Mutual recognition that neither leader can monopolise the Shia camp"
QUDS = "Iran, through the Quds Force commander"  # motives, items/0/text
APPENDIX_QUOTE = "This call underscored Sadr’s enduring ability"  # motives, citations list


def word_edits(p: wordml.Package) -> None:
    p.replace(ESCALATE, "split over", "divided over", "Ed Editor")
    p.insert(ESCALATE, "against US targets.", " This sentence is new.", "Ed Editor")
    p.delete(FATHER.strip(), FATHER, "Rita Reviewer")  # the sentence and its note
    p.move(STAYS_OUT.strip(), STAYS_OUT, "The precedents cut both ways",
           "open for his adversaries.", "Ed Editor")
    # the scenario matrix's cell: a list of the drivers, each item after a bullet
    p.replace(f"•\u00a0{MUTUAL}", "Mutual recognition", "Shared recognition", "Ed Editor")
    title = _cover_title()
    p.replace(title, title.split()[-1], "Truce", "Ed Editor")
    p.add_paragraph("The contest also moved to religious ground", "A new paragraph from the "
                    "editor.", "Ed Editor")
    p.untracked("The second strand is rivalry among allies.", "rivalry among allies",
                "rivalry between allies")
    p.replace(APPENDIX_QUOTE, "enduring", "lasting", "Ed Editor")  # the evidence appendix
    first = p.comment(QUDS, "Quds Force commander", "Ed Editor", "Spell out his role?")
    p.comment("", "", "Ada Analyst", "Done in the next draft.", reply_to=first)


def test_word_changes_map_to_files_and_lines_and_apply(brief: Path) -> None:
    returned = brief / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(brief), word_edits))
    before = {rel: (brief / rel).read_text("utf-8") for rel in (MOTIVES, BACKGROUND,
                                                                  SCENARIOS)}
    split = line_holding(brief, MOTIVES, "the Coordination Framework split over " + ESCALATE)
    father = line_holding(brief, BACKGROUND, "The father's name was Muhammad Sadiq al-Sadr")
    stays = line_holding(brief, SCENARIOS, STAYS_OUT + " The precedents cut both ways")
    strand = line_holding(brief, MOTIVES, "The second strand is rivalry among allies.")
    qaani = line_holding(brief, MOTIVES, QUDS)
    religious = line_holding(brief, BACKGROUND, "The contest also moved to religious ground")
    mutual = line_holding(brief, SCENARIOS, f'- "{MUTUAL}"')
    quote = line_holding(brief, MOTIVES, 'quote: "This call underscored Sadr\'s enduring')
    title_line = lines_of(brief, "report/brief.yaml").index(f'title: "{_cover_title()}"') + 1
    assert split == qaani and strand == split + 2  # two paragraphs of one field
    assert lines_of(brief, MOTIVES)[split - 1].count(f"{ESCALATE_CITED}On the side") == 1

    assert review(brief, returned) == 0
    report = review_md(brief)
    assert before == {rel: (brief / rel).read_text("utf-8") for rel in before}  # nothing yet
    expected = [
        (f"{MOTIVES}:{split}", "items/0/text", "replacement", "Ed Editor", "can be applied"),
        (f"{MOTIVES}:{split}", "items/0/text", "insertion", "Ed Editor", "can be applied"),
        (f"{BACKGROUND}:{father}", "", "deletion", "Rita Reviewer", "can be applied"),
        (f"{SCENARIOS}:{stays}", "scenarios/2/narrative", "moved away", "Ed Editor",
         "can be applied"),
        (f"{SCENARIOS}:{stays}", "scenarios/2/narrative", "moved here", "Ed Editor",
         "can be applied"),
        (f"{MOTIVES}:{strand}", "items/0/text", "untracked replacement",
         "unknown (tracking was off)", "can be applied"),
        (f"{SCENARIOS}:{mutual}", "scenarios/3/drivers/0", "replacement", "Ed Editor",
         "can be applied"),
        (f"{BACKGROUND}:{religious}", "", "paragraph added", "Ed Editor", "can be applied"),
    ]
    for where, field, kind, who, state in expected:
        note = f" (`{field}`)" if field else ""
        assert re.search(re.escape(f"- **{where}**{note} · {kind} · {who}") + r"[^\n]*"
                         + re.escape(state), report), (where, kind)
    # the cover is generated: edit brief.yaml instead
    assert f"- **report/brief.yaml:{title_line}** · replacement · Ed Editor · 2026-11-30 · " \
        "to do — edit the source instead: the cover comes from report/brief.yaml" in report
    assert "removes the citation [@rasanah2024rifts, quote \"Sadr's father, Muhammad Sadiq " \
        "al-Sadr\"]" in report
    assert f"- **{MOTIVES}:{quote}** · replacement · Ed Editor · 2026-11-30 · to do — edit " \
        "the source instead: the evidence appendix is made from the citations" in report
    assert report.count("\n- **") == 11  # ten changes and a comment: nothing else
    assert f"- **{MOTIVES}:{qaani}** · Ed Editor · 2026-11-30 on “Quds Force commander”: " \
        "“Spell out his role?”\n  - reply · Ada Analyst · 2026-11-30: “Done in the next " \
        "draft.”" in report

    assert review(brief, returned, "--apply") == 0
    motives = (brief / MOTIVES).read_text("utf-8")
    assert motives == before[MOTIVES].replace(
        "the Coordination Framework split over", "the Coordination Framework divided over"
    ).replace(f"{ESCALATE_CITED}On the side", f"{ESCALATE_CITED}This sentence is new. On the "
              "side").replace("rivalry among allies", "rivalry between allies")
    old_background = before[BACKGROUND]
    cited = " The father's name was Muhammad Sadiq al-Sadr [@rasanah2024rifts, quote " \
        "\"Sadr's father, Muhammad Sadiq al-Sadr\"]."
    assert old_background.count(cited) == 1
    background = (brief / BACKGROUND).read_text("utf-8").split("\n")
    assert background[:religious] == old_background.replace(cited, "").split("\n")[:religious]
    assert background[religious:religious + 2] == ["", "A new paragraph from the editor."]
    assert background[religious + 2:] == old_background.split("\n")[religious:]
    scenarios = before[SCENARIOS].split("\n")
    assert scenarios[stays - 1].endswith('parliamentary bloc to resign in June 2022"].')
    scenarios[stays - 1] = scenarios[stays - 1].replace(STAYS_OUT, "", 1) + STAYS_OUT
    assert (brief / SCENARIOS).read_text("utf-8") == "\n".join(scenarios).replace(
        f'- "{MUTUAL}"', f'- "Shared{MUTUAL.removeprefix("Mutual")}"')
    # undoable: the files as they were
    backup = brief / "build" / "review-backup" / "1"
    for rel, text in before.items():
        assert (backup / rel).read_text("utf-8") == text
    assert "build/review-backup/1/" in review_md(brief)
    # and the brief still builds
    assert main(["-q", "-C", str(brief), "build", "--format", "docx"]) == 0


# --- the brief's own judgment: [ … ]{.own} spans and ::: own divs ------------------------


def _rendered(root: Path, rel: str, line: int) -> str:
    """The text the DOCX shows for the paragraph at rel:line (from its review anchors)."""
    mapped = anchors.find_map(zipfile.ZipFile(io.BytesIO(docx_of(root))))
    assert mapped is not None
    found = [a.text for a in mapped.anchors.values() if a.region == "section"
             and [(p.file, p.line) for p in a.parts] == [(rel, line)]]
    assert found, (rel, line)
    return found[0]


def _own_div(root: Path) -> tuple[str, int]:
    """The first section file and line of a one-paragraph ``::: own`` div."""
    for path in sorted((root / "report" / "sections").glob("*.md")):
        rows = path.read_text("utf-8").split("\n")
        for i, row in enumerate(rows[:-2]):
            if row.strip() == "::: own" and rows[i + 1].strip() and rows[i + 2].strip() == ":::":
                return f"report/sections/{path.name}", i + 2
    raise AssertionError("the default brief has no one-paragraph '::: own' div")


def test_a_paragraph_added_after_an_own_div_goes_after_its_fence(brief: Path) -> None:
    rel, line = _own_div(brief)
    opening = _rendered(brief, rel, line)[:40]
    returned = brief / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(brief), lambda p: p.add_paragraph(
        opening, "A new paragraph from the editor.", "Ed Editor")))
    before = lines_of(brief, rel)
    assert review(brief, returned, "--apply") == 0
    assert f"- **{rel}:{line}** · paragraph added · Ed Editor · 2026-11-30 · applied" in \
        review_md(brief)
    # not inside the div: the editor's paragraph is not marked as the brief's judgment
    assert lines_of(brief, rel) == [*before[:line + 1], "", "A new paragraph from the editor.", *before[line + 1:]]
    assert before[line] == ":::"


def test_an_own_div_whose_paragraph_is_removed_goes_with_it(brief: Path) -> None:
    rel, line = _own_div(brief)
    opening = _rendered(brief, rel, line)[:40]
    returned = brief / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(brief), lambda p: p.remove_paragraph(
        opening)))
    before = lines_of(brief, rel)
    assert review(brief, returned, "--apply") == 0
    assert f"- **{rel}:{line}** · paragraph removed" in review_md(brief)
    # no empty "::: own" / ":::" pair is left behind, nor a run of blank lines
    assert before[line - 3:line + 1] == ["", "::: own", before[line - 1], ":::"]
    assert lines_of(brief, rel) == before[:line - 3] + before[line + 1:]


OWN_SPAN = re.compile(r"\[([^\[\]{}*_`\\]+)\]\{\.own\}")


def test_a_deleted_own_span_leaves_no_empty_brackets(brief: Path) -> None:
    """An editor deleting the whole of a sentence of the brief's own ([…]{.own}) deletes
    its markup too: at the end of a line (without the space before it, which goes
    too) and at the start of one (without the space after it, which goes too)."""
    rel = MOTIVES
    rows = lines_of(brief, rel)
    end_at = next(i + 1 for i, row in enumerate(rows) if re.search(
        r" " + OWN_SPAN.pattern + "$", row))
    last = OWN_SPAN.findall(rows[end_at - 1])[-1]
    start_rel = BACKGROUND
    brows = lines_of(brief, start_rel)
    start_at, first = next((i + 1, m.group(1)) for i, row in enumerate(brows)
                           if (m := OWN_SPAN.match(row)) and row[m.end():].startswith(" "))
    shown_last = anchors.plain(last)[0]
    shown_first = anchors.plain(first)[0]

    def edit(p: wordml.Package) -> None:
        p.delete(shown_last, shown_last, "Rita Reviewer")
        p.delete(shown_first, shown_first, "Rita Reviewer")

    returned = brief / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(brief), edit))
    assert review(brief, returned, "--apply") == 0
    report = review_md(brief)
    assert re.search(re.escape(f"- **{rel}:{end_at}**") + r"[^\n]* · deletion · Rita "
                     r"Reviewer · 2026-11-30 · applied", report), report
    assert f"- **{start_rel}:{start_at}** · deletion · Rita Reviewer · 2026-11-30 · " \
        "applied" in report
    span = f" [{last}]{{.own}}"
    assert lines_of(brief, rel) == [*rows[:end_at - 1], rows[end_at - 1].removesuffix(span), *rows[end_at:]]
    assert rows[end_at - 1].endswith(span)
    assert lines_of(brief, start_rel) == [*brows[:start_at - 1], brows[start_at - 1].removeprefix(f"[{first}]{{.own}} "), *brows[start_at:]]
    assert main(["-q", "-C", str(brief), "check"]) == 0


def test_an_edit_of_a_recommendation_goes_to_its_field(brief: Path) -> None:
    rel = "report/sections/08-recommendations.md"
    rows = lines_of(brief, rel)
    at = rows.index("    action: |") + 2  # the first recommendation's action
    action = rows[at - 1].strip()
    word = action.split()[0]
    returned = brief / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(brief), lambda p: p.insert(
        anchors.plain(action)[0][:40], word, " also", "Ed Editor")))
    assert review(brief, returned, "--apply") == 0
    assert f"- **{rel}:{at}** (`recommendations/0/action`) · insertion · Ed Editor · " \
        "2026-11-30 · applied" in review_md(brief)
    assert lines_of(brief, rel) == [*rows[:at - 1], rows[at - 1].replace(word, word + " also", 1), *rows[at:]]


def test_a_quote_cited_in_a_one_line_text_field_is_at_its_line(tiny_built: Path,
                                                                capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    """A citation in a block scalar (``text: |``) of one line is on the line after the
    key, as one in a longer one is: so say the checks and the review of the evidence
    appendix."""
    rel = "report/sections/02-motives.md"
    path = tiny_built / rel
    text = path.read_text("utf-8")
    cited = "targets [@rasanah2024rifts, quote \"revealed a stark division among Shiite " \
        "groups\"]."
    path.write_text(text.replace("targets.\n", cited + "\n"), "utf-8")
    line = line_holding(tiny_built, rel, cited)
    assert lines_of(tiny_built, rel)[line - 2].endswith("text: |")
    assert main(["-q", "-C", str(tiny_built), "build", "--format", "docx"]) == 0
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.replace(
        "“revealed a stark division", "stark", "sharp", "Ed")))
    assert review(tiny_built, returned) == 0
    assert f"- **{rel}:{line}** · replacement · Ed · 2026-11-30 · to do — edit the source " \
        "instead: the evidence appendix is made from the citations" in review_md(tiny_built)
    # and a check finding about that citation names the same line
    path.write_text(text.replace("targets.\n", "targets [@rasanah2024rifts, quote \"words "
                                 "that no source holds\"].\n"), "utf-8")
    capsys.readouterr()
    assert main(["-q", "-C", str(tiny_built), "check"]) == 1
    col = lines_of(tiny_built, rel)[line - 1].index("rasanah2024rifts, quote") + 1
    assert f"{rel}:{line}:{col}: error[quote.not-found]: quote not found in " \
        "'rasanah2024rifts'" in capsys.readouterr().err


def test_an_untracked_edit_is_found_by_comparison(brief: Path) -> None:
    returned = brief / "returned.docx"
    sentence = "The 2021 parliamentary election brought the rivalry to a head"
    returned.write_bytes(wordml.edited(docx_of(brief), lambda p: p.untracked(
        sentence, sentence, sentence.replace("the rivalry", "a rivalry"))))
    line = line_holding(brief, BACKGROUND, sentence)
    before = lines_of(brief, BACKGROUND)
    assert review(brief, returned, "--apply") == 0
    report = review_md(brief)
    assert f"- **{BACKGROUND}:{line}** · untracked replacement · unknown (tracking was off) " \
        "· applied\n  - old: “the”\n  - new: “a”" in report
    assert lines_of(brief, BACKGROUND) == [*before[:line - 1], before[line - 1].replace(sentence, sentence.replace("the rivalry", "a rivalry"), 1), *before[line:]]


def test_a_paragraph_removed_without_tracking(brief: Path) -> None:
    returned = brief / "returned.docx"
    # the last paragraph, which opens with a sentence of our own ([…]{.own})
    returned.write_bytes(wordml.edited(docx_of(brief), lambda p: p.remove_paragraph(
        "Two lessons matter for 2024.")))
    line = line_holding(brief, BACKGROUND, "[Two lessons matter for 2024.")
    before = lines_of(brief, BACKGROUND)
    assert before[line:] == [""]  # the file's last paragraph
    assert review(brief, returned, "--apply") == 0
    assert f"- **{BACKGROUND}:{line}** · paragraph removed" in review_md(brief)
    text = (brief / BACKGROUND).read_text("utf-8")
    assert text == "\n".join(before[:line - 2]) + "\n"


def test_a_sentence_added_after_a_cited_one_leaves_the_citation_in_place(
        tiny_built: Path) -> None:
    rel = "report/sections/01-background.md"
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.insert(
        "Rasanah later weighed in.", "Rasanah later weighed in.",
        " Sadr’s answer is “not yet”.", "Ed")))
    assert review(tiny_built, returned, "--apply") == 0
    assert lines_of(tiny_built, rel)[6] == "Rasanah later weighed in.[@rasanah2024rifts, ¶ 3] " \
        "Sadr's answer is \"not yet\"."
    # the same file again: the sources changed since it was built, so not without --force,
    # and with it nothing is added twice
    after = (tiny_built / rel).read_text("utf-8")
    assert review(tiny_built, returned, "--apply") == 1
    assert review(tiny_built, returned, "--apply", "--force") == 0
    assert (tiny_built / rel).read_text("utf-8") == after
    assert "to do — already in the source" in review_md(tiny_built)


@pytest.mark.parametrize("refresh", [False, True])
def test_contents_filled_in_by_word_are_not_changes(tiny_built: Path, refresh: bool) -> None:
    """Word fills the contents field in when it opens the file: those entries are made
    from the headings, not edits. The DOCX comes with the entries written out (anchored
    like every paragraph); Word's update of the field replaces them with its own."""
    def fill(p: wordml.Package) -> None:
        sdt = next(p.document.iter(f"{W}sdtContent"))
        if refresh:  # the entries as sent go; the heading "Contents" stays
            written = [e for e in sdt.iter(f"{W}p")
                       if e.find(f"{W}pPr/{W}pStyle[@{W}val='TOCHeading']") is None]
            assert len(written) >= 2
            for entry in written:
                entry.getparent().remove(entry)
        for title in ("Background", "Motives and drivers"):
            entry = etree.SubElement(sdt, f"{W}p")
            style = etree.SubElement(etree.SubElement(entry, f"{W}pPr"), f"{W}pStyle")
            style.set(f"{W}val", "TOC2")
            etree.SubElement(etree.SubElement(entry, f"{W}r"), f"{W}t").text = f"{title}\t1"

    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), fill))
    assert review(tiny_built, returned) == 0
    assert "## Changes\n\nNone." in review_md(tiny_built)


def _as_libreoffice_saves_a_page_break(p: etree._Element) -> None:
    """w:pageBreakBefore as LibreOffice writes it back: a run with a page break."""
    ppr = p.find(f"{W}pPr")
    for element in ppr.findall(f"{W}pageBreakBefore"):
        ppr.remove(element)
    run = etree.Element(f"{W}r")
    etree.SubElement(run, f"{W}br", {f"{W}type": "page"})
    ppr.addnext(run)


def test_libreoffice_s_rewriting_is_no_change(tiny_built: Path) -> None:
    """What LibreOffice does to a DOCX it saves, with no edit: a page break before a
    paragraph (the contents' heading, a section's) saved as a run with a page break, and
    the bookmark at the start of a paragraph that ends a page section moved to the end of
    the paragraph before it (its end left in place). Neither is an edit: the only change
    reported is the one made, at its line."""
    rel = "report/sections/01-background.md"

    def resave(p: wordml.Package) -> None:
        heading = next(e for e in p.document.iter(f"{W}p")
                       if e.find(f"{W}pPr/{W}pStyle[@{W}val='TOCHeading']") is not None)
        _as_libreoffice_saves_a_page_break(heading)
        _as_libreoffice_saves_a_page_break(p.paragraph("Motives and drivers"))
        moved = p.paragraph("Rasanah later weighed in.")
        start = next(b for b in moved.iter(f"{W}bookmarkStart")
                     if b.get(f"{W}name", "").startswith(anchors.PREFIX))
        before = moved.getprevious()
        assert before.tag == f"{W}p" and "The rivalry took shape" in \
            "".join(t.text or "" for t in before.iter(f"{W}t"))
        start.getparent().remove(start)
        before.append(start)
        p.untracked("Rasanah later weighed in.", "weighed", "chimed")

    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), resave))
    line = line_holding(tiny_built, rel, "Rasanah later weighed in.")
    assert review(tiny_built, returned, "--apply") == 0
    report = review_md(tiny_built)
    assert report.count("\n- **") == 1, report
    assert f"- **{rel}:{line}** · untracked replacement · unknown (tracking was off) · " \
        "applied" in report
    assert "Rasanah later chimed in." in (tiny_built / rel).read_text("utf-8")


CITED_BEFORE_STOP = "Rasanah later weighed in [@rasanah2024rifts, ¶ 3]."
LONG_AFTER = " Its account of the rivalry between the two camps, their leaders and their " \
    "allies in the Coordination Framework is the longest there is."


@pytest.mark.parametrize(("edit", "after"), [
    (lambda p: p.insert("Rasanah later weighed in", ".", " A new sentence.", "Ed"),
     f"{CITED_BEFORE_STOP} A new sentence. It said little.{LONG_AFTER}"),
    (lambda p: p.delete("Rasanah later weighed in", " It said little.", "Ed"),
     f"{CITED_BEFORE_STOP}{LONG_AFTER}"),
])
def test_a_sentence_next_to_a_citation_before_its_stop(tiny_built: Path, edit,
                                                        after: str) -> None:  # type: ignore[no-untyped-def]
    """A citation before the stop ("in [@key]."), more text after than before: a
    sentence added after that sentence goes after the stop, not between the sentence
    and its citation (which would then back the new one); a sentence deleted after it
    leaves the citation and the stop (the text diff alone puts either edit before the
    stop)."""
    rel = "report/sections/01-background.md"
    path = tiny_built / rel
    path.write_text(path.read_text("utf-8").replace(
        "Rasanah later weighed in.[@rasanah2024rifts, ¶ 3]",
        f"{CITED_BEFORE_STOP} It said little.{LONG_AFTER}"), "utf-8")
    assert main(["-q", "-C", str(tiny_built), "build", "--format", "docx"]) == 0
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), edit))
    assert review(tiny_built, returned, "--apply") == 0
    report = review_md(tiny_built)
    assert report.count("\n- **") == 1 and "· applied" in report, report
    assert "removes the citation" not in report
    assert lines_of(tiny_built, rel)[6] == after


def test_an_edit_across_a_citation_is_left_to_do(tiny_built: Path) -> None:
    """A replacement that reaches into a citation is listed, never applied."""
    returned = tiny_built / "returned.docx"
    def edit(p: wordml.Package) -> None:  # the note's reference sits between the two
        p.untracked("The rivalry took shape", "the civil war.", "the civil war;")
        p.untracked("The rivalry took shape", "The Sadrist Movement", "the Sadrist Movement")

    returned.write_bytes(wordml.edited(docx_of(tiny_built), edit))
    before = (tiny_built / "report/sections/01-background.md").read_text("utf-8")
    assert review(tiny_built, returned, "--apply") == 0
    report = review_md(tiny_built)
    assert "to do — the changed text holds a citation ([@wikipedia-sadrist-khomeinist" in report
    assert (tiny_built / "report/sections/01-background.md").read_text("utf-8") == before
    assert not (tiny_built / "build" / "review-backup").exists()


def test_a_quoted_yaml_field_is_edited_with_its_quoting(tiny_built: Path) -> None:
    rel = "report/sections/02-motives.md"
    path = tiny_built / rel
    path.write_text(path.read_text("utf-8").replace(
        '  - title: "A framework divided over Gaza"', '  - title: "A framework \\"divided\\" '
        'over Gaza"'), "utf-8")
    assert main(["-q", "-C", str(tiny_built), "build", "--format", "docx"]) == 0
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.replace(
        "over Gaza", "over Gaza", "over \"Gaza\" and Lebanon", "Ed")))
    assert review(tiny_built, returned, "--apply") == 0
    assert '  - title: "A framework \\"divided\\" over \\"Gaza\\" and Lebanon"' in \
        path.read_text("utf-8")
    assert main(["-q", "-C", str(tiny_built), "check"]) == 0


def test_markdown_in_the_new_text_is_escaped(tiny_built: Path) -> None:
    rel = "report/sections/01-background.md"
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.replace(
        "Rasanah later weighed in.", "Rasanah later weighed", "Rasanah later [weighed *",
        "Ed")))
    assert review(tiny_built, returned, "--apply") == 0  # the brief still checks
    assert "Rasanah later \\[weighed \\* in." in (tiny_built / rel).read_text("utf-8")


def test_the_checks_run_after_applying(tiny_built: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An applied edit that breaks a check is reported at its file and line (exit 1),
    with the way back."""
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.insert(
        "The Coordination Framework split", "against US targets.", " It is likely, and we "
        "have high confidence, that the split deepens.", "Ed")))
    capsys.readouterr()
    assert review(tiny_built, returned, "--apply") == 1
    err = capsys.readouterr().err
    assert "report/sections/02-motives.md:7:7: error[tradecraft.likelihood-with-confidence]: " \
        "this sentence gives both a likelihood" in err
    assert "the applied changes leave 1 problem in the brief" in err
    assert "undo with the copies in build/review-backup/1/" in err
    assert "that the split deepens." in (tiny_built / "report/sections/02-motives.md"
                                         ).read_text("utf-8")


# --- bad input ----------------------------------------------------------------------------


def _nothing_written(root: Path) -> None:
    assert not (root / "build" / "review.md").exists()
    assert not (root / "build" / "review-backup").exists()


def test_a_docx_that_is_not_ours(tiny_built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import docx

    other = tiny_built / "other.docx"
    document = docx.Document()
    document.add_paragraph("Some text from elsewhere.")
    document.save(str(other))
    capsys.readouterr()
    assert review(tiny_built, other, "--apply") == 1
    err = capsys.readouterr().err
    # named relative to the project it is in, at its first line, under its rule
    assert err == "other.docx:1:1: error[review.anchors]: this DOCX has no review anchors, so " \
        "it was not written by 'brief build' (or was saved by a program that dropped them)\n" \
        "  hint: send the editor build/brief.docx from 'brief build' and import the file " \
        "they return\n"
    _nothing_written(tiny_built)


DAMAGED = "not a readable DOCX: the file is damaged or not a Word document\n  hint: ask " \
    "for the file again, saved as Word (.docx)\n"


@pytest.mark.parametrize(("damage", "words"), [
    (lambda data: data[: len(data) // 2], DAMAGED),
    (lambda data: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096,
     "the file is password-protected (encrypted) or an old Word .doc, so its text cannot "
     "be read\n  hint: ask for it without a password (Word: File › Info › Protect Document "
     "› Encrypt with Password, cleared), saved as .docx\n"),
    (lambda data: b"", DAMAGED),
])
def test_a_damaged_or_encrypted_docx(tiny_built: Path, capsys: pytest.CaptureFixture[str],
                                     damage, words: str) -> None:  # type: ignore[no-untyped-def]
    bad = tiny_built / "bad.docx"
    bad.write_bytes(damage(docx_of(tiny_built)))
    capsys.readouterr()
    assert review(tiny_built, bad) == 1
    err = capsys.readouterr().err
    assert err == f"bad.docx:1:1: error[review.docx]: {words}"
    _nothing_written(tiny_built)


def test_a_docx_of_another_version(tiny_built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    returned = tiny_built / "returned.docx"
    returned.write_bytes(wordml.edited(docx_of(tiny_built), lambda p: p.replace(
        "Rasanah later weighed in.", "weighed", "chimed", "Ed")))
    rel = "report/sections/01-background.md"
    path = tiny_built / rel
    changed = path.read_text("utf-8") + "\nA paragraph written since.\n"
    path.write_text(changed, "utf-8")
    capsys.readouterr()
    assert review(tiny_built, returned, "--apply") == 1
    err = capsys.readouterr().err
    assert err == "returned.docx:1:1: error[review.stale]: this DOCX was built from another " \
        f"version of the brief: {rel} has changed since\n  hint: rebuild the DOCX and send " \
        "it again, or pass --force to map the changes onto the files as they are now\n"
    _nothing_written(tiny_built)
    assert path.read_text("utf-8") == changed
    # --force: mapped onto the files as they are now
    assert review(tiny_built, returned, "--apply", "--force") == 0
    assert "Rasanah later chimed in." in path.read_text("utf-8")
    assert "The section files changed since this DOCX was built" in review_md(tiny_built)


def test_the_file_is_named_relative_to_the_project_or_as_given(
        tiny_built: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tiny_built.parent)
    capsys.readouterr()
    assert main(["-q", "-C", "tiny", "review", "import", "tiny/sub/missing.docx"]) == 1
    assert capsys.readouterr().err == "sub/missing.docx:1:1: error[review.docx]: no such " \
        "file: sub/missing.docx\n"
    assert main(["-q", "-C", "tiny", "review", "import", "missing.docx"]) == 1
    assert capsys.readouterr().err == "missing.docx:1:1: error[review.docx]: no such file: " \
        "missing.docx\n"
    _nothing_written(tiny_built)


def test_a_docx_of_another_brief(tiny_built: Path, brief: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert review(brief, tiny_built / "build" / "brief.docx") == 1
    # a file outside the project is named as given
    given = tiny_built / "build" / "brief.docx"
    assert capsys.readouterr().err == f"{given}:1:1: error[review.stale]: this DOCX was " \
        "built from another brief ('Rifts in Iraq's Shia camp'): none of its section files " \
        "is in this project\n  hint: run the command in the brief's own folder (-C DIR)\n"
    assert not (brief / "build" / "review.md").exists()


# --- LibreOffice, change recording on ----------------------------------------------------


def _uno_available() -> str:
    if shutil.which("soffice") is None:
        return "soffice is not installed (Debian: libreoffice-writer-nogui)"
    if not SYSTEM_PYTHON.is_file() or subprocess.run(
            [str(SYSTEM_PYTHON), "-c", "import uno"], capture_output=True,
            timeout=60).returncode != 0:
        return "the UNO bridge is not installed (Debian: python3-uno)"
    return ""


LIBREOFFICE_EDITS = [
    {"op": "replace", "find": "the Coordination Framework split over",
     "new": "the Coordination Framework divided over", "author": "Lee Editor"},
    {"op": "insert_after", "find": f"{ESCALATE}.", "text": " A sentence from LibreOffice.",
     "author": "Lee Editor"},
    {"op": "delete", "find": STAYS_OUT, "author": "Max Checker"},
    {"op": "untracked", "find": "the conflict emerged during the civil war",
     "new": "the conflict first emerged during the civil war"},
    {"op": "comment", "find": "Quds Force commander", "text": "Spell out his role?",
     "author": "Lee Editor", "name": "c1", "date": "2026-11-30T09:00"},
    {"op": "reply", "find": "Quds Force commander", "to": "c1", "text": "Agreed, will do.",
     "author": "Ada Analyst", "date": "2026-11-30T11:00"},
]


def test_libreoffice_tracked_changes_come_home(brief: Path, tmp_path: Path) -> None:
    missing = _uno_available()
    if missing:
        pytest.skip(missing)
    import socket

    with socket.socket() as s:  # a free port for LibreOffice to listen on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps(LIBREOFFICE_EDITS), "utf-8")
    returned = brief / "from-libreoffice.docx"
    run = subprocess.run([str(SYSTEM_PYTHON), str(HERE / "lo_edit.py"), str(port),
                          str(tmp_path / "profile"), str(brief / "build" / "brief.docx"),
                          str(returned), str(edits)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and returned.is_file(), run.stderr[-2000:]
    before = {rel: (brief / rel).read_text("utf-8") for rel in (MOTIVES, BACKGROUND,
                                                                  SCENARIOS)}
    split = line_holding(brief, MOTIVES, "the Coordination Framework split over " + ESCALATE)
    stays = line_holding(brief, SCENARIOS, STAYS_OUT)
    qaani = line_holding(brief, MOTIVES, QUDS)
    emerged = line_holding(brief, BACKGROUND, "the conflict emerged during the civil war")

    assert review(brief, returned, "--apply") == 0
    report = review_md(brief)
    for where, kind, who in [
            (f"{MOTIVES}:{split}", "replacement", "Lee Editor"),
            (f"{MOTIVES}:{split}", "insertion", "Lee Editor"),
            (f"{SCENARIOS}:{stays}", "deletion", "Max Checker"),
            (f"{BACKGROUND}:{emerged}", "untracked insertion", "unknown (tracking was off)")]:
        assert re.search(re.escape(f"- **{where}**") + r"[^\n]*" + re.escape(
            f" · {kind} · {who}") + r"[^\n]*· applied", report), (where, kind)
    # the only changes are those made: LibreOffice's rewriting of the file adds none
    assert report.count("\n- **") == 5, report
    assert f"- **{MOTIVES}:{qaani}** · Lee Editor · 2026-11-30 on “Quds Force commander”: " \
        "“Spell out his role?”\n  - reply · Ada Analyst · 2026-11-30: “Agreed, will do.”" \
        in report
    assert (brief / MOTIVES).read_text("utf-8") == before[MOTIVES].replace(
        "the Coordination Framework split over", "the Coordination Framework divided over"
    ).replace(f"{ESCALATE_CITED}On the side", f"{ESCALATE_CITED}A sentence from LibreOffice. "
              "On the side")
    assert (brief / SCENARIOS).read_text("utf-8") == before[SCENARIOS].replace(
        STAYS_OUT + " The precedents", " The precedents")
    assert (brief / BACKGROUND).read_text("utf-8") == before[BACKGROUND].replace(
        "the conflict emerged during the civil war",
        "the conflict first emerged during the civil war")
    assert main(["-q", "-C", str(brief), "build", "--format", "docx"]) == 0
