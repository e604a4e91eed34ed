"""Publication-grade outputs, read back: the PDF (fonts, outline, contents, metadata,
Arabic), the web page (offline, no script, accessibility under axe-core in headless
Chromium, notes) and the DOCX (opens in LibreOffice, real footnotes, properties).

One small project with every kind of furniture (key judgments, Arabic names, notes,
a scenario matrix, bibliography) is built once for the module.

Tools the checks need, skipped with a reason when absent: ``pdffonts``/``pdftotext``
(Debian poppler-utils), ``soffice`` (libreoffice-writer-nogui), ``chromium`` and the
Python ``playwright`` client, and axe-core installed with ``npm ci --prefix tests``.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BIB, REPO

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


FILES = {
    "report/brief.yaml": """\
        title: "Rifts in Iraq's Shia camp"
        subtitle: "Maliki, Sadr and the Coordination Framework in 2024"
        date: "2024-05-20"
        institution: "Test Analysis Desk"
        series:
          name: "Test Briefs"
          number: "7"
        authors:
          - name: "Ada Analyst"
        language: "en-GB"
        csl: "chicago-notes-bibliography"
        edition_note: "A test edition on two published sources."
        licence: "CC BY 4.0"
        sections:
          - "01-summary.md"
          - "02-background.md"
          - "03-scenarios.md"
        """,
    "report/sections/01-summary.md": """\
        ---
        kind: "summary"
        title: "Key judgments"
        judgments:
          - text: "Maliki's outreach answers the fracturing of his own camp."
            confidence: "moderate"
            attribution: "rasanah2024rifts"
            citations:
              - key: "rasanah2024rifts"
                quote: "revealed a stark division among Shiite groups"
          - text: "A full reconciliation before the elections is very unlikely."
            likelihood: "very unlikely"
            confidence: "moderate"
            attribution: "brief"
            citations:
              - key: "rasanah2024rifts"
                quote: "The unresolved conflict between Maliki and Sadr has persisted for over a decade and a half"
        ---
        The overtures reveal a Coordination Framework [الإطار التنسيقي]{lang="ar" dir="rtl"} under strain [@rasanah2024rifts, quote "political realignments within the Coordination Framework itself"].
        """,
    "report/sections/02-background.md": """\
        ---
        kind: "background"
        title: "Background"
        ---
        Under Saddam Hussein the Shia opposition was united [@wikipedia-sadrist-khomeinist, quote "During their opposition to Saddam Hussein, Iraqi Shia militias were united and had Iranian support"]. Mohammed al-Sadr founded the Sadrist Movement [التيار الصدري]{lang="ar" dir="rtl"} in the 1980s [@wikipedia-sadrist-khomeinist, quote "who founded the nationalist Sadrist Movement in the 1980s"].
        """,
    "report/sections/03-scenarios.md": """\
        ---
        kind: "scenarios"
        title: "Scenarios"
        scenarios:
          - id: "rapprochement"
            title: "Rapprochement: Sadr accepts Maliki's hand"
            narrative: "Sadr answers the overtures and the two agree terms for his return."
            likelihood: "very unlikely"
            confidence: "low"
            attribution: "brief"
            drivers: ["Convergence on the election law"]
            indicators: ["Sadr publicly accepts Maliki's overtures"]
            implications: ["The Coordination Framework breaks up"]
            citations:
              - key: "rasanah2024rifts"
                quote: "the Coordination Framework could effectively disintegrate"
          - id: "rivalry"
            title: "Rivalry and agreement: back to the pre-2022 pattern"
            narrative: "The relationship returns to competition with case-by-case cooperation."
            likelihood: "likely"
            confidence: "moderate"
            attribution: "rasanah2024rifts"
            drivers: ["Iran's determination to protect its gains"]
            indicators: ["Cooperation on single issues without a joint bloc"]
            implications: ["The Framework faces a crisis"]
            citations:
              - key: "rasanah2024rifts"
                quote: "the Coordination Framework would face a crisis, potentially leading to its dismantling"
        ---
        Rasanah sets out the futures for the relationship [@rasanah2024rifts, quote "several potential scenarios may unfold on the Iraqi political landscape"].
        """,
}


def make_project(root: Path) -> Path:
    """The test brief, on the repository's stored sources."""
    (root / "seeds").mkdir(parents=True)
    for name in ("rasanah-2024-maliki-sadr-overtures.md",
                 "sadrist-khomeinist-conflict.wikipedia.txt"):
        shutil.copy(REPO / "seeds" / name, root / "seeds" / name)
    (root / "bibliography.bib").write_text(BIB, "utf-8")
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text), "utf-8")
    return root


@dataclass(frozen=True)
class Built:
    root: Path
    pdf: bytes
    html: str
    docx: bytes

    def path(self, name: str) -> Path:
        return self.root / "build" / name


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    from policybrief import pipeline
    from policybrief.model import Project

    root = make_project(tmp_path_factory.mktemp("outputs") / "brief")
    pipeline.build(Project(root))
    out = root / "build"
    return Built(root, (out / "brief.pdf").read_bytes(),
                 (out / "brief.html").read_text("utf-8"), (out / "brief.docx").read_bytes())


def html_headings(html: str) -> list[tuple[int, str]]:
    from lxml import html as lhtml

    main = lhtml.document_fromstring(html).xpath("//main")[0]
    return [(int(h.tag[1]), " ".join(h.text_content().split())) for h in main.iter("h2", "h3")
            if h.get("id") != "notes"]


def arabic_spans(html: str) -> list[str]:
    from lxml import html as lhtml

    return [" ".join(s.text_content().split()) for s in
            lhtml.document_fromstring(html).xpath('//main//span[@lang="ar"]')]


def pdf_reader(built: Built):  # type: ignore[no-untyped-def]
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(built.pdf))


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.skip(f"'{name}' is not installed (see the module docstring for the package)")
    return found


# --- the PDF -------------------------------------------------------------------------


@pytest.mark.slow
def test_pdf_embeds_every_font_and_uses_the_house_faces(built: Built) -> None:
    pdffonts = tool("pdffonts")
    out = subprocess.run([pdffonts, built.path("brief.pdf")], capture_output=True, text=True,
                         check=True, timeout=60).stdout.splitlines()[2:]
    assert out, "the PDF has no fonts"
    for line in out:
        columns = line.split()
        assert columns[-5] == "yes", f"not embedded: {line}"
    names = " ".join(line.split()[0] for line in out)
    for face in ("Noto-Serif", "Noto-Sans", "Noto-Naskh-Arabic"):
        assert face in names, f"{face} missing from the PDF's fonts: {names}"


@pytest.mark.slow
def test_pdf_outline_mirrors_the_headings(built: Built) -> None:
    reader = pdf_reader(built)
    outline: list[tuple[int, str]] = []

    def walk(items: list, level: int) -> None:  # type: ignore[type-arg]
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                outline.append((level, str(item.title)))

    walk(reader.outline, 1)
    expected = [(level - 1, title) for level, title in html_headings(built.html)]
    assert outline == expected
    titles = [title for _, title in outline]
    assert "Contents" not in titles and "Rifts in Iraq's Shia camp" not in titles


@pytest.mark.slow
def test_pdf_contents_give_the_pages_the_headings_are_on(built: Built) -> None:
    from lxml import html as lhtml

    reader = pdf_reader(built)
    destinations = reader.named_destinations
    contents = next(page for page in reader.pages if "Contents" in (page.extract_text() or ""))
    lines = [" ".join(x.split()) for x in (contents.extract_text() or "").splitlines()]
    entries = lhtml.document_fromstring(built.html).xpath("//nav[contains(@class, 'toc')]//a")
    assert len(entries) == len(html_headings(built.html))
    for entry in entries:
        title = " ".join(entry.text_content().split())
        page = reader.get_destination_page_number(destinations[entry.get("href")[1:]]) + 1
        line = next(x for x in lines if x.startswith(title))
        assert line.split()[-1] == str(page), f"{title}: contents say {line!r}, page {page}"
        assert page > 2  # after the cover and the contents


@pytest.mark.slow
def test_pdf_metadata_and_tags(built: Built) -> None:
    reader = pdf_reader(built)
    info = reader.metadata
    assert info is not None
    assert info.title == "Rifts in Iraq's Shia camp"
    assert info.author == "Ada Analyst"
    assert info.subject == "Maliki, Sadr and the Coordination Framework in 2024"
    assert info.get("/Keywords") == "Test Briefs"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root


@pytest.mark.slow
def test_pdf_arabic_extracts_in_logical_order(built: Built) -> None:
    spans = arabic_spans(built.html)
    assert spans == ["الإطار التنسيقي", "التيار الصدري"]
    extracted = " ".join(BIDI_CONTROLS.sub("", "\n".join(
        page.extract_text() or "" for page in pdf_reader(built).pages)).split())
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        raw = subprocess.run([pdftotext, "-enc", "UTF-8", built.path("brief.pdf"), "-"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        extracted += " " + " ".join(BIDI_CONTROLS.sub("", raw).split())
    for arabic in spans:
        assert arabic in extracted, f"{arabic!r} is not in the PDF's text in reading order"
        if " " in arabic:
            reversed_words = " ".join(reversed(arabic.split()))
            assert reversed_words not in extracted


@pytest.mark.slow
def test_pdf_notes_sit_at_the_foot_of_their_page(built: Built) -> None:
    from lxml import html as lhtml

    notes = lhtml.document_fromstring(built.html).xpath('//section[@id="footnotes"]/ol/li')
    reader = pdf_reader(built)
    destinations = reader.named_destinations
    numbered = sorted((k for k in destinations if re.fullmatch(r"fn\d+", k)),
                      key=lambda k: int(k[2:]))
    assert len(numbered) == len(notes) > 0
    page_height = float(reader.pages[0].mediabox.height)
    for key in numbered:
        top = float(destinations[key].top)
        assert top < page_height * 0.5, f"note {key} is not in the lower half of its page"


# --- the web page --------------------------------------------------------------------


@pytest.mark.slow
def test_html_works_offline_without_script(built: Built) -> None:
    from lxml import html as lhtml

    html = built.html
    assert "<script" not in html.lower()
    assert not re.search(r"""<link[^>]+stylesheet""", html)
    urls = re.findall(r"url\((['\"]?)([^'\")]+)", html)
    assert urls and all(url.startswith("data:") for _, url in urls), "fonts are not inline"
    root = lhtml.document_fromstring(html)
    loaded = root.xpath("//@src") + [h for h in root.xpath("//a/@href")
                                     if not h.startswith(("#", "http:", "https:", "mailto:"))]
    for target in loaded:
        if not target.startswith("data:"):
            local = built.path(target.split("#")[0])
            assert local.is_file(), f"the page needs {target}, which is not in build/"
    assert root.get("lang") == "en-GB"
    for arabic in arabic_spans(html):
        assert f'<span lang="ar" dir="rtl">{arabic}</span>' in html


@pytest.mark.slow
def test_html_embedded_fonts_cover_the_text(built: Built) -> None:
    from lxml import html as lhtml

    ranges: set[int] = set()
    for found in re.findall(r"unicode-range:([^;]+);", built.html):
        for part in found.split(","):
            first, _, last = part.strip()[2:].partition("-")
            ranges.update(range(int(first, 16), int(last or first, 16) + 1))
    text = lhtml.document_fromstring(built.html).xpath("string(//body)")
    missing = {c for c in text if not c.isspace() and ord(c) not in ranges}
    assert not missing, f"characters without an embedded face: {sorted(missing)}"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the 'playwright' Python client is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1280])
def test_html_has_no_serious_accessibility_violations(built: Built, browser, width: int) -> None:  # type: ignore[no-untyped-def]
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run 'npm ci --prefix tests'")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(built.path("brief.html").as_uri())
    page.add_script_tag(content=AXE.read_text("utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [f"{v['id']} ({v['impact']}): {v['help']} — "
               f"{[n['target'] for n in v['nodes'][:3]]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(serious)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"the page is {overflow}px wide in a {width}px window"
    page.close()


@pytest.mark.slow
def test_html_notes_pop_up_and_link_back(built: Built, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(built.path("brief.html").as_uri())
    call = page.locator("main a.footnote-ref").first
    pop = call.locator(".note-pop")
    assert not pop.is_visible()
    call.hover()
    assert pop.is_visible()
    assert "Rifts Within Iraqi Shiite Parties" in pop.inner_text()
    back = page.locator('#footnotes a.footnote-back[href="#fnref1"]')
    assert back.count() == 1 and back.get_attribute("aria-label")
    layout = page.evaluate("""() => {
        const toc = document.querySelector('nav.toc').getBoundingClientRect();
        const main = document.querySelector('main').getBoundingClientRect();
        return [toc.right <= main.left, toc.top];
    }""")
    assert layout[0], "on a wide screen the contents should sit beside the text"
    page.close()


# --- the DOCX ------------------------------------------------------------------------


@pytest.mark.slow
def test_docx_has_real_footnotes_and_properties(built: Built) -> None:
    import docx
    from lxml import etree

    document = docx.Document(io.BytesIO(built.docx))
    styles = [p.style.name for p in document.paragraphs]
    assert "Key Judgments" in styles and "Heading 2" in styles
    package = zipfile.ZipFile(io.BytesIO(built.docx))
    footnotes = etree.fromstring(package.read("word/footnotes.xml"))
    notes = [f for f in footnotes.iter(f"{W}footnote") if int(f.get(f"{W}id")) > 0]
    assert len(notes) == built.html.count('class="footnote-back"')
    assert all("".join(t.text or "" for t in f.iter(f"{W}t")).strip() for f in notes)
    core = document.core_properties
    assert core.title == "Rifts in Iraq's Shia camp"
    assert core.author == "Ada Analyst"
    assert core.subject == "Maliki, Sadr and the Coordination Framework in 2024"
    assert core.language == "en-GB"
    custom = package.read("docProps/custom.xml").decode("utf-8")
    assert str(built.root) not in custom and ".bib" not in custom
    assert len({info.date_time for info in package.infolist()}) == 1  # reproducible


@pytest.mark.slow
def test_docx_opens_in_libreoffice(built: Built, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice is not installed (Debian package 'libreoffice-writer-nogui')")
    profile = (tmp_path / "profile").as_uri()
    done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path),
                           str(built.path("brief.docx"))],
                          capture_output=True, text=True, timeout=180)
    converted = tmp_path / "brief.pdf"
    assert converted.is_file(), done.stderr or done.stdout
    from pypdf import PdfReader

    reader = PdfReader(converted)
    text = " ".join((p.extract_text() or "") for p in reader.pages)
    assert "Rifts in Iraq" in text and "Scenario matrix" in text
    assert "Rifts Within Iraqi Shiite Parties" in text  # a footnote's text
    # the cover, on the first page, as LibreOffice shows it
    cover = " ".join((reader.pages[0].extract_text() or "").split())
    for words in ("Rifts in Iraq's Shia camp", "Test Analysis Desk", "Test Briefs · No. 7",
                  "20 May 2024", "Licence: CC BY 4.0",
                  "A test edition on two published sources."):
        assert words.lower() in cover.lower().replace("’", "'"), f"cover lacks “{words}”"
    # the contents, on the second page: an entry per heading, as opened (not updated)
    contents = " ".join((reader.pages[1].extract_text() or "").split())
    assert contents.startswith("Contents")
    for _, title in html_headings(built.html):
        assert title in contents, f"the contents lack “{title}”"
    # the matrix's page is landscape
    landscape = [p for p in reader.pages if "Scenario matrix" in (p.extract_text() or "")
                 and p.mediabox.width > p.mediabox.height]
    assert landscape, "the scenario matrix is not on a landscape page"


@pytest.mark.slow
def test_docx_embeds_the_house_faces_and_is_dated_as_the_brief(built: Built) -> None:
    from lxml import etree

    from policybrief.render import docxcraft

    package = zipfile.ZipFile(io.BytesIO(built.docx))
    names = package.namelist()
    fonts = [n for n in names if n.startswith("word/fonts/") and n.endswith(".odttf")]
    assert len(fonts) >= 3
    table = etree.fromstring(package.read("word/fontTable.xml"))
    rels = etree.fromstring(package.read("word/_rels/fontTable.xml.rels"))
    targets = {r.get("Id"): "word/" + r.get("Target") for r in rels}
    embedded = {}
    for font in table.iter(f"{W}font"):
        for entry in font:
            if entry.tag.startswith(f"{W}embed"):
                part = targets[entry.get(
                    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
                data = docxcraft.obfuscate(package.read(part), entry.get(f"{W}fontKey"))
                assert data[:4] == b"\x00\x01\x00\x00", f"{part} does not deobfuscate"
                embedded.setdefault(font.get(f"{W}name"), []).append(entry.tag[len(W):])
    assert {"Noto Serif", "Noto Sans", "Noto Naskh Arabic"} <= set(embedded)
    assert set(embedded["Noto Serif"]) == {"embedRegular", "embedBold", "embedItalic",
                                           "embedBoldItalic"}
    settings = package.read("word/settings.xml").decode("utf-8")
    assert "embedTrueTypeFonts" in settings
    types = package.read("[Content_Types].xml").decode("utf-8")
    assert 'Extension="odttf"' in types
    core = package.read("docProps/core.xml").decode("utf-8")
    assert core.count("2024-05-20T00:00:00Z") == 2 and "1970" not in core


@pytest.mark.slow
def test_docx_notes_and_judgments_read_as_in_the_pdf(built: Built) -> None:
    package = zipfile.ZipFile(io.BytesIO(built.docx))
    from lxml import etree

    notes = package.read("word/footnotes.xml")

    texts = ["".join(t.text or "" for t in f.iter(f"{W}t"))
             for f in etree.fromstring(notes).iter(f"{W}footnote")]
    assert not [t for t in texts if re.search(r"\s[;,.]", t)], "a space before punctuation"
    document = etree.fromstring(package.read("word/document.xml"))
    def basis(run: object) -> bool:
        style = run.find(f"{W}rPr/{W}rStyle")  # type: ignore[attr-defined]
        return style is not None and style.get(f"{W}val") == "JudgmentBasis"

    for paragraph in document.iter(f"{W}p"):
        runs = list(paragraph.iter(f"{W}r"))
        for index, run in enumerate(runs):
            if basis(run) and index and not basis(runs[index - 1]):
                before = "".join(t.text or "" for r in runs[:index] for t in r.iter(f"{W}t"))
                if before.strip():
                    assert runs[index - 1].find(f"{W}br") is not None, \
                        "the likelihood and confidence run into the judgment"
