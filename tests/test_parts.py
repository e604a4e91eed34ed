"""The PDF laid out in parts, side by side (parts.py, furniture.py, binding.py): the
page is cut only where the stylesheet forces a new page, and the bound PDF is the PDF
the whole page makes: same pages, pixels, text, bookmarks, destinations and links, one
valid struct tree."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from PIL import Image, ImageChops

from policybrief.commands.cli import main
from policybrief.render import pdf
from policybrief.render.pdf import parts

from conftest import make_project

PAGE = """<!DOCTYPE html>
<html lang="en"><head><style>
.cover { break-after: page; }
nav a::after { content: target-counter(attr(href), page); }
main { page: brief; }
table.wide { page: landscape; }
.note { float: footnote; }
@media screen { .screen-only { break-before: page; } }
</style></head>
<body>
<section class="cover"><h1>Title</h1></section>
<nav><a href="#one">One</a> <a href="#two">Two</a></nav>
<main>
<section id="one"><h2>One</h2><p>Text<span class="note">a note</span>.</p>
<div class="screen-only">not a break in print</div>
<table class="wide"><tr><td>wide</td></tr></table>
<p id="two">After<span class="note">another</span>, see <a href="#one">one</a>.</p>
</section>
</main>
</body></html>"""


def test_the_page_is_cut_only_at_forced_breaks() -> None:
    plan = parts.plan(PAGE, chunk=1)
    assert plan is not None
    starts = [PAGE[lo:hi].lstrip()[:12] for lo, hi in plan.ranges]
    assert starts == ['<section cla', '<nav><a href', '<main>\n<sect', '<table class',
                      '<p id="two">']
    assert plan.dependent == (False, True, False, False, False)
    assert plan.footnotes_before == (0, 0, 0, 1, 1)
    assert plan.anchors[4] == {"two"}
    assert plan.links[1] == ("one", "two") and plan.links[4] == ("one",)


def test_a_part_keeps_the_rest_as_hidden_shells_and_stands_in_for_link_targets() -> None:
    plan = parts.plan(PAGE, chunk=1)
    assert plan is not None
    part = plan.part(4)
    assert part.external == ("one",)
    # everything before is an empty hidden shell; the ancestors open at the cut
    assert '<section data-pb-shell class="cover"></section>' in part.html
    assert '<section data-pb-cut="top"><h2 data-pb-shell></h2>' in part.html
    assert "a note" not in part.html and "another" in part.html
    assert '<div id="one"></div>' in part.html  # the stand-in, no page number needed
    assert "counter-reset:footnote 1" in part.html
    contents = plan.part(1, {"one": 3, "two": 5})
    assert '<div id="one" style="counter-reset: page 3"></div>' in contents.html


def test_small_parts_are_joined_up_to_the_chunk_size() -> None:
    plan = parts.plan(PAGE, chunk=10_000)
    assert plan is not None
    assert len(plan.ranges) == 3  # cover, contents (alone: it shows page numbers), the rest


def chapters(count: int, edited: int = -1) -> str:
    body = "".join(f'<section id="c{i}" class="chapter"><h2>Chapter {i}</h2>'
                   f'<p>{"Text of the chapter. " * (90 if i == edited else 100)}</p></section>'
                   for i in range(count))
    return ('<html lang="en"><head><style>section.chapter { break-before: page; }</style>'
            f"</head><body><main>{body}</main></body></html>")


def starts(plan: parts.Plan, page: str) -> list[str]:
    return [page[lo:page.index(">", lo) + 1] for lo, _ in plan.ranges]


def test_each_chapter_is_a_part_and_an_edit_moves_no_cut() -> None:
    """A chapter is a part of its own (one shorter than SMALL joins the part before);
    which stretch starts a part depends on the stretch alone, never on the text before
    it, so an edit lays out again only its part."""
    page = chapters(12)
    plan = parts.plan(page, chunk=pdf.CHUNK, small=pdf.SMALL)
    assert plan is not None and len(plan.ranges) == 12
    edited = chapters(12, edited=3)
    again = parts.plan(edited, chunk=pdf.CHUNK, small=pdf.SMALL)
    assert again is not None and starts(again, edited) == starts(plan, page)
    changed = [i for i in range(12) if plan.part(i).html != again.part(i).html]
    assert changed == [3]


def test_a_long_page_joins_chapters_where_their_first_tag_says() -> None:
    count = 3 * parts.MANY
    page = chapters(count)
    plan = parts.plan(page, chunk=pdf.CHUNK, small=pdf.SMALL)
    assert plan is not None and count // 8 < len(plan.ranges) < count // 2
    edited = chapters(count, edited=40)
    again = parts.plan(edited, chunk=pdf.CHUNK, small=pdf.SMALL)
    assert again is not None and starts(again, edited) == starts(plan, page)
    assert sum(a.html != b.html for a, b in zip(
        (plan.part(i) for i in range(len(plan.ranges))),
        (again.part(i) for i in range(len(again.ranges))), strict=True)) == 1


@pytest.mark.parametrize("page", [
    "<html><head></head><body><p>no forced break</p></body></html>",
    "<html><head><style>.a{break-before:page}</style></head><body><div><p>x</div></body></html>",
])
def test_pages_it_cannot_cut_are_left_whole(page: str) -> None:
    assert parts.plan(page, chunk=1) is None


def _images(path: Path, out: Path) -> list[Image.Image]:
    """Every page at 40 dpi, drawn by PDFium (a dependency: no poppler needed)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        return [page.render(scale=40 / 72).to_pil().convert("RGB") for page in document]
    finally:
        document.close()


def _summary(data: bytes) -> tuple[object, ...]:
    reader = pypdf.PdfReader(io.BytesIO(data))

    def walk(items: list[object], depth: int = 0) -> list[tuple[int, str, int]]:
        found: list[tuple[int, str, int]] = []
        for item in items:
            if isinstance(item, list):
                found += walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))
        return found

    dests = {name: reader.get_destination_page_number(d)
             for name, d in reader.named_destinations.items()}
    links = [(i, str(a.get_object().get("/Dest")),
              str((a.get_object().get("/A") or {}).get("/URI")), a.get_object()["/Rect"])
             for i, page in enumerate(reader.pages) for a in page.get("/Annots") or []]
    texts = [page.extract_text().rstrip() for page in reader.pages]
    return walk(reader.outline), dests, links, texts


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The page laid out whole (as when the splitter cannot cut it), and in parts."""
    made = []
    for workers in (1, 2):
        root = make_project(tmp_path_factory.mktemp(f"workers{workers}") / "brief", "real")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pdf, "WORKERS", workers)
            if workers == 1:
                patch.setattr(parts, "plan", lambda *args, **kwargs: None)
            assert main(["-C", str(root), "-q", "build", "--format", "pdf"]) == 0
        made.append(root / "build" / "brief.pdf")
    return made[0], made[1]


def test_the_bound_pdf_is_the_whole_page_pdf(both: tuple[Path, Path], tmp_path: Path) -> None:
    whole, bound = both
    assert bound.read_bytes() != whole.read_bytes()  # it really was laid out in parts
    a, b = _images(whole, tmp_path / "a"), _images(bound, tmp_path / "b")
    assert len(a) == len(b) > 20
    for number, (x, y) in enumerate(zip(a, b, strict=True), start=1):
        assert x.size == y.size and ImageChops.difference(x, y).getbbox() is None, \
            f"page {number} differs"
    assert _summary(whole.read_bytes()) == _summary(bound.read_bytes())


def test_the_bound_pdf_has_one_consistent_struct_tree(both: tuple[Path, Path]) -> None:
    reader = pypdf.PdfReader(both[1])
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and str(root["/Lang"]) == "en-GB"
    tree = root["/StructTreeRoot"].get_object()
    documents = tree["/K"]
    assert len(documents) == 1 and documents[0].get_object()["/S"] == "/Document"
    nums = tree["/ParentTree"].get_object()["/Nums"]
    keys = [int(k) for k in nums[::2]]
    assert keys == sorted(set(keys)) and int(tree["/ParentTreeNextKey"]) == keys[-1] + 1
    used = []
    for page in reader.pages:
        used.append(int(page["/StructParents"]))
        used += [int(a.get_object()["/StructParent"]) for a in page.get("/Annots") or []]
    assert sorted(used) == keys
    ids: list[str] = []
    headers: set[str] = set()  # the IDs table cells name as their headers
    stack = [documents[0].get_object()]
    while stack:
        element = stack.pop()
        if "/ID" in element:
            ids.append(str(element["/ID"]))
        attributes = element.get("/A")
        for attribute in (attributes if isinstance(attributes, list) else
                          [attributes] if attributes is not None else []):
            if "/Headers" in attribute.get_object():
                headers.update(str(h) for h in attribute.get_object()["/Headers"])
        kids = element.get("/K")
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        stack += [k.get_object() for k in kids
                  if isinstance(k.get_object(), dict) and "/S" in k.get_object()]
    assert ids and len(ids) == len(set(ids))
    assert headers and headers <= set(ids)  # every header a cell names is in the tree
