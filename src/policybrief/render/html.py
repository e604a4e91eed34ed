"""Stage 6a, the HTML: pandoc's rendering of the brief, made safe and finished per target.

pandoc renders the assembled Markdown once (citeproc notes, bibliography); nh3 strips
anything active; then lxml finishes the body for its target: for the web page, notes
stay at the end with pop-ups and links to the source passages; for the PDF, each note
moves to where it is called, so that WeasyPrint floats it to the foot of the page.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

from ..errors import RenderError
from . import pandoc, parsed

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


PLAIN = ["--wrap=none", "--section-divs"]
FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)  # the front matter
# the evidence appendix's heading (assemble/templates/appendix.md.j2), and any heading
APPENDIX = re.compile(r"^## [^\n]*\{ ?#evidence-appendix[ .}][^\n]*$", re.M)
HEADING = re.compile(r"^## [^\n]*\{ ?#([\w-]+)[ .}][^\n]*$", re.M)
# what renders differently in a part of a document than in the whole: citations,
# notes, and brackets that may be links to a heading or a reference defined elsewhere
CONTEXTUAL = re.compile(r"@|\[\^|\^\[|(?<!\\)\[[^\]]*\](?![({])")


# the last appendix converted in this process, by its Markdown (a process that builds
# again and again, brief watch, converts it once while only the prose changes)
_APPENDIX: dict[str, str] = {}


def render_fragment(markdown: str, bib: Path, csl: Path, workdir: Path,
                    store: parsed.Store | None = None) -> str:
    """pandoc: Markdown → an HTML5 fragment with notes and bibliography.

    The evidence appendix (nearly half the Markdown: its tables) cites nothing and holds
    nothing whose rendering depends on the rest, so it is converted on its own, beside
    the rest of the brief (no citation processing), and put back where it was: the same
    fragment, in about two thirds of the time. A brief whose appendix is not of that
    kind is converted whole. With a ``store`` (parsed.py), what a build before read or
    converted is taken from there: the appendix as it was, the sections unchanged."""
    args = citing(bib, csl)
    split = _split(markdown)
    if split is None:
        return _converted(markdown, bib, csl, workdir, store)
    rest, appendix, before = split
    from concurrent.futures import ThreadPoolExecutor

    key = store.key("appendix", "\0".join([*PLAIN, appendix])) if store is not None else ""
    known = _APPENDIX.get(appendix)  # (brief watch: the appendix as it was last time)
    if known is None and store is not None:
        entry = store.get(key)
        known = entry.get("html") if entry is not None else None
    with ThreadPoolExecutor(max_workers=1) as beside:
        done = None if isinstance(known, str) else beside.submit(
            pandoc.convert, appendix, "html5", PLAIN, workdir, "the HTML")
        body = _converted(rest, bib, csl, workdir, store)
        part: str = done.result() if done is not None else known or ""
    _APPENDIX.clear()
    _APPENDIX[appendix] = part
    if store is not None and done is not None:
        store.put(key, {"html": part})
    at = body.find(f'<section id="{before}"')
    if at < 0 or not part.endswith("\n"):
        return pandoc.convert(markdown, "html5", args, workdir, "the HTML")
    return body[:at] + part + body[at:]


def _converted(markdown: str, bib: Path, csl: Path, workdir: Path,
               store: parsed.Store | None) -> str:
    """``markdown`` converted: from its document read in pieces, its citations taken
    from the store when their skeleton is as before, else processed (parsed.py); else
    straight from the Markdown."""
    try:
        return _from_store(markdown, bib, csl, workdir, store)
    except RecursionError:  # (a document nested deeper than Python's json reads)
        return pandoc.convert(markdown, "html5", citing(bib, csl), workdir, "the HTML")


def _from_store(markdown: str, bib: Path, csl: Path, workdir: Path,
                store: parsed.Store | None) -> str:
    tree = parsed.document(markdown, workdir, store) if store is not None else None
    if tree is None or store is None:
        return pandoc.convert(markdown, "html5", citing(bib, csl), workdir, "the HTML")
    args = citing(bib, csl)[:-len(PLAIN)]  # (citeproc's options: the HTML's own apart)
    cited = parsed.citations(tree, [bib, csl], store, [*args, *PLAIN])
    done = parsed.with_citations(cited, store) if cited is not None else None
    if done is None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as beside:
            skeleton = beside.submit(pandoc.convert, cited.skeleton, "json", args, workdir,
                                     "the HTML", reader="json") if cited else None
            done = pandoc.convert(tree, "json", args, workdir, "the HTML", reader="json")
            if cited is not None and skeleton is not None:
                with contextlib.suppress(RenderError):  # (kept only when all went well)
                    parsed.keep_citations(cited, done, skeleton.result(), store)
    return pandoc.convert(parsed.words_joined(done), "html5", PLAIN, workdir, "the HTML",
                          reader="json")


def citing(bib: Path, csl: Path) -> list[str]:
    """pandoc's options for the brief's HTML: notes and bibliography by citeproc."""
    return ["--citeproc", f"--bibliography={bib}", f"--csl={csl}",
            "--metadata=link-citations:true", *PLAIN]


def _split(markdown: str) -> tuple[str, str, str] | None:
    """The Markdown without its evidence appendix, the appendix as a document of its
    own (with the same front matter), and the id of the section that follows it; None
    when it cannot be converted apart (see render_fragment)."""
    found = APPENDIX.search(markdown)
    if found is None:
        return None
    after = HEADING.search(markdown, found.end())
    if after is None:
        return None
    appendix = markdown[found.start():after.start()]
    if CONTEXTUAL.search(appendix) or APPENDIX.search(markdown, found.end()):
        return None
    rest = markdown[:found.start()] + markdown[after.start():]
    title = found.group().removeprefix("## ").split("{", 1)[0].strip()
    if re.search(r"\[" + re.escape(title) + r"\]", rest, re.I):
        return None  # the rest links to the appendix by its heading
    front = FRONT.match(markdown)
    head = front.group() + "\n" if front else ""
    return rest, head + appendix, after.group(1)


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


Listing = tuple[tuple[str, tuple[str, ...]], ...]
# A number range or a percentage ("5–20%", "(55–80%)", "2021–2022", "40 %"): one piece
# on the printed line, never hyphenated or broken at its dash.
NUMBERS = re.compile(r"\(?\d[\d,.]*(?:\s?[–—-]\s?\d[\d,.]*)?\s?%\)?"
                     r"|\(?\d[\d,.]*\s?[–—-]\s?\d[\d,.]*\)?")


def finish(fragment: str, target: str, links: Mapping[str, Link],
           figures: Mapping[str, Listing] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The body for ``target`` ("html" or "pdf") and its table of contents;
    ``figures`` gives each figure's text alternative as lists (by figure id), which the
    web page shows under the drawing on a narrow screen."""
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
        if link.url and target == "pdf":
            # print has nothing to click "open at the passage" on: the note's locator
            # ("para. 12") itself opens the original at the passage
            _link_locator(marker, link.url + text_fragment(link.quote))
            continue
        if link.url:
            original = lhtml.Element("a", href=link.url + text_fragment(link.quote))
            original.set("class", "ev-original")
            original.text = "original"
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
    _cell_lists(root)
    _lead_ins(root)
    if target == "pdf":
        _keep_together(root)
    elif figures:
        _figure_texts(root, figures)
    body = lhtml.tostring(root, encoding="unicode", method="html")
    return body[len("<div>"): -len("</div>")], toc


def _link_locator(marker: Any, url: str) -> None:
    """For print: drop the evidence marker, and make the locator the note's citation
    ends with ("para. 12", "¶ 12") a link to ``url``. The white space before the
    marker goes with it ("para. 13 ; Rasanah" would otherwise be printed)."""
    from lxml import html as lhtml

    previous = marker.getprevious()
    parent = marker.getparent()
    tail = marker.tail or ""
    before = (previous.tail if previous is not None else parent.text) or ""
    if tail[:1] in ("", ";", ".", ",", ")"):
        before = before.rstrip()
    if previous is not None:
        previous.tail = (before + tail) or None
    else:
        parent.text = (before + tail) or None
    parent.remove(marker)
    if previous is None or previous.tag != "a" or (previous.tail or "").strip()[:1] not in \
            ("", ";", ".", ","):
        return
    holder, attribute = (previous[-1], "tail") if len(previous) else (previous, "text")
    found = LOCATOR.search(getattr(holder, attribute) or "")
    if found is None:
        return
    value = getattr(holder, attribute)
    setattr(holder, attribute, value[:found.start()])
    locator = lhtml.Element("a", href=url)
    locator.set("class", "ev-original")
    locator.text = found.group(0)
    locator.tail = value[found.end():] + (previous.tail or "")
    previous.tail = None
    previous.addnext(locator)
    # the citation's own link (to the bibliography) keeps the rest of its text


LOCATOR = re.compile(r"(?:para(?:s|graphs?)?\.?|¶{1,2})\s*\d+(?:\s*[–,-]\s*\d+)*$")


def _keep_together(root: Any) -> None:
    """Number ranges and percentages in ``span.nb`` (print.css: no break inside), so
    that "(5–20%)" is never split or hyphenated at the end of a line."""
    from lxml import html as lhtml

    def pieces(text: str) -> list[tuple[str, bool]]:
        out, at = [], 0
        for match in NUMBERS.finditer(text):
            if not re.search(r"[–—%-]", match.group(0)):
                continue
            out.append((text[at:match.start()], False))
            out.append((match.group(0), True))
            at = match.end()
        out.append((text[at:], False))
        return out

    def spans(parts: list[tuple[str, bool]]) -> list[Any]:
        made = []
        for index in range(1, len(parts), 2):
            span = lhtml.Element("span")
            span.set("class", "nb")
            span.text = parts[index][0]
            span.tail = parts[index + 1][0] or None
            made.append(span)
        return made

    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in ("style", "script") or \
                element.get("class") == "nb":
            continue
        text = element.text
        if text and "://" not in text and NUMBERS.search(text):
            parts = pieces(text)
            if len(parts) > 1:
                element.text = parts[0][0] or None
                for offset, span in enumerate(spans(parts)):
                    element.insert(offset, span)
        tail = element.tail
        parent = element.getparent()
        if tail and parent is not None and "://" not in tail and NUMBERS.search(tail):
            parts = pieces(tail)
            if len(parts) > 1:
                element.tail = parts[0][0] or None
                anchor = element
                for span in spans(parts):
                    anchor.addnext(span)
                    anchor = span


def _cell_lists(root: Any) -> None:
    """A table cell made of ``span.cell-item`` pieces (the scenario matrix's drivers,
    indicators and implications) becomes a list, one item a piece."""
    from lxml import etree
    from lxml import html as lhtml

    for cell in root.xpath('//td[span[@class="cell-item"]] | //th[span[@class="cell-item"]]'):
        items = cell.xpath('./span[@class="cell-item"]')
        if any((child.tag != "span" or child.get("class") != "cell-item") for child in cell):
            continue
        listing = lhtml.Element("ul")
        listing.set("class", "cell-list")
        for item in items:
            li = etree.SubElement(listing, "li")
            li.text = item.text
            for child in list(item):
                li.append(child)
        for child in list(cell):
            cell.remove(child)
        cell.text = None
        cell.append(listing)


def _lead_ins(root: Any) -> None:
    """A paragraph that ends with a colon and leads into a list is marked ``lead-in``
    (print.css keeps it on the page of the list)."""
    for para in root.iter("p"):
        following = para.getnext()
        if following is not None and following.tag in ("ul", "ol") and \
                para.text_content().rstrip().endswith(":"):
            para.set("class", " ".join(filter(None, [para.get("class"), "lead-in"])))


def _figure_texts(root: Any, figures: Mapping[str, Listing]) -> None:
    """Under each figure of the web page, what it shows as lists (screen.css shows them
    on a narrow screen, where the drawing's words are too small to read). Hidden from
    assistive technology: the image's alt text already says the same."""
    from lxml import etree
    from lxml import html as lhtml

    for ident, listing in figures.items():
        found = root.xpath(f'//figure[@id="{ident}"]')
        if not found or not listing:
            continue
        box = lhtml.Element("div")
        box.set("class", "figure-text")
        box.set("aria-hidden", "true")
        for heading, items in listing:
            title = etree.SubElement(box, "p")
            title.set("class", "figure-text-title")
            title.text = heading
            listed = etree.SubElement(box, "ul")
            for item in items:
                etree.SubElement(listed, "li").text = item
        caption = found[0].find("figcaption")
        if caption is not None:
            caption.addprevious(box)
        else:
            found[0].append(box)


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
            _join_before(note, root)
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
        # the notes belong to the brief: before the evidence appendix (reference
        # matter) and the bibliography
        after = root.xpath('.//section[contains(concat(" ", @class, " "), " appendix ")]'  # type: ignore[attr-defined]
                           ' | .//*[@id="bibliography"]')
        if after:
            after[0].addprevious(section)


def _join_before(note: Any, root: Any) -> None:
    """A word joiner between a note and the text before it: the call is never the
    first thing on a line (after a full stop, a line may otherwise break before
    a number)."""
    node = note
    while node is not root and node.getparent() is not None:
        previous, parent = node.getprevious(), node.getparent()
        if previous is not None:
            tail = previous.tail or ""
            if not tail[-1:].isspace():
                previous.tail = tail + "\u2060"
            return
        if parent.text:
            if not parent.text[-1:].isspace():
                parent.text += "\u2060"
            return
        node = parent


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
        headers = [" ".join(th.text_content().split())
                   for th in table.xpath("./thead/tr[last()]/th | ./thead/tr[last()]/td")]
        if len(headers) >= 3 and all(headers):
            # on a narrow screen (screen.css) each row is a card, its cells labelled
            table.set("class", " ".join(filter(None, [table.get("class"), "cards"])))
            for row in table.xpath("./tbody/tr | ./tr[not(parent::thead)]"):
                for cell, header in zip(row.xpath("./td | ./th"), headers, strict=False):
                    if cell.text_content().strip() or len(cell):
                        cell.set("data-label", header.replace("\u00ad", ""))
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
