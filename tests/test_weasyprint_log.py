"""WeasyPrint's log, sorted record by record: a resource refused or not loaded fails the
build (the leak guarantees rest on it), CSS it ignores in a template is a warning at the
template's real line, and a font-subsetting fallback is only a notice."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from policybrief.commands.cli import main
from policybrief.render import pdf

from conftest import REPO, make_tiny


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tiny project with a copy of the templates, to break them."""
    root = make_tiny(tmp_path / "p")
    shutil.copytree(REPO / "src/policybrief/templates", root / "templates", symlinks=True)
    return root


@pytest.fixture(params=[1, 2], ids=["whole", "in-parts"])
def workers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The page laid out whole, in this process, and in parts by layout processes."""
    monkeypatch.setattr(pdf, "WORKERS", request.param)
    return int(request.param)


def append_line(path: Path, text: str) -> int:
    """Append ``text`` as a line of ``path``; its line number."""
    lines = path.read_text("utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join([*lines, text]) + "\n", "utf-8")
    return len(lines) + 1


def record(msg: str, *args: object, level: int = logging.WARNING,
           module: str = "weasyprint/css/validation/__init__.py") -> logging.LogRecord:
    return logging.LogRecord("weasyprint", level, f"/site-packages/{module}", 1, msg, args,
                             None)


@pytest.mark.parametrize(("made", "kind"), [
    (record('Using fontTools instead of HarfBuzz-Subset for font "%s". This will be '
            "unsupported in future versions of WeasyPrint.", "Noto Sans",
            module="weasyprint/pdf/fonts.py"), "notice"),
    (record('Unable to subset "%s" with HarfBuzz', "Noto Sans",
            module="weasyprint/pdf/fonts.py"), "notice"),
    (record("Ignored `%s:%s` at %d:%d, %s.", "foo", "1", 12, 3, "unknown property"),
     "warning"),
    (record("Parse error at %d:%d: %s", 4, 1, "EOF", module="weasyprint/css/__init__.py"),
     "warning"),
    (record("Failed to load image at %r: %s", "file:///x.png", "refused",
            level=logging.ERROR, module="weasyprint/images.py"), "error"),
    (record("Failed to load stylesheet at %s: %s", "x.css", "refused", level=logging.ERROR,
            module="weasyprint/css/__init__.py"), "error"),
    (record('.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
            "\u2603", 0x2603, module="weasyprint/draw/text.py"), "error"),
    (record("This row has more columns than the table, ignored %d cells", 2,
            module="weasyprint/layout/table.py"), "error"),
])
def test_each_kind_of_record_has_its_meaning(made: logging.LogRecord, kind: str) -> None:
    assert pdf.sort_record(made) == kind


def test_a_font_subsetting_fallback_does_not_fail_the_build(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Without HarfBuzz-Subset (a bare machine), WeasyPrint subsets the fonts with
    fontTools and says so: a notice, and the PDF is written (laid out whole, here: the
    layout processes would import WeasyPrint afresh)."""
    import weasyprint.pdf.fonts

    monkeypatch.setattr(pdf, "WORKERS", 1)
    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
    assert main(["-C", str(project), "build", "--format", "pdf", "--strict"]) == 0
    err = capsys.readouterr().err
    assert "note: WeasyPrint: Using fontTools instead of HarfBuzz-Subset" in err
    assert err.count("Using fontTools") == len(set(
        line for line in err.splitlines() if "Using fontTools" in line))  # once per font
    assert "templates:1" not in err
    assert (project / "build" / "brief.pdf").stat().st_size > 1000


def test_a_refused_resource_still_fails_at_its_real_line(
        project: Path, workers: int, capsys: pytest.CaptureFixture[str]) -> None:
    page = project / "templates" / "page.html.j2"
    line = append_line(page, '<style>body { background: url("file:///etc/hostname"); }'
                             '</style>')
    assert main(["-C", str(project), "-q", "build", "--format", "pdf"]) == 1
    err = capsys.readouterr().err
    col = page.read_text("utf-8").splitlines()[line - 1].index("file:///etc/hostname") + 1
    assert f"templates/page.html.j2:{line}:{col}: error[render]: the brief refers to " \
           "'file:///etc/hostname'" in err
    assert "templates:1" not in err
    assert not (project / "build" / "brief.pdf").exists()


def test_a_missing_template_resource_fails_at_its_real_line(
        project: Path, workers: int, capsys: pytest.CaptureFixture[str]) -> None:
    """A file under templates/ that is not there: not loaded, so an error, at its line."""
    css = project / "templates" / "print.css"
    line = append_line(css, 'body { background: url("no-such-image.png"); }')
    assert main(["-C", str(project), "-q", "build", "--format", "pdf"]) == 1
    err = capsys.readouterr().err
    assert f"templates/print.css:{line}:1: error[render]: the brief refers to " \
           "'templates/no-such-image.png', which does not exist" in err
    assert not (project / "build" / "brief.pdf").exists()


def test_ignored_css_is_a_warning_at_the_templates_line(
        project: Path, workers: int, capsys: pytest.CaptureFixture[str]) -> None:
    css = project / "templates" / "print.css"
    line = append_line(css, "p { colr: red; }")
    assert main(["-C", str(project), "-q", "build", "--format", "pdf"]) == 0
    err = capsys.readouterr().err
    assert f"templates/print.css:{line}:1: warning[pdf.css-ignored]: WeasyPrint ignored CSS: " \
           "Ignored `colr: red`" in err
    assert err.count("Ignored `colr") == 1  # said once (the shown line aside)
    assert (project / "build" / "brief.pdf").is_file()
    # --strict fails on it, before anything is written
    (project / "build" / "brief.pdf").unlink()
    append_line(css, "/* changed */")
    assert main(["-C", str(project), "-q", "build", "--format", "pdf", "--strict"]) == 1
    assert f"templates/print.css:{line}:1: warning[pdf.css-ignored]: WeasyPrint ignored CSS" in \
        capsys.readouterr().err
    assert not (project / "build" / "brief.pdf").exists()


def test_ignored_css_in_brief_css_after_a_jinja_line(
        project: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """brief.css is a Jinja template: a block tag above the rule takes its line out of
    the rendered CSS, and the warning still names the line in the template."""
    monkeypatch.setattr(pdf, "WORKERS", 1)
    css = project / "templates" / "brief.css"
    append_line(css, "{% if true %}")
    line = append_line(css, "h2 { text-colour: blue; }")
    append_line(css, "{% endif %}")
    assert main(["-C", str(project), "-q", "build", "--format", "pdf"]) == 0
    assert f"templates/brief.css:{line}:1: warning[pdf.css-ignored]: WeasyPrint ignored CSS: " \
           "Ignored `text-colour: blue`" in capsys.readouterr().err


def test_the_shipped_templates_make_no_weasyprint_warnings(
        tiny: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "WORKERS", 1)
    assert main(["-C", str(tiny), "-q", "build", "--format", "pdf", "--strict"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and "ignored CSS" not in err
