"""The figures: report/timeline.yaml and report/actors.yaml read and checked, their
citations held to the evidence check, and the SVG they are drawn as."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import etree

from policybrief.assemble import drawing, figures
from policybrief.check import checks
from policybrief.load import bibliography
from policybrief.load.seeds import load_sources
from policybrief.model import Citation, Project, Section
from policybrief.render import pandoc

from conftest import REPO, make_tiny, write

SVG = "{http://www.w3.org/2000/svg}"
WIKI = "wikipedia-sadrist-khomeinist"

TIMELINE = f"""\
events:
  - date: "2013-08-06"
    label: "Sadr announces retirement and dissolves the Mahdi Army"
    citation:
      key: "{WIKI}"
      quote: "On August 6, 2013, al-Sadr announced his retirement from politics"
  - date: "2006"
    label: "Qais al-Khazali founds Asa'ib Ahl al-Haq"
    citation:
      key: "{WIKI}"
      quote: "Qais al-Khazali founded Asa'ib Ahl al-Haq (AAH)"
  - date: "2007-08"
    label: "Karbala clashes between the Mahdi Army and Badr"
    citation:
      key: "{WIKI}"
      quote: "following violent clashes in Karbala between the Mahdi Army and the Iran-backed"
"""

ACTORS = f"""\
actors:
  - id: "sadrists"
    name: "Sadrist Movement"
    arabic: "التيار الصدري"
    type: "movement"
    leader: "Muqtada al-Sadr"
  - id: "aah"
    name: "Asa'ib Ahl al-Haq (AAH)"
    arabic: "عصائب أهل الحق"
    type: "armed-group"
  - id: "mahdi-army"
    name: "Mahdi Army"
    type: "armed-group"
relations:
  - from: "aah"
    to: "mahdi-army"
    type: "split-from"
    citation:
      key: "{WIKI}"
      quote: "Muqtada al-Sadr demanded that al-Kabi reunite AAH with the Mahdi Army"
  - from: "sadrists"
    to: "mahdi-army"
    type: "backs"
    citation:
      key: "{WIKI}"
      quote: "Muqtada al-Sadr founded the Mahdi Army"
  - from: "sadrists"
    to: "aah"
    type: "opposed"
    citation:
      key: "rasanah2024rifts"
      quote: "a quote that is not in the paper"
"""


def project(root: Path, timeline: str | None = TIMELINE, actors: str | None = ACTORS) -> Path:
    make_tiny(root)
    if timeline is not None:
        write(root / "report" / "timeline.yaml", timeline)
    if actors is not None:
        write(root / "report" / "actors.yaml", actors)
    return root


def line(root: Path, name: str, needle: str) -> int:
    lines = (root / "report" / name).read_text("utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


# --- loading and checking ------------------------------------------------------------


def test_no_files_no_figures(tmp_path: Path) -> None:
    figs, cites, found = figures.load(Project(project(tmp_path / "p", None, None)))
    assert (len(figs), cites, found) == (0, [], [])


def test_citations_carry_path_line_where_and_claim(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    figs, cites, found = figures.load(Project(root))
    assert found == []
    assert [f.name for f in figs] == ["timeline", "actors"]
    assert cites[0] == Citation(
        WIKI, None, "On August 6, 2013, al-Sadr announced his retirement from politics",
        "report/timeline.yaml", 6, "Timeline",
        "Sadr announces retirement and dissolves the Mahdi Army", "events/0/citation")
    assert [(c.path, c.line, c.where, c.claim) for c in cites[3:]] == [
        ("report/actors.yaml", line(root, "actors.yaml", "reunite AAH"), "Actor map",
         "Asa'ib Ahl al-Haq (AAH) split from Mahdi Army"),
        ("report/actors.yaml", line(root, "actors.yaml", "founded the Mahdi"), "Actor map",
         "Sadrist Movement backs Mahdi Army"),
        ("report/actors.yaml", line(root, "actors.yaml", "not in the paper"), "Actor map",
         "Sadrist Movement is opposed to Asa'ib Ahl al-Haq (AAH)")]


def test_figure_citations_go_through_the_evidence_check(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    project_ = Project(root)
    _, cites, _ = figures.load(project_)
    entries = bibliography.load_bibliography(project_.bibliography, "bibliography.bib")
    sources, _ = load_sources(project_, entries)
    holder = Section("report/actors.yaml", 1, "figures", "Figures", "figures", {}, {}, "", 1,
                     tuple(cites))
    evidence = checks.check_citations((holder,), entries, sources)
    assert [(f.path, f.line, f.rule) for f in evidence.findings] == [
        ("report/actors.yaml", line(root, "actors.yaml", "not in the paper"), "quote.not-found")]
    assert len(evidence.matches) == 5


def test_the_real_figures_are_clean_and_every_quote_is_found() -> None:
    project_ = Project(REPO)
    figs, cites, found = figures.load(project_)
    assert found == []
    assert [f.name for f in figs] == ["timeline", "actors"]
    entries = bibliography.load_bibliography(project_.bibliography, "bibliography.bib")
    sources, _ = load_sources(project_, entries)
    holder = Section("report/timeline.yaml", 1, "figures", "Figures", "figures", {}, {}, "", 1,
                     tuple(cites))
    assert checks.check_citations((holder,), entries, sources).findings == ()


def test_schema_errors_name_the_field(tmp_path: Path) -> None:
    root = project(tmp_path / "p", TIMELINE.replace('"2006"', '"2006/05"').replace(
        "    label: \"Karbala", "    lable: \"Karbala"))
    figs, _, found = figures.load(Project(root))
    assert [(f.line, f.message, f.hint) for f in found] == [
        (line(root, "timeline.yaml", "2006/05"), "events[2].date: '2006/05' has the wrong form",
         'write dates as "YYYY-MM-DD"'),
        (line(root, "timeline.yaml", "lable"), "unknown field 'lable' in events[3]",
         "did you mean 'label'?"),
        (line(root, "timeline.yaml", "- date: \"2007-08\""),
         "events[3] is missing the field 'label'", "add 'label: …' there")]
    assert [f.name for f in figs] == ["actors"]


def test_a_date_that_does_not_exist(tmp_path: Path) -> None:
    root = project(tmp_path / "p", TIMELINE.replace('"2007-08"', '"2007-02-30"'))
    _, _, found = figures.load(Project(root))
    assert [(f.line, f.message, f.rule) for f in found] == [
        (line(root, "timeline.yaml", "2007-02-30"), "events[3].date: there is no date 2007-02-30",
         "figures.date")]


def test_unknown_actor_ids_in_relations(tmp_path: Path) -> None:
    root = project(tmp_path / "p", actors=ACTORS.replace('to: "mahdi-army"\n    type: "backs"',
                                                         'to: "mahdi_army"\n    type: "backs"'))
    figs, cites, found = figures.load(Project(root))
    assert [(f.severity, f.line, f.message, f.hint, f.rule) for f in found] == [
        ("error", line(root, "actors.yaml", '"mahdi_army"'),
         "relations[2].to: unknown actor 'mahdi_army'", "did you mean 'mahdi-army'?",
         "figures.unknown-actor")]
    assert figs.get("actors") is None
    assert len(cites) == 3 + 2  # the other relations are still checked


def test_duplicate_ids_self_relations_and_lonely_actors(tmp_path: Path) -> None:
    lonely = ACTORS.replace("relations:", '  - id: "iran"\n    name: "Iran"\n    type: "state"\n'
                                          "relations:")
    _, _, found = figures.load(Project(project(tmp_path / "p", actors=lonely)))
    assert [(f.severity, f.message, f.rule) for f in found] == [
        ("warning", "actor 'iran' has no relation, so the map shows it alone",
         "figures.unrelated-actor")]
    twice = ACTORS.replace('id: "mahdi-army"', 'id: "aah"').replace('"mahdi-army"', '"aah"')
    _, _, found = figures.load(Project(project(tmp_path / "q", actors=twice)))
    assert [f.rule for f in found] == ["figures.duplicate-actor", "figures.self-relation"]


def test_yaml_that_is_not_a_mapping_stops_with_its_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p", timeline="- date: '2006'\n")
    _, _, findings = figures.load(Project(root))  # reported with every other file's
    assert [(f.path, f.line, f.rule) for f in findings] == [
        ("report/timeline.yaml", 1, "yaml.not-a-mapping")]


@pytest.mark.parametrize(("date", "expected"), [
    ("2006", (2006.5, "2006")), ("2007-08", (2007 + 7.5 / 12, "Aug 2007")),
    ("2013-08-06", (2013 + 217.5 / 365, "6 Aug 2013")), ("2013-13", None), ("2024-02-30", None)])
def test_when(date: str, expected: tuple[float, str] | None) -> None:
    got = figures.when(date)
    assert got == expected if expected is None or got is None else (
        got[1] == expected[1] and abs(got[0] - expected[0]) < 1e-9)


# --- drawing -------------------------------------------------------------------------


def svg_root(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"))


def texts(root: etree._Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def test_timeline_svg(tmp_path: Path) -> None:
    figs, _, _ = figures.load(Project(project(tmp_path / "p")))
    figure = figs.get("timeline")
    assert figure is not None
    root = svg_root(figure.svg())
    assert (root.get("width"), root.get("viewBox").split()[2]) == ("160.0mm", "160.0")
    assert root.find(f"{SVG}title").text == "Figure 1. Timeline of key events, 2006–2013."
    assert root.find(f"{SVG}desc").text.startswith("Timeline of 3 events from 2006 to 6 Aug 2013:")
    assert len(root.findall(f".//{SVG}circle")) == 3
    dates = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert dates == ["2006", "Aug 2007", "6 Aug 2013"]  # in date order, whatever the file's
    years = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert years == [str(y) for y in range(2006, 2015)]
    assert "Karbala clashes between the Mahdi Army and Badr" in texts(root)
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 2.82  # 8 pt at print size


def test_timeline_labels_never_overlap() -> None:
    events = [(2022 + i / 40, f"{i} Jun 2022", "An event with a label of middling length " * (
        1 + i % 3)) for i in range(12)] + [(1999.5, "1999", "Early")]
    layout = drawing.timeline(events)
    spans = []
    for item in layout["items"]:
        top = item["baselines"][0] - drawing.FONT
        spans.append((top, item["baselines"][-1] + 0.3 * drawing.FONT))
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    for item in layout["items"]:
        assert all(drawing.text_width(t, drawing.FONT) <= 160 - layout["label_x"]
                   for t in item["lines"])
    assert layout["height"] >= spans[-1][1]


def test_actor_map_svg_web_and_print(tmp_path: Path) -> None:
    figs, _, _ = figures.load(Project(project(tmp_path / "p")))
    figure = figs.get("actors")
    assert figure is not None and figure.number == 2
    web = svg_root(figure.svg())
    assert len(web.findall(f".//{SVG}g[@class='actor']")) == 3
    relations = web.findall(f".//{SVG}g[@class]")
    kinds = [g.get("class") for g in relations if g.get("class").startswith("relation")]
    assert kinds == ["relation split-from", "relation backs", "relation opposed"]
    assert len(web.findall(f".//{SVG}polygon")) == 2 + 2  # arrowheads, and in the legend
    arabic = [t for t in web.iter(f"{SVG}text") if t.get("direction") == "rtl"]
    assert [t.text for t in arabic] == ["التيار الصدري", "عصائب أهل الحق"]
    assert all("Noto Naskh Arabic" in t.get("font-family") for t in arabic)
    assert "movement" in texts(web) and "Muqtada al-Sadr" in texts(web)
    printed = svg_root(figure.svg(outlines=True))
    shapes = printed.findall(f".//{SVG}path")
    if drawing.arabic_outline("ا", 3) is None:
        pytest.skip("no HarfBuzz or no Arabic font here")
    assert [p.find(f"{SVG}title").text for p in shapes] == ["التيار الصدري", "عصائب أهل الحق"]
    assert not [t for t in printed.iter(f"{SVG}text") if t.get("direction") == "rtl"]


def boxes(figure: figures.Figure) -> list[tuple[float, float, float, float]]:
    return [(n["x0"], n["y0"], n["x0"] + n["w"], n["y0"] + n["h"])
            for n in figure.layout["nodes"]]


def test_the_real_actor_map_is_legible() -> None:
    figs, _, _ = figures.load(Project(REPO))
    figure = figs.get("actors")
    assert figure is not None
    placed = boxes(figure)
    for i, a in enumerate(placed):  # no box overlaps another, all inside the figure
        assert a[0] >= 0 and a[2] <= 160 and a[1] >= 0 and a[3] <= figure.layout["height"]
        for b in placed[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    ids = [n["id"] for n in figure.layout["nodes"]]
    relations = figure.data["relations"]
    for edge, (source, target, _, claim) in zip(figure.layout["edges"], relations, strict=True):
        ends = {ids.index(source), ids.index(target)}
        for k, box in enumerate(placed):  # no relation runs through a third actor's box
            if k in ends:
                continue
            assert not _through((edge["x1"], edge["y1"]), (edge["x2"], edge["y2"]), box), claim
    root = svg_root(figure.svg())
    assert min(float(t.get("font-size")) for t in root.iter(f"{SVG}text")) >= 2.82


def _through(p: tuple[float, float], q: tuple[float, float],
             box: tuple[float, float, float, float]) -> bool:
    steps = 200
    return any(box[0] < p[0] + (q[0] - p[0]) * i / steps < box[2]
               and box[1] < p[1] + (q[1] - p[1]) * i / steps < box[3] for i in range(steps + 1))


def _cost_as_defined(board: drawing.Board) -> float:
    """drawing.Board's cost written out plainly: for each edge, its length, the boxes of
    other actors it passes through, the lines it crosses (two relations between the
    same actors are one line). A line runs from its lower-numbered slot to the other."""
    slots, place = board.slots, board.place
    at = {slot: node for node, slot in enumerate(place)}
    half_width = board.nodes[0].w / 2 + drawing.MARGIN
    lines = [tuple(sorted((place[a], place[b]))) for a, b in board.edges]
    length = 0.0
    hits = crossings = 0
    for (a, b), (one, two) in zip(board.edges, lines, strict=True):
        p, q = slots[one], slots[two]
        length += drawing._distance(p, q)
        for slot, node in at.items():
            if node in (a, b):
                continue
            gap = drawing._gap(p, q, slots[slot], half_width)
            if gap is not None and gap < board.nodes[node].h / 2 + drawing.MARGIN:
                hits += 1
        crossings += sum(drawing._crosses(p, q, slots[r], slots[s]) for r, s in set(lines))
    return 0.05 * length + 100 * hits + 8 * (crossings // 2)


@pytest.mark.parametrize("seed", range(4))
def test_actor_map_cost_is_the_defined_one(seed: int) -> None:
    """The cost the search minimises, worked out from look-up tables and bit masks, is
    the plain definition's to the last bit, repeated relations included."""
    import random

    rng = random.Random(seed)
    count = rng.randint(3, 12)
    nodes = [drawing.Node(f"n{i}", "party", ["Name " * rng.randint(1, 3)], "",
                          ["meta " * rng.randint(1, 3)] * rng.randint(1, 2))
             for i in range(count)]
    edges = [tuple(rng.sample(range(count), 2)) for _ in range(rng.randint(1, 2 * count))]
    edges += [edges[0], edges[0][::-1]]  # the same two actors, related three times
    slots, width = drawing.sized(nodes)
    board = drawing.Board(nodes, edges, slots, width)  # type: ignore[arg-type]
    drawing.arrange(board, starts=2, kicks=4)
    assert board.cost() == _cost_as_defined(board)
    for _ in range(60):
        board.place = rng.sample(range(len(board.slots)), count)
        assert board._cost() == _cost_as_defined(board)


# --- into the documents --------------------------------------------------------------


def test_markdown_of_a_figure(tmp_path: Path) -> None:
    figs, _, _ = figures.load(Project(project(tmp_path / "p")))
    figure = figs.get("timeline")
    assert figure is not None
    assert figure.markdown.startswith(
        f"![Figure 1. Timeline of key events, 2006–2013 [@{WIKI}].](figures/timeline.svg)"
        '{ #fig-timeline alt="Timeline of 3 events from 2006 to 6 Aug 2013: 2006, Qais '
        "al-Khazali founds Asa’ib Ahl al-Haq; Aug 2007,")
    html = pandoc.convert(figure.markdown, "html5", ["--wrap=none"], tmp_path, "test")
    assert '<figure id="fig-timeline">' in html
    assert '<img src="figures/timeline.svg" alt="Timeline of 3 events' in html


def test_figures_for_pdf_docx_and_html(tmp_path: Path) -> None:
    import docx

    from policybrief.render.png import DPI, figure_png

    root = project(tmp_path / "p")
    figs, _, _ = figures.load(Project(root))
    files = figs.files()
    assert sorted(files) == ["figures/actors.svg", "figures/timeline.svg"]
    html = '<img src="figures/timeline.svg" alt="x"><img src="figures/actors.svg" alt="y">'
    pdf_html = figs.for_pdf(html)
    assert pdf_html.count('src="data:image/svg+xml;base64,') == 2
    first = pdf_html.split('base64,')[1].split('"')[0]
    assert base64.b64decode(first).startswith(b"<svg")
    figure = figs.get("timeline")
    assert figure is not None
    png = figure_png(figure)
    assert png.startswith(b"\x89PNG")
    from PIL import Image

    image = Image.open(__import__("io").BytesIO(png))
    assert image.size[0] == round(160 / 25.4 * DPI)
    markdown = figs.for_docx(figure.markdown + "\n", {f.name: figure_png(f) for f in figs})
    assert "](data:image/png;base64," in markdown and "figures/timeline.svg" not in markdown
    out = tmp_path / "f.docx"
    pandoc.convert(markdown.replace(f"[@{WIKI}]", ""), "docx", [], tmp_path, "test", output=out)
    document = docx.Document(str(out))
    (shape,) = document.inline_shapes
    assert round(shape.width.mm) <= 160
    descr = shape._inline.docPr.get("descr")
    assert descr.startswith("Timeline of 3 events")


def test_a_crowded_actor_map_is_a_warning(tmp_path: Path) -> None:
    actors = "actors:\n" + "".join(
        f'  - id: "a{i}"\n    name: "Actor {i}"\n    type: "party"\n' for i in range(17))
    relations = "relations:\n" + "".join(
        f'  - from: "a{i}"\n    to: "a{i + 1}"\n    type: "aligned"\n    citation:\n'
        f'      key: "{WIKI}"\n      quote: "Muqtada al-Sadr founded the Mahdi Army"\n'
        for i in range(16))
    root = project(tmp_path / "p", None, actors + relations)
    _, _, found = figures.load(Project(root))
    assert [(f.severity, f.line, f.message, f.rule) for f in found] == [
        ("warning", 1, "17 actors are more than a page can show legibly (at most 16)",
         "figures.crowded")]


def test_word_gets_the_real_figures_where_pandoc_placed_their_stand_ins(tmp_path: Path) -> None:
    """pandoc is given a small stand-in PNG per figure (png.stand_in): the DOCX it
    makes, finished with the real images, has the real PNGs as its media, the extents
    pandoc gives the real PNGs, and no trace of the stand-ins. The images: the two
    figures (wider than the page: scaled to fit), a twin of the first (same size and
    resolution, one pixel changed), which must not become one media part with it, and
    a small one at another resolution (placed at its own size)."""
    import io
    import re
    import zipfile

    from PIL import Image

    from policybrief.render import docx
    from policybrief.render.png import figure_png, stand_in

    figs, _, _ = figures.load(Project(project(tmp_path / "p")))
    real = [figure_png(f) for f in figs]
    twin = Image.open(io.BytesIO(real[0])).convert("RGB")
    twin.putpixel((0, 0), (1, 2, 3))
    out = io.BytesIO()
    twin.save(out, "PNG", dpi=(200, 200))
    real.append(out.getvalue())
    out = io.BytesIO()  # narrower than the page: its size on the page is its size and dpi
    Image.new("RGB", (300, 200), (9, 9, 9)).save(out, "PNG", dpi=(150, 150))
    real.append(out.getvalue())
    assert Image.open(io.BytesIO(real[2])).size == Image.open(io.BytesIO(real[0])).size
    stand_ins = [stand_in(image) for image in real]
    assert len(set(stand_ins)) == 4 and all(len(s) < 2_000 for s in stand_ins)
    for image, stand in zip(real, stand_ins, strict=True):  # a PNG of the same size and dpi
        shown, shown_stand = Image.open(io.BytesIO(image)), Image.open(io.BytesIO(stand))
        shown_stand.load()
        assert (shown_stand.size, shown_stand.info["dpi"]) == (shown.size, shown.info["dpi"])

    def package(images: list[bytes], name: str) -> dict[str, bytes]:
        markdown = "".join(f"![Figure {i}](data:image/png;base64,"
                           f"{base64.b64encode(image).decode()}){{ alt=\"Alt {i}\"}}\n\n"
                           for i, image in enumerate(images))
        pandoc.convert(markdown, "docx", [], tmp_path, "test", output=tmp_path / name)
        data = (tmp_path / name).read_bytes()
        if images is stand_ins:
            data = docx.zipped(docx.finished(data, {}, media=dict(zip(stand_ins, real,
                                                                      strict=True))))
        archive = zipfile.ZipFile(io.BytesIO(data))
        return {n: archive.read(n) for n in archive.namelist()}

    def placed(parts: dict[str, bytes]) -> list[tuple[tuple[bytes, bytes], bytes]]:
        """Each drawing's extent and the bytes of the image it shows, in order."""
        body, rels = parts["word/document.xml"], parts["word/_rels/document.xml.rels"]
        targets = dict(re.findall(rb'Id="([^"]+)" Target="([^"]+)"', rels)
                       + [(i, t) for t, i in re.findall(rb'Target="([^"]+)" Id="([^"]+)"',
                                                        rels)])
        extents = re.findall(rb'<wp:extent cx="(\d+)" cy="(\d+)"', body)
        embeds = re.findall(rb'r:embed="([^"]+)"', body)
        return [(e, parts["word/" + targets[r].decode()]) for e, r in
                zip(extents, embeds, strict=True)]

    expected, got = package(real, "real.docx"), package(stand_ins, "stand-ins.docx")
    assert placed(got) == placed(expected)
    assert [image for _, image in placed(got)] == real
    assert sorted(n for n in got if n.startswith("word/media/")) == \
        sorted(n for n in expected if n.startswith("word/media/"))
    for name, content in got.items():
        for stand in stand_ins:
            assert stand not in content and base64.b64encode(stand)[:60] not in content, name
        assert b"stand-in for" not in content, name
    # the picture's own description: the alt text, not the image once more as base64
    assert re.findall(rb'<pic:cNvPr descr="([^"]*)"', got["word/document.xml"]) == \
        [b"Alt 0", b"Alt 1", b"Alt 2", b"Alt 3"]
