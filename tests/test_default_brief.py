"""The shipped brief: its rules as a program can check them, and its three outputs."""

from __future__ import annotations

import html
import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief import citations as cit
from policybrief.assemble import evidence
from policybrief.model import Project
from policybrief.pipeline import load

from conftest import BACKGROUND, BRIEF_YAML, MOTIVES, REPO, make_project
from test_pipeline import docx_footnotes, pdf_text

KINDS = {"summary", "background", "motives", "opportunities", "challenges", "scenarios",
         "implications", "recommendations", "method"}


@pytest.fixture(scope="module")
def checked():  # type: ignore[no-untyped-def]
    return load(Project(REPO))


def test_the_brief_checks_clean_even_under_strict(checked) -> None:  # type: ignore[no-untyped-def]
    assert checked.errors == [] and checked.warnings == []


def test_every_section_kind_appears(checked) -> None:  # type: ignore[no-untyped-def]
    assert {s.kind for s in checked.brief.sections} == KINDS


def test_every_analysis_paragraph_has_a_citation(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for text, cited in evidence.analysis_paragraphs(section):
            assert cited, f"{section.path}: uncited paragraph: {text[:80]}"


def test_every_citation_carries_a_verified_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for c in checked.brief.citations:
        assert c.quote, f"{c.path}:{c.line}: citation of {c.key} without a quote"
        assert c in checked.evidence.matches
        assert len(c.quote.split()) <= 25, f"{c.path}:{c.line}: quote too long for fair use"


def test_every_structured_item_has_an_evidence_quote(checked) -> None:  # type: ignore[no-untyped-def]
    for section in checked.brief.sections:
        for name in ("items", "judgments", "scenarios"):
            for item in section.fields.get(name, []) or []:
                assert item["citations"], f"{section.path}: {name} entry without citations"
                assert all(ref.get("quote") for ref in item["citations"])


def test_every_scenario_is_complete(checked) -> None:  # type: ignore[no-untyped-def]
    scenarios = [s for sec in checked.brief.sections if sec.kind == "scenarios"
                 for s in sec.fields["scenarios"]]
    assert len(scenarios) == 4
    for s in scenarios:
        for field in ("likelihood", "confidence", "attribution", "narrative"):
            assert s[field].strip()
        for field in ("drivers", "indicators", "implications"):
            assert len(s[field]) >= 2, f"scenario {s['id']}: too few {field}"


def test_summary_has_three_to_five_judgments(checked) -> None:  # type: ignore[no-untyped-def]
    summary = next(s for s in checked.brief.sections if s.kind == "summary")
    assert 3 <= len(summary.fields["judgments"]) <= 5


def test_no_bare_handles_and_no_placeholder_text() -> None:
    for path in sorted((REPO / "report").rglob("*.md")):
        text = path.read_text("utf-8")
        assert not cit.parse(text)[1], f"{path}: citation syntax problems"
        for word in ("lorem", "ipsum", "TODO", "TBD", "XXX"):
            assert word not in text, f"{path} contains {word}"


@pytest.fixture
def built(built_real: Path) -> Path:
    """The real brief's build/, built once per test run (conftest)."""
    return built_real / "build"


@pytest.mark.slow
def test_real_brief_renders_every_section_in_every_format(built: Path, checked) -> None:  # type: ignore[no-untyped-def]
    import docx

    titles = [s.title for s in checked.brief.sections]
    text = " ".join(pdf_text(built / "brief.pdf").split())
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html_h2 = [" ".join(h.text_content().split()) for h in page.xpath("//main//h2")]
    document = docx.Document(str(built / "brief.docx"))
    docx_h = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    for title in titles:
        assert title in text
        assert title in html_h2
        assert title in docx_h
    html_notes = page.xpath('//section[@id="footnotes"]//li')
    assert len(html_notes) == len(docx_footnotes(built / "brief.docx")) >= 40
    for label in ("Rasanah – International Institute for Iranian Studies. Rifts Within",
                  "Wikipedia contributors. ‘Sadrist–Khomeinist Conflict’"):
        assert label in text
        assert label in page.text_content()


@pytest.mark.slow
def test_the_docx_shows_the_real_figures_and_no_stand_in(built_real: Path) -> None:
    """pandoc placed stand-ins (png.stand_in); the DOCX holds the figures' PNGs as
    drawn for Word, each picture described by its alt text, and no stand-in."""
    import zipfile

    from policybrief.assemble import figures
    from policybrief.render.png import figure_png

    drawn, _, _ = figures.load(Project(built_real))
    with zipfile.ZipFile(built_real / "build" / "brief.docx") as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    media = [parts[n] for n in sorted(parts, key=lambda n: (len(n), n))
             if n.startswith("word/media/")]
    assert media == [figure_png(f) for f in drawn] and len(media) == 2
    assert not [n for n, content in parts.items() if b"stand-in for" in content]
    body = parts["word/document.xml"].decode("utf-8")
    alts = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', body)
    assert re.findall(r'<pic:cNvPr [^>]*descr="([^"]*)"', body) == alts
    assert [a[:20] for a in alts] == ["Timeline of 16 event", "Actor map of 13 acto"]


# --- the shape of the brief: length, diagnostic indicators, recommendations ----------

# Body text: the prose of the section files as a reader meets it in the body: each
# section's Markdown body, the text of its items, key judgments and recommendations, and
# the narrative of its scenarios. Not counted: notes (every [@key, …] group is removed),
# the boxes and tables the templates build from structured fields (drivers, indicators,
# implications, assumptions, the explainer, "About this brief"), figures, the evidence
# appendix and the bibliography. Markup is removed (span and div attributes, link
# targets, fences, emphasis); a word is a run of letters or digits, with inner
# apostrophes and hyphens ("Asa'ib", "al-Maliki", "2021–2022" are one word each).
BODY_FIELDS = (("items", "text"), ("judgments", "text"), ("scenarios", "narrative"),
               ("recommendations", "actor"), ("recommendations", "action"))
WORD = re.compile(r"\w+(?:['’‐–-]\w+)*")


def body_words(section) -> int:  # type: ignore[no-untyped-def]
    parts = [section.body]
    for name, field in BODY_FIELDS:
        parts += [item[field] for item in section.fields.get(name) or []]
    text = cit.GROUP.sub(" ", "\n\n".join(parts))
    text = re.sub(r"^:::.*$", "", text, flags=re.M)  # fenced divs (::: own)
    text = re.sub(r"\]\{[^}]*\}", "]", text)  # [span]{attributes}
    text = re.sub(r"\]\([^)]*\)", "]", text)  # [link](target)
    return len(WORD.findall(text))


def test_body_counting_ignores_notes_and_markup() -> None:
    from policybrief.model import Section

    body = ('[Our view: two words.]{.own} Maliki\'s al-Sadr 2021–2022 '
            '[@rasanah2024rifts, quote "ten words that are not counted at all here, none"]'
            '\n\n::: own\n\n[Figure 1](#fig-timeline) x.\n\n:::\n')
    section = Section("s.md", 1, "background", "T", "t", {"kind": "background"}, {}, body, 1)
    assert body_words(section) == 4 + 3 + 3


def test_the_body_is_3000_to_4000_words(checked) -> None:  # type: ignore[no-untyped-def]
    total = sum(body_words(s) for s in checked.brief.sections)
    assert 3000 <= total <= 4000, total


HORIZON = "before the next parliamentary elections"
HORIZON_ALT = "before candidate registration for the next parliamentary elections closes"


def test_every_indicator_is_diagnostic_and_has_a_horizon(checked) -> None:  # type: ignore[no-untyped-def]
    owner: dict[str, str] = {}
    for section in checked.brief.sections:
        for s in section.fields.get("scenarios") or []:
            indicators = s["indicators"]
            assert len(indicators) >= 2, f"scenario {s['id']}: fewer than two indicators"
            for text in indicators:
                norm = " ".join(text.casefold().split()).rstrip(".")
                assert norm not in owner, f"{text!r} is under {owner[norm]} and {s['id']}"
                owner[norm] = s["id"]
                assert norm.startswith((HORIZON, HORIZON_ALT)), f"no horizon: {text!r}"


def test_sadr_staying_out_is_one_of_the_scenarios(checked) -> None:  # type: ignore[no-untyped-def]
    ids = {s["id"] for sec in checked.brief.sections for s in sec.fields.get("scenarios") or []}
    assert ids == {"rivalry-and-agreement", "continued-conflict", "sadr-stays-out",
                   "rapprochement"}


def test_confidence_agrees_between_judgments_and_scenarios(checked) -> None:  # type: ignore[no-untyped-def]
    """A key judgment that states a scenario's likelihood gives it the same confidence."""
    sections = checked.brief.sections
    judgments = {j["id"]: j for s in sections for j in s.fields.get("judgments") or []}
    scenarios = {x["id"]: x for s in sections for x in s.fields.get("scenarios") or []}
    for judgment, scenario in (("rivalry", "rivalry-and-agreement"),
                               ("no-alliance", "rapprochement")):
        for field in ("likelihood", "confidence"):
            assert judgments[judgment][field] == scenarios[scenario][field]


def test_every_recommendation_rests_on_a_key_judgment(checked) -> None:  # type: ignore[no-untyped-def]
    judgments = {j["id"] for s in checked.brief.sections for j in s.fields.get("judgments") or []}
    recs = [r for s in checked.brief.sections for r in s.fields.get("recommendations") or []]
    assert len(recs) >= 3
    for r in recs:
        assert r["actor"].strip() and r["action"].strip()
        assert set(r["rests_on"]) <= judgments


def test_the_name_style_sheet_exists_and_the_brief_keeps_to_it(checked) -> None:  # type: ignore[no-untyped-def]
    assert (REPO / "report" / "names.yaml").is_file()
    assert not [f for f in checked.findings if f.rule == "style.name-variant"]


def test_each_figure_is_referred_to_in_the_text(checked) -> None:  # type: ignore[no-untyped-def]
    text = " ".join(s.body for s in checked.brief.sections)
    for figure in checked.brief.figures:
        assert f"Figure {figure.number}" in text, figure.name


def test_author_about_and_suggested_citation(checked) -> None:  # type: ignore[no-untyped-def]
    meta = checked.brief.meta
    assert meta.get("authors")[0]["name"] != "Policybrief editorial team"
    assert meta.get("about") and meta.get("suggested_citation")


@pytest.mark.slow
def test_own_judgment_spans_and_about_box_in_every_format(built: Path) -> None:
    """[…]{.own} leaves no visible mark; the suggested citation is in all three formats."""
    import docx

    pdf = " ".join(pdf_text(built / "brief.pdf").split())
    page = lhtml.fromstring((built / "brief.html").read_bytes())
    html = " ".join(page.text_content().split())
    document = docx.Document(str(built / "brief.docx"))
    word = " ".join(" ".join(p.text for p in document.paragraphs).split())
    assert page.xpath('//span[@class="own"]')
    for text in (pdf, html, word):
        assert "{.own}" not in text and "::: own" not in text and ".own" not in text
        assert "Suggested citation: Iraq Politics Desk. A Hedge, Not a Reconciliation" in text
        assert "Our bottom line: expect guarded competition" in text
        assert "Rests on key judgments 2 and 3." in text
# --- page craft of the shipped brief's PDF (read back from the PDF) ---------------------

TOP, BOTTOM = 68.0, 68.0  # the text block's margins in points (24 mm, print.css)


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def pdf_words(path: Path) -> list[tuple[float, float, list[Word]]]:
    """Each page's width, height and words (pdftotext -bbox), top-down coordinates."""
    import subprocess

    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.skip("'pdftotext' is not installed (Debian poppler-utils)")
    out = subprocess.run([pdftotext, "-bbox", str(path), "-"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    pages = []
    for chunk in out.split("<page ")[1:]:
        size = re.search(r'width="([\d.]+)" height="([\d.]+)"', chunk)
        assert size
        words = [Word(float(a), float(b), float(c), float(d), html.unescape(t))
                 for a, b, c, d, t in re.findall(
                     r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                     r'yMax="([\d.]+)">([^<]*)</word>', chunk)]
        pages.append((float(size.group(1)), float(size.group(2)), words))
    return pages


def sections_by_page(path: Path) -> tuple[list[tuple[int, float, str]], int]:
    """The brief's sections (outline level 1) as (page index, top in points from the
    top of the page, title), and the page index of the first."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    found = []
    for item in reader.outline:
        if isinstance(item, list):
            continue
        index = reader.get_destination_page_number(item)
        height = float(reader.pages[index].mediabox.height)
        found.append((index, height - float(item.top), str(item.title)))
    return found, found[0][0]


@pytest.mark.slow
def test_pdf_each_chapter_opens_a_page(built: Path) -> None:
    """Each chapter (outline level 1) begins at the top of a page of its own: the
    chapters are laid out, and cached, one by one (render/pdf/cache.py)."""
    found, _ = sections_by_page(built / "brief.pdf")
    # (the bibliography follows the appendix on its page)
    sections = [s for s in found if s[2] != "Bibliography"]
    pages = [page for page, _, _ in sections]
    assert len(sections) >= 9 and pages == sorted(set(pages))
    for page, top, title in sections:
        assert top < 75, f"{title} starts {top:.0f} pt down page {page + 1}"


@pytest.mark.slow
def test_pdf_running_heads_name_the_section_in_force_at_the_top(built: Path) -> None:
    pages = pdf_words(built / "brief.pdf")
    sections, first = sections_by_page(built / "brief.pdf")
    checked = 0
    for index in range(first, len(pages)):
        width, height, words = pages[index]
        top = 60.0 if width < height else 57.0
        in_force = None
        for page, y, title in sections:
            above = [w for w in words if top < w.y0 and w.y1 < y]
            if page < index or (page == index and not above):
                in_force = title
        head = " ".join(w.text for w in words if w.y1 < top and w.x0 > width / 2)
        assert in_force and " ".join(in_force.split()) == " ".join(head.split()), \
            f"page {index + 1}: the running head says “{head}”, the section in force " \
            f"at the top of the page is “{in_force}”"
        checked += 1
    assert checked >= 15


@pytest.mark.slow
def test_pdf_pages_are_not_left_a_third_empty(built: Path) -> None:
    """Between the end of a page's text and its notes (or the foot of the text block)
    at most a third of the block is empty, except on a page before a forced break (a
    chapter's first page, a landscape page, the appendix) and on the last page."""
    pages = pdf_words(built / "brief.pdf")
    sections, first = sections_by_page(built / "brief.pdf")
    appendix = next(page for page, _, title in sections if title == "Evidence appendix")
    forced = {appendix - 1, len(pages) - 1} | {page - 1 for page, _, _ in sections}
    for index, (width, height, _) in enumerate(pages):
        if width > height:  # a landscape page holds one full-page element
            forced |= {index - 1, index}
    for index in range(first, appendix):
        if index in forced:
            continue
        width, height, words = pages[index]
        block = [w for w in words if w.y0 > TOP - 5 and w.y1 < height - BOTTOM + 5]
        body = [w for w in block if w.y1 - w.y0 >= 10.5]  # text and headings, not notes
        end = max((w.y1 for w in body), default=TOP)
        notes = min((w.y0 for w in block if w.y0 > end), default=height - BOTTOM)
        empty = (notes - end) / (height - TOP - BOTTOM)
        assert empty < 1 / 3, f"page {index + 1} is {empty:.0%} empty"


@pytest.mark.slow
def test_pdf_prints_no_screen_only_labels_and_keeps_ranges_whole(built: Path) -> None:
    text = pdf_text(built / "brief.pdf")
    assert "open at the passage" not in text
    assert "passage ¶" not in text
    lines = [line.strip() for line in text.splitlines()]
    for before, after in zip(lines, lines[1:], strict=False):
        split = (re.search(r"\d[–-]$", before) and re.match(r"\d", after)) or \
            (re.search(r"\d[–-]?$", before) and re.match(r"%", after)) or \
            re.search(r"\d-$", before)
        assert not split, f"a number range or percentage split across lines: " \
                          f"“{before[-20:]}” / “{after[:20]}”"
    # no note call alone on a line
    import subprocess

    if not shutil.which("pdftotext"):
        pytest.skip("'pdftotext' is not installed (Debian poppler-utils)")
    layout = subprocess.run(["pdftotext", "-layout", str(built / "brief.pdf"), "-"],
                            capture_output=True, text=True, check=True, timeout=120).stdout
    alone = [n for n, line in enumerate(layout.splitlines(), 1)
             if re.fullmatch(r"\s*\d{1,3}\s*", line)]
    assert not alone, f"a note call alone on a line (pdftotext -layout, line {alone[0]})"
    # no hyphenated fragment alone on a paragraph's last line
    lines = layout.splitlines()
    for before, line in zip(lines, lines[1:], strict=False):
        assert not (re.search(r"\w[‐-]$", before) and re.fullmatch(r"\s*\S{1,5}\s*", line)), \
            f"a syllable alone on a line: “{before[-20:]}” / “{line.strip()}”"
    # the locator still links to the passage in the original
    from pypdf import PdfReader

    uris = [a.get_object().get("/A", {}).get("/URI", "")
            for page in PdfReader(built / "brief.pdf").pages
            for a in page.get("/Annots") or []]
    assert any(":~:text=" in str(u) for u in uris)


# --- the web page on a phone ----------------------------------------------------------


@pytest.mark.slow
def test_html_on_a_phone_has_no_sideways_scroll_legible_figures_and_notes_first(
        built: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not chromium:
        pytest.skip("chromium is not installed")
    svgs = {path.stem: path.read_text("utf-8") for path in (built / "figures").glob("*.svg")}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto((built / "brief.html").as_uri())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways: {width}px in a 390px window"
            figures = page.evaluate("""() => [...document.querySelectorAll('figure')].map(f => {
                const img = f.querySelector('img'), alt = f.querySelector('.figure-text');
                const box = alt && alt.getBoundingClientRect();
                return {src: img ? img.getAttribute('src') : '',
                        width: img ? img.getBoundingClientRect().width : 0,
                        alternative: !!alt && getComputedStyle(alt).display !== 'none'
                                     && box.height > 0 && alt.innerText.trim().length > 0};
            })""")
            assert len(figures) == len(svgs) >= 2
            for figure in figures:
                svg = svgs[Path(figure["src"]).stem]
                view = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+)', svg)
                assert view
                smallest = min(float(s) for s in re.findall(r'font-size="([\d.]+)"', svg))
                shown = smallest * figure["width"] / float(view.group(1))
                assert shown >= 11 or figure["alternative"], \
                    f"{figure['src']}: its smallest text is {shown:.1f}px and no text " \
                    "alternative shows"
            # every cell of a wide table is within the window (no hidden column)
            hidden = page.evaluate("""() => [...document.querySelectorAll('main tbody > tr > *')]
                .filter(c => c.getBoundingClientRect().width > 0
                             && c.getBoundingClientRect().right > window.innerWidth + 1)
                .map(c => c.innerText.slice(0, 30))""")
            assert not hidden, f"cells out of sight at 390px: {hidden[:3]}"
            order = page.evaluate("""() => {
                const notes = document.getElementById('footnotes');
                const appendix = document.querySelector('section.appendix');
                return notes && appendix ? notes.compareDocumentPosition(appendix) : 0; }""")
            assert order == 4, "the notes do not come before the evidence appendix"
        finally:
            browser.close()


@pytest.mark.slow
def test_pdf_leaves_no_heading_at_the_foot_of_a_page(built: Path) -> None:
    """Every heading of the outline has text after it on its own page."""
    from pypdf import PdfReader

    reader = PdfReader(built / "brief.pdf")
    pages = pdf_words(built / "brief.pdf")
    items = []

    def walk(outline: list) -> None:  # type: ignore[type-arg]
        for item in outline:
            if isinstance(item, list):
                walk(item)
            else:
                items.append(item)

    walk(reader.outline)
    assert len(items) >= 20
    for item in items:
        index = reader.get_destination_page_number(item)
        _width, height, words = pages[index]
        top = height - float(item.top)
        below = [w for w in words if w.y0 > top + 22 and w.y1 < height - BOTTOM + 5]
        assert below, f"“{item.title}” is the last thing on page {index + 1}"


@pytest.mark.slow
def test_pdf_keeps_every_note(built: Path) -> None:
    """WeasyPrint can drop a note whose call ends a page while an earlier note is carried
    to the next (seen when the key-assumptions box was kept whole): every note of the
    web page is in the PDF."""
    from pypdf import PdfReader

    notes = lhtml.fromstring((built / "brief.html").read_bytes()).xpath(
        '//section[@id="footnotes"]//li')
    laid = [d for d in PdfReader(built / "brief.pdf").named_destinations
            if re.fullmatch(r"fn\d+", d)]
    assert len(laid) == len(notes) >= 40


@dataclass(frozen=True)
class Entry:
    """An entry of the PDF's contents page, read back (see :func:`contents_entries`)."""

    title: str
    page: int                        # the page its heading is on
    end: Word                        # the last word of its title
    number: Word                     # its page number
    lines: int                       # the lines its title takes
    dots: list[tuple[float, float]]  # the dark runs between the two, left and right edges
    dots_bottom: float               # the lowest dark row of those runs
    figures_bottom: float            # the lowest dark row of the page number


def contents_entries(build: Path, scratch: Path) -> list[Entry]:
    """Each entry of the PDF's contents page: its title (as the web page's contents give
    it), the page its heading is on (the PDF's destination for it), and what is drawn
    between its title and its page number, read from the page rendered (into
    ``scratch``) at 4 pixels to the point; in points from the top left of the page."""
    import subprocess

    from PIL import Image
    from pypdf import PdfReader

    reader = PdfReader(build / "brief.pdf")
    destinations = reader.named_destinations
    pages = pdf_words(build / "brief.pdf")
    index = next(i for i, (_, _, words) in enumerate(pages)
                 if any(w.text == "Contents" for w in words))
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        pytest.skip("'pdftoppm' is not installed (Debian poppler-utils)")
    png = scratch / "contents-page"
    subprocess.run([pdftoppm, "-r", "288", "-gray", "-png", "-singlefile", "-f",
                    str(index + 1), "-l", str(index + 1), str(build / "brief.pdf"), str(png)],
                   check=True, timeout=120)
    image = Image.open(png.with_suffix(".png")).convert("L")
    scale = image.width / pages[index][0]

    def ink(left: float, top: float, right: float, bottom: float
            ) -> tuple[list[tuple[float, float]], float]:
        """The runs of dark columns in the box, and the lowest dark row."""
        box = image.crop((round(left * scale), round(top * scale), round(right * scale),
                          round(bottom * scale)))
        pixels = box.load()
        assert pixels is not None
        dark = [[pixels[x, y] < 150 for y in range(box.height)]
                for x in range(box.width)]
        runs, start = [], None
        for x, column in enumerate([*dark, []]):
            if any(column) and start is None:
                start = x
            elif not any(column) and start is not None:
                runs.append((left + start / scale, left + x / scale))
                start = None
        rows = [y for column in dark for y, d in enumerate(column) if d]
        return runs, top + (max(rows) + 1) / scale if rows else top

    lines: list[list[Word]] = []
    for word in sorted(pages[index][2], key=lambda w: (w.y1, w.x0)):
        if lines and abs(lines[-1][0].y1 - word.y1) < 2:
            lines[-1].append(word)
        else:
            lines.append([word])
    lines = [sorted(line, key=lambda w: w.x0) for line in lines]
    position = next(i for i, line in enumerate(lines) if line[0].text == "Contents") + 1
    entries = []
    for link in lhtml.parse(str(build / "brief.html")).xpath(
            "//nav[contains(@class, 'toc')]//a"):
        title = " ".join(link.text_content().split())
        page = reader.get_destination_page_number(destinations[link.get("href")[1:]]) + 1
        # the entry's lines: its title, wrapped or not, the last line ending in a number
        text: list[Word] = []
        count = 1
        while not lines[position][-1].text.isdigit():
            text += lines[position]
            position += 1
            count += 1
        line = lines[position]
        position += 1
        text += line[:-1]
        assert squeeze(" ".join(w.text for w in text)) == squeeze(title), \
            f"the contents page has “{' '.join(w.text for w in text)}” for “{title}”"
        end, number = line[-2], line[-1]
        # (from just after the title's last glyph, which may overhang its box)
        dots, dots_bottom = ink(end.x1 + 1, end.y0, number.x0 - 0.5, number.y1)
        _, figures_bottom = ink(number.x0, number.y0, number.x1, number.y1)
        entries.append(Entry(title, page, end, number, count, dots, dots_bottom,
                             figures_bottom))
    return entries


def squeeze(text: str) -> str:
    """``text`` without spaces or hyphens (a wrapped title may be hyphenated)."""
    return re.sub(r"[\s\-\u00ad]", "", text)


def check_contents(entries: list[Entry]) -> None:
    """Each entry's number is the page its heading is on, the numbers are right-aligned,
    and dot leaders run from each title to its number: whole dots of one size, evenly
    spaced, on the baseline, from about a word space after the title to a column before
    the numbers."""
    for e in entries:
        assert e.number.text == str(e.page), \
            f"{e.title}: the contents give page {e.number.text}, the heading is on page {e.page}"
        assert e.dots, f"{e.title}: no dot leader before its page number"
        widths = [b - a for a, b in e.dots]
        steps = [b[0] - a[0] for a, b in itertools.pairwise(e.dots)]
        assert min(widths) > 0.8 and max(widths) < 1.8, f"{e.title}: dots {widths} wide"
        assert not steps or (min(steps) > 4.25 and max(steps) < 6), \
            f"{e.title}: dots {steps} apart"
        assert len(steps) < 3 or max(steps) - min(steps) < 0.6, \
            f"{e.title}: unevenly spaced dots {steps}"
        assert 1.5 < e.dots[0][0] - e.end.x1 < 5, \
            f"{e.title}: the dots start {e.dots[0][0] - e.end.x1:.1f} pt after the title"
        assert abs(e.dots_bottom - e.figures_bottom) < 0.6, \
            f"{e.title}: the dots are not on the baseline of the page number"
    numbers = [e.number.x1 for e in entries]
    assert max(numbers) - min(numbers) < 0.5, f"page numbers not right-aligned: {numbers}"
    ends = [e.dots[-1][1] for e in entries]
    assert max(ends) - min(ends) < 0.75, f"the leaders do not end in one column: {ends}"


@pytest.mark.slow
def test_pdf_contents_give_each_heading_its_page_with_dot_leaders(built: Path,
                                                                 tmp_path: Path) -> None:
    """The contents page, read back (print.css draws the dots as one background per
    entry, not as text: a test that fails when they are gone)."""
    entries = contents_entries(built, tmp_path)
    assert len(entries) >= 20
    check_contents(entries)


@pytest.mark.slow
def test_pdf_contents_dot_leaders_follow_titles_that_wrap(tmp_path: Path) -> None:
    """Titles of both levels long enough to wrap, in another house face (DejaVu Sans,
    where it is installed) and colour: the dots start after the last line of the title,
    on its baseline, and end in the same column."""
    from policybrief.commands.cli import main

    long2 = "Background: two decades of rivalry between the Sadrists and their rivals in the Framework"
    long3 = ("A framework divided over Gaza, over how far to go against US targets, "
             "and over who speaks for it")
    root = make_project(tmp_path / "wrapping", "tiny", {
        "report/brief.yaml": BRIEF_YAML + 'house:\n  accent: "#7a2e1f"\n  sans: "DejaVu Sans"\n',
        "report/sections/01-background.md": BACKGROUND.replace('"Background"', f'"{long2}"'),
        "report/sections/02-motives.md": MOTIVES.replace("A framework divided over Gaza", long3),
    })
    assert main(["-q", "-C", str(root), "build", "--format", "pdf,html"]) == 0
    entries = contents_entries(root / "build", tmp_path)
    assert [e.lines for e in entries if e.title in (long2, long3)] == [2, 2]
    check_contents(entries)
