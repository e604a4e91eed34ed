"""House style from YAML: colours and logo change all three outputs; _house.yaml is shared."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import html as lhtml
from PIL import Image
from pypdf import PdfReader

from policybrief.commands.cli import main

from conftest import write

ACCENT = "#8b1e3f"


def logo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (120, 40), (12, 120, 60)).save(path)
    return path


def cover_colour(pdf: Path) -> tuple[int, int, int]:
    """The colour at the top left of the cover (the house band)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    image = document[0].render(scale=0.3).to_pil().convert("RGB")
    document.close()
    return image.getpixel((8, 8))  # type: ignore[return-value]


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def add_house(root: Path, text: str) -> None:
    brief = root / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8").replace("sections:\n", text + "sections:\n"),
                     "utf-8")


@pytest.mark.slow
def test_colours_and_logo_change_all_three_outputs(tiny: Path) -> None:
    assert main(["-C", str(tiny), "-q", "build"]) == 0
    assert cover_colour(tiny / "build/brief.pdf") == rgb("#1f4e79")
    logo(tiny / "assets/logo.png")
    add_house(tiny, f'house:\n  accent: "{ACCENT}"\n  logo: "assets/logo.png"\n')
    assert main(["-C", str(tiny), "-q", "build"]) == 0

    page = lhtml.fromstring((tiny / "build/brief.html").read_bytes())
    css = " ".join(page.xpath("//style/text()"))
    assert f"--accent: {ACCENT};" in css
    (src,) = page.xpath('//img[@class="masthead-logo"]/@src')
    assert src.startswith("data:image/png;base64,")

    pdf = tiny / "build/brief.pdf"
    assert cover_colour(pdf) == rgb(ACCENT)
    assert PdfReader(pdf).pages[0].images, "no logo image on the cover"

    with zipfile.ZipFile(tiny / "build/brief.docx") as archive:
        styles = archive.read("word/styles.xml").decode()
        media = [n for n in archive.namelist() if n.startswith("word/media/")]
        headers = [archive.read(n).decode() for n in archive.namelist()
                   if n.startswith("word/header")]
    assert ACCENT[1:].upper() in styles.upper()
    assert "1F4E79" not in styles.upper()
    assert media and any("<pic:pic" in h or "graphic" in h for h in headers)


def test_shared_house_file_fills_what_the_brief_leaves_out(tiny: Path) -> None:
    write(tiny / "report/_house.yaml",
          'institution: "Shared Institute"\naccent: "#224466"\n'
          'suggested_citation: "Shared Institute, Test Briefs 7 (2024)."\n')
    brief = tiny / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8").replace('institution: "Test Analysis Desk"\n', ""),
                     "utf-8")
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0
    html = (tiny / "build/brief.html").read_text("utf-8")
    assert "Shared Institute" in html and "--accent: #224466;" in html
    assert "Suggested citation: Shared Institute, Test Briefs 7 (2024)." in html
    add_house(tiny, 'house:\n  accent: "#aa0000"\n')
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0
    assert "--accent: #aa0000;" in (tiny / "build/brief.html").read_text("utf-8")


@pytest.mark.parametrize(("house", "col", "message"), [
    ('house:\n  logo: "../logo.png"\n', 10,
     "error[house.logo]: logo '../logo.png' is not a file in assets/"),
    ('house:\n  logo: "assets/missing.png"\n', 10,
     "error[house.logo]: logo 'assets/missing.png' is not a file in assets/"),
    ('house:\n  accent: "navy"\n', 12, "error[schema.pattern]: house.accent: 'navy' has the "
                                      "wrong form"),
    ('house:\n  colour: "#123456"\n', 3, "error[schema.additionalProperties]: unknown field "
                                         "'colour' in house"),
])
def test_bad_house_style_is_an_error(tiny: Path, house: str, col: int, message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    logo(tiny.parent / "logo.png")
    add_house(tiny, house)
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    err = capsys.readouterr().err
    lines = (tiny / "report/brief.yaml").read_text("utf-8").splitlines()
    line = lines.index(house.splitlines()[1]) + 1  # the field under house:
    assert f"report/brief.yaml:{line}:{col}: {message}\n" in err, err
    assert err.count("error[") == 1, err  # once, at the line that set it


def test_logo_svg_is_drawn_for_word(tiny: Path) -> None:
    from policybrief.load import house
    from policybrief.render.png import logo_png

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" '
           'height="40"><rect width="120" height="40" fill="#0c783c"/></svg>')
    png = logo_png(house.House(logo_type="image/svg+xml", logo_bytes=svg.encode()))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width >= 300
    assert image.getpixel((image.width // 2, image.height // 2)) == (12, 120, 60)


def test_rebuild_with_a_logo_and_nothing_changed_writes_nothing(tiny: Path,
                                                                capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    import subprocess
    import sys

    logo(tiny / "assets/logo.png")
    add_house(tiny, 'house:\n  logo: "assets/logo.png"\n')
    command = [sys.executable, "-m", "policybrief.commands.cli", "-C", str(tiny), "build", "-f", "html"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    before = (tiny / "build/brief.html").stat().st_mtime_ns
    again = subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    assert "nothing changed" in again.stdout  # a fresh process: another hash seed
    assert (tiny / "build/brief.html").stat().st_mtime_ns == before
