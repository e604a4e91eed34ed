"""The DOCX finished as the editors' format, after pandoc (docx.py calls these).

pandoc's Word file has a title block, an empty contents field and the brief; here it
gets what the PDF has and pandoc cannot give:

- a cover (institution, series and number, title, subtitle, authors, date, edition
  note, licence, suggested citation) on a page of its own, and the contents on the next;
- the contents filled in at build time (one entry per heading, a link to it), so that a
  viewer that does not update fields on opening (LibreOffice) still shows them; the
  page numbers are the viewer's to lay out (Word adds them when it updates the field,
  which pandoc marks as due);
- the scenario matrix in a landscape section of its own, its grid as wide as that page,
  and the lists in its cells one item a line;
- the likelihood and confidence line of a key judgment on a line of its own;
- notes punctuated as in the PDF (no space before the semicolon between citations);
- the house faces embedded (obfuscated, as OOXML embeds fonts), so that the file looks
  the same on a machine without them;
- created and modified dates from the brief's date.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..typography import smart

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FONT_RELATION = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
MATRIX = "scenario matrix"
MATRIX_MARGIN = 850  # twips: the margins of the matrix's landscape page


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


@dataclass(frozen=True)
class Cover:
    """What the cover says, from report/brief.yaml."""

    institution: str = ""
    series: str = ""
    edition_note: str = ""
    licence: str = ""
    suggested_citation: str = ""
    date: str = ""  # ISO, for the document's properties

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> Cover:
        series = meta.get("series") or {}
        named = str(series.get("name", "")) if isinstance(series, Mapping) else ""
        number = str(series.get("number", "")) if isinstance(series, Mapping) else ""
        return cls(smart(str(meta.get("institution", "") or "")),
                   smart(named + (f" · No. {number}" if named and number else "")),
                   smart(" ".join(str(meta.get("edition_note", "") or "").split())),
                   smart(str(meta.get("licence", "") or "")),
                   smart(" ".join(str(meta.get("suggested_citation", "") or "").split())),
                   str(meta.get("date", "") or ""))


# --- document.xml ---------------------------------------------------------------------


def _run(text: str, *, size: int | None = None, bold: bool = False, colour: str = "",
         font: str = "", caps: bool = False) -> Any:
    from lxml import etree

    run = etree.Element(w("r"))
    props = etree.SubElement(run, w("rPr"))
    if font:
        etree.SubElement(props, w("rFonts"), {w("ascii"): font, w("hAnsi"): font})
    if bold:
        etree.SubElement(props, w("b"))
    if caps:
        etree.SubElement(props, w("caps"))
    if colour:
        etree.SubElement(props, w("color"), {w("val"): colour})
    if size:
        etree.SubElement(props, w("sz"), {w("val"): str(size)})
    if not len(props):
        run.remove(props)
    t = etree.SubElement(run, w("t"))
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return run


def _paragraph(*runs: Any, style: str = "", before: int = 0, after: int = 0,
               page_break_before: bool = False, keep_next: bool = False) -> Any:
    from lxml import etree

    p = etree.Element(w("p"))
    ppr = etree.SubElement(p, w("pPr"))
    if style:
        etree.SubElement(ppr, w("pStyle"), {w("val"): style})
    if keep_next:
        etree.SubElement(ppr, w("keepNext"))
    if page_break_before:
        etree.SubElement(ppr, w("pageBreakBefore"))
    etree.SubElement(ppr, w("spacing"), {w("before"): str(before), w("after"): str(after)})
    for run in runs:
        p.append(run)
    return p


def _style_of(paragraph: Any) -> str:
    style = paragraph.find(f"{w('pPr')}/{w('pStyle')}")
    return style.get(w("val"), "") if style is not None else ""


def _text(element: Any) -> str:
    return "".join(t.text or "" for t in element.iter(w("t")))


def cover(body: Any, info: Cover, sans: str, accent: str, muted: str) -> None:
    """The institution and series above the title block, the edition note, licence and
    suggested citation below it, and the contents on a page of their own."""
    children = list(body)
    title = next((c for c in children if c.tag == w("p") and _style_of(c) == "Title"), None)
    if title is None:
        return
    if info.series:
        title.addprevious(_paragraph(_run(info.series, size=19, colour=muted, font=sans),
                                     after=1400))
    if info.institution:
        series_or_title = title.getprevious() if info.series else title
        series_or_title.addprevious(_paragraph(
            _run(info.institution, size=19, bold=True, colour=accent, font=sans, caps=True),
            after=60))
    # the end of the title block: the last of Title, Subtitle, Author, Date
    block = [c for c in children if c.tag == w("p") and
             _style_of(c) in ("Title", "Subtitle", "Author", "Date")]
    last = block[-1]
    foot = []
    if info.edition_note:
        foot.append(_paragraph(_run(info.edition_note, size=17, colour=muted, font=sans),
                               before=2400, after=100))
    line = info.institution + (f" · Licence: {info.licence}" if info.licence else "")
    if line:
        foot.append(_paragraph(_run(line, size=17, colour=muted, font=sans),
                               before=0 if foot else 2400, after=100))
    if info.suggested_citation:
        foot.append(_paragraph(_run(f"Suggested citation: {info.suggested_citation}",
                                    size=17, colour=muted, font=sans), after=100))
    for paragraph in reversed(foot):
        last.addnext(paragraph)
    # the contents (pandoc's sdt) start a page, and the brief starts the next
    contents = body.find(w("sdt"))
    if contents is not None:
        first = contents.find(f".//{w('p')}")
        if first is not None:
            ppr = first.find(w("pPr"))
            if ppr is None:
                ppr = first.makeelement(w("pPr"), {})
                first.insert(0, ppr)
            ppr.append(ppr.makeelement(w("pageBreakBefore"), {}))
        following = contents.getnext()
        while following is not None and following.tag != w("p"):
            following = following.getnext()
        if following is not None:
            ppr = following.find(w("pPr"))
            if ppr is None:
                ppr = following.makeelement(w("pPr"), {})
                following.insert(0, ppr)
            ppr.insert(1 if ppr.find(w("pStyle")) is not None else 0,
                       ppr.makeelement(w("pageBreakBefore"), {}))


def headings(body: Any) -> list[tuple[int, str, str]]:
    """(level, bookmark, text) of each Heading 2 and Heading 3 paragraph: the brief's
    sections and their parts, as the PDF's contents list them."""
    found = []
    pending: list[str] = []
    for element in body.iter(w("bookmarkStart"), w("p")):
        if element.tag == w("bookmarkStart"):
            pending.append(element.get(w("name"), ""))
            continue
        style = _style_of(element)
        inner = [b.get(w("name"), "") for b in element.iter(w("bookmarkStart"))]
        match = re.fullmatch(r"Heading([23])", style)
        if match and (pending or inner):
            name = (pending or inner)[-1]
            found.append((int(match.group(1)) - 1, name, " ".join(_text(element).split())))
        if element.getparent() is body or element.getparent().tag != w("sdtContent"):
            pending = []
    return found


def fill_contents(body: Any, entries: Iterable[tuple[int, str, str]], title: str) -> None:
    """The contents field's result: one paragraph per heading, a link to it, instead of
    pandoc's empty result."""
    from lxml import etree

    sdt = body.find(w("sdt"))
    if sdt is None:
        return
    content = sdt.find(w("sdtContent"))
    paragraphs = content.findall(w("p")) if content is not None else []
    field = next((p for p in paragraphs if p.find(f".//{w('instrText')}") is not None), None)
    if field is None:
        return
    heading = next((p for p in paragraphs if _style_of(p) == "TOCHeading"), None)
    if heading is not None and title:
        for t in heading.iter(w("t")):
            t.text = title
    runs = list(field.iter(w("r")))
    end = [r for r in runs if any(f.get(w("fldCharType")) == "end"
                                  for f in r.findall(w("fldChar")))]
    if not end:
        return
    # pandoc puts begin, instruction, separate and end in one run: split off the end
    end_run = end[0]
    chars = [c for c in end_run if c.tag == w("fldChar")]
    if len(chars) > 1:
        closing = etree.Element(w("r"))
        closing.append(chars[-1])
        end_run.addnext(closing)
        end_run = closing
    entries = list(entries)
    if not entries:
        return
    made = []
    for level, bookmark, text in entries:
        p = etree.Element(w("p"))
        ppr = etree.SubElement(p, w("pPr"))
        etree.SubElement(ppr, w("spacing"), {w("before"): "120" if level == 1 else "20",
                                            w("after"): "0"})
        if level > 1:
            etree.SubElement(ppr, w("ind"), {w("left"): "360"})
        link = etree.SubElement(p, w("hyperlink"), {w("anchor"): bookmark,
                                                    w("history"): "1"})
        link.append(_run(text, bold=level == 1, size=20 if level == 1 else 19))
        made.append(p)
    # the first entry continues the field's paragraph; the field ends in the last
    field_runs_after = []
    sibling = end_run
    while sibling is not None:
        field_runs_after.append(sibling)
        sibling = sibling.getnext()
    first, *rest = made
    for child in list(first):
        if child.tag != w("pPr"):
            end_run.addprevious(child)
    ppr = field.find(w("pPr"))
    if ppr is None:
        field.insert(0, first.find(w("pPr")))
    anchor = field
    for p in rest:
        anchor.addnext(p)
        anchor = p
    for run in field_runs_after:
        anchor.append(run)


def landscape_matrix(body: Any) -> None:
    """The scenario matrix (its caption just before it) in a landscape section: the
    section before ends after the paragraph preceding the caption, the matrix's after
    the table; its grid is scaled to the landscape text width."""
    import copy

    children = list(body)
    final = body.find(w("sectPr"))
    if final is None:
        return
    for index, child in enumerate(children):
        if child.tag != w("tbl") or index == 0:
            continue
        caption_at = index - 1
        caption = children[caption_at]
        if caption.tag != w("p") or not _text(caption).lower().startswith(MATRIX):
            continue
        before = caption_at - 1
        while before >= 0 and children[before].tag != w("p"):
            before -= 1
        if before < 0:
            return
        portrait = copy.deepcopy(final)
        _set_page_type(portrait)
        _section_break(children[before], portrait)
        landscape = copy.deepcopy(final)
        size = landscape.find(w("pgSz"))
        margins = landscape.find(w("pgMar"))
        if size is None or margins is None:
            return
        width, height = size.get(w("w"), "11906"), size.get(w("h"), "16838")
        size.set(w("w"), height)
        size.set(w("h"), width)
        size.set(w("orient"), "landscape")
        for edge in ("top", "bottom", "left", "right"):  # 1.5 cm: the matrix's own page
            margins.set(w(edge), str(MATRIX_MARGIN))
        _set_page_type(landscape)
        holder = _paragraph(after=0)
        child.addnext(holder)
        _section_break(holder, landscape)
        _set_page_type(final)
        text_width = int(height) - 2 * MATRIX_MARGIN
        table_width = child.find(f"{w('tblPr')}/{w('tblW')}")
        if table_width is not None:  # as wide as the landscape page's text
            table_width.set(w("type"), "dxa")
            table_width.set(w("w"), str(text_width))
        for run in child.iter(w("r")):  # the PDF's matrix size, 8.2 pt, set close
            _size(run, 16)
        for ppr in child.iter(w("pPr")):
            for old in ppr.findall(w("spacing")):
                ppr.remove(old)
            spacing = ppr.makeelement(w("spacing"), {w("before"): "0", w("after"): "20",
                                                    w("line"): "240",
                                                    w("lineRule"): "auto"})
            later = [c for c in ppr if c.tag in LATER_THAN_SPACING]
            if later:
                later[0].addprevious(spacing)
            else:
                ppr.append(spacing)
        columns = child.findall(f"{w('tblGrid')}/{w('gridCol')}")
        total = sum(int(c.get(w("w"), "0")) for c in columns) or 1
        for column in columns:
            column.set(w("w"), str(int(column.get(w("w"), "0")) * text_width // total))
        caption_ppr = caption.find(w("pPr"))
        if caption_ppr is not None:
            caption_ppr.append(caption_ppr.makeelement(w("keepNext"), {}))
        return


AFTER_SZ = {w(t) for t in ("szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
                            "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout",
                            "specVanish", "oMath")}


def _size(run: Any, half_points: int) -> None:
    """Set ``run``'s size, its rPr children kept in the schema's order."""
    rpr = run.find(w("rPr"))
    if rpr is None:
        rpr = run.makeelement(w("rPr"), {})
        run.insert(0, rpr)
    for old in rpr.findall(w("sz")):
        rpr.remove(old)
    size = rpr.makeelement(w("sz"), {w("val"): str(half_points)})
    later = [c for c in rpr if c.tag in AFTER_SZ]
    if later:
        later[0].addprevious(size)
    else:
        rpr.append(size)


def _set_page_type(sect: Any) -> None:
    kind = sect.find(w("type"))
    if kind is None:
        kind = sect.makeelement(w("type"), {})
        # w:type comes after the header/footer references and footnote/endnote properties
        after = [c for c in sect if c.tag in (w("headerReference"), w("footerReference"),
                                              w("footnotePr"), w("endnotePr"))]
        if after:
            after[-1].addnext(kind)
        else:
            sect.insert(0, kind)
    kind.set(w("val"), "nextPage")


def _section_break(paragraph: Any, sect: Any) -> None:
    ppr = paragraph.find(w("pPr"))
    if ppr is None:
        ppr = paragraph.makeelement(w("pPr"), {})
        paragraph.insert(0, ppr)
    ppr.append(sect)


def cell_lists(body: Any) -> None:
    """In a table cell, the runs of "Cell Item" pieces joined by "; " become one
    paragraph each, with a bullet: the list the PDF and the web page show."""
    import copy

    for paragraph in list(body.iter(w("p"))):
        if paragraph.getparent() is None or paragraph.getparent().tag != w("tc"):
            continue
        runs = [c for c in paragraph if c.tag == w("r")]
        if not any(_run_style(r) == "CellItem" for r in runs):
            continue
        items: list[list[Any]] = [[]]
        for run in runs:
            if _run_style(run) != "CellItem" and _text(run).strip() == ";":
                items.append([])
            elif _run_style(run) == "CellItem" or _text(run).strip():
                items[-1].append(run)
        ppr = paragraph.find(w("pPr"))
        anchor = paragraph
        for item in items:
            if not item:
                continue
            p = paragraph.makeelement(w("p"), {})
            if ppr is not None:
                p.append(copy.deepcopy(ppr))
            else:
                p.append(p.makeelement(w("pPr"), {}))
            p_ppr = p.find(w("pPr"))
            ind = p_ppr.makeelement(w("ind"), {w("left"): "170", w("hanging"): "170"})
            later = [c for c in p_ppr if c.tag in LATER_THAN_IND]
            if later:
                later[0].addprevious(ind)
            else:
                p_ppr.append(ind)
            p.append(_run("•\u00a0"))
            for run in item:
                p.append(run)
            anchor.addnext(p)
            anchor = p
        paragraph.getparent().remove(paragraph)


LATER_THAN_SPACING = {w(t) for t in ("ind", "contextualSpacing", "mirrorIndents",
                                     "suppressOverlap", "jc", "textDirection",
                                     "textAlignment", "textboxTightWrap", "outlineLvl",
                                     "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")}
LATER_THAN_IND = {w(t) for t in ("contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
                                 "textDirection", "textAlignment", "textboxTightWrap",
                                 "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr",
                                 "pPrChange")}


def _run_style(run: Any) -> str:
    style = run.find(f"{w('rPr')}/{w('rStyle')}")
    return style.get(w("val"), "") if style is not None else ""


def basis_lines(body: Any) -> None:
    """A "Judgment Basis" run that follows text in its paragraph (the likelihood and
    confidence of a key judgment) starts a line of its own."""
    from lxml import etree

    for paragraph in body.iter(w("p")):
        previous_text = False
        for run in paragraph.findall(w("r")):
            if _run_style(run) == "JudgmentBasis":
                if previous_text:
                    br = etree.Element(w("r"))
                    etree.SubElement(br, w("br"))
                    run.addprevious(br)
                    # no trailing space before the break
                    before = br.getprevious()
                    while before is not None and before.tag == w("r") and \
                            not _text(before).strip():
                        drop, before = before, before.getprevious()
                        if drop.find(w("t")) is not None and \
                                drop.find(w("footnoteReference")) is None:
                            paragraph.remove(drop)
                break
            if _text(run).strip() or run.find(w("footnoteReference")) is not None:
                previous_text = True


RANGE = re.compile(r"(\d)([–-])(\d)")


def keep_ranges(root: Any) -> None:
    """Number ranges ("5–20%") with word joiners around the dash: the line never breaks
    inside them."""
    for t in root.iter(w("t")):
        inside_link = any(a.tag == w("hyperlink") for a in t.iterancestors())
        if t.text and RANGE.search(t.text) and "://" not in t.text and not inside_link:
            t.text = RANGE.sub("\\1\u2060\\2\u2060\\3", t.text)


def note_punctuation(root: Any) -> None:
    """A run of white space just before a run that starts with ";", "," or "." goes
    (the evidence marker pandoc leaves empty in Word had a space before it)."""
    inline = (w("r"), w("hyperlink"))
    for paragraph in root.iter(w("p")):
        # runs and links in order: a space before a link (", https://…") is not
        # before the run that follows the link
        pieces = [c for c in paragraph if c.tag in inline]
        for run, following in zip(pieces, pieces[1:], strict=False):
            if run.tag != w("r"):
                continue
            text = _text(run)
            if text and not text.strip() and _text(following)[:1] in (";", ",", "."):
                paragraph.remove(run)


# the settings that come after w:updateFields in the schema's order (CT_Settings)
AFTER_UPDATE_FIELDS = {
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
    "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
    "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
    "decimalSymbol", "listSeparator"}


def update_fields(parts: dict[str, bytes]) -> None:
    """``<w:updateFields w:val="true"/>`` in the settings: Word updates the fields when
    it opens the document, so that the contents (filled here with its entries, but no
    page numbers, which only a layout knows) get their page numbers."""
    from lxml import etree

    if "word/settings.xml" not in parts:
        return
    settings = etree.fromstring(parts["word/settings.xml"])
    element = settings.find(w("updateFields"))
    if element is None:
        element = settings.makeelement(w("updateFields"), {})
        later = next((c for c in settings if isinstance(c.tag, str)
                      and c.tag.split("}")[1] in AFTER_UPDATE_FIELDS), None)
        if later is None:
            settings.append(element)
        else:
            later.addprevious(element)
    element.set(w("val"), "true")
    parts["word/settings.xml"] = etree.tostring(settings, xml_declaration=True,
                                                encoding="UTF-8", standalone=True)


# --- fonts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Face:
    family: str
    bold: bool
    italic: bool
    path: Path


FACE = re.compile(r"@font-face\s*{([^}]*)}")


def faces(fonts_css: Path, families: Iterable[str]) -> list[Face]:
    """The @font-face rules of ``fonts_css`` (fonts/fonts.css) for ``families``."""
    wanted = set(families)
    found = []
    for block in FACE.findall(fonts_css.read_text("utf-8")):
        family = re.search(r"font-family:\s*[\"']?([^;\"']+)", block)
        source = re.search(r"url\([\"']?([^\"')]+)", block)
        if not family or not source or family.group(1).strip() not in wanted:
            continue
        weight = re.search(r"font-weight:\s*(\d+|bold)", block)
        bold = weight is not None and (weight.group(1) == "bold"
                                       or int(weight.group(1)) >= 600)
        italic = bool(re.search(r"font-style:\s*italic", block))
        path = (fonts_css.parent / source.group(1)).resolve()
        if path.is_file() and path.is_relative_to(fonts_css.parent.resolve()):
            found.append(Face(family.group(1).strip(), bool(bold), italic, path))
    return found


def obfuscate(data: bytes, key: str) -> bytes:
    """ECMA-376 font obfuscation: the first 32 bytes XORed with the GUID ``key``'s bytes
    in reverse order."""
    digits = bytes.fromhex(key.strip("{}").replace("-", ""))[::-1]
    head = bytes(b ^ digits[i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


def embed_fonts(parts: dict[str, bytes], chosen: list[Face]) -> None:
    """Add ``chosen`` to the package: word/fonts/fontN.odttf, their relationships, the
    font table's embed entries, and the setting that says fonts are embedded."""
    from lxml import etree

    if not chosen or "word/fontTable.xml" not in parts:
        return
    table = etree.fromstring(parts["word/fontTable.xml"])
    rels_name = "word/_rels/fontTable.xml.rels"
    rels = etree.fromstring(parts[rels_name]) if rels_name in parts else \
        etree.Element(f"{{{RELS}}}Relationships", nsmap={None: RELS})
    by_name = {f.get(w("name")): f for f in table.findall(w("font"))}
    order = ("embedRegular", "embedBold", "embedItalic", "embedBoldItalic")
    for number, face in enumerate(chosen, 1):
        data = face.path.read_bytes()
        key = "{" + str(uuid.UUID(bytes=hashlib.sha256(data).digest()[:16])).upper() + "}"
        name = f"fonts/font{number}.odttf"
        parts[f"word/{name}"] = obfuscate(data, key)
        rid = f"rIdFont{number}"
        etree.SubElement(rels, f"{{{RELS}}}Relationship",
                         {"Id": rid, "Type": FONT_RELATION, "Target": name})
        font = by_name.get(face.family)
        if font is None:
            font = etree.SubElement(table, w("font"), {w("name"): face.family})
            etree.SubElement(font, w("charset"), {w("val"): "00"})
            etree.SubElement(font, w("family"),
                             {w("val"): "swiss" if "Sans" in face.family else "roman"})
            etree.SubElement(font, w("pitch"), {w("val"): "variable"})
            by_name[face.family] = font
        kind = order[(1 if face.bold else 0) + (2 if face.italic else 0)]
        entry = etree.SubElement(font, w(kind), {f"{{{R}}}id": rid, w("fontKey"): key})
        # the embed elements come last, in the schema's order
        embeds = sorted((c for c in font if c.tag.split("}")[1] in order),
                        key=lambda c: order.index(c.tag.split("}")[1]))
        for c in embeds:
            font.remove(c)
            font.append(c)
        del entry
    parts["word/fontTable.xml"] = etree.tostring(table, xml_declaration=True,
                                                 encoding="UTF-8", standalone=True)
    parts[rels_name] = etree.tostring(rels, xml_declaration=True, encoding="UTF-8",
                                      standalone=True)
    settings = etree.fromstring(parts["word/settings.xml"])
    if settings.find(w("embedTrueTypeFonts")) is None:
        early = {"writeProtection", "view", "zoom", "removePersonalInformation",
                 "removeDateAndTime", "doNotDisplayPageBoundaries", "displayBackgroundShape",
                 "printPostScriptOverText", "printFractionalCharacterWidth", "printFormsData"}
        at = 0
        for index, child in enumerate(settings):
            if isinstance(child.tag, str) and child.tag.split("}")[1] in early:
                at = index + 1
        settings.insert(at, settings.makeelement(w("embedTrueTypeFonts"), {}))
    parts["word/settings.xml"] = etree.tostring(settings, xml_declaration=True,
                                                encoding="UTF-8", standalone=True)
    types = parts.get("[Content_Types].xml", b"")
    if b'Extension="odttf"' not in types:
        parts["[Content_Types].xml"] = types.replace(
            b"</Types>", b'<Default Extension="odttf" ContentType="application/'
            b'vnd.openxmlformats-officedocument.obfuscatedFont"/></Types>')
