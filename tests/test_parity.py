"""The parity report: the three outputs of one brief agree on headings, notes,
bibliography and scenario-matrix rows, and a difference in any one of them is reported."""

from __future__ import annotations

import io
import re
import shutil
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from policybrief.commands import parity

REPO = Path(__file__).resolve().parent.parent
BIB = """\
@report{rasanah2024rifts,
  author = {{Rasanah – International Institute for Iranian Studies}},
  title = {Rifts Within Iraqi Shiite Parties},
  institution = {Rasanah – International Institute for Iranian Studies},
  date = {2024-05-05},
  file = {seeds/rasanah-2024-maliki-sadr-overtures.md},
}

@online{wikipedia-sadrist-khomeinist,
  author = {{Wikipedia contributors}},
  title = {Sadrist–Khomeinist conflict},
  url = {https://en.wikipedia.org/wiki/Sadrist%E2%80%93Khomeinist_conflict},
  file = {seeds/sadrist-khomeinist-conflict.wikipedia.txt},
}
"""
SCENARIO = """\
  - id: "{id}"
    title: "{title}"
    narrative: "{title}, as the sources describe it."
    likelihood: "{likelihood}"
    confidence: "low"
    attribution: "brief"
    drivers: ["A driver of {id}"]
    indicators: ["An indicator of {id}"]
    implications: ["An implication of {id}"]
    citations:
      - key: "rasanah2024rifts"
        quote: "{quote}"
"""
FILES = {
    "report/brief.yaml": """\
        title: "Parity test brief"
        date: "2024-05-20"
        institution: "Test Analysis Desk"
        authors:
          - name: "Ada Analyst"
        language: "en-GB"
        csl: "chicago-notes-bibliography"
        sections: ["01-background.md", "02-scenarios.md"]
        """,
    "report/sections/01-background.md": """\
        ---
        kind: "background"
        title: "Background"
        ---
        The Shia opposition was once united [@wikipedia-sadrist-khomeinist, quote "During their opposition to Saddam Hussein, Iraqi Shia militias were united and had Iranian support"].

        The feud is old [@rasanah2024rifts, quote "The unresolved conflict between Maliki and Sadr has persisted for over a decade and a half"].
        """,
}


def scenarios() -> str:
    rows = [("rapprochement", "Rapprochement", "very unlikely",
             "the Coordination Framework could effectively disintegrate"),
            ("rivalry", "Rivalry and agreement", "likely",
             "the Coordination Framework would face a crisis, potentially leading to its "
             "dismantling")]
    listed = "".join(SCENARIO.format(id=i, title=t, likelihood=lk, quote=q)
                     for i, t, lk, q in rows)
    return ('---\nkind: "scenarios"\ntitle: "Scenarios"\nscenarios:\n' + listed + "---\n"
            'Two futures [@rasanah2024rifts, quote "several potential scenarios may unfold '
            'on the Iraqi political landscape"].\n')


@dataclass(frozen=True)
class Outputs:
    pdf: bytes
    html: str
    docx: bytes


def project(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True)
    for name in ("rasanah-2024-maliki-sadr-overtures.md",
                 "sadrist-khomeinist-conflict.wikipedia.txt"):
        shutil.copy(REPO / "seeds" / name, root / "seeds" / name)
    (root / "bibliography.bib").write_text(BIB, "utf-8")
    for name, text in {**FILES, "report/sections/02-scenarios.md": scenarios()}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), "utf-8")
    return root


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    from policybrief import pipeline
    from policybrief.model import Project

    root = project(tmp_path_factory.mktemp("parity") / "brief")
    pipeline.build(Project(root))
    out = root / "build"
    return Outputs((out / "brief.pdf").read_bytes(), (out / "brief.html").read_text("utf-8"),
                   (out / "brief.docx").read_bytes())


def rezip(docx: bytes, name: str, change: object) -> bytes:
    """``docx`` with part ``name`` passed through ``change`` (a str → str function)."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == name:
                data = change(data.decode("utf-8")).encode("utf-8")  # type: ignore[operator]
            target.writestr(info, data)
    return out.getvalue()


def row(report: parity.Parity, name: str) -> parity.Row:
    return next(r for r in report.rows if r.name == name)


@pytest.mark.slow
def test_the_three_outputs_agree(outputs: Outputs) -> None:
    report = parity.compare(outputs.pdf, outputs.html, outputs.docx)
    assert report.ok, report.markdown()
    assert [r.name for r in report.rows] == ["Headings", "Notes", "Bibliography entries",
                                             "Scenario matrix rows", "Body text",
                                             "Note texts", "Bibliography text",
                                             "Scenario matrix cells"]
    assert len(row(report, "Body text").pdf) >= 5
    assert len(row(report, "Scenario matrix cells").docx) == 12
    headings = row(report, "Headings").pdf
    assert headings[:4] == ("1 Background", "1 Scenarios", "2 Rapprochement",
                            "2 Rivalry and agreement")
    assert headings[-1] == "1 Bibliography"
    assert len(row(report, "Notes").html) == 5
    assert row(report, "Bibliography entries").docx == ("rasanah2024rifts",
                                                        "wikipedia-sadrist-khomeinist")
    assert len(row(report, "Scenario matrix rows").pdf) == 2
    assert "All outputs agree." in report.markdown()


@pytest.mark.slow
def test_a_heading_missing_from_the_web_page_is_reported(outputs: Outputs) -> None:
    broken = re.sub(r"<h3[^>]*>Rivalry and agreement</h3>", "", outputs.html, count=1)
    assert broken != outputs.html
    report = parity.compare(outputs.pdf, broken, outputs.docx)
    assert not report.ok
    assert [r.name for r in report.differences] == ["Headings"]
    count = len(row(report, "Headings").pdf)
    text = report.markdown()
    assert f"| Headings | {count} | {count - 1} | {count} | **no** |" in text
    assert "At item 4: PDF: “2 Rivalry and agreement”" in text


@pytest.mark.slow
def test_a_missing_note_is_reported(outputs: Outputs) -> None:
    broken = re.sub(r'<li id="fn3">.*?</li>', "", outputs.html, count=1, flags=re.S)
    report = parity.compare(outputs.pdf, broken, outputs.docx)
    assert [r.name for r in report.differences] == ["Notes", "Note texts"]
    assert "the web page 4" in report.markdown()


@pytest.mark.slow
def test_a_missing_bibliography_entry_and_matrix_row_in_the_docx_are_reported(
        outputs: Outputs) -> None:
    def drop_entry(xml: str) -> str:
        return xml.replace('w:name="ref-rasanah2024rifts"', 'w:name="gone"')

    def drop_row(xml: str) -> str:
        table = xml.index("<w:tbl>", xml.index("Scenario matrix"))
        last = xml.rindex("<w:tr>", table, xml.index("</w:tbl>", table))
        end = xml.index("</w:tr>", last) + len("</w:tr>")
        return xml[:last] + xml[end:]

    docx = rezip(rezip(outputs.docx, "word/document.xml", drop_entry),
                 "word/document.xml", drop_row)
    report = parity.compare(outputs.pdf, outputs.html, docx)
    assert {r.name for r in report.differences} == {"Bibliography entries",
                                                    "Scenario matrix rows",
                                                    "Scenario matrix cells"}
    assert "the DOCX's 1" in report.markdown()


def test_first_difference_names_the_item_and_each_output() -> None:
    found = parity.first_difference(parity.Row("Headings", ("1 A", "1 B"), ("1 A",),
                                               ("1 A", "1 B")))
    assert found == "At item 2: PDF: “1 B”; HTML: “(nothing)”; DOCX: “1 B”."


# --- what the outputs say ---------------------------------------------------------------

SENTENCE = "The feud is old"
NOTE = "Rifts Within Iraqi Shiite Parties"
CELL = "An indicator of rivalry"


@pytest.mark.slow
def test_a_sentence_removed_from_the_web_page_or_the_docx_is_reported(
        outputs: Outputs) -> None:
    assert SENTENCE in outputs.html
    html = outputs.html.replace(SENTENCE + ".", "", 1)
    report = parity.compare(outputs.pdf, html, outputs.docx)
    assert [r.name for r in report.differences] == ["Body text"]
    assert "In “Background”" in report.markdown()
    docx = rezip(outputs.docx, "word/document.xml",
                 lambda xml: xml.replace(SENTENCE + ".", "", 1))
    report = parity.compare(outputs.pdf, outputs.html, docx)
    assert [r.name for r in report.differences] == ["Body text"]
    assert "the DOCX “(nothing)”" in report.markdown() or "The feud" in report.markdown()


@pytest.mark.slow
def test_a_note_text_changed_in_one_output_is_reported(outputs: Outputs) -> None:
    docx = rezip(outputs.docx, "word/footnotes.xml",
                 lambda xml: xml.replace(NOTE, "Rifts Within Iraqi Sunni Parties", 1))
    report = parity.compare(outputs.pdf, outputs.html, docx)
    assert [r.name for r in report.differences] == ["Note texts"]
    assert "Sunni" in report.markdown()
    html = re.sub(r'(<li id="fn2">.*?)para\. (\d+)', r"\1para. 9\2", outputs.html, count=1,
                  flags=re.S)
    assert html != outputs.html
    assert [r.name for r in parity.compare(outputs.pdf, html, outputs.docx).differences] \
        == ["Note texts"]


@pytest.mark.slow
def test_a_matrix_cell_dropped_in_one_output_is_reported(outputs: Outputs) -> None:
    docx = rezip(outputs.docx, "word/document.xml", lambda xml: xml.replace(CELL, "", 1))
    report = parity.compare(outputs.pdf, outputs.html, docx)
    assert [r.name for r in report.differences] == ["Scenario matrix cells"]
    assert CELL in report.markdown()


@pytest.mark.slow
def test_text_dropped_from_the_pdf_alone_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF laid out from a page without one sentence, one note's locator and one
    matrix cell: each is reported, with the section of the sentence."""
    from policybrief import pipeline
    from policybrief.model import Project
    from policybrief.render import html as html_stage

    finish = html_stage.finish

    def broken(fragment: str, target: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        body, toc = finish(fragment, target, *args, **kwargs)  # type: ignore[arg-type]
        if target == "pdf":
            body = body.replace(SENTENCE + ".", "", 1)
            body = re.sub(r"(Shiite Parties</em>, )para\. (\d+)", r"\1para. 9\2", body,
                          count=1)
            body = body.replace(CELL, "", 1)
        return body, toc

    monkeypatch.setattr(html_stage, "finish", broken)
    root = project(tmp_path / "brief")
    pipeline.build(Project(root))
    out = root / "build"
    report = parity.compare((out / "brief.pdf").read_bytes(),
                            (out / "brief.html").read_text("utf-8"),
                            (out / "brief.docx").read_bytes())
    text = report.markdown()
    assert [r.name for r in report.differences] == [
        "Scenario matrix rows", "Body text", "Note texts", "Scenario matrix cells"], text
    assert "In “Background”, the PDF lacks the web page's sentence “The feud is old" in text
    assert CELL in text
