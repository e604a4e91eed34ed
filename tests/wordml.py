"""Edits made the way Word stores them in a DOCX: tracked insertions and deletions
(``w:ins``/``w:del``), moves (``w:moveFrom``/``w:moveTo`` with their range marks),
comments with replies (``word/comments.xml`` and ``commentsExtended.xml``'s
``paraIdParent``), and plain edits with tracking off. For the review tests."""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Callable
from typing import Any

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
W15_NS = "http://schemas.microsoft.com/office/word/2012/wordml"
DATE = "2026-11-30T09:00:00Z"


def _in_contents(p: Any) -> bool:
    return any(g.get(f"{W}val") == "Table of Contents"
               for sdt in p.iterancestors(f"{W}sdt")
               for g in sdt.iter(f"{W}docPartGallery"))


class Package:
    """A DOCX opened for editing: ``document`` (and ``footnotes``) as lxml trees."""

    def __init__(self, data: bytes) -> None:
        self.source = zipfile.ZipFile(io.BytesIO(data))
        self.parts: dict[str, bytes] = {n: self.source.read(n) for n in self.source.namelist()}
        self.document = etree.fromstring(self.parts["word/document.xml"])
        self.next_id = 9000
        self.comments: list[tuple[str, str, str, str, str | None]] = []

    def ident(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def paragraph(self, contains: str) -> Any:
        """The first paragraph holding ``contains``, the contents list left out (an editor
        edits a heading where it is, not its entry in the contents)."""
        for p in self.document.iter(f"{W}p"):
            if contains in "".join(t.text or "" for t in p.iter(f"{W}t")) and \
                    not _in_contents(p):
                return p
        raise AssertionError(f"no paragraph contains {contains!r}")

    def bytes(self) -> bytes:
        self.parts["word/document.xml"] = etree.tostring(self.document, xml_declaration=True,
                                                         encoding="UTF-8", standalone=True)
        if self.comments:
            self._write_comments()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for name, content in self.parts.items():
                target.writestr(name, content)
        return out.getvalue()

    # --- text ---------------------------------------------------------------------------

    def _split(self, p: Any, text: str) -> tuple[Any, Any, Any]:
        """The run holding ``text`` in ``p``, split into (before, match, after) runs."""
        for run in p.iter(f"{W}r"):
            t = run.find(f"{W}t")
            if t is None or t.text is None or text not in t.text:
                continue
            at = t.text.index(text)
            before, middle, after = t.text[:at], text, t.text[at + len(text):]
            runs = []
            for piece in (before, middle, after):
                clone = copy.deepcopy(run)
                clone.find(f"{W}t").text = piece
                clone.find(f"{W}t").set("{http://www.w3.org/XML/1998/namespace}space",
                                        "preserve")
                runs.append(clone)
            parent = run.getparent()
            at_index = list(parent).index(run)
            parent.remove(run)
            for offset, clone in enumerate(runs):
                parent.insert(at_index + offset, clone)
            return runs[0], runs[1], runs[2]
        raise AssertionError(f"no single run holds {text!r}")

    def _wrap(self, run: Any, tag: str, author: str, deleted: bool = False) -> Any:
        wrapper = etree.Element(f"{W}{tag}", {f"{W}id": self.ident(), f"{W}author": author,
                                              f"{W}date": DATE})
        run.addprevious(wrapper)
        wrapper.append(run)
        if deleted:
            t = run.find(f"{W}t")
            t.tag = f"{W}delText"
        return wrapper

    def replace(self, contains: str, old: str, new: str, author: str) -> None:
        """A tracked replacement: ``old`` deleted, ``new`` inserted after it."""
        _, middle, _ = self._split(self.paragraph(contains), old)
        if new:
            inserted = copy.deepcopy(middle)
            inserted.find(f"{W}t").text = new
            middle.addnext(inserted)
            self._wrap(inserted, "ins", author)
        self._wrap(middle, "del", author, deleted=True)

    def insert(self, contains: str, after: str, new: str, author: str) -> None:
        """A tracked insertion of ``new`` right after the text ``after``."""
        _, middle, _ = self._split(self.paragraph(contains), after)
        inserted = copy.deepcopy(middle)
        inserted.find(f"{W}t").text = new
        middle.addnext(inserted)
        self._wrap(inserted, "ins", author)

    def delete(self, contains: str, text: str, author: str) -> None:
        self.replace(contains, text, "", author)

    def untracked(self, contains: str, old: str, new: str) -> None:
        """Text changed with tracking off: no mark at all."""
        p = self.paragraph(contains)
        for t in p.iter(f"{W}t"):
            if t.text and old in t.text:
                t.text = t.text.replace(old, new, 1)
                return
        raise AssertionError(f"no run holds {old!r}")

    def move(self, source: str, text: str, target: str, after: str, author: str) -> None:
        """``text`` moved from the paragraph holding ``source`` to after ``after`` in the
        paragraph holding ``target``, as Word records a move."""
        name = f"move{self.ident()}"
        _, middle, _ = self._split(self.paragraph(source), text)
        moved = copy.deepcopy(middle)
        start = etree.Element(f"{W}moveFromRangeStart", {f"{W}id": self.ident(),
                                                         f"{W}author": author,
                                                         f"{W}date": DATE, f"{W}name": name})
        middle.addprevious(start)
        wrapper = self._wrap(middle, "moveFrom", author, deleted=True)
        wrapper.addnext(etree.Element(f"{W}moveFromRangeEnd", {f"{W}id": start.get(f"{W}id")}))
        _, anchor_run, _ = self._split(self.paragraph(target), after)
        anchor_run.addnext(moved)
        start_to = etree.Element(f"{W}moveToRangeStart", {f"{W}id": self.ident(),
                                                          f"{W}author": author,
                                                          f"{W}date": DATE, f"{W}name": name})
        moved.addprevious(start_to)
        wrapper_to = self._wrap(moved, "moveTo", author)
        wrapper_to.addnext(etree.Element(f"{W}moveToRangeEnd",
                                         {f"{W}id": start_to.get(f"{W}id")}))

    def add_paragraph(self, after: str, text: str, author: str) -> None:
        """A tracked new paragraph after the one holding ``after``."""
        p = self.paragraph(after)
        new = etree.Element(f"{W}p")
        ppr = p.find(f"{W}pPr")
        if ppr is not None:
            new.append(copy.deepcopy(ppr))
        rpr = etree.SubElement(new.find(f"{W}pPr") if new.find(f"{W}pPr") is not None
                               else etree.SubElement(new, f"{W}pPr"), f"{W}rPr")
        etree.SubElement(rpr, f"{W}ins", {f"{W}id": self.ident(), f"{W}author": author,
                                          f"{W}date": DATE})
        run = etree.SubElement(new, f"{W}r")
        etree.SubElement(run, f"{W}t").text = text
        p.addnext(new)
        self._wrap(run, "ins", author)

    def remove_paragraph(self, contains: str) -> None:
        """A paragraph deleted with tracking off (its bookmark goes with it)."""
        p = self.paragraph(contains)
        p.getparent().remove(p)

    # --- comments -----------------------------------------------------------------------

    def comment(self, contains: str, on: str, author: str, text: str,
                reply_to: str | None = None) -> str:
        """A comment on the text ``on``; ``reply_to`` (an id) makes it a reply."""
        ident = self.ident()
        if reply_to is None:
            _, middle, _ = self._split(self.paragraph(contains), on)
            middle.addprevious(etree.Element(f"{W}commentRangeStart", {f"{W}id": ident}))
            middle.addnext(etree.Element(f"{W}commentRangeEnd", {f"{W}id": ident}))
            end = middle.getnext()
        else:
            end = next(e for e in self.document.iter(f"{W}commentRangeEnd")
                       if e.get(f"{W}id") == reply_to)
            start = next(e for e in self.document.iter(f"{W}commentRangeStart")
                         if e.get(f"{W}id") == reply_to)
            start.addnext(etree.Element(f"{W}commentRangeStart", {f"{W}id": ident}))
            end.addnext(etree.Element(f"{W}commentRangeEnd", {f"{W}id": ident}))
            end = end.getnext()
        reference = etree.Element(f"{W}r")
        etree.SubElement(reference, f"{W}commentReference", {f"{W}id": ident})
        end.addnext(reference)
        self.comments.append((ident, author, text, f"{int(ident):08X}", reply_to))
        return ident

    def _write_comments(self) -> None:
        nsmap = {"w": W_NS, "w14": W14_NS}
        root = etree.Element(f"{W}comments", nsmap=nsmap)
        extended = etree.Element(f"{{{W15_NS}}}commentsEx", nsmap={"w15": W15_NS})
        para_of = {c[0]: c[3] for c in self.comments}
        for ident, author, text, para, reply_to in self.comments:
            element = etree.SubElement(root, f"{W}comment", {f"{W}id": ident,
                                                             f"{W}author": author,
                                                             f"{W}date": DATE,
                                                             f"{W}initials": author[:2]})
            p = etree.SubElement(element, f"{W}p", {f"{{{W14_NS}}}paraId": para})
            etree.SubElement(etree.SubElement(p, f"{W}r"), f"{W}t").text = text
            attributes = {f"{{{W15_NS}}}paraId": para, f"{{{W15_NS}}}done": "0"}
            if reply_to:
                attributes[f"{{{W15_NS}}}paraIdParent"] = para_of[reply_to]
            etree.SubElement(extended, f"{{{W15_NS}}}commentEx", attributes)
        self.parts["word/comments.xml"] = etree.tostring(root, xml_declaration=True,
                                                         encoding="UTF-8", standalone=True)
        self.parts["word/commentsExtended.xml"] = etree.tostring(
            extended, xml_declaration=True, encoding="UTF-8", standalone=True)
        rels = self.parts["word/_rels/document.xml.rels"].decode()
        if "commentsExtended" not in rels:
            rels = rels.replace("</Relationships>", '<Relationship Id="rIdCx1" Type="http://'
                                'schemas.microsoft.com/office/2011/relationships/'
                                'commentsExtended" Target="commentsExtended.xml"/>'
                                "</Relationships>")
            self.parts["word/_rels/document.xml.rels"] = rels.encode()
        types = self.parts["[Content_Types].xml"].decode()
        if "commentsExtended" not in types:
            types = types.replace("</Types>", '<Override PartName="/word/commentsExtended.xml"'
                                  ' ContentType="application/vnd.openxmlformats-'
                                  'officedocument.wordprocessingml.commentsExtended+xml"/>'
                                  "</Types>")
            self.parts["[Content_Types].xml"] = types.encode()


def edited(data: bytes, edit: Callable[[Package], None]) -> bytes:
    package = Package(data)
    edit(package)
    return package.bytes()
