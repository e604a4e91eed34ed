"""Figures: the timeline (``report/timeline.yaml``) and the actor map (``report/actors.yaml``).

Both files are optional. Each is read strictly (``frontmatter.parse``: lines kept,
every scalar a string), checked against its JSON Schema and then for what a schema
cannot say (real dates, known actor ids). Every event and relation carries a citation
with a quote; ``load`` returns them as ``Citation`` objects, so the evidence check holds
the figures to the same standard as the text.

The figures are drawn as SVG by the templates ``figures/timeline.svg.j2`` and
``figures/actors.svg.j2`` (layout in ``drawing``) in two variants: for the web page,
Arabic names are text; for the PDF and for the PNG that Word gets, they are outlines
(WeasyPrint cannot lay out Arabic in SVG). In the Markdown a figure is
``![caption](figures/NAME.svg){ #fig-NAME alt="…"}``: the HTML refers to the file next
to it, ``for_pdf`` swaps in the print SVG as a data: URL, ``for_docx`` a PNG one (pandoc
runs sandboxed, and needs rsvg-convert, which is not installed, to put an SVG in DOCX).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .. import links, schemas
from ..errors import BriefError
from ..load import frontmatter, textfile
from ..model import Citation, Finding, Project
from ..typography import smart
from . import drawing

TYPES = {"movement": "movement", "party": "party", "coalition": "coalition",
         "armed-group": "armed group", "state": "state", "person": "person"}
VERBS = {"aligned": "is aligned with", "opposed": "is opposed to", "split-from": "split from",
         "backs": "backs"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CROWDED = 16  # actors: more do not fit legibly on a page
MAX_ITEMS = 200  # events or actors in one figure: beyond, no page can show them


@dataclass(frozen=True)
class Figure:
    """One figure: its caption, alt text and the data its template draws."""

    name: str
    number: int
    caption: str
    alt: str
    keys: tuple[str, ...]
    project: Project = field(repr=False, compare=False)
    data: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def path(self) -> str:
        """Where the SVG goes, relative to the HTML page (and in the Markdown)."""
        return f"figures/{self.name}.svg"

    @property
    def ident(self) -> str:
        return f"fig-{self.name}"

    @property
    def markdown(self) -> str:
        """``![caption](path){ #ident alt="…"}``, citations in the project's syntax."""
        caption = self.caption
        if self.keys:  # "… 1999–2024 [@a; @b]." puts the note after the full stop
            caption = caption.rstrip(".") + " [" + "; ".join(f"@{k}" for k in self.keys) + "]."
        alt = self.alt.replace("\\", "/").replace('"', "”")
        return f'![{caption}]({self.path}){{ #{self.ident} alt="{alt}"}}'

    @property
    def listing(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What the figure shows as lists of text (the web page shows them instead of
        the drawing on a narrow screen): the events of a timeline; the actors and the
        relations of an actor map."""
        if self.name == "timeline":
            return (("Events", tuple(f"{date}: {label}"
                                     for _, date, label in self.data["events"])),)
        actors = tuple(f"{a['name']} ({TYPES[a['type']]}"
                       + (f", led by {a['leader']}" if a.get("leader") else "") + ")"
                       for a in self.data["actors"])
        return (("Actors", actors), ("Relations", tuple(r[3] for r in self.data["relations"])))

    @cached_property
    def layout(self) -> dict[str, Any]:
        if self.name == "timeline":
            return _timeline_layout(self.data)
        return _actor_layout(self.data)

    def svg(self, outlines: bool = False) -> str:
        """The figure as SVG; ``outlines`` draws Arabic as shapes (PDF, PNG)."""
        from .assembly import render

        layout = self.layout
        arabic = {}
        if outlines:
            for text in layout.get("arabic", ()):
                shaped = drawing.arabic_outline(text, drawing.ARABIC)
                if shaped:
                    arabic[text] = {"d": shaped[0], "width": round(shaped[1], 3)}
        return render(self.project, f"figures/{self.name}.svg.j2", figure=self, outlines=arabic,
                      **layout)

    @cached_property
    def print_svg(self) -> str:
        """The SVG for the PDF and the PNG (Arabic as outlines), drawn once."""
        return self.svg(outlines=True)

    @property
    def png_source(self) -> tuple[str, float, float]:
        """What :func:`policybrief.render.png.to_png` draws the PNG from: the print SVG
        and its size in mm."""
        return self.print_svg, self.layout["width"], self.layout["height"]


@dataclass(frozen=True)
class Figures:
    """The brief's figures, in the order they are numbered."""

    items: tuple[Figure, ...] = ()
    fingerprint: str = ""  # of timeline.yaml and actors.yaml, for the build's digest

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, name: str) -> Figure | None:
        return next((f for f in self.items if f.name == name), None)

    def listings(self) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
        """Each figure's text alternative as lists, by the figure's id."""
        return {f.ident: f.listing for f in self.items}

    def files(self) -> dict[str, bytes]:
        """The SVG files to write next to the HTML page, by path."""
        return {f.path: f.svg().encode("utf-8") for f in self.items}

    def for_pdf(self, html: str) -> str:
        """HTML whose figures are the print SVGs as data: URLs (for WeasyPrint)."""
        for f in self.items:
            uri = "data:image/svg+xml;base64," + _b64(f.print_svg.encode("utf-8"))
            html = html.replace(f'src="{f.path}"', f'src="{uri}"')
        return html

    def for_docx(self, markdown: str, drawn: Mapping[str, bytes]) -> str:
        """Markdown whose figures are PNG data: URLs (for pandoc's DOCX writer), from
        the PNGs ``drawn`` by :mod:`policybrief.render.png`, by figure name (the render
        stage gives their small stand-ins, and puts the real ones in the package)."""
        for f in self.items:
            png = drawn[f.name]
            markdown = markdown.replace(f"]({f.path})", f"](data:image/png;base64,{_b64(png)})")
        return markdown


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- loading and checking ------------------------------------------------------------


def load(project: Project) -> tuple[Figures, list[Citation], list[Finding]]:
    """The figures, the citations they rest on, and what is wrong with their files."""
    citations: list[Citation] = []
    findings: list[Finding] = []
    items: list[Figure] = []
    digest = hashlib.sha256()
    for name in ("timeline", "actors"):
        path = project.report / f"{name}.yaml"
        digest.update(path.read_bytes() if path.is_file() else b"-")
    timeline = _read(project, "timeline", findings)
    if timeline is not None:
        figure = _timeline(project, *timeline, len(items) + 1, citations, findings)
        if figure is not None:
            items.append(figure)
    actors = _read(project, "actors", findings)
    if actors is not None:
        figure = _actors(project, *actors, len(items) + 1, citations, findings)
        if figure is not None:
            items.append(figure)
    return Figures(tuple(items), digest.hexdigest()), citations, findings


def _read(project: Project, name: str, findings: list[Finding]) -> tuple[
        frontmatter.Document, str] | None:
    path = project.report / f"{name}.yaml"
    if not path.is_file():
        return None
    rel = project.rel(path)
    try:
        doc = frontmatter.parse(textfile.read(path, rel), rel)
    except BriefError as exc:  # reported with the other files' problems
        findings.append(exc.finding())
        return None
    problems = schemas.validate(doc.data, doc.lines, rel, name, cols=doc.cols)
    # captions and labels reach every output, the DOCX's links included
    problems += links.field_findings(doc.data, doc.lines, rel)
    items = doc.data.get("events" if name == "timeline" else "actors")
    if not problems and isinstance(items, list) and len(items) > MAX_ITEMS:
        problems.append(Finding("error", rel, doc.lines.get(
            "events" if name == "timeline" else "actors", 1),
            f"{len(items)} {'events' if name == 'timeline' else 'actors'}; a figure holds "
            f"at most {MAX_ITEMS}", "keep the figure to what a reader can take in on a page",
            f"figures.{name}"))
    findings += problems
    return None if problems else (doc, rel)


def _line(doc: frontmatter.Document, pointer: str) -> int:
    while pointer and pointer not in doc.lines:
        pointer = pointer.rpartition("/")[0]
    return doc.lines.get(pointer, 1)


def _cite(doc: frontmatter.Document, rel: str, pointer: str, where: str, claim: str) -> Citation:
    ref = doc.data
    for part in pointer.split("/"):
        ref = ref[int(part)] if isinstance(ref, list) else ref[part]
    quote = " ".join(ref["quote"].split())
    return Citation(ref["key"], ref.get("locator"), quote, rel, _line(doc, f"{pointer}/quote"),
                    where, claim, pointer, _line(doc, f"{pointer}/key"))


def when(date: str) -> tuple[float, str] | None:
    """``2013-08-06`` → (decimal year, "6 Aug 2013"); None if no such date."""
    parts = [int(p) for p in date.split("-")]
    if not 1 <= parts[0] <= 9998:
        return None
    try:
        if len(parts) == 1:
            return parts[0] + 0.5, str(parts[0])
        if len(parts) == 2:
            dt.date(parts[0], parts[1], 1)
            return parts[0] + (parts[1] - 0.5) / 12, f"{MONTHS[parts[1] - 1]} {parts[0]}"
        day = dt.date(*parts)
        length = (dt.date(parts[0] + 1, 1, 1) - dt.date(parts[0], 1, 1)).days
    except (ValueError, OverflowError):
        return None
    fraction = (day.timetuple().tm_yday - 0.5) / length
    return parts[0] + fraction, f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}"


def _timeline(project: Project, doc: frontmatter.Document, rel: str, number: int,
              citations: list[Citation], findings: list[Finding]) -> Figure | None:
    events = []
    for i, event in enumerate(doc.data["events"]):
        parsed = when(event["date"])
        if parsed is None:
            findings.append(Finding("error", rel, _line(doc, f"events/{i}/date"),
                                    f"events[{i + 1}].date: there is no date {event['date']}",
                                    "check the month and the day", "figures.date"))
            continue
        label = " ".join(event["label"].split())
        citations.append(_cite(doc, rel, f"events/{i}/citation", "Timeline", label))
        events.append((parsed[0], parsed[1], smart(label)))
    if len(events) != len(doc.data["events"]):
        return None
    events.sort(key=lambda e: e[0])
    first, last = events[0][1], events[-1][1]
    years = f"{first[-4:]}–{last[-4:]}" if first[-4:] != last[-4:] else first[-4:]
    caption = _caption(doc, number, f"Timeline of key events, {years}.")
    alt = (f"Timeline of {len(events)} events from {first} to {last}: "
           + "; ".join(f"{d}, {label}" for _, d, label in events) + ".")
    keys = tuple(sorted({c.key for c in citations if c.path == rel}))
    return Figure("timeline", number, caption, alt, keys, project, {"events": events})


def _caption(doc: frontmatter.Document, number: int, default: str) -> str:
    text = " ".join(str(doc.data.get("caption") or default).split())
    return f"Figure {number}. {text}"


def _actors(project: Project, doc: frontmatter.Document, rel: str, number: int,
            citations: list[Citation], findings: list[Finding]) -> Figure | None:
    actors: dict[str, Mapping[str, str]] = {}
    ok = True
    for i, actor in enumerate(doc.data["actors"]):
        if actor["id"] in actors:
            ok = False
            findings.append(Finding("error", rel, _line(doc, f"actors/{i}/id"),
                                    f"actor id '{actor['id']}' is used twice",
                                    "give each actor its own id", "figures.duplicate-actor"))
        actors.setdefault(actor["id"], actor)
    relations = []
    seen: set[tuple[str, str, str]] = set()
    for i, rel_ in enumerate(doc.data["relations"]):
        ends = []
        for end in ("from", "to"):
            ident = rel_[end]
            if ident not in actors:
                ok = False
                findings.append(Finding(
                    "error", rel, _line(doc, f"relations/{i}/{end}"),
                    f"relations[{i + 1}].{end}: unknown actor '{ident}'",
                    schemas.suggest(ident, list(actors)) or "actors: " + ", ".join(actors),
                    "figures.unknown-actor"))
            ends.append(ident)
        if ends[0] == ends[1]:
            ok = False
            findings.append(Finding("error", rel, _line(doc, f"relations/{i}"),
                                    f"relations[{i + 1}] relates '{ends[0]}' to itself", "",
                                    "figures.self-relation"))
        triple = (ends[0], ends[1], rel_["type"])
        if triple in seen:
            findings.append(Finding("warning", rel, _line(doc, f"relations/{i}"),
                                    f"relations[{i + 1}] repeats an earlier relation",
                                    "remove one of the two", "figures.duplicate-relation"))
        seen.add(triple)
        if ends[0] in actors and ends[1] in actors:
            claim = (f"{actors[ends[0]]['name']} {VERBS[rel_['type']]} "
                     f"{actors[ends[1]]['name']}")
            citations.append(_cite(doc, rel, f"relations/{i}/citation", "Actor map", claim))
            relations.append((ends[0], ends[1], rel_["type"], smart(claim)))
    related = {r[0] for r in relations} | {r[1] for r in relations}
    for i, actor in enumerate(doc.data["actors"]):
        if actor["id"] not in related and ok:
            findings.append(Finding("warning", rel, _line(doc, f"actors/{i}"),
                                    f"actor '{actor['id']}' has no relation, so the map "
                                    "shows it alone", "add a relation, or remove the actor",
                                    "figures.unrelated-actor"))
    if len(actors) > CROWDED:
        findings.append(Finding("warning", rel, _line(doc, "actors"),
                                f"{len(actors)} actors are more than a page can show legibly "
                                f"(at most {CROWDED})", "keep the main actors; name the others "
                                "in the text", "figures.crowded"))
    if not ok:
        return None
    caption = _caption(doc, number, "Actor map: the main actors and how they relate.")
    # the names as drawn and listed: typographic apostrophes (Asa’ib), as in the body
    actors = {k: {**a, **{f: smart(a[f]) for f in ("name", "leader") if a.get(f)}}
              for k, a in actors.items()}
    listed = [f"{a['name']} ({TYPES[a['type']]}"
              + (f", led by {a['leader']}" if a.get("leader") else "") + ")"
              for a in actors.values()]
    alt = (f"Actor map of {len(actors)} actors and {len(relations)} relations. Actors: "
           + "; ".join(listed) + ". Relations: " + "; ".join(r[3] for r in relations) + ".")
    keys = tuple(sorted({c.key for c in citations if c.path == rel}))
    data = {"actors": list(actors.values()), "relations": relations}
    return Figure("actors", number, caption, alt, keys, project, data)


# --- layout for the templates --------------------------------------------------------


def _timeline_layout(data: Mapping[str, Any]) -> dict[str, Any]:
    return drawing.timeline(data["events"])


COLOURS = {  # fill, stroke
    "movement": ("#fff1d6", "#9a6212"), "party": ("#e4eef9", "#1f4e79"),
    "coalition": ("#e3f1e5", "#2f6f3e"), "armed-group": ("#f7e1e1", "#8b2323"),
    "state": ("#ececec", "#404040"), "person": ("#f1e6f6", "#6b3a7d"),
}
LINES = {  # colour, dash pattern, arrowhead
    "aligned": ("#2f6f3e", "", False), "opposed": ("#c0392b", "2.2 1.2", False),
    "backs": ("#1f4e79", "", True), "split-from": ("#7a5c00", "0.5 0.9", True),
}


def _actor_layout(data: Mapping[str, Any]) -> dict[str, Any]:
    actors = data["actors"]
    index = {a["id"]: i for i, a in enumerate(actors)}
    nodes = [drawing.Node(a["id"], a["type"], [a["name"]], a.get("arabic", ""),
                          [TYPES[a["type"]], *([a["leader"]] if a.get("leader") else [])])
             for a in actors]
    pairs = [(index[f], index[t]) for f, t, _, _ in data["relations"]]
    drawing.actor_map(nodes, pairs)
    height = max(n.y + n.h / 2 for n in nodes) + 4.0
    count: dict[frozenset[int], int] = {}
    edges = []
    for (a, b), (_, _, kind, claim) in zip(pairs, data["relations"], strict=True):
        key = frozenset((a, b))
        k = count[key] = count.get(key, -1) + 1
        start, end = drawing.clip(nodes[a], nodes[b])
        if k:  # a second relation between the same two: draw it alongside
            dx, dy = end[0] - start[0], end[1] - start[1]
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            off = 1.4 * k
            start = (start[0] - dy / norm * off, start[1] + dx / norm * off)
            end = (end[0] - dy / norm * off, end[1] + dx / norm * off)
        colour, dash, arrow = LINES[kind]
        edges.append({"x1": start[0], "y1": start[1], "x2": end[0], "y2": end[1],
                      "colour": colour, "dash": dash, "kind": kind, "claim": claim,
                      "head": _arrowhead(start, end) if arrow else ""})
    legend, x, y = [], 0.0, height + 1.0
    for kind, label in [*((k, TYPES[k]) for k in TYPES if any(a["type"] == k for a in actors)),
                        *((k, k.replace("-", " ")) for k in LINES
                          if any(r[2] == k for r in data["relations"]))]:
        width = 9.0 + drawing.text_width(label, drawing.SMALL) + 4.0
        if x + width > drawing.WIDTH:
            x, y = 0.0, y + 5.0
        legend.append({"kind": kind, "label": label, "x": round(x, 2), "y": round(y, 2),
                       "box": COLOURS.get(kind), "line": LINES.get(kind),
                       "head": _arrowhead((x + 0.5, y), (x + 7.5, y))
                       if kind in LINES and LINES[kind][2] else ""})
        x += width
    return {"width": drawing.WIDTH, "height": round(y + 4.0, 2),
            "nodes": [_box(n) for n in nodes], "edges": edges, "legend": legend,
            "arabic": [n.arabic for n in nodes if n.arabic]}


def _box(n: drawing.Node) -> dict[str, Any]:
    """A node as the template draws it: its box, colours and lines of text."""
    fill, stroke = COLOURS[n.kind]
    y = n.y - n.h / 2 + 1.6
    lines = []
    for text in n.name:
        lines.append({"y": round(y + drawing.FONT * 0.85, 2), "text": text, "bold": True})
        y += drawing.LINE
    arabic = None
    if n.arabic:
        arabic = {"y": round(y + drawing.ARABIC * 0.95, 2), "text": n.arabic}
        y += drawing.ARABIC * 1.35
    for text in n.meta:
        lines.append({"y": round(y + drawing.SMALL * 0.85, 2), "text": text, "bold": False})
        y += drawing.LINE - 0.3
    return {"id": n.ident, "x": round(n.x, 2), "x0": round(n.x - n.w / 2, 2),
            "y0": round(n.y - n.h / 2, 2), "w": round(n.w, 2), "h": round(n.h, 2),
            "fill": fill, "stroke": stroke, "lines": lines, "arabic": arabic}


def _arrowhead(start: tuple[float, float], end: tuple[float, float]) -> str:
    """Points of a 2.2 mm arrowhead at ``end``."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    norm = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / norm, dy / norm
    bx, by = end[0] - 2.2 * ux, end[1] - 2.2 * uy
    points = [end, (bx - 0.9 * uy, by + 0.9 * ux), (bx + 0.9 * uy, by - 0.9 * ux)]
    return " ".join(f"{px:.2f},{py:.2f}" for px, py in points)

