"""The PDF in parts: the finished page cut where the print stylesheet forces a new page.

Each part is a whole HTML document (the page's head, the part's content, and empty
hidden "shells" standing in for everything else, so that sibling and ``:first-child``
selectors match as they do in the whole page), which WeasyPrint can lay out on its own,
in another process. Pages after a forced break do not depend on the pages before, so
the parts come out as the whole page would, except for what spans the whole document:

- the footnote numbers (each part starts its footnote counter where the one before
  ended);
- links and ``target-counter()`` to an element in another part (a "proxy" element with
  the same ``id`` stands in for it; a part that shows such a page number (the contents)
  is laid out last, when every page number is known);
- the running heads and "Page N of M", drawn afterwards for the whole document
  (``furniture.py``), and the struct tree, bookmarks and destinations, joined by
  ``binding.py``.

Where the page is cut is read from the stylesheet by a small cascade over the few
properties that force a page break (``break-before``, ``break-after``, ``page``); any
markup or style this module does not understand leaves the page in one part.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr"}
# Elements whose children are blocks that may start a page of their own.
CONTAINERS = {"body", "main", "section", "article", "aside", "nav", "header", "footer",
              "div"}
FORCED = {"page", "left", "right", "recto", "verso", "always"}
PROPERTIES = {"break-before", "break-after", "page-break-before", "page-break-after",
              "page", "display", "float", "position", "content", "counter-reset"}
TARGETS = re.compile(r"\btarget-(counter|counters|text)\s*\(")
TAGS = re.compile(r"<[^>]*>")
MANY = 48  # stretches between forced breaks beyond which several make one part


class Unsplittable(Exception):
    """The page uses something the splitter does not handle: lay it out whole."""


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    start: int
    open_end: int
    end: int = -1
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    element: Any = None
    style: dict[str, str] = field(default_factory=dict)
    targets: bool = False  # its content (or ::before/::after) uses target-*()


@dataclass(frozen=True)
class Part:
    """One part of the page: a whole HTML document of its own."""

    index: int
    html: str
    weight: int                      # characters of text, for scheduling
    anchors: frozenset[str]          # ids laid out in this part
    external: tuple[str, ...]        # ids it links to that are laid out elsewhere
    dependent: bool                  # shows page numbers of elements elsewhere


class _Reader(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.lines = [0]
        for match in re.finditer("\n", text):
            self.lines.append(match.end())
        self.root = Node("#document", {}, 0, 0)
        self.stack = [self.root]
        self.styles: list[str] = []
        self.in_style = False

    def position(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self.position()
        raw = self.get_starttag_text() or ""
        node = Node(tag, {k: v or "" for k, v in attrs}, start, start + len(raw),
                    parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag in VOID:
            node.end = node.open_end
        else:
            self.stack.append(node)
        self.in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        start = self.position()
        raw = self.get_starttag_text() or ""
        node = Node(tag, {k: v or "" for k, v in attrs}, start, start + len(raw),
                    parent=self.stack[-1])
        node.end = node.open_end
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack[-1].tag != tag:
            raise Unsplittable(f"</{tag}> closes <{self.stack[-1].tag}>")
        node = self.stack.pop()
        node.end = self.text.index(">", self.position()) + 1
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.styles.append(data)
        elif data.strip() and self.stack[-1].tag in CONTAINERS:
            self.stack[-1].attrs.setdefault("\0text", "1")  # loose text: not a block list


def _read(html: str) -> tuple[Node, list[str]]:
    reader = _Reader(html)
    reader.feed(html)
    reader.close()
    if len(reader.stack) != 1:
        raise Unsplittable(f"<{reader.stack[-1].tag}> is not closed")
    return reader.root, reader.styles


def _walk(node: Node) -> Any:
    for child in node.children:
        yield child
        yield from _walk(child)


def _cascade(root: Node, styles: list[str]) -> Node:
    """Give each element of the body the few properties that decide page breaks."""
    import cssselect2
    import tinycss2

    html = next((n for n in root.children if n.tag == "html"), None)
    body = next((n for n in html.children if n.tag == "body"), None) if html else None
    if html is None or body is None:
        raise Unsplittable("no <body>")

    def build(node: Node, parent: Any) -> None:
        attrs = {k: v for k, v in node.attrs.items() if not k.startswith("\0")}
        node.element = ET.SubElement(parent, node.tag, attrs) if parent is not None \
            else ET.Element(node.tag, attrs)
        for child in node.children:
            build(child, node.element)

    build(html, None)
    matcher = cssselect2.Matcher()
    order = 0

    def add(rules: list[Any]) -> None:
        nonlocal order
        for rule in rules:
            if rule.type == "at-rule" and rule.lower_at_keyword == "media" and rule.content:
                media = tinycss2.serialize(rule.prelude).lower()
                if "print" in media or "all" in media:
                    add(tinycss2.parse_rule_list(rule.content, True, True))
                continue
            if rule.type != "qualified-rule":
                continue
            declarations = _declarations(rule.content)
            if not declarations:
                continue
            try:
                selectors = cssselect2.compile_selector_list(rule.prelude)
            except cssselect2.SelectorError:
                continue
            for selector in selectors:
                matcher.add_selector(selector, (order, declarations))
            order += 1

    for text in styles:
        add(tinycss2.parse_stylesheet(text, True, True))
    wrapper = cssselect2.ElementWrapper.from_html_root(html.element)
    nodes = {id(n.element): n for n in [html, *_walk(html)]}
    for element in wrapper.iter_subtree():
        node = nodes[id(element.etree_element)]
        winners: dict[str, tuple[tuple[Any, ...], str]] = {}
        for specificity, rule_order, pseudo, (_, declarations) in matcher.match(element):
            for name, value, important in declarations:
                if pseudo is not None:
                    if name == "content" and TARGETS.search(value):
                        node.targets = True
                    continue
                rank = (important, specificity, rule_order)
                if name not in winners or rank >= winners[name][0]:
                    winners[name] = (rank, value)
        for name, value, important in _declarations_of(node.attrs.get("style", "")):
            rank = (important, (9, 0, 0), 10**9)
            if name not in winners or rank >= winners[name][0]:
                winners[name] = (rank, value)
        node.style = {name: value for name, (_, value) in winners.items()}
        if TARGETS.search(node.style.get("content", "")):
            node.targets = True
    return body


def _declarations(content: Any) -> list[tuple[str, str, bool]]:
    import tinycss2

    found = []
    for item in tinycss2.parse_blocks_contents(content, True, True):
        if item.type == "declaration" and item.lower_name in PROPERTIES:
            found.append((item.lower_name, tinycss2.serialize(item.value).strip().lower(),
                          item.important))
    return found


def _declarations_of(style: str) -> list[tuple[str, str, bool]]:
    import tinycss2

    return _declarations(tinycss2.parse_blocks_contents(style)) if style else []


def _in_flow(node: Node) -> bool:
    style = node.style
    return (style.get("display", "block") not in ("none", "contents")
            and style.get("float", "none") == "none"
            and style.get("position", "static") in ("static", "relative"))


def _is_container(node: Node) -> bool:
    return (node.tag in CONTAINERS and "\0text" not in node.attrs
            and node.style.get("display", "block") == "block")


def _page(node: Node, inherited: str) -> str:
    value = node.style.get("page", "auto")
    return inherited if value in ("auto", "") else value


def _forced(value: str | None) -> bool:
    return value in FORCED


def _edges(node: Node, used: str, first: bool) -> tuple[str, bool]:
    """The page name and forced break at the first (or last) edge of ``node``."""
    page = _page(node, used)
    key = "break-before" if first else "break-after"
    forced = _forced(node.style.get(key)) or _forced(node.style.get("page-" + key))
    if _is_container(node):
        flow = [c for c in node.children if _in_flow(c)]
        if flow:
            inner_page, inner_forced = _edges(flow[0] if first else flow[-1], page, first)
            return inner_page, forced or inner_forced
    return page, forced


def boundaries(body: Node) -> list[int]:
    """Offsets in the page where the print stylesheet forces a new page."""
    found: list[int] = []

    def visit(node: Node, used: str) -> None:
        page = _page(node, used)
        flow = [c for c in node.children if _in_flow(c)]
        for before, after in zip(flow, flow[1:], strict=False):
            last_page, breaks_after = _edges(before, page, False)
            first_page, breaks_before = _edges(after, page, True)
            if breaks_after or breaks_before or last_page != first_page:
                found.append(after.start)
        for child in flow:
            if _is_container(child):
                visit(child, page)

    visit(body, "")
    return sorted(set(found))


def _start_tag(html: str, node: Node, mark: str, keep_id: bool) -> str:
    """``node``'s start tag as written, with ``mark`` added after the tag name and,
    unless ``keep_id``, without its id."""
    start_tag = html[node.start:node.open_end]
    if not keep_id:
        start_tag = re.sub(r'\sid="[^"]*"', "", start_tag, count=1)
    return start_tag[:len(node.tag) + 1] + " " + mark + start_tag[len(node.tag) + 1:]


def _shell(html: str, node: Node) -> str:
    marked = _start_tag(html, node, "data-pb-shell", keep_id=False)
    return marked if node.tag in VOID or node.end == node.open_end else \
        f"{marked}</{node.tag}>"


def _emit(html: str, node: Node, lo: int, hi: int, out: list[str]) -> None:
    if node.end <= lo or node.start >= hi:
        out.append(_shell(html, node))
        return
    if lo <= node.start and node.end <= hi:
        out.append(html[node.start:node.end])
        return
    cuts = " ".join(side for side, cut in (("top", node.start < lo), ("bottom", node.end > hi))
                    if cut)
    # an element cut at the top has its anchor in an earlier part (a stand-in may take
    # its id)
    out.append(_start_tag(html, node, f'data-pb-cut="{cuts}"', keep_id=node.start >= lo))
    position = node.open_end
    for child in node.children:
        out.append(html[position:child.start])  # whitespace between blocks
        _emit(html, child, lo, hi, out)
        position = child.end
    out.append(html[position:node.end])


RULES = ("[data-pb-shell]{display:none!important}"
         "[data-pb-cut~=top]{margin-top:0!important;padding-top:0!important;"
         "border-top-width:0!important}"
         "[data-pb-cut~=bottom]{margin-bottom:0!important;padding-bottom:0!important;"
         "border-bottom-width:0!important}"
         "[data-pb-proxies]{position:absolute;left:0;top:0;width:0;height:0;"
         "overflow:hidden}")


@dataclass(frozen=True)
class Plan:
    """The page cut into ranges, with what each range needs to be laid out alone."""

    html: str
    body: Node
    ranges: tuple[tuple[int, int], ...]
    footnotes_before: tuple[int, ...]
    anchors: tuple[frozenset[str], ...]
    links: tuple[tuple[str, ...], ...]
    dependent: tuple[bool, ...]
    weights: tuple[int, ...]

    def part(self, index: int, pages: dict[str, int] | None = None) -> Part:
        """Part ``index`` as a document; ``pages`` gives the page number of each
        element elsewhere that it shows the page number of (dependent parts)."""
        lo, hi = self.ranges[index]
        out: list[str] = []
        html = self.html
        _emit(html, self.body, lo, hi, out)
        inside = self.anchors[index]
        external = tuple(sorted({t for t in self.links[index] if t not in inside}))
        proxies = []
        for target in external:
            reset = f' style="counter-reset: page {pages[target]}"' if pages else ""
            proxies.append(f'<div id="{escape(target)}"{reset}></div>')
        content = "".join(out)
        close = content.rindex("</body>")
        content = (content[:close] + "<div data-pb-proxies aria-hidden=\"true\">"
                   + "".join(proxies) + "</div>" + content[close:])
        rules = RULES
        if self.footnotes_before[index]:
            rules += f"html{{counter-reset:footnote {self.footnotes_before[index]}}}"
        head_end = html.index("</head>")
        document = (html[:head_end] + f"<style>{rules}</style>" + html[head_end:self.body.start]
                    + content + html[self.body.end:])
        return Part(index, document, self.weights[index], inside, external,
                    self.dependent[index])


def plan(html: str, chunk: int, *, most: int | None = None, small: int | None = None
         ) -> Plan | None:
    """Cut the page at its forced page breaks into parts of about ``chunk`` characters
    of text; None when it cannot be cut (one part, or markup this module does not
    handle). With ``small``, each stretch between two forced breaks is a part of its own
    unless it has fewer than ``small`` characters of text (then it joins the part before,
    up to ``chunk``): whether a stretch starts a part depends on it alone, so an edit
    leaves every other cut where it was."""
    try:
        root, styles = _read(html)
        body = _cascade(root, styles)
    except (Unsplittable, ValueError, KeyError, StopIteration):
        return None
    html_node = body.parent
    if html_node is None or "counter-reset" in html_node.style:
        return None
    cuts = boundaries(body)
    if not cuts:
        return None
    nodes = list(_walk(body))
    edges = [body.open_end, *cuts, body.end]
    segments = list(zip(edges, edges[1:], strict=False))
    # The parts that show another part's page number (the contents) stand alone.
    deps = [any(n.targets and n.attrs.get("href", "").startswith("#")
                for n in nodes if lo <= n.start < hi) for lo, hi in segments]
    ranges: list[tuple[int, int]] = []
    flags: list[bool] = []
    size = 0
    # A long page (more stretches than MANY) is cut every ``group`` stretches or so: where
    # a stretch's first tag (its id) says so, which an edit elsewhere does not change.
    group = len(segments) // MANY + 1
    for (lo, hi), dep in zip(segments, deps, strict=True):
        weight = _weight(html, lo, hi)
        joins = weight < small or _joins(html, lo, group) if small is not None else True
        if ranges and joins and not dep and not flags[-1] and size + weight <= chunk:
            ranges[-1] = (ranges[-1][0], hi)
            size += weight
        else:
            ranges.append((lo, hi))
            flags.append(dep)
            size = weight
    if len(ranges) < 2 or (most is not None and len(ranges) > most):
        return None
    footnotes = []
    anchors = []
    links = []
    count = 0
    for lo, hi in ranges:
        footnotes.append(count)
        inside = [n for n in nodes if lo <= n.start < hi]
        count += sum(1 for n in inside if n.style.get("float") == "footnote"
                     and not _hidden(n))
        anchors.append(frozenset(n.attrs["id"] for n in inside if n.attrs.get("id")))
        links.append(tuple(n.attrs["href"][1:] for n in inside
                           if n.attrs.get("href", "").startswith("#")
                           and len(n.attrs["href"]) > 1))
    every = frozenset().union(*anchors)
    links = [tuple(t for t in ts if t in every) for ts in links]
    weights = tuple(_weight(html, lo, hi) for lo, hi in ranges)
    return Plan(html, body, tuple(ranges), tuple(footnotes), tuple(anchors),
                tuple(links), tuple(flags), weights)


def _joins(html: str, at: int, group: int) -> bool:
    """Whether the stretch starting at ``at`` joins the part before: one stretch in
    ``group`` (on average) starts a part, chosen by a hash of its first tag."""
    if group <= 1:
        return False
    import zlib

    tag = html[at:html.find(">", at) + 1]
    return zlib.crc32(tag.encode("utf-8")) % group != 0


def _hidden(node: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current.style.get("display") == "none":
            return True
        current = current.parent
    return False


def _weight(html: str, lo: int, hi: int) -> int:
    """Characters of text (outside tags) in ``html[lo:hi]``: the cost of laying it out."""
    return len(TAGS.sub("", html[lo:hi]))
