"""PDF sources read as a reader reads them: PDFs made by WeasyPrint from known text, in
four layouts, read back to the same paragraphs (policybrief.load.pdfread)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

import policybrief
from policybrief.check.quotes import QuoteIndex
from policybrief.load import pdfread
from policybrief.load.sources import split_passages

TITLE = "Rivalry and restraint in the Coordination Framework"
PARAGRAPHS = [
    "The resignation of the Sadrist deputies in June 2022 transformed the parliamentary "
    "arithmetic: the Coordination Framework, an umbrella of pro-Iran parties, became the "
    "largest bloc and nominated Mohammed Shia al-Sudani for the premiership.",
    "Observers in Baghdad interpreted the withdrawal as characteristically unpredictable. "
    "The al-Sadr family has commanded a devoted following since the nineteen-nineties, "
    "and its long-standing rivalry with the State of Law Coalition shapes every "
    "negotiation about government formation.",
    "Throughout the autumn, representatives of the Iran-backed factions deliberated over "
    "ministerial appointments, while independent parliamentarians complained that "
    "consensus arrangements institutionalised the distribution of administrative "
    "positions among established parties.",
    "Commentators emphasised that reconciliation would require extraordinary concessions "
    "from both leaderships; nevertheless, intermediaries continued their consultations "
    "with religious authorities in Najaf and with diplomatic representatives of "
    "neighbouring governments.",
    "By the following spring, disagreements about electoral legislation had overshadowed "
    "the budget debate, and parliamentary committees postponed deliberations on "
    "constitutional amendments indefinitely.",
]
NOTES = [
    "Interviews conducted in Baghdad, November 2022.",
    "Parliamentary records, session of 23 June 2022.",
]
# The face the package ships (not the machine's "serif", which a bare machine may not
# have): the same lines, breaks and hyphens wherever the tests run.
FACES = Path(policybrief.__file__).parent / "templates" / "fonts"
FONT_FACE = "".join(
    f'@font-face {{ font-family: "Test Serif"; src: url("{(FACES / name).as_uri()}"); '
    f"font-weight: {weight}; font-style: {style} }}"
    for name, weight, style in (("NotoSerif-Regular.ttf", 400, "normal"),
                                ("NotoSerif-Bold.ttf", 700, "normal"),
                                ("NotoSerif-Italic.ttf", 400, "italic")))
BASE = FONT_FACE + """
@page { size: 105mm 148mm; margin: 14mm 12mm; }
body { font: 10pt/1.35 "Test Serif"; text-align: justify; hyphens: auto; }
h1 { font-size: 17pt; line-height: 1.2; text-align: left; hyphens: manual; margin: 0 0 12pt; }
p { margin: 0 0 8pt; }
"""
LAYOUTS = {
    "one-column": "",
    "two-columns": "@page { size: 160mm 148mm } body { columns: 2; column-gap: 8mm }",
    "running-heads": """
        @page { @top-center { content: "Iraq Monitor · Special Report"; font-size: 8pt }
                @bottom-right { content: "Page " counter(page); font-size: 8pt } }""",
    "footnotes": """
        .note { float: footnote; font-size: 8pt }
        ::footnote-call { font-size: 7pt; vertical-align: super }
        ::footnote-marker { content: counter(footnote) ". " }
        @page { @bottom-center { content: counter(page); font-size: 8pt } }""",
}


def make_pdf(layout: str) -> bytes:
    import weasyprint

    body = [f"<h1>{html.escape(TITLE)}</h1>"]
    for i, text in enumerate(PARAGRAPHS):
        note = ""
        if layout == "footnotes" and i < len(NOTES):
            note = f'<span class="note">{html.escape(NOTES[i])}</span>'
        # the note's call sits before the first comma, colon or full stop
        at = re.search(r"[,:;.]", text).start()  # type: ignore[union-attr]
        text_html = html.escape(text[:at]) + note + html.escape(text[at:])
        body.append(f"<p>{text_html}</p>")
    page = (f'<html lang="en"><head><meta charset="utf-8"><style>{BASE}'
            f"{LAYOUTS[layout]}</style></head><body>{''.join(body)}</body></html>")
    return weasyprint.HTML(string=page).write_pdf()


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def layout(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param, make_pdf(request.param)


def line_breaks(data: bytes, columns: int) -> list[tuple[str, str]]:
    """(last word of a line, first word of the next) wherever a line ends in a hyphen,
    read with pdfplumber inside the known text area (and column by column), the body's
    lines and the notes' apart."""
    import io

    import pdfplumber

    mm = 72 / 25.4
    body: list[str] = []
    notes: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            area = (12 * mm, 14 * mm, page.width - 12 * mm, page.height - 14 * mm)
            width = (area[2] - area[0]) / columns
            for n in range(columns):
                box = (area[0] + n * width, area[1], area[0] + (n + 1) * width, area[3])
                for line in page.within_bbox(box).extract_text_lines(return_chars=True):
                    small = max(c["size"] for c in line["chars"]) < 9
                    (notes if small else body).append(line["text"])
    found = []
    for lines in (body, notes):
        for a, b in zip(lines, lines[1:], strict=False):
            if a.rstrip()[-1:] in "-\u2010":
                found.append((a.split()[-1], b.split()[0]))
    return found


def test_generated_pdfs_read_back_to_their_text(layout: tuple[str, bytes]) -> None:
    name, data = layout
    text = pdfread.read(data)
    passages = split_passages(text, f"{name}.txt")
    body = [p.text for p in passages if p.heading != ("Notes",)]
    notes = [p.text for p in passages if p.heading == ("Notes",)]
    assert body == PARAGRAPHS, name
    assert text.startswith(f"# {TITLE}\n\n")  # the title is a heading, not a ¶
    for furniture in ("Iraq Monitor", "Special Report", "Page 1", "Page 2"):
        assert furniture not in text
    assert not re.search(r"(?m)^\d+$", text)  # no page number left as a paragraph
    if name == "footnotes":
        assert notes == [f"{n}. {note}" for n, note in enumerate(NOTES, 1)]
    else:
        assert notes == []
    # the same PDF, the same text: ¶ numbers are stable
    assert pdfread.read(data) == text


def test_quotes_across_every_line_end_hyphen_are_found(layout: tuple[str, bytes]) -> None:
    from policybrief.model import Source

    name, data = layout
    breaks = line_breaks(data, 2 if name == "two-columns" else 1)
    assert len(breaks) >= 4, f"{name}: the layout should hyphenate"
    passages = split_passages(pdfread.read(data), f"{name}.txt")
    index = QuoteIndex({"k": Source(f"{name}.txt", TITLE, "", passages)})
    for end, start in breaks:
        head, tail = end.rstrip("-\u2010"), start
        joined = re.escape(head) + r"-?" + re.escape(tail)
        m = next(filter(None, (re.search(r"(?:\S+\s+){0,2}\S*" + joined +
                                         r"\S*(?:\s+\S+){0,2}", known)
                               for known in PARAGRAPHS + NOTES)), None)
        assert m, f"{name}: {end!r} + {start!r} is not in the known text"
        quote = m.group()
        found = index.find("k", quote)
        assert found is not None and found.mode == "exact", f"{name}: {quote!r} not found"


def test_compounds_keep_their_hyphen() -> None:
    """A line break after the hyphen of a real compound keeps it; U+2010 is undone."""
    row = pdfread.Line(0, 0, 0, 0, 0, 10)
    lines = []
    for text in ("an umbrella of pro-", "Iran parties and al-", "Sadr, long-",
                 "standing and extraor\u2010", "dinary"):
        line = pdfread.Line(0, 0, 0, 0, 0, 10, [{"text": w} for w in text.split()])
        lines.append(line)
    assert row.text == ""
    assert pdfread._join(lines, uses_u2010=True) == \
        "an umbrella of pro-Iran parties and al-Sadr, long-standing and extraordinary"
    # a document that hyphenates with "-": a lower-case continuation is joined
    assert pdfread._join(lines[2:4], uses_u2010=False) == "Sadr, longstanding and extraor\u2010"


def test_a_pdf_added_as_a_source(tiny: Path, tmp_path: Path) -> None:
    from policybrief.commands.cli import main

    pdf = tmp_path / "monitor-2022-11-02.pdf"
    pdf.write_bytes(make_pdf("running-heads"))
    assert main(["-C", str(tiny), "-q", "sources", "add", str(pdf)]) == 0
    stored = (tiny / "seeds" / "monitor-2022-11-02.txt").read_text("utf-8")
    assert stored.startswith(f"# {TITLE}\n\n{PARAGRAPHS[0]}\n\n")
    bib = (tiny / "bibliography.bib").read_text("utf-8")
    entry = bib[bib.index("@report{monitor2022rivalry,"):]  # a key from the file name
    assert re.search(rf"title += \{{{TITLE}\}}", entry)  # the largest type on page 1
    assert re.search(r"date += \{2022-11-02\}", entry)  # the file name's date


def test_a_paragraph_that_begins_with_a_number_is_not_a_note() -> None:
    import weasyprint

    paras = ["The Framework met again on Sunday. " * 6,
             "15 deputies resigned in protest, and the speaker accepted their letters at "
             "once; the session was adjourned.",
             "7 ministers stayed away from the cabinet meeting that followed."]
    page = ('<html lang="en"><head><style>' + FONT_FACE + '@page { size: A6; margin: 10mm } '
            'body { font: 10pt "Test Serif" }</style></head><body>'
            + "".join(f"<p>{p}</p>" for p in paras)
            + "</body></html>")
    text = pdfread.read(weasyprint.HTML(string=page).write_pdf())
    assert "Notes" not in text
    assert [p.text for p in split_passages(text)] == [" ".join(p.split()) for p in paras]
