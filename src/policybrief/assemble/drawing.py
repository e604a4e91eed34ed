"""Geometry for the figures: text measures, the layout of the timeline and the actor map,
and Arabic names as glyph outlines.

All lengths are millimetres at print size (the SVG's user unit): the figures are drawn
160 mm wide, inside A4's text width, with no text under 8 pt (2.82 mm). Text is measured
with DejaVu Sans's advance widths, the widest of the fallback fonts, so that labels fit
whichever of them the renderer has. WeasyPrint lays SVG text out letter by letter with
no bidirectional reordering, which scrambles Arabic; for the PDF (and the PNG made from
it) Arabic names are therefore drawn as outlines shaped by HarfBuzz (uharfbuzz), while
the SVG for the web page keeps them as real ``direction="rtl"`` text.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

WIDTH = 160.0
FONT = 3.0  # 8.5 pt
SMALL = 2.9  # 8.2 pt
ARABIC = 3.6  # Naskh runs small: 10 pt
LINE = 3.9

# Advance widths of ASCII 32–126 in % of the em, DejaVu Sans and DejaVu Sans Bold.
_REGULAR = ("32 40 46 84 64 95 78 27 39 39 50 84 32 36 32 34 64 64 64 64 64 64 64 64 64 64 "
            "34 34 84 84 84 53 100 68 69 70 77 63 58 77 75 29 29 66 56 86 75 79 60 79 69 63 "
            "61 73 68 99 69 61 69 39 34 39 84 50 50 61 63 55 63 62 35 63 63 28 28 58 28 97 63 "
            "61 63 63 41 52 39 63 59 82 59 59 52 64 34 64 84")
_BOLD = ("35 46 52 84 70 100 87 31 46 46 52 84 38 42 38 37 70 70 70 70 70 70 70 70 70 70 40 "
         "40 84 84 84 58 100 77 76 73 83 68 68 82 84 37 37 77 64 100 84 85 73 85 77 72 68 81 "
         "77 110 77 72 73 46 37 46 84 50 50 67 72 59 72 68 44 72 71 34 34 67 34 104 71 69 72 "
         "72 49 60 48 71 65 92 65 65 58 71 37 71 84")
_WIDTHS = {False: [int(w) for w in _REGULAR.split()], True: [int(w) for w in _BOLD.split()]}


def text_width(text: str, size: float, bold: bool = False) -> float:
    table = _WIDTHS[bold]
    units = sum(table[ord(c) - 32] if 32 <= ord(c) < 127 else (50 if c in "–’‘“”" else 70)
                for c in text)
    return units * size / 100


def wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Line breaking at spaces; a word longer than the line stands alone.

    Greedy, except that a text that needs two lines is split where its longer line is
    shortest ("Peace Companies / (Peace Brigades)", not "… (Peace / Brigades)").
    """
    lines: list[str] = []
    words = text.split()
    for word in words:
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    if len(lines) == 2:
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        best = min(splits, key=lambda p: max(text_width(p[0], size, bold),
                                             text_width(p[1], size, bold)))
        if max(text_width(t, size, bold) for t in best) <= width:
            lines = list(best)
    return lines or [""]


# --- Arabic outlines -----------------------------------------------------------------


@cache
def _arabic_font() -> Any:
    """A HarfBuzz font for Arabic (Noto Naskh Arabic first), or None."""
    try:
        import uharfbuzz as hb
    except ImportError:
        return None
    for family in ("Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{family}\n%{file}", family],
                                   capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        name, _, path = found.partition("\n")
        if family in name and path:
            face = hb.Face(hb.Blob.from_file_path(path))
            return hb.Font(face), face.upem
    return None


def arabic_outline(text: str, size: float) -> tuple[str, float] | None:
    """SVG path data for ``text`` set right to left at ``size`` mm, and its width.

    The path's origin is the left end of the baseline. None when HarfBuzz or an Arabic
    font is missing (the caller then keeps the text as text).
    """
    found = _arabic_font()
    if found is None:
        return None
    import uharfbuzz as hb
    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.pens.transformPen import TransformPen

    font, upem = found
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {})
    scale = size / upem
    pen = SVGPathPen(None, ntos=lambda v: f"{v:.3f}".rstrip("0").rstrip("."))
    x = 0
    for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        dx, dy = (x + pos.x_offset) * scale, -pos.y_offset * scale
        font.draw_glyph_with_pen(info.codepoint, TransformPen(pen, (scale, 0, 0, -scale,
                                                                    dx, dy)))
        x += pos.x_advance
    return pen.getCommands(), x * scale


# --- the timeline --------------------------------------------------------------------


@dataclass
class Row:
    """One event of the timeline: where its dot is and where its label goes."""

    when: float
    date: str
    lines: list[str]
    dot: float = 0.0
    top: float = 0.0

    @property
    def height(self) -> float:
        return len(self.lines) * LINE + 1.3


def timeline(events: Sequence[tuple[float, str, str]]) -> dict[str, Any]:
    """Layout of a vertical timeline: (decimal year, date text, label) per event."""
    axis_x, date_x = 14.0, 22.0
    label_x = date_x + max(text_width(d, FONT, True) for _, d, _ in events) + 3.0
    rows = [Row(when, date, wrap(label, FONT, WIDTH - label_x - 0.5))
            for when, date, label in sorted(events, key=lambda e: e[0])]
    first, last = int(rows[0].when), int(rows[-1].when) + 1
    span = max(last - first, 1)
    per_year = max(1.25 * sum(r.height for r in rows) / span, 2.5)
    top = 4.0
    for r in rows:
        r.dot = top + (r.when - first) * per_year
    _spread(rows, top - LINE / 2)
    step = next((s for s in (1, 2, 5, 10, 25, 50, 100) if span / s <= 8), 250)
    ticks = [{"y": top + (y - first) * per_year, "label": str(y) if y % step == 0 else ""}
             for y in range(first, last + 1)]
    end = top + span * per_year
    height = max(end, rows[-1].top + rows[-1].height) + 3.0
    items = []
    for r in rows:
        mid = r.top + LINE / 2
        items.append({"date": r.date, "dot": round(r.dot, 2), "mid": round(mid, 2),
                      "baselines": [round(r.top + FONT * 0.85 + i * LINE, 2)
                                    for i in range(len(r.lines))],
                      "lines": r.lines,
                      "leader": [(axis_x, r.dot), (axis_x + 2.5, r.dot),
                                 (date_x - 2.5, mid), (date_x - 0.8, mid)]})
    return {"width": WIDTH, "height": round(height, 2), "axis_x": axis_x, "date_x": date_x,
            "label_x": round(label_x, 2), "axis": (top, round(end, 2)), "ticks": ticks,
            "items": items}


def _spread(rows: list[Row], floor: float) -> None:
    """Place labels as near their dots as they can go without overlapping.

    Each label wants its first line centred on its dot; overlapping labels merge into a
    block centred on the mean of what its members want, until no blocks overlap.
    """
    blocks: list[list[Row]] = []
    for row in rows:
        blocks.append([row])
        while True:
            block = blocks[-1]
            offsets, at = [], 0.0
            for r in block:
                offsets.append(at)
                at += r.height
            start = sum(r.dot - LINE / 2 - o for r, o in zip(block, offsets, strict=True))
            start = max(start / len(block), floor)
            for r, o in zip(block, offsets, strict=True):
                r.top = start + o
            if len(blocks) > 1 and blocks[-2][-1].top + blocks[-2][-1].height > start:
                blocks[-2:] = [blocks[-2] + block]
                continue
            break


# --- the actor map -------------------------------------------------------------------


@dataclass
class Node:
    ident: str
    kind: str
    name: list[str]
    arabic: str
    meta: list[str]
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    def box(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2 - margin, self.y - self.h / 2 - margin,
                self.x + self.w / 2 + margin, self.y + self.h / 2 + margin)


MARGIN = 1.5  # clearance an edge keeps from a box it does not belong to


class Board:
    """Slots on a staggered grid, and the nodes and edges to place in them.

    Every slot-to-slot segment's length, how close it passes to the centre of each slot
    it overlaps and which other segments it crosses are worked out once, so that trying
    a placement is a matter of look-ups (thousands are tried).
    """

    def __init__(self, nodes: list[Node], edges: list[tuple[int, int]],
                 slots: list[tuple[float, float]], width: float) -> None:
        self.nodes, self.edges, self.slots = nodes, edges, slots
        self.place: list[int] = list(range(len(nodes)))  # node index → slot index
        pairs = [(a, b) for a in range(len(slots)) for b in range(a + 1, len(slots))]
        # each segment (a pair of slots, either way round) as its number in ``pairs``
        self.number = [[-1] * len(slots) for _ in slots]
        for index, (a, b) in enumerate(pairs):
            self.number[a][b] = self.number[b][a] = index
        self.length = [_distance(slots[a], slots[b]) for a, b in pairs]
        # segment → the slots it passes near, and how near (the box there needs more)
        self.near: list[tuple[tuple[int, float], ...]] = [tuple(
            (n, gap) for n in range(len(slots)) if n not in sg and (
                gap := _gap(slots[sg[0]], slots[sg[1]], slots[n], width / 2 + MARGIN))
            is not None) for sg in pairs]
        # segment → the ones it crosses, as a mask: bit j for segment j
        self.crossers = [0] * len(pairs)
        for i, one in enumerate(pairs):
            for j in range(i + 1, len(pairs)):
                two = pairs[j]
                if _crosses(slots[one[0]], slots[one[1]], slots[two[0]], slots[two[1]]):
                    self.crossers[i] |= 1 << j
                    self.crossers[j] |= 1 << i
        self.half = [n.h / 2 + MARGIN for n in nodes]
        # slot → the segments passing near it, and how near
        self.passing: list[list[tuple[int, float]]] = [[] for _ in slots]
        for sg, passes in enumerate(self.near):
            for n, gap in passes:
                self.passing[n].append((sg, gap))
        # (node, slot) → the segments that would pass through the node's box there, as a
        # mask (made when first asked for)
        self.through: list[list[int | None]] = [[None] * len(slots) for _ in nodes]
        # the edges' segments, counted: the edges between the same two nodes are the
        # same segment wherever they are placed; layer i holds those of more than i + 1
        pairs_of = [frozenset(e) for e in edges]
        self.layers = [[e for e in edges if pairs_of.count(frozenset(e)) > i]
                       for i in range(1, max((pairs_of.count(p) for p in pairs_of),
                                             default=0))]
        self.costs: dict[tuple[int, ...], float] = {}  # placements tried, ~40% twice

    def cost(self) -> float:
        """An edge through a box weighs most, then crossing edges, then length."""
        key = tuple(self.place)
        known = self.costs.get(key)
        if known is None:
            known = self.costs[key] = self._cost()
        return known

    def _cost(self) -> float:
        place, number, length_of, crossers = self.place, self.number, self.length, \
            self.crossers
        segments = [number[place[x]][place[y]] for x, y in self.edges]
        present = 0
        for sg in segments:
            present |= 1 << sg
        crossings = 0
        length = 0.0
        for sg in segments:
            length += length_of[sg]
            crossings += (crossers[sg] & present).bit_count()
        masks = [present]  # each edge's segment once, then those of the second edges, …
        for layer in self.layers:
            mask = 0
            for x, y in layer:
                mask |= 1 << number[place[x]][place[y]]
            masks.append(mask)
        hits = 0
        for node, slot in enumerate(place):
            through = self.through[node][slot]
            if through is None:
                through = self.through[node][slot] = sum(
                    1 << sg for sg, gap in self.passing[slot] if gap < self.half[node])
            for mask in masks:
                hits += (through & mask).bit_count()
        return 0.05 * length + 100 * hits + 8 * (crossings // 2)  # each crossing seen twice


def _distance(p: tuple[float, float], q: tuple[float, float]) -> float:
    return float(((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5)


def _crosses(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float],
             s: tuple[float, float]) -> bool:
    def side(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    return side(p, q, r) * side(p, q, s) < 0 and side(r, s, p) * side(r, s, q) < 0


def _gap(p: tuple[float, float], q: tuple[float, float], centre: tuple[float, float],
         half_width: float) -> float | None:
    """How near segment pq comes, vertically, to ``centre`` while it is within
    ``half_width`` of it horizontally; None if it never is."""
    (x0, y0), (x1, y1) = sorted((p, q))
    lo, hi = max(x0, centre[0] - half_width), min(x1, centre[0] + half_width)
    if lo > hi:
        return None
    if x1 == x0:  # vertical: the y range it spans
        low, high = sorted((y0, y1))
        return 0.0 if low <= centre[1] <= high else min(abs(low - centre[1]),
                                                         abs(high - centre[1]))
    slope = (y1 - y0) / (x1 - x0)
    ya, yb = y0 + slope * (lo - x0) - centre[1], y0 + slope * (hi - x0) - centre[1]
    return 0.0 if ya * yb <= 0 else min(abs(ya), abs(yb))


def _descend(board: Board, cost: float) -> float:
    """Move nodes (swapping with occupants) while any single move lowers the cost."""
    improved = True
    while improved:
        improved = False
        for a in range(len(board.nodes)):
            for s in range(len(board.slots)):
                old = board.place[a]
                if s == old:
                    continue
                other = board.place.index(s) if s in board.place else None
                board.place[a] = s
                if other is not None:
                    board.place[other] = old
                new = board.cost()
                if new < cost - 1e-9:
                    cost, improved = new, True
                    continue
                board.place[a] = old
                if other is not None:
                    board.place[other] = s
    return cost


def arrange(board: Board, starts: int = 4, kicks: int = 12) -> None:
    """Assign nodes to slots: no edge through a box, few crossings, short edges.

    Iterated local search from a few seeded random starts: descend, then shake the best
    placement (three random moves) and descend again. Deterministic: the same input
    gives the same map.
    """
    best: tuple[float, list[int]] | None = None
    count, slots = len(board.nodes), len(board.slots)
    for seed in range(starts):
        rng = random.Random(seed)
        order = list(range(slots))
        rng.shuffle(order)
        board.place = order[:count]
        local = (_descend(board, board.cost()), list(board.place))
        for _ in range(kicks):
            board.place = list(local[1])
            for _ in range(3):
                a, s = rng.randrange(count), rng.randrange(slots)
                if s in board.place:
                    other = board.place.index(s)
                    board.place[other] = board.place[a]
                board.place[a] = s
            cost = _descend(board, board.cost())
            if cost < local[0] - 1e-9:
                local = (cost, list(board.place))
        if best is None or local[0] < best[0] - 1e-9:
            best = local
    assert best is not None
    board.place = best[1]


# Placements found in this process, by all that decides them: ``brief watch`` rebuilds
# an unchanged map without searching again (about 0.2 s of CPU for the default brief's).
_PLACED: dict[tuple[Any, ...], list[int]] = {}


def actor_map(nodes: list[Node], edges: list[tuple[int, int]]) -> None:
    """Size the boxes, lay out the slots and place the nodes."""
    slots, box_w = sized(nodes)
    key = (tuple(slots), tuple(edges), tuple(n.h for n in nodes), box_w)
    place = _PLACED.get(key)
    if place is None:
        board = Board(nodes, edges, slots, box_w)
        small = len(nodes) <= 16
        arrange(board, starts=4 if small else 2, kicks=12 if small else 4)
        place = _PLACED[key] = board.place
        if len(_PLACED) > 8:
            del _PLACED[next(iter(_PLACED))]  # the oldest
    for n, s in zip(nodes, place, strict=True):
        n.x, n.y = slots[s]


def sized(nodes: list[Node]) -> tuple[list[tuple[float, float]], float]:
    """Size the boxes (their text wrapped); the slots they may take, and their width."""
    pad = 1.6
    box_w = min(max(max(text_width(" ".join(n.name), FONT, True),
                        *(text_width(m, SMALL) for m in n.meta)) + 2 * pad for n in nodes), 46.0)
    box_w = max(box_w, 30.0)
    for n in nodes:
        n.name = wrap(" ".join(n.name), FONT, box_w - 2 * pad, bold=True)
        n.meta = [line for m in n.meta for line in wrap(m, SMALL, box_w - 2 * pad)]
        n.w = box_w
        n.h = 2 * pad + len(n.name) * LINE + (ARABIC * 1.35 if n.arabic else 0) \
            + len(n.meta) * (LINE - 0.3)
    cols = max(2, int((WIDTH + 8) // (box_w + 8)))
    pitch_x = (WIDTH - 1 - box_w) / (cols - 1)  # 0.5 mm clear of either edge
    pitch_y = max(n.h for n in nodes) + 9.0
    slots: list[tuple[float, float]] = []
    row = 0
    while len(slots) < len(nodes) + max(2, len(nodes) // 5):
        count = cols if row % 2 == 0 else cols - 1
        shift = 0 if row % 2 == 0 else pitch_x / 2
        for k in range(count):
            slots.append((0.5 + box_w / 2 + shift + k * pitch_x, pitch_y / 2 + row * pitch_y))
        row += 1
    return slots, box_w


def clip(a: Node, b: Node, gap: float = 0.8) -> tuple[tuple[float, float], tuple[float, float]]:
    """The segment between the centres of a and b, cut at both boxes' edges."""
    def cut(n: Node, dx: float, dy: float) -> tuple[float, float]:
        tx = (n.w / 2 + gap) / abs(dx) if dx else float("inf")
        ty = (n.h / 2 + gap) / abs(dy) if dy else float("inf")
        t = min(tx, ty)
        return n.x + dx * t, n.y + dy * t

    dx, dy = b.x - a.x, b.y - a.y
    return cut(a, dx, dy), cut(b, -dx, -dy)
