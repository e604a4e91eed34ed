"""Stage 6a, the HTML: pandoc's rendering of the brief, made safe and finished per target.

pandoc renders the assembled Markdown once (citeproc notes, bibliography); nh3 strips
anything active; then lxml finishes the body for its target: for the web page, notes
stay at the end with pop-ups and links to the source passages; for the PDF, each note
moves to where it is called, so that WeasyPrint floats it to the foot of the page.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as urlquote

from . import pandoc

ALLOWED_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "mark", "ol", "p", "pre", "q",
    "section", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "time", "tr", "u", "ul", "aside", "nav", "header", "footer",
}
GLOBAL_ATTRIBUTES = {"id", "class", "lang", "dir", "role", "title"}


@dataclass(frozen=True)
class Link:
    """Where an evidence marker points: the source page passage and the original."""

    key: str
    number: int
    anchor: str
    quote: str
    url: str


def render_fragment(markdown: str, bib: Path, csl: Path, workdir: Path) -> str:
    """pandoc: Markdown → an HTML5 fragment with notes and bibliography."""
    return pandoc.convert(markdown, "html5", [
        "--citeproc", f"--bibliography={bib}", f"--csl={csl}", "--wrap=none",
        "--metadata=link-citations:true", "--section-divs",
    ], workdir, "the HTML")


def sanitize(fragment: str) -> str:
    """Only inert markup survives: no script, no on… attributes, no javascript: URLs."""
    import nh3

    return str(nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes={"*": GLOBAL_ATTRIBUTES, "a": {"href"}, "img": {"src", "alt"},
                    "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan", "scope"},
                    "ol": {"start", "type"}, "col": {"style"}, "time": {"datetime"}},
        generic_attribute_prefixes={"data-", "aria-"},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
        filter_style_properties={"width"},
    ))


def text_fragment(quote: str) -> str:
    """``#:~:text=`` directive that opens the original at the quoted words."""
    words = quote.split()
    if len(words) > 8:
        start, end = " ".join(words[:4]), " ".join(words[-4:])
        return f"#:~:text={urlquote(start, safe='')},{urlquote(end, safe='')}"
    return f"#:~:text={urlquote(quote, safe='')}"


def finish(fragment: str, target: str, links: Mapping[str, Link]) -> tuple[str, list[dict]]:
    """The body for ``target`` ("html" or "pdf") and its table of contents."""
    from lxml import html as lhtml

    root = lhtml.fragment_fromstring(fragment, create_parent="div")
    toc = []
    for heading in root.iter("h2", "h3"):
        ident = heading.get("id") or heading.getparent().get("id")
        if ident:
            toc.append({"level": int(heading.tag[1]), "id": ident,
                        "title": " ".join(heading.text_content().split())})
    for marker in root.xpath('//span[@class="ev"][@data-ev]'):
        link = links.get(marker.get("data-ev"))
        parent = marker.getparent()
        if link is None:
            parent.remove(marker) if marker.tail is None else _drop(marker)
            continue
        marker.attrib.clear()
        marker.set("class", "ev-links")
        if target == "html":
            source = lhtml.Element("a", href=f"sources/{link.key}.html#{link.anchor}")
            source.set("class", "ev-source")
            source.text = f"passage ¶ {link.number}"
            marker.append(source)
        if link.url:
            original = lhtml.Element("a", href=link.url + text_fragment(link.quote))
            original.set("class", "ev-original")
            original.text = "original" if target == "html" else "open at the passage"
            if len(marker):
                marker[-1].tail = " · "
            marker.append(original)
        previous = marker.getprevious()
        before = (previous.tail if previous is not None else parent.text) or ""
        marker.text = ("(" if before.endswith(" ") else " (") if len(marker) else None
        if len(marker):
            marker[-1].tail = ")"
    _notes(root, target)
    _tables(root, target)
    body = lhtml.tostring(root, encoding="unicode", method="html")
    return body[len("<div>"): -len("</div>")], toc


def _drop(element: object) -> None:
    from lxml import etree

    assert isinstance(element, etree._Element)
    parent = element.getparent()
    previous = element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _append_text(parent: object, text: str | None) -> None:
    """Add ``text`` at the end of ``parent``'s content (after its last child)."""
    if not text:
        return
    children = list(parent)  # type: ignore[call-overload]
    if children:
        children[-1].tail = (children[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text  # type: ignore[attr-defined]


def _notes(root: object, target: str) -> None:
    """Notes: for the PDF, each note moves to its call (``span.footnote``, floated to the
    foot of the page by print.css, keeping pandoc's ``fnN`` id); for the web page, each
    call gets a pop-up with the note's text and the notes a heading and back-links."""
    from lxml import html as lhtml

    section = root.find('.//section[@id="footnotes"]')  # type: ignore[attr-defined]
    if section is None:
        return
    for hr in section.findall("hr"):
        section.remove(hr)
    notes = {li.get("id"): li for li in section.iter("li")}
    for number, ref in enumerate(root.xpath('//a[@class="footnote-ref"]'), 1):  # type: ignore[attr-defined]
        ident = ref.get("href", "").lstrip("#")
        li = notes.get(ident)
        if li is None:
            continue
        content = copy.deepcopy(li)
        for back in content.xpath('.//a[@class="footnote-back"]'):
            _drop(back)
        if target == "pdf":
            note = lhtml.Element("span")
            note.set("class", "footnote")
            note.set("id", ident)
            _append_text(note, content.text)
            for index, para in enumerate(content):
                if index:
                    _append_text(note, " ")
                _append_text(note, para.text)
                for child in list(para):
                    note.append(child)
            note.tail = ref.tail
            ref.getparent().replace(ref, note)
        else:
            label = " ".join(ref.text_content().split()) or str(number)
            pop = lhtml.Element("span")
            pop.set("class", "note-pop")
            pop.set("role", "tooltip")
            pop.set("id", ref.get("id", "") + "-pop")
            _pop_content(pop, content)
            ref.append(pop)
            ref.set("aria-label", f"Note {label}")
            ref.set("aria-describedby", pop.get("id"))
            for back in li.xpath('.//a[@class="footnote-back"]'):
                back.set("aria-label", f"Back to the text at note {label}")
    if target == "pdf":
        section.getparent().remove(section)
    else:
        heading = lhtml.Element("h2", id="notes")
        heading.text = "Notes"
        section.insert(0, heading)
        bibliography = root.find('.//*[@id="bibliography"]')  # type: ignore[attr-defined]
        if bibliography is not None:
            bibliography.addprevious(section)


def _pop_content(pop: object, note: object) -> None:
    """The note's text, with its italics, as phrasing content for a pop-up inside the
    call's link: links become spans (no link inside a link), the passage/original
    links are left to the note itself."""
    for extra in note.xpath('.//span[@class="ev-links"]'):  # type: ignore[attr-defined]
        if (extra.tail or "")[:1] in (";", ".", ",", ""):
            previous = extra.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "").rstrip() or None
            else:
                extra.getparent().text = (extra.getparent().text or "").rstrip() or None
        _drop(extra)
    _append_text(pop, note.text)  # type: ignore[attr-defined]
    for index, para in enumerate(list(note)):  # type: ignore[call-overload]
        if index:
            _append_text(pop, " ")
        _append_text(pop, para.text)
        for child in list(para):
            pop.append(child)  # type: ignore[attr-defined]
    for link in pop.iter("a"):  # type: ignore[attr-defined]
        link.tag = "span"
        link.attrib.clear()
    for element in pop.iterdescendants():  # type: ignore[attr-defined]
        for name in ("id", "role"):
            element.attrib.pop(name, None)


def _tables(root: object, target: str) -> None:
    """Tables: a first cell that is only a bold label becomes a row header, an empty
    header cell an ordinary cell (screen readers and PDF tags then read rows right).
    For the PDF, a table of five columns or more is marked ``wide`` (print.css gives it
    a landscape page); for the web page, each table sits in a region that scrolls
    sideways on narrow screens, named by its caption and focusable, so that keyboard
    users can scroll it too."""
    from lxml import html as lhtml

    for number, table in enumerate(list(root.iter("table")), 1):  # type: ignore[attr-defined]
        for cell in table.xpath("./thead/tr/th | ./tr/th"):
            if not cell.text_content().strip() and not len(cell):
                cell.tag = "td"
        for row in table.xpath("./tbody/tr | ./tr"):
            cells = row.xpath("./td | ./th")
            first = cells[0] if cells else None
            if first is not None and first.tag == "td" and len(first) == 1 \
                    and first[0].tag in ("strong", "b") and not (first.text or "").strip() \
                    and not (first[0].tail or "").strip():
                first.tag = "th"
                first.set("scope", "row")
        columns = max((len(r.xpath("./td | ./th")) for r in table.iter("tr")), default=0)
        if target == "pdf":
            if columns >= 5:
                table.set("class", " ".join(filter(None, [table.get("class"), "wide"])))
            continue
        parent = table.getparent()
        if parent is None or "table-wrap" in (parent.get("class") or ""):
            continue
        caption = table.find("caption")
        name = " ".join(caption.text_content().split()) if caption is not None else ""
        wrap = lhtml.Element("div")
        wrap.set("class", "table-wrap")
        wrap.set("role", "region")
        wrap.set("tabindex", "0")
        wrap.set("aria-label", name or f"Table {number}")
        wrap.tail, table.tail = table.tail, None
        parent.replace(table, wrap)
        wrap.append(table)
