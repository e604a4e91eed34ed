"""Parity of what the three outputs say: body text by section, notes, bibliography and
scenario-matrix cells (parity.py compares their structure and calls this).

The web page and the DOCX are read as documents (blocks, paragraphs); the PDF as the
text of its pages in the order it is drawn, told apart by size and place: the running
heads and page numbers (in the margins), the note calls (set small), the notes (after
the first "N." marker at the foot of the page) and the rest, the body. A sentence of the
web page must be in the DOCX, in the same section and order, and in its section's text
in the PDF; a note, entry or cell must read the same in all three.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

MATRIX = "scenario matrix"


@dataclass(frozen=True)
class Row:
    """One compared property: what each output has, and whether they agree."""

    name: str
    pdf: tuple[str, ...]
    html: tuple[str, ...]
    docx: tuple[str, ...]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.pdf == self.html == self.docx


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                        "„": '"', "‟": '"', "′": "'", "″": '"'})
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
NOTE_MARKER = re.compile(r"^(\d+)\.\u2002$")
HEADING = "\u2064"  # before a heading's text (removed by key())
CHUNK = "\u2063"  # between two pieces of text drawn apart (removed by key())
STRAY = re.compile(r"^\s*\d{1,3}\.\s*$")
BULLETS = re.compile(r"^[•▪‣◦·]\s*")


def readable(value: str) -> str:
    """White space collapsed, quotes straight, invisible marks gone (for reports)."""
    value = INVISIBLE.sub("", unicodedata.normalize("NFKC", value)).translate(QUOTES)
    return " ".join(value.split())


def key(value: str) -> str:
    """What two outputs must share: no white space, hyphens, dashes at a line end,
    bidi marks or Arabic script (its extraction order differs), letter case folded."""
    value = ARABIC.sub("", readable(value)).casefold()
    return re.sub(r"[\s\-\u2010\u2011]", "", value)


def sentences(text: str) -> list[str]:
    return [s for s in (readable(p) for p in SENTENCE.split(readable(text))) if key(s)]


@dataclass
class Texts:
    """What one output says."""

    sections: list[tuple[str, list[str]]] = field(default_factory=list)  # title, sentences
    notes: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)


# --- the web page ------------------------------------------------------------------------

SKIP_HTML = ("table", "figure", "nav", "aside")


def read_html(html: str) -> Texts:
    from lxml import html as lhtml

    root = lhtml.document_fromstring(html)
    mains = root.xpath("//main")
    main = mains[0] if mains else root
    for junk in main.xpath('.//a[contains(@class, "footnote-ref")] | .//*[@class="note-pop"]'
                           ' | .//a[@class="footnote-back"] | .//*[@class="ev-links"]'
                           ' | .//*[contains(@class, "figure-text")]'):
        _drop_keep_tail(junk)
    texts = Texts()
    for section in main.xpath('./section[h2] | .//section[h2][not(ancestor::section[h2])]'):
        if section.get("id") in ("footnotes", "bibliography") or \
                "footnotes" in (section.get("class") or ""):
            continue
        title = readable(section.find("h2").text_content())
        found: list[str] = []
        for block in section.iter("p", "li"):
            if any(a.tag in SKIP_HTML for a in block.iterancestors()):
                continue
            if block.tag == "li" and block.find("p") is not None:
                continue  # its paragraphs are blocks of their own
            if block.tag == "p" and block.getparent() is not None and \
                    block.getparent().tag == "li" and block.getprevious() is None:
                pass
            text = _own_text(block)
            found.extend(sentences(text))
        texts.sections.append((title, found))
    for li in main.xpath('.//*[@id="footnotes"]/ol/li'):
        texts.notes.append(readable(li.text_content()))
    texts.entries = [readable(e.text_content()) for e in
                     main.xpath('.//*[contains(concat(" ", @class, " "), " csl-entry ")]')]
    for table in main.iter("table"):
        caption = table.find("caption")
        named = caption is not None and readable(caption.text_content()).lower() \
            .startswith(MATRIX)
        if named or "scenario-matrix" in (table.get("class") or "").split():
            for tr in table.xpath("./tbody/tr | ./tr"):
                for cell in tr.xpath("./td | ./th"):
                    items = cell.xpath(".//li")
                    texts.cells.append(" ".join(readable(i.text_content()) for i in items)
                                       if items else readable(cell.text_content()))
            break
    return texts


def _drop_keep_tail(element: Any) -> None:
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _own_text(block: Any) -> str:
    """The text of ``block`` without nested lists (their items are blocks)."""
    parts = [block.text or ""]
    for child in block:
        if child.tag not in ("ul", "ol"):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts)


# --- the DOCX ------------------------------------------------------------------------------

SKIP_DOCX = re.compile(r"caption|figure|bibliography|toc|title|subtitle|author|date"
                       r"|footnote", re.I)


def read_docx(data: bytes) -> Texts:
    from lxml import etree

    package = zipfile.ZipFile(io.BytesIO(data))
    document = etree.fromstring(package.read("word/document.xml"))
    styles = etree.fromstring(package.read("word/styles.xml"))
    names = {s.get(f"{W}styleId"): (s.find(f"{W}name").get(f"{W}val") or "")
             for s in styles.iter(f"{W}style") if s.find(f"{W}name") is not None}
    body = document.find(f"{W}body")
    texts = Texts()
    current: list[str] | None = None
    for paragraph in (body if body is not None else document).iter(f"{W}p"):
        style_id = paragraph.find(f"{W}pPr/{W}pStyle")
        name = names.get(style_id.get(f"{W}val"), "") if style_id is not None else ""
        in_table = any(a.tag == f"{W}tbl" for a in paragraph.iterancestors())
        in_contents = any(a.tag == f"{W}sdt" for a in paragraph.iterancestors())
        if name.lower() == "heading 2":
            title = readable(_docx_text(paragraph))
            current = None if title.lower() == "bibliography" else []
            if current is not None:
                texts.sections.append((title, current))
            continue
        if name.lower() == "bibliography":
            texts.entries.append(readable(_docx_text(paragraph)))
            continue
        if current is None or in_table or in_contents or name.lower().startswith("heading") \
                or SKIP_DOCX.search(name) or paragraph.find(f".//{W}drawing") is not None:
            continue
        current.extend(sentences(_docx_text(paragraph)))
    if "word/footnotes.xml" in package.namelist():
        notes = etree.fromstring(package.read("word/footnotes.xml"))
        for note in notes.iter(f"{W}footnote"):
            if int(note.get(f"{W}id", "0")) > 0:
                texts.notes.append(readable(_docx_text(note)))
    children = list(body) if body is not None else []
    for index, child in enumerate(children):
        if child.tag != f"{W}tbl":
            continue
        near = [c for c in children[max(index - 1, 0):index + 2] if c.tag == f"{W}p"]
        if any(readable(_docx_text(p)).lower().startswith(MATRIX) for p in near):
            for row in child.findall(f"{W}tr"):
                if row.find(f"{W}trPr/{W}tblHeader") is not None:
                    continue
                for cell in row.findall(f"{W}tc"):
                    items = [BULLETS.sub("", readable(_docx_text(p)))
                             for p in cell.findall(f"{W}p")]
                    texts.cells.append(readable(" ".join(i for i in items if i)))
            break
    return texts


def _docx_text(element: Any) -> str:
    """Text of the runs, a line break or tab as a space."""
    out = []
    for node in element.iter(f"{W}t", f"{W}br", f"{W}tab", f"{W}noBreakHyphen"):
        if node.tag == f"{W}t":
            out.append(node.text or "")
        elif node.tag == f"{W}noBreakHyphen":
            out.append("-")
        else:
            out.append(" ")
    return "".join(out)


# --- the PDF ---------------------------------------------------------------------------------


@dataclass
class PdfText:
    body: str                               # the text of the pages, without notes
    heads: list[tuple[int, str]]            # (offset in body, text) of large type
    notes: list[str]
    sections: list[tuple[str, str]]         # title, text
    everything: str = ""                    # the body with the landscape pages
    wide: str = ""                          # the landscape pages (wide tables)


def read_pdf(data: bytes, titles: list[str]) -> PdfText:
    """The PDF's body text and notes; the body cut into the sections named ``titles``
    (the web page's, in order), each found in large type from its outline page on."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    start = 0
    first_pages: dict[str, int] = {}
    for item in reader.outline:
        if isinstance(item, list):
            continue
        number = reader.get_destination_page_number(item)
        if number is not None:
            first_pages.setdefault(readable(str(item.title)), number)
    if first_pages:
        start = min(first_pages.values())
    body: list[str] = []
    length = 0
    heads: list[tuple[int, str]] = []
    notes: list[str] = []
    tables: list[str] = []  # all the text (the wide tables' too)
    wide_pages: list[str] = []
    page_offsets: list[int] = []
    for number, page in enumerate(reader.pages):
        page_offsets.append(length)
        if number < start:
            continue
        height = float(page.mediabox.height)
        wide = float(page.mediabox.width) > height  # a landscape page: a wide table
        in_notes = False
        chunks: list[tuple[str, float]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float,
                  chunks: list[tuple[str, float]] = chunks, height: float = height) -> None:
            if not text:
                return
            scale = (tm[0] ** 2 + tm[1] ** 2) ** .5 * (cm[0] ** 2 + cm[1] ** 2) ** .5
            points = size * scale
            top = height - (tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
            if 7.4 <= points <= 7.6 and (top < 62 or height - top < 58):
                return  # running head, series, page number
            chunks.append((text, points))

        page.extract_text(visitor_text=visit)
        for text, points in chunks:
            marker = NOTE_MARKER.match(text.strip() + "\u2002") if text.endswith("\u2002") \
                else None
            if marker and points < 8.5:
                in_notes = True
                notes.append("")
                continue
            if in_notes:
                notes[-1] += text
                continue
            if points < 6 or STRAY.match(text):  # a note call; a list marker
                continue
            tables.append(text + CHUNK)
            if wide:
                wide_pages.append(text + CHUNK)
                continue
            if points >= 12.5:
                heads.append((length, text))
            if points >= 10.8:  # a heading: compared with the outline, not as text
                text = HEADING + text.replace("\n", " ")
            body.append(text + CHUNK)
            length += len(text) + 1
    whole = "".join(body)
    sections: list[tuple[str, str]] = []
    found: list[tuple[str, int]] = []
    for title in titles:
        first_page = first_pages.get(title)
        floor = found[-1][1] + 1 if found else 0
        if first_page is not None and first_page < len(page_offsets):
            floor = max(floor, page_offsets[first_page])
        wanted = key(title)
        at = next((offset for offset, _ in heads
                   if offset >= floor and key(whole[offset:offset + len(title) * 3])
                   .startswith(wanted)), None)
        if at is not None:
            found.append((title, at))
    for index, (title, at) in enumerate(found):
        end = found[index + 1][1] if index + 1 < len(found) else len(whole)
        sections.append((title, whole[at:end]))
    return PdfText(whole, heads, [readable(n) for n in notes], sections, "".join(tables),
                   "".join(wide_pages))


# --- the comparison ----------------------------------------------------------------------


def compare_texts(pdf_bytes: bytes, html_text: str, docx_bytes: bytes) -> tuple[Row, ...]:
    html = read_html(html_text)
    docx = read_docx(docx_bytes)
    pdf = read_pdf(pdf_bytes, [t for t, _ in html.sections])
    return (_body(html, docx, pdf), _notes(html, docx, pdf), _entries(html, docx, pdf),
            _cells(html, docx, pdf))


def _keys(items: list[str]) -> tuple[str, ...]:
    return tuple(key(i) for i in items)


def _in_pdf(items: list[str], text: str) -> tuple[str, ...]:
    """``items`` as found in the PDF ``text``; one not found is marked missing."""
    haystack = key(text)
    return tuple(key(i) if key(i) in haystack else "(missing) " + key(i) for i in items)


def _body(html: Texts, docx: Texts, pdf: PdfText) -> Row:
    html_keys: list[str] = []
    docx_keys: list[str] = []
    pdf_keys: list[str] = []
    detail = ""
    docx_sections = dict(docx.sections)
    pdf_sections = dict(pdf.sections)
    for title, said in html.sections:
        in_docx = docx_sections.get(title)
        in_pdf = pdf_sections.get(title)
        html_keys.extend(f"{key(title)}|{key(s)}" for s in said)
        docx_keys.extend(f"{key(title)}|{key(s)}" for s in in_docx or [])
        if in_pdf is None:
            detail = detail or f"The PDF has no section “{title}” in its text."
        else:
            # the PDF's lines that belong to the section's text (a drawing's labels can
            # be drawn between two lines of a paragraph)
            haystack = _aligned(in_pdf, "".join(key(s) for s in said))
            for sentence in said:
                found = key(sentence) in haystack
                pdf_keys.append(f"{key(title)}|{key(sentence)}" if found else "(missing)")
                if not found and not detail:
                    detail = (f"In “{title}”, the PDF lacks the web page's sentence "
                              f"“{_short(sentence)}”.")
        if in_docx is None:
            detail = detail or f"The DOCX has no section “{title}”."
        elif not detail:
            detail = _first_sentence_difference(title, said, in_docx)
    for title, _ in docx.sections:
        if title not in dict(html.sections) and not detail:
            detail = f"The DOCX has a section “{title}” the web page lacks."
    return Row("Body text", tuple(pdf_keys), tuple(html_keys), tuple(docx_keys), detail)


def _aligned(pdf_text: str, own: str) -> str:
    """The pieces of ``pdf_text`` that continue the section's own text ``own`` (keys),
    in order: a piece that is not where the text goes on (the labels of a drawing, drawn
    between two lines of a paragraph) is left out, unless it is long enough to say that
    the text resumes there after a gap."""
    kept = []
    cursor = 0
    pieces = [k for k in (key(p) for p in re.split(f"[\n{CHUNK}]", pdf_text)
                          if not p.startswith(HEADING)) if k]
    for index, piece in enumerate(pieces):
        at = own.find(piece, cursor)
        if at < cursor:
            continue
        following = pieces[index + 1] if index + 1 < len(pieces) else ""
        resumes = len(piece) >= 20 or (
            len(piece) >= 8 and own.startswith(following, at + len(piece)))
        if at == cursor or resumes:
            kept.append(piece)
            cursor = at + len(piece)
    return "".join(kept)


def _first_sentence_difference(title: str, html: list[str], docx: list[str]) -> str:
    for index in range(max(len(html), len(docx))):
        one = html[index] if index < len(html) else ""
        two = docx[index] if index < len(docx) else ""
        if key(one) != key(two):
            return (f"In “{title}”, sentence {index + 1}: the web page reads "
                    f"“{_short(one) or '(nothing)'}”, the DOCX “{_short(two) or '(nothing)'}”.")
    return ""


def _notes(html: Texts, docx: Texts, pdf: PdfText) -> Row:
    row = Row("Note texts", _keys(pdf.notes), _keys(html.notes), _keys(docx.notes))
    detail = ""
    for index in range(max(len(html.notes), len(docx.notes), len(pdf.notes))):
        said = {name: (items[index] if index < len(items) else "(nothing)")
                for name, items in (("PDF", pdf.notes), ("web page", html.notes),
                                    ("DOCX", docx.notes))}
        if len({key(v) for v in said.values()}) > 1:
            reference = said["web page"]
            other = next(v for v in said.values() if key(v) != key(reference))
            at = _divergence(reference, other)
            detail = f"Note {index + 1}: " + "; ".join(
                f"the {name} reads “{_around(text, at)}”" for name, text in said.items()) + "."
            break
    return Row(row.name, row.pdf, row.html, row.docx, detail)


def _entries(html: Texts, docx: Texts, pdf: PdfText) -> Row:
    tail = pdf.sections[-1][1] if pdf.sections else pdf.body
    bibliography = pdf.body[pdf.body.rfind("Bibliography"):] if "Bibliography" in pdf.body \
        else tail
    found = _in_pdf(html.entries, bibliography)
    row = Row("Bibliography text", found, _keys(html.entries), _keys(docx.entries))
    return Row(row.name, row.pdf, row.html, row.docx,
               _first_item_difference("Entry", html.entries, docx.entries, found))


def _cells(html: Texts, docx: Texts, pdf: PdfText) -> Row:
    found = _in_pdf(html.cells, pdf.wide or pdf.everything)
    row = Row("Scenario matrix cells", found, _keys(html.cells), _keys(docx.cells))
    return Row(row.name, row.pdf, row.html, row.docx,
               _first_item_difference("Cell", html.cells, docx.cells, found))


def _first_item_difference(what: str, html: list[str], docx: list[str],
                           pdf: tuple[str, ...]) -> str:
    for index in range(max(len(html), len(docx))):
        one = html[index] if index < len(html) else ""
        two = docx[index] if index < len(docx) else ""
        if key(one) != key(two):
            return (f"{what} {index + 1}: the web page reads “{_short(one) or '(nothing)'}”, "
                    f"the DOCX “{_short(two) or '(nothing)'}”.")
        if index < len(pdf) and pdf[index].startswith("(missing)"):
            return f"{what} {index + 1}: the PDF lacks “{_short(one)}”."
    return ""


def _divergence(one: str, two: str) -> int:
    """Where ``one`` and ``two`` first differ (ignoring white space), as an index of
    ``one``."""
    a, b = readable(one), readable(two)
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i].isspace():
            i += 1
        elif b[j].isspace():
            j += 1
        elif a[i].casefold() == b[j].casefold():
            i += 1
            j += 1
        else:
            break
    return i


def _around(text: str, at: int, width: int = 40) -> str:
    """``text`` around index ``at`` (of its readable form)."""
    text = readable(text)
    start = max(0, at - width)
    end = min(len(text), at + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _short(text: str, most: int = 90) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"
