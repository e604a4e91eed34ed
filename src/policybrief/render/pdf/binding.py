"""Binding: the PDFs of the parts of a page (parts.py) joined into one, with pikepdf.

What WeasyPrint would have made for the whole page, each part makes for itself; here
they become one document again:

- the pages, in order, each with its margin boxes (furniture.py) laid over it as an
  artifact;
- one struct tree (the parts' top-level elements under one Document element, their
  parent-tree keys renumbered), so the PDF stays tagged;
- one name tree of destinations (the elements laid out in each part; the stand-ins for
  elements elsewhere are dropped), so links between parts land where they should;
- one outline, nested by bookmark level across the parts;
- the catalog, metadata and identifier of the first part.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence
from typing import Any


def _copy(pdf: Any, obj: Any) -> Any:
    """``obj`` of another PDF, for ``pdf``: indirect objects through qpdf's foreign copy
    (each copied once, so references between them hold), direct ones rebuilt."""
    import pikepdf

    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return pdf.copy_foreign(obj)
    if isinstance(obj, pikepdf.Array):
        return pikepdf.Array([_copy(pdf, item) for item in obj])
    if isinstance(obj, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copy(pdf, value) for key, value in obj.items()})
    return obj


def _copied(pdf: Any, other: Any, values: list[Any]) -> list[Any]:
    """``values`` of ``other`` (direct arrays of references, most of them), for ``pdf``,
    as :func:`_copy` makes them, in one foreign copy: held by an object of ``other``
    made for the purpose, which ``pdf`` receives but nothing in it refers to (qpdf does
    not write it)."""
    import pikepdf

    holder = other.make_indirect(pikepdf.Dictionary(V=pikepdf.Array(values)))
    return list(pdf.copy_foreign(holder).V)


def _flatten(outline: Any) -> list[Any]:
    """The titles and destinations of an outline's items, in document order."""
    items: list[tuple[Any, Any]] = []
    item = outline.get("/First") if outline is not None else None
    while item is not None:
        items.append((item.Title, item.Dest))
        items.extend(_flatten(item))
        item = item.get("/Next")
    return items


def _outline(pdf: Any, items: Sequence[tuple[int, Any, Any]]) -> Any:
    """An outline nested by level, as WeasyPrint nests bookmarks."""
    import pikepdf

    root: list[Any] = []
    stack: list[tuple[int, list[Any]]] = [(0, root)]
    for level, title, dest in items:
        while stack[-1][0] >= level:
            stack.pop()
        node: tuple[Any, Any, list[Any]] = (title, dest, [])
        stack[-1][1].append(node)
        stack.append((level, node[2]))

    def add(nodes: list[Any], parent: Any) -> int:
        made: list[Any] = []
        count = len(nodes)
        for title, dest, children in nodes:
            entry = pdf.make_indirect(pikepdf.Dictionary(Title=title, Dest=dest))
            entry.Parent = parent
            below = add(children, entry)
            entry.Count = below
            count += below
            if made:
                entry.Prev = made[-1]
                made[-1].Next = entry
            made.append(entry)
        if made:
            parent.First, parent.Last = made[0], made[-1]
        return count

    top = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    top.Count = add(root, top)
    return top


def _empty(element: Any) -> bool:
    """Whether a struct element marks no content (the parts' stand-ins for elements
    laid out elsewhere: parts.py)."""
    import pikepdf

    if element.get("/S") != pikepdf.Name.Div:
        return False
    kids = element.get("/K")
    if kids is None:
        return True
    if not isinstance(kids, pikepdf.Array):
        kids = [kids]
    return all(isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") is None
               and "/S" in kid and _empty(kid) for kid in kids)


def _rename(pdf: Any, prefix: str) -> None:
    """Prefix the IDs of the struct elements of ``pdf`` (a part, before its objects are
    copied) and of the table headers that refer to them: WeasyPrint makes them from
    object numbers, which the parts share. Each object once, in one pass over them
    (not a walk of the tree, which visits every element through pikepdf)."""
    import pikepdf

    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or "/S" not in obj:
            continue
        if "/ID" in obj:
            obj.ID = pikepdf.String(prefix + str(obj.ID))
        attributes = obj.get("/A")
        for attribute in (attributes if isinstance(attributes, pikepdf.Array) else
                          [attributes] if attributes is not None else []):
            if isinstance(attribute, pikepdf.Dictionary) and "/Headers" in attribute:
                attribute.Headers = pikepdf.Array(
                    [pikepdf.String(prefix + str(h)) for h in attribute.Headers])


def _detach(pdf: Any) -> None:
    """Hold the data of every stream of ``pdf`` in memory, as it is (still encoded):
    what is copied from ``pdf`` then no longer reads from it, and ``pdf`` can be let go
    before the copy is saved. (qpdf keeps every object it has parsed until the document
    is closed: with every part kept open, the parts' objects were held twice, as parsed
    and as copied, 350 MB of the 900 MB binding took at 970 pages.)"""
    import pikepdf

    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            encoded: Any = (obj.get("/Filter"), obj.get("/DecodeParms"))
            obj.write(obj.read_raw_bytes(), filter=encoded[0], decode_parms=encoded[1],
                      type_check=False)


def bind(parts: Sequence[bytes], anchors: Sequence[frozenset[str]],
         levels: Sequence[Sequence[int]],
         furniture: bytes | Callable[[], bytes] | None,
         identifier: bytes | None = None, tables: Sequence[bool] | None = None) -> bytes:
    """One PDF of ``parts`` (in order): ``anchors`` are the ids laid out in each part,
    ``levels`` its bookmarks' levels, ``furniture`` one page of margin boxes per page
    (or what gives it, asked for once the parts are joined: it may still be laid out
    meanwhile);
    ``tables``: whether each part has a table (only a table's header cells carry IDs
    that need renaming; the struct tree of a part without one is not walked);
    ``identifier``: the document's (the first half of its /ID; the parts are laid out
    with one of their own, so that a part's bytes depend on the part alone)."""
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(parts[0]))
    root = pdf.Root.StructTreeRoot
    document = root.K[0]
    if len(document.K) and _empty(document.K[-1]):
        del document.K[-1]
    if tables is None or tables[0]:
        _rename(pdf, "p0-")
    nums: list[Any] = list(root.ParentTree.Nums)
    next_key = max(int(k) for k in nums[::2]) + 1
    dests: dict[str, Any] = {}
    items: list[tuple[int, Any, Any]] = []

    def gather(source: Any, copy: Any, index: int) -> None:
        names = source.Root.get("/Names")
        tree = names.get("/Dests") if names is not None else None
        pairs = list(tree.Names) if tree is not None else []
        for name, dest in zip(pairs[::2], pairs[1::2], strict=True):
            if str(name) in anchors[index]:
                dests.setdefault(str(name), copy(dest))
        flat = _flatten(source.Root.get("/Outlines"))
        if len(flat) != len(levels[index]):
            raise ValueError("the part's outline and bookmarks disagree")
        items.extend((level, copy(title), copy(dest))
                     for level, (title, dest) in zip(levels[index], flat, strict=True))

    def join(other: Any, index: int) -> None:
        nonlocal next_key
        first = len(pdf.pages)
        with warnings.catch_warnings():  # destinations are joined below
            warnings.simplefilter("ignore")
            pdf.pages.extend(other.pages)
        offset = next_key
        other_root = other.Root.StructTreeRoot
        highest = -1
        pairs = list(other_root.ParentTree.Nums)
        for key, value in zip(pairs[::2], _copied(pdf, other, pairs[1::2]), strict=True):
            nums.extend([int(key) + offset, value])
            highest = max(highest, int(key))
        next_key = offset + highest + 1
        kids = list(other_root.K[0].K)
        if kids and _empty(kids[-1]):
            kids.pop()
        for kid in kids:
            copied = pdf.copy_foreign(kid)
            copied.P = document
            document.K.append(copied)
        for page in pdf.pages[first:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        gather(other, lambda obj: _copy(pdf, obj), index)

    gather(pdf, lambda obj: obj, 0)
    for index, data in enumerate(parts[1:], start=1):
        # one part open at a time: its streams held in memory, it is let go once joined
        other = pikepdf.open(io.BytesIO(data))
        _detach(other)
        if tables is None or tables[index]:
            _rename(other, f"p{index}-")
        join(other, index)
        other.close()

    root.ParentTree = pdf.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))
    root.ParentTreeNextKey = next_key
    if dests:
        array = pikepdf.Array()
        for name in sorted(dests):
            array.append(pikepdf.String(name))
            array.append(dests[name])
        if "/Names" not in pdf.Root:
            pdf.Root.Names = pikepdf.Dictionary()
        pdf.Root.Names.Dests = pdf.make_indirect(pikepdf.Dictionary(Names=array))
    if items:
        pdf.Root.Outlines = _outline(pdf, items)
    if callable(furniture):
        furniture = furniture()
    if furniture is not None:
        _overlay(pdf, pikepdf.open(io.BytesIO(furniture)))
    if identifier is not None:  # (qpdf keeps the first half, makes the second)
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(identifier),
                                        pikepdf.String(identifier)])
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _overlay(pdf: Any, sheets: Any) -> None:
    """Draw each page of ``sheets`` over the page of ``pdf`` with its number, marked
    as an artifact (page furniture is not content)."""
    import pikepdf

    if len(sheets.pages) != len(pdf.pages):
        raise ValueError(f"{len(sheets.pages)} sheets of furniture for {len(pdf.pages)} pages")
    for number, (page, sheet) in enumerate(zip(pdf.pages, sheets.pages, strict=True)):
        form = pdf.copy_foreign(sheet.as_form_xobject())
        # (named by page number: WeasyPrint's pages share one resource dictionary)
        name = page.add_resource(form, pikepdf.Name.XObject,
                                 pikepdf.Name(f"/PBFurniture{number}"), replace_existing=False)
        page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(
            pdf, b"\nQ\n/Artifact BMC q " + str(name).encode() + b" Do Q EMC\n"))
