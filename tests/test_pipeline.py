"""The whole path: a project in, three outputs out, opened and read."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lhtml
from pypdf import PdfReader

from policybrief.commands.cli import main

from conftest import make_tiny

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tiny(tmp_path_factory.mktemp("built"))
    assert main(["-C", str(root), "-q", "build"]) == 0
    return root


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def docx_footnotes(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("word/footnotes.xml"))
    notes = []
    for note in root.iter(f"{W}footnote"):
        if int(note.get(f"{W}id", "0")) > 0:
            notes.append("".join(t.text or "" for t in note.iter(f"{W}t")))
    return notes


def test_build_writes_three_formats(built: Path) -> None:
    for name in ("brief.pdf", "brief.html", "brief.docx"):
        assert (built / "build" / name).stat().st_size > 1000


def test_pdf_has_headings_footnotes_and_bibliography(built: Path) -> None:
    text = pdf_text(built / "build" / "brief.pdf")
    assert "Rifts in Iraq's Shia camp" in text.replace("’", "'")
    for heading in ("Background", "Motives and drivers", "A framework divided over Gaza",
                    "Bibliography"):
        assert heading in text
    # Chicago notes: the first note is a full reference, with the paragraph locator.
    assert "Wikipedia contributors, ‘Sadrist–Khomeinist Conflict’" in text
    assert "para. 3" in text
    assert "Page 1 of" not in text  # the cover carries no folio
    assert "Page 2 of" in text


def test_html_has_notes_linked_to_passages(built: Path) -> None:
    page = lhtml.fromstring((built / "build" / "brief.html").read_bytes())
    headings = [h.text_content().strip() for h in page.xpath("//main//h2")]
    assert headings[:2] == ["Background", "Motives and drivers"]
    assert "Bibliography" in headings and "Notes" in headings
    notes = page.xpath('//section[@id="footnotes"]//li')
    assert len(notes) == 3
    entries = page.xpath('//div[contains(@class, "csl-entry")]')
    assert [e.get("id") for e in entries] == ["ref-rasanah2024rifts",
                                              "ref-wikipedia-sadrist-khomeinist"]
    links = page.xpath('//a[@class="ev-source"]/@href')
    assert "sources/rasanah2024rifts.html#p13" in links
    assert not page.xpath("//script")


def test_html_note_link_lands_on_the_quoted_words(built: Path) -> None:
    page = lhtml.fromstring((built / "build" / "brief.html").read_bytes())
    for href in page.xpath('//a[@class="ev-source"]/@href'):
        name, anchor = href.split("#")
        source = lhtml.fromstring((built / "build" / name).read_bytes())
        target = source.get_element_by_id(anchor)
        marked = " ".join(m.text_content() for m in target.iter("mark"))
        assert marked, f"{href} lands on a passage with no quote marked"
    source = lhtml.fromstring((built / "build/sources/rasanah2024rifts.html").read_bytes())
    assert "revealed a stark division among Shiite groups" in \
        source.get_element_by_id("p13").text_content()


def test_docx_has_headings_and_real_footnotes(built: Path) -> None:
    import docx

    document = docx.Document(str(built / "build" / "brief.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["Background", "Motives and drivers", "A framework divided over Gaza"]
    assert "Bibliography" in headings
    notes = docx_footnotes(built / "build" / "brief.docx")
    assert len(notes) == 3
    assert "para. 13" in notes[2]
    body = "\n".join(p.text for p in document.paragraphs)
    assert 'quote "' not in body  # the evidence syntax never leaks into the text
    assert "Rasanah – International Institute for Iranian Studies. Rifts" in body


def test_rebuild_with_nothing_changed_writes_nothing(built: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    outputs = [built / "build" / n for n in ("brief.pdf", "brief.html", "brief.docx")]
    before = [p.stat().st_mtime_ns for p in outputs]
    assert main(["-C", str(built), "build"]) == 0
    assert [p.stat().st_mtime_ns for p in outputs] == before
    assert "nothing changed" in capsys.readouterr().out


def test_format_option_builds_only_that_format(tiny: Path) -> None:
    assert main(["-C", str(tiny), "-q", "build", "--format", "docx"]) == 0
    assert (tiny / "build" / "brief.docx").is_file()
    assert not (tiny / "build" / "brief.pdf").exists()
    with zipfile.ZipFile(io.BytesIO((tiny / "build" / "brief.docx").read_bytes())) as z:
        assert "word/document.xml" in z.namelist()


def test_unknown_format_is_a_usage_error(tiny: Path) -> None:
    assert main(["-C", str(tiny), "build", "--format", "odt"]) == 2


def test_check_writes_nothing(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tiny), "check"]) == 0
    assert not (tiny / "build").exists()
    assert "2 quotes verified" in capsys.readouterr().out


def _tagged(tag: str) -> list[int]:
    """The processes whose environment carries ``tag``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if tag.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_build_stopped_by_its_checks_leaves_no_layout_process(tiny: Path) -> None:
    import os
    import subprocess
    import sys
    import time
    import uuid

    section = tiny / "report" / "sections" / "02-motives.md"
    section.write_text(section.read_text("utf-8").replace("stark division", "stark unity"),
                       "utf-8")
    tag = f"POLICYBRIEF_TEST_TAG={uuid.uuid4().hex}"
    done = subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(tiny), "build"],
                          env={**os.environ, tag.split("=")[0]: tag.split("=")[1]},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "02-motives.md" in done.stderr and "quote not found" in done.stderr
    # the layout processes, started as the build began, stop with it
    deadline = time.monotonic() + 20
    while _tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _tagged(tag) == []
