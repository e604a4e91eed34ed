"""Hostile inputs: the reproductions of issue 22, one test (or a few) each.

No file is read or written outside the project's folders, no output carries a link the
link policy does not allow, no directory is deleted that the build did not make, and no
input gives a traceback. A loopback server records every request; canary files outside
the project must never reach an output.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from policybrief import links, pipeline
from policybrief.commands import crash, intake, watch
from policybrief.commands.cli import main
from policybrief.errors import RenderError
from policybrief.messages import RULES
from policybrief.model import Project
from policybrief.publish import outputs

from conftest import loopback, make_tiny, write

CANARY = b"canary-22-5e1d0c-never-published"
SRC = Path(__file__).resolve().parent.parent / "src" / "policybrief"
# a 1x1 PNG, red: the pixels of a canary image
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408"
    "d763f8cfc000000301010018dd8db40000000049454e44ae426082")


def background(body: str) -> str:
    return f'---\nkind: background\ntitle: "Background"\n---\n{body}\n'


def outputs_bytes(root: Path) -> bytes:
    build = root / "build"
    return b"".join(p.read_bytes() for p in sorted(build.rglob("*"))
                    if p.is_file() and not p.is_symlink()) if build.is_dir() else b""


def tree(root: Path, skip: str = "build") -> dict[str, str]:
    """Every file under ``root`` (but ``skip``) and a hash of its bytes or link target."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == skip or rel.startswith(skip + "/"):
            continue
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), "-q", *args])


def said(err: str, path: object, line: int, rule: str, message: str,
         col: int | None = None) -> None:
    """``err`` has the message ``path:line:col: error[rule]: message…`` (any column when
    ``col`` is None: a place with no meaningful column)."""
    place = rf"{re.escape(str(path))}:{line}:{col if col is not None else '[0-9]+'}"
    pattern = rf"(?m)^{place}: error\[{re.escape(rule)}\]: {re.escape(message)}"
    assert re.search(pattern, err), f"no {place}: error[{rule}]: {message!r} in\n{err}"


def col_of(file: Path, line: int, needle: str) -> int:
    """The column of ``needle`` on ``line`` of ``file`` (1-based)."""
    text = file.read_text("utf-8").split("\n")[line - 1]
    assert needle in text, (needle, text)
    return text.index(needle) + 1


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_tiny(tmp_path / "p")
    (tmp_path / "secret.txt").write_bytes(CANARY)
    (tmp_path / "secret.png").write_bytes(PNG)
    return root


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    with loopback(PNG, "image/png") as (port, seen):
        yield f"127.0.0.1:{port}", seen


def add_entry(root: Path, text: str) -> None:
    bib = root / "bibliography.bib"
    bib.write_text(bib.read_text("utf-8") + "\n" + text, "utf-8")


def bib_line(root: Path, needle: str) -> int:
    text = (root / "bibliography.bib").read_text("utf-8")
    return text[: text.index(needle)].count("\n") + 1


# --- 1. any local file published ---------------------------------------------------


@pytest.mark.parametrize("field", ["../secret.txt", "{abs}/secret.txt", "seeds/leak.txt"])
def test_1_a_file_field_outside_seeds_is_refused(project: Path, field: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    if field == "seeds/leak.txt":  # a symbolic link in seeds/ that points out
        os.symlink(project.parent / "secret.txt", project / "seeds" / "leak.txt")
    field = field.replace("{abs}", str(project.parent))
    add_entry(project, f"@online{{leak, title={{Leak}}, file={{{field}}}}}\n")
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    if field == "seeds/leak.txt":
        said(err, "seeds/leak.txt", 1, "confine.symlink", "a symbolic link to ")
        assert "outside the project's folders" in err
    else:
        line = bib_line(project, "@online{leak")
        said(err, "bibliography.bib", line, "source.outside",
             f"'leak' points at '{field}', which is outside the project's seeds/",
             col_of(project / "bibliography.bib", line, "leak"))
    assert CANARY.decode() not in err  # not even as the line a message shows
    assert CANARY not in outputs_bytes(project)
    assert not (project / "build" / "sources" / "leak.html").exists()


def test_1_nothing_is_read_through_a_link_out_of_the_project(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Not even to fingerprint the inputs: a link out of seeds/ is known by its target."""
    from policybrief.publish import inputs

    os.symlink(project.parent / "secret.txt", project / "seeds" / "leak.txt")
    read: list[str] = []
    original = Path.read_bytes

    def spy(self: Path) -> bytes:
        read.append(str(self.resolve()))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    hash_file = inputs._hash

    def hashed(path: Path) -> str:
        read.append(str(path.resolve()))
        return hash_file(path)

    monkeypatch.setattr(inputs, "_hash", hashed)
    scanned = inputs.scan(Project(project), "")
    assert "seeds/leak.txt" not in scanned.files and read
    assert str((project.parent / "secret.txt").resolve()) not in read
    assert run(project, "check") == 1
    assert str((project.parent / "secret.txt").resolve()) not in read
    err = capsys.readouterr().err
    said(err, "seeds/leak.txt", 1, "confine.symlink", "a symbolic link to ")
    assert CANARY.decode() not in err  # the message shows no line of the link's target


# --- 2. script through the bibliography URL -----------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)",
                                 " JaVa\tScript:alert(1)", "file:///etc/hostname",
                                 "data:text/html,<script>alert(1)</script>"])
def test_2_a_bibliography_url_outside_the_policy_is_refused(
        project: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    bib = project / "bibliography.bib"
    bib.write_text(bib.read_text("utf-8").replace(
        "https://rasanah-iiis.org/english/position-estimate/rifts", url), "utf-8")
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    line = bib_line(project, "  url = {" + url)
    said(err, "bibliography.bib", line, "link.not-allowed",
         "field 'url' of 'rasanah2024rifts': a link that leaves the web and the brief",
         col_of(project / "bibliography.bib", line, "url"))
    assert not (project / "build").exists() or b"javascript:" not in outputs_bytes(project)


def test_2_the_pdf_link_annotations_are_checked() -> None:
    """The last gate: a javascript: URI action in a PDF (as a template could make) is
    found before publishing."""
    import weasyprint

    from policybrief.render.pdf import fetcher

    pdf = weasyprint.HTML(string='<a href="javascript:alert(1)">x</a> <a href="https://a.org/">'
                          'y</a>', url_fetcher=fetcher([])).write_pdf()
    found = links.output_problems({"brief.pdf": pdf})
    assert [(p.output, p.target) for p in found] == [("brief.pdf", "javascript:alert(1)")]


def test_2_sources_add_refuses_a_canonical_link_outside_the_policy(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>A report</title>\n"
                    '<link rel="canonical" href="javascript:alert(1)">\n</head>'
                    "<body><main><p>Some text of the report that is long enough.</p></main>"
                    "</body></html>", "utf-8")
    before = tree(project)
    assert run(project, "sources", "add", str(page)) == 1
    said(capsys.readouterr().err, page, 2, "link.not-allowed",
         "the page's canonical link 'javascript:alert(1)': a link that leaves the web and "
         "the brief", col_of(page, 2, "javascript:alert(1)"))
    assert tree(project) == before
    # an address given on the command line is held to the same policy
    assert run(project, "sources", "add", str(page), "--url", "\\\\host\\share") == 2
    assert tree(project) == before
    assert run(project, "sources", "add", str(page), "--url", "https://example.org/r") == 0
    # a relative canonical link names no address: the entry has none
    other = tmp_path / "other.html"
    other.write_text(page.read_text("utf-8").replace("javascript:alert(1)", "/en/report")
                     .replace("Some text", "Other text"), "utf-8")
    assert run(project, "sources", "add", str(other), "--key", "other2024") == 0
    entry = (project / "bibliography.bib").read_text("utf-8").split("other2024")[1]
    assert "url" not in entry and "/en/report" not in entry
    assert "{https://example.org/r}" in (project / "bibliography.bib").read_text("utf-8")


# --- 3. files written anywhere through a key ------------------------------------------


@pytest.mark.parametrize("key", ["a/../../../pwned", "..", "x\\y", "a/b", "we ird"])
def test_3_a_key_that_is_not_a_file_name_is_refused(project: Path, key: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    add_entry(project, f"@online{{{key}, title={{T}}, file={{seeds/x.md}}}}\n")
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    assert "bibliography.bib:" in err and "Traceback" not in err
    assert not list(tmp_path.rglob("pwned*"))


@pytest.mark.parametrize("name", ["../x.html", "sources/../../x.html", "/tmp/x.html",
                                  "sources\\..\\x.html", "./x.html"])
def test_3_no_output_is_written_outside_build(tmp_path: Path, name: str) -> None:
    """The last gate, where the outputs are written: a name that would leave build/."""
    from policybrief.errors import BriefError

    with pytest.raises(BriefError, match="would leave build/"):
        outputs.publish(tmp_path / "build", {name: b"x"}, {})
    assert not [p for p in tmp_path.rglob("*.html")]


def test_3_sources_add_key_with_a_path_is_a_usage_error(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "note.md"
    doc.write_text("# A note\n\nA paragraph of text that says something.\n", "utf-8")
    before = tree(project)
    assert run(project, "sources", "add", str(doc), "--key", "a/../../../../tmp/pwned") == 2
    assert "--key 'a/../../../../tmp/pwned' has characters a key may not have" in \
        capsys.readouterr().err
    assert tree(project) == before


def test_3_sources_add_does_not_write_through_a_dangling_link(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "note.md"
    doc.write_text("# A note\n\nA paragraph of text that says something.\n", "utf-8")
    os.symlink(tmp_path / "written-through.md", project / "seeds" / "note.md")
    assert run(project, "sources", "add", str(doc)) == 1
    said(capsys.readouterr().err, "seeds/note.md", 1, "confine.symlink", "a symbolic link to ")
    assert not (tmp_path / "written-through.md").exists()


# --- 4. the DOCX's logo fetches nothing -----------------------------------------------


def logo_project(project: Path, svg: str) -> None:
    (project / "assets").mkdir(exist_ok=True)
    (project / "assets" / "logo.svg").write_text(svg, "utf-8")
    meta = project / "report" / "brief.yaml"
    meta.write_text(meta.read_text("utf-8") + "house:\n  logo: assets/logo.svg\n", "utf-8")


@pytest.mark.parametrize("href", ["http://{server}/x.png", "file://{secret}",
                                  "data:image/svg+xml;base64,{nested}"])
def test_4_a_logo_that_refers_to_anything_is_refused(
        project: Path, server: tuple[str, list[str]], href: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    import base64

    address, seen = server
    nested = base64.b64encode(f'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://'
                              f'{address}/n.png" width="9" height="9"/></svg>'.encode()).decode()
    target = href.format(server=address, secret=project.parent / "secret.png", nested=nested)
    logo_project(project, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3'
                          f'.org/1999/xlink" viewBox="0 0 90 30"><image xlink:href="{target}" '
                          'width="90" height="30"/></svg>')
    assert run(project, "build", "--format", "docx") == 1
    err = capsys.readouterr().err
    meta = project / "report" / "brief.yaml"
    said(err, "report/brief.yaml", 16, "house.logo",
         "logo 'assets/logo.svg': the SVG refers to ", col_of(meta, 16, "assets/logo.svg"))
    assert "base64," not in err or len(err) < 400  # never a blob
    assert seen == []
    assert not (project / "build" / "brief.docx").exists()


def test_4_a_logo_that_declares_entities_is_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logo_project(project, f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY leak SYSTEM '
                          f'"file://{project.parent / "secret.txt"}">]><svg xmlns="http://'
                          'www.w3.org/2000/svg" viewBox="0 0 90 30"><text y="20">&leak;'
                          '</text></svg>')
    assert run(project, "build", "--format", "docx") == 1
    said(capsys.readouterr().err, "report/brief.yaml", 16, "house.logo",
         "logo 'assets/logo.svg': the SVG declares a document type or entities",
         col_of(project / "report" / "brief.yaml", 16, "assets/logo.svg"))
    assert CANARY not in outputs_bytes(project)


def test_4_figures_are_drawn_with_the_confining_fetcher(server: tuple[str, list[str]]) -> None:
    """png.to_png (the PNGs for Word, the logo) fetches nothing, even when handed an
    SVG that refers to a server."""
    from policybrief.render import png

    address, seen = server
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><image '
           f'href="http://{address}/x.png" width="10" height="10"/></svg>')
    with pytest.raises(RenderError, match="the image could not be drawn"):
        png.to_png(svg, 10, 10)
    assert seen == []


def test_4_an_svg_image_with_script_in_a_section_is_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import base64

    svg = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                           b'</script></svg>').decode()
    write(project / "report/sections/01-background.md",
          background(f"A map.[@rasanah2024rifts, \u00b6 3]\n\n![A map](data:image/svg+xml;"
                     f"base64,{svg})"))
    assert run(project, "build", "--format", "docx") == 1
    err = capsys.readouterr().err
    said(err, "report/sections/01-background.md", 7, "link.not-allowed",
         "the SVG has a <script> element",
         col_of(project / "report/sections/01-background.md", 7, "![A map]"))
    assert svg not in err


def test_no_weasyprint_call_without_the_confining_fetcher() -> None:
    """Every WeasyPrint entry point in the package (HTML, CSS) is given url_fetcher."""
    missing = []
    for path in sorted(SRC.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    node.func.id if isinstance(node.func, ast.Name) else ""
                if name in ("HTML", "CSS") and \
                        "url_fetcher" not in {k.arg for k in node.keywords}:
                    missing.append(f"{path.name}:{node.lineno}")
    assert missing == []


def test_no_weasyprint_call_without_the_confining_fetcher_at_run_time(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build with a logo, figures, the PDF and the DOCX (layout in this process): every
    HTML and CSS WeasyPrint is given has the project's fetcher."""
    import weasyprint

    from policybrief.render import pdf

    calls: list[str] = []
    for name in ("HTML", "CSS"):
        original = getattr(weasyprint, name)

        def spy(*args: object, _original: object = original, _name: str = name,
                **kwargs: object) -> object:
            fetcher = kwargs.get("url_fetcher")
            calls.append(f"{_name}:{type(fetcher).__name__ if fetcher else None}")
            return _original(*args, **kwargs)  # type: ignore[operator]
        monkeypatch.setattr(weasyprint, name, spy)
    monkeypatch.setattr(pdf, "WORKERS", 1)
    shutil.copy(Path(__file__).parent.parent / "report" / "timeline.yaml",
                project / "report" / "timeline.yaml")
    logo_project(project, '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 90 30">'
                          '<rect width="90" height="30" fill="#1f4e79"/></svg>')
    assert run(project, "build") == 0
    assert calls and all(c.endswith(":Fetcher") for c in calls), calls
    assert {c.split(":")[0] for c in calls} == {"HTML", "CSS"}


# --- 5. directories deleted through a symlink ------------------------------------------


def test_5_a_link_planted_in_build_deletes_nothing(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(project)
    (project / "build").mkdir()
    os.symlink("..", project / "build" / ".builds")
    for _ in range(2):
        assert run(project, "build", "--format", "html") == 1
        said(capsys.readouterr().err, "build/.builds", 1, "build.foreign",
             "build/.builds is a symbolic link to '..', which the build did not make")
    assert tree(project) == before


def test_5_a_link_inside_the_sets_deletes_nothing(project: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keep").mkdir(parents=True)
    (elsewhere / "keep" / "precious.txt").write_text("precious", "utf-8")
    assert run(project, "build", "--format", "html") == 0
    os.symlink(elsewhere, project / "build" / ".builds" / "0123456789abcdef")
    (project / "build" / ".builds" / "not-ours").mkdir()
    write(project / "report/sections/01-background.md",
          (project / "report/sections/01-background.md").read_text("utf-8") + "\nMore.\n")
    assert run(project, "build", "--format", "html") == 1
    said(capsys.readouterr().err, "build/.builds/0123456789abcdef", 1, "build.foreign",
         f"build/.builds/0123456789abcdef is a symbolic link to '{elsewhere}'")
    assert (elsewhere / "keep" / "precious.txt").read_text("utf-8") == "precious"
    (project / "build" / ".builds" / "0123456789abcdef").unlink()
    for text in ("\nMore again.\n", "\nAnd more.\n", "\nStill more.\n"):
        write(project / "report/sections/01-background.md",
              (project / "report/sections/01-background.md").read_text("utf-8") + text)
        assert run(project, "build", "--format", "html") == 0
    # a folder the build did not make stays, however many sets come and go
    assert (project / "build" / ".builds" / "not-ours").is_dir()
    assert (elsewhere / "keep" / "precious.txt").exists()


def test_5_a_folder_in_the_way_of_the_outputs_is_never_deleted(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "build" / "sources").mkdir(parents=True)
    (project / "build" / "sources" / "mine.txt").write_text("mine", "utf-8")
    assert run(project, "build", "--format", "html") == 1
    said(capsys.readouterr().err, "build/sources", 1, "build.foreign",
         "build/sources is a folder the build did not make")
    assert (project / "build" / "sources" / "mine.txt").read_text("utf-8") == "mine"
    assert not (project / "build" / "current").exists()


@pytest.mark.parametrize("format", ["html", "pdf"])
def test_5_a_file_where_build_goes_is_reported_not_an_internal_error(
        project: Path, format: str, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(project / "build", ignore_errors=True)
    (project / "build").write_text("my notes", "utf-8")
    assert run(project, "build", "--format", format) == 1
    err = capsys.readouterr().err
    said(err, "build", 1, "build.foreign", "build is not a folder")
    assert "internal error" not in err
    assert (project / "build").read_text("utf-8") == "my notes"


def test_stages_of_killed_builds_go_with_the_next_build_even_a_failing_one(
        project: Path) -> None:
    section = project / "report/sections/01-background.md"
    original = section.read_text("utf-8")
    assert run(project, "build", "--format", "html") == 0
    builds = project / "build" / outputs.BUILDS
    dead = builds / ".stage-999999999"  # no such process
    (dead / "sources").mkdir(parents=True)
    outputs._record(builds, [*outputs._made(builds), dead.name])
    stray = builds / ".stage-999999998"  # not recorded: not ours to delete
    stray.mkdir()
    write(project / "report/sections/01-background.md", background("[@nosuchkey, \u00b6 1]"))
    assert run(project, "build", "--format", "html") == 1
    assert not dead.exists() and stray.is_dir()
    # and a build that finds nothing to do
    section.write_text(original, "utf-8")
    assert run(project, "build", "--format", "html") == 0
    (dead / "sources").mkdir(parents=True)
    outputs._record(builds, [*outputs._made(builds), dead.name])
    assert pipeline.build(Project(project), pipeline.BuildOptions(("html",))).checked is None  # replayed
    assert not dead.exists() and stray.is_dir()


# --- 6. the DOCX title checked ---------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "line", "target"), [
    ("title", "[x](javascript:alert(1))", 1, "javascript:alert(1)"),
    ("subtitle", "see [annex](file:///etc/passwd)", 2, "file:///etc/passwd"),
    # escaped in YAML: the target is not on the line as it is read, the place is the field
    ("name", "[Ada](\\\\\\\\host\\\\share)", 9, None),
])
def test_6_links_in_brief_yaml_are_held_to_the_policy(
        project: Path, field: str, value: str, line: int, target: str | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    meta = project / "report" / "brief.yaml"
    lines = meta.read_text("utf-8").splitlines()
    at = next(i for i, text in enumerate(lines) if text.strip().startswith(
        f"- {field}:" if field == "name" else f"{field}:"))
    lines[at] = lines[at].split(":")[0] + f': "{value}"'
    meta.write_text("\n".join(lines) + "\n", "utf-8")
    assert run(project, "check") == 1
    said(capsys.readouterr().err, "report/brief.yaml", line, "link.not-allowed",
         "a link that leaves the web and the brief",
         col_of(meta, line, target) if target else col_of(meta, line, f"- {field}:"))


def test_6_the_docx_relationships_are_checked(tmp_path: Path) -> None:
    """The last gate on the DOCX: an external relationship outside the policy."""
    from policybrief.render import pandoc

    pandoc.convert("[a](javascript:alert(1)) [b](https://example.org/)", "docx", [], tmp_path,
                   "test", output=tmp_path / "x.docx", epoch=0)
    found = links.output_problems({"brief.docx": (tmp_path / "x.docx").read_bytes()})
    assert {p.target for p in found} == {"javascript:alert(1)"}


# --- 7 and 8. backslash links, relative links -------------------------------------------


@pytest.mark.parametrize(("markdown", "target"), [
    ("<http:\\\\{server}\\x>", "http:"),
    ("[x](\\\\{server}\\x)", None),  # Markdown unescapes the target: shown as read
    ("[x](//{server}/x)", "//"), ("[annex](annex.pdf)", "annex.pdf"),
    ("[up](../secret.txt)", "../secret.txt"), ("[x](/etc/hostname)", "/etc/hostname")])
def test_7_8_backslash_protocol_relative_and_file_links_are_refused(
        project: Path, server: tuple[str, list[str]], markdown: str, target: str | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    address, seen = server
    write(project / "report/sections/01-background.md",
          background(f"Text {markdown.format(server=address)} here.[@rasanah2024rifts, "
                     "\u00b6 3]"))
    assert run(project, "build") == 1
    err = capsys.readouterr().err
    section = project / "report/sections/01-background.md"
    said(err, "report/sections/01-background.md", 5, "link.not-allowed",
         "a link that leaves the web and the brief", col_of(section, 5, target) if target
         else None)
    assert seen == []
    assert not (project / "build" / "brief.pdf").exists()


def test_7_a_backslash_url_in_the_bibliography_is_refused(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bib = project / "bibliography.bib"
    bib.write_text(bib.read_text("utf-8").replace(
        "  type = {Position Paper},", "  note = {\\url{\\\\host\\share}},"), "utf-8")
    assert run(project, "check") == 1
    line = bib_line(project, "  note = ")
    said(capsys.readouterr().err, "bibliography.bib", line, "link.not-allowed",
         "field 'note' of 'rasanah2024rifts': a link that leaves the web and the brief "
         "(a backslash", col_of(project / "bibliography.bib", line, "note"))


# --- 9. stale outputs reported current ----------------------------------------------------


def test_9_a_save_undone_during_a_build_is_not_recorded_as_current(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policybrief.load import sections

    assert run(project, "build", "--format", "html") == 0
    path = project / "report/sections/01-background.md"
    original = path.read_text("utf-8").replace("grew from it.", "grew from it. Edited.")
    path.write_text(original, "utf-8")  # an edit: the next build loads the brief
    saved = original.replace("grew from it.", "grew from it. SAVED-DURING-THE-BUILD.")
    load = sections.load_sections

    def while_loading(*args: object) -> object:
        path.write_text(saved, "utf-8")  # saved as the build reads it …
        try:
            return load(*args)  # type: ignore[arg-type]
        finally:
            path.write_text(original, "utf-8")  # … and undone before it ends

    with monkeypatch.context() as patch:
        patch.setattr(sections, "load_sections", while_loading)
        assert run(project, "build", "--format", "html") == 0
    assert "SAVED-DURING-THE-BUILD" in (project / "build/brief.html").read_text("utf-8")
    again = pipeline.build(Project(project), pipeline.BuildOptions(("html",)))
    assert again.checked is not None  # loaded again, not replayed
    assert "SAVED-DURING-THE-BUILD" not in (project / "build/brief.html").read_text("utf-8")


# --- 10. brief watch survives anything --------------------------------------------------


def test_10_watch_survives_an_exception_that_is_not_a_brief_error(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []

    def broken(*args: object, **kwargs: object) -> object:
        raise ValueError("day is out of range for month")

    monkeypatch.setattr(pipeline, "build", broken)
    state = watch.State()
    assert watch.rebuild(Project(project), ["html"], state, False, said.append,
                         said.append) is False
    assert len(said) == 1 and "still serving the last good build" in said[0]
    assert "internal error" in said[0] and "ValueError: day is out of range" in said[0]


def test_10_watch_never_serves_a_build_folder_that_leads_elsewhere(project: Path,
                                                                    tmp_path: Path) -> None:
    from policybrief.errors import BriefError

    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", project / "build")
    with pytest.raises(BriefError, match="build/ is a symbolic link"):
        watch.run(Project(project), port=0, stop=threading.Event())


# --- 11. no traceback, ever ----------------------------------------------------------------


@pytest.mark.parametrize("date", ["2024-02-30", "9999-12-31", "0000-01-01"])
def test_11_an_impossible_date_in_brief_yaml(project: Path, date: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    meta = project / "report" / "brief.yaml"
    meta.write_text(meta.read_text("utf-8").replace("2024-05-20", date), "utf-8")
    assert run(project, "check") == 1
    err = capsys.readouterr().err
    said(err, "report/brief.yaml", 3, "schema.date", f"'{date}' is not a date",
         col_of(meta, 3, date))


TIMELINE = """\
events:
  - date: "{date}"
    label: "An event"
    citation:
      key: "rasanah2024rifts"
      quote: "revealed a stark division among Shiite groups"
  - date: "2024-01"
    label: "Another event"
    citation:
      key: "rasanah2024rifts"
      quote: "revealed a stark division among Shiite groups"
"""


@pytest.mark.parametrize("date", ["2024-02-30", "9999-12-31", "0000"])
def test_11_an_impossible_date_in_the_timeline(project: Path, date: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "report" / "timeline.yaml", TIMELINE.format(date=date))
    assert run(project, "check") == 1
    said(capsys.readouterr().err, "report/timeline.yaml", 2, "figures.date",
         f"events[1].date: there is no date {date}")


def test_11_ten_thousand_timeline_events(project: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    event = TIMELINE.split("  - date: \"2024-01\"")[1]
    write(project / "report" / "timeline.yaml",
          "events:\n" + "".join(f"  - date: \"2024-01\"{event}" for _ in range(10_000)))
    assert run(project, "check") == 1
    said(capsys.readouterr().err, "report/timeline.yaml", 1, "figures.timeline",
         "10000 events; a figure holds at most 200")


@pytest.mark.parametrize("name", ["brief.yaml", "timeline.yaml"])
def test_11_yaml_nested_three_thousand_deep(project: Path, name: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "report" / name
    path.write_text("deep: " + "[" * 3000 + "]" * 3000 + "\n", "utf-8")
    assert run(project, "check") == 1
    err = capsys.readouterr().err
    said(err, f"report/{name}", 1, "yaml.too-deep", "YAML: nested too deeply")
    assert "Traceback" not in err


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><g>", "the SVG does not parse"),
    ("logo.svg", b"<html><body>x</body></html>", "the file is not an SVG image"),
    ("logo.png", b"GIF89a not a png at all", "the file is not a PNG image"),
    ("logo.png", PNG[:40], "the PNG image is damaged"),
    ("logo.jpg", PNG, "the file is not a JPEG image"),
])
def test_11_a_logo_that_is_not_what_it_says(project: Path, name: str, content: bytes,
                                            problem: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (project / "assets").mkdir()
    (project / "assets" / name).write_bytes(content)
    meta = project / "report" / "brief.yaml"
    meta.write_text(meta.read_text("utf-8") + f"house:\n  logo: assets/{name}\n", "utf-8")
    assert run(project, "build", "--format", "docx") == 1
    said(capsys.readouterr().err, "report/brief.yaml", 16, "house.logo",
         f"logo 'assets/{name}': {problem}", col_of(meta, 16, f"assets/{name}"))


def test_12_a_logo_in_house_yaml_is_reported_there(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (project / "assets").mkdir()
    (project / "assets" / "logo.png").write_bytes(b"not a png")
    write(project / "report" / "_house.yaml", 'accent: "#123456"\nlogo: assets/logo.png\n')
    assert run(project, "check") == 1
    said(capsys.readouterr().err, "report/_house.yaml", 2, "house.logo",
         "logo 'assets/logo.png': the file is not a PNG image",
         col_of(project / "report" / "_house.yaml", 2, "assets/logo.png"))


def nested_pdf(depth: int) -> bytes:
    """A PDF whose document information holds arrays nested ``depth`` deep."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
               b"<< /Title " + b"[" * depth + b"]" * depth + b" >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    start = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, start))
    return out.getvalue()


def test_11_a_deeply_nested_pdf_to_sources_add(project: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "deep.pdf"
    doc.write_bytes(nested_pdf(50_000))
    before = tree(project)
    assert run(project, "sources", "add", str(doc)) == 1
    err = capsys.readouterr().err
    said(err, doc, 1, "sources.add", "cannot read the PDF")
    assert "Traceback" not in err
    assert tree(project) == before


def test_11_a_pdf_that_exhausts_the_reader_s_recursion(project: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Whatever structure makes pypdf recurse without end is one message."""
    import pypdf

    def recursing(*args: object, **kwargs: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pypdf, "PdfReader", recursing)
    doc = tmp_path / "deep.pdf"
    doc.write_bytes(nested_pdf(10))
    assert run(project, "sources", "add", str(doc)) == 1
    said(capsys.readouterr().err, doc, 1, "sources.add",
         "cannot read the PDF: its objects are nested too deeply")


def test_11_a_huge_file_is_refused_before_it_is_read(project: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "huge.txt"
    with open(doc, "wb") as handle:  # 3 GB, sparse: costs no disk
        handle.truncate(3 * 2**30)

    def no_reading(*args: object, **kwargs: object) -> object:
        raise AssertionError("the document was opened")

    monkeypatch.setattr(intake, "open", no_reading, raising=False)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert run(project, "sources", "add", str(doc)) == 1
    said(capsys.readouterr().err, doc, 1, "sources.add", "the document is larger than 50 MB")


@pytest.mark.parametrize("name", ["bibliography.bib", "report/brief.yaml",
                                  "report/sections/01-background.md", "seeds/big.txt"])
def test_11_a_huge_input_is_refused_before_it_is_read(project: Path, name: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    with open(project / name, "ab") as handle:  # 3 GB, sparse: costs no disk
        handle.truncate(3 * 2**30)
    read: list[str] = []
    for method in ("read_bytes", "read_text"):
        original = getattr(Path, method)

        def spy(self: Path, *args: object, _original: object = original) -> object:
            read.append(self.name)
            return _original(self, *args)  # type: ignore[operator]
        monkeypatch.setattr(Path, method, spy)
    assert run(project, "build", "--format", "html") == 1
    said(capsys.readouterr().err, name, 1, "confine.size", "the file is 3072.0 MB; the limit is")
    assert Path(name).name not in read


def snapshot(build: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(build).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(build.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "No space left on device"),
                                         (errno.EACCES, "Permission denied"),
                                         (errno.EROFS, "Read-only file system")])
def test_11_a_full_disk_or_a_read_only_build(project: Path, code: int, words: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(project, "build", "--format", "html") == 0
    before = snapshot(project / "build")
    write(project / "report/sections/01-background.md",
          (project / "report/sections/01-background.md").read_text("utf-8") + "\nMore.\n")
    written: list[str] = []

    def full(path: Path, data: bytes) -> None:
        written.append(str(path))
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(outputs, "_fsync_write", full)
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    assert f"cannot write the outputs: {words}" in err and "Traceback" not in err
    assert err.startswith("build/.builds/.stage-")
    assert written
    after = snapshot(project / "build")
    # the outputs as they were; the caches under build/.cache/ hold none (a full disk
    # takes their room: test_a_full_disk_takes_the_room_of_the_cache)
    assert {k: v for k, v in after.items() if k != ".builds.json"
            and not k.startswith(".cache/")} == \
        {k: v for k, v in before.items() if k != ".builds.json"
         and not k.startswith(".cache/")}
    assert not [p for p in (project / "build" / ".builds").iterdir()
                if p.name.startswith(".stage-")]


@contextlib.contextmanager
def mounted(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` on ``folder`` (the test is skipped where it cannot be made)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                           str(folder)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_11_a_real_full_disk_or_read_only_build(project: Path, kind: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """build/ on a small tmpfs, filled up or made read-only after a good build."""
    build = project / "build"
    with mounted(build, "16m"):
        assert run(project, "build", "--format", "html") == 0
        before = snapshot(build)
        write(project / "report/sections/01-background.md",
              (project / "report/sections/01-background.md").read_text("utf-8") + "\nMore.\n")
        if kind == "full":  # (no cache to give its room: test_a_full_disk_takes_the_room…)
            shutil.rmtree(build / ".cache")
            before = snapshot(build)
            used = sum(p.stat().st_size for p in build.rglob("*") if p.is_file()
                       and not p.is_symlink())
            remount(build, f"size={used + 64 * 1024}")
        else:
            remount(build, "ro")
        capsys.readouterr()
        assert run(project, "build", "--format", "html") == 1
        err = capsys.readouterr().err
        words = "No space left on device" if kind == "full" else "Read-only file system"
        assert f"cannot write the outputs: {words}" in err and "Traceback" not in err, err
        after = snapshot(build)
        assert {k: v for k, v in after.items() if k != ".builds.json"
                and not k.startswith(".cache/")} == \
            {k: v for k, v in before.items() if k != ".builds.json"
             and not k.startswith(".cache/")}  # (the caches hold no output)
        remount(build, "rw,size=16m")
        assert run(project, "build", "--format", "html") == 0  # and it recovers
        assert "More." in (build / "brief.html").read_text("utf-8")


def test_11_a_disk_too_full_for_the_layout_processes_faces(project: Path,
                                                         tmp_path: Path) -> None:
    """The layout processes copy the house faces (megabytes) to build/.tmp as they start:
    on a disk with no room for them, the build says the disk is full, once, with no
    traceback from a layout process's start, and nothing goes to the system's
    temporary folder instead."""
    build = project / "build"
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "POLICYBRIEF_PDF_WORKERS": "2"}
    command = [str(Path(sys.executable).parent / "brief"), "-C", str(project), "-q",
               "build", "--format", "pdf"]
    with mounted(build, "64m"):
        first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stderr
        shutil.rmtree(build / ".cache")
        write(project / "report/sections/01-background.md",
              (project / "report/sections/01-background.md").read_text("utf-8") + "\nMore.\n")
        used = sum(p.stat().st_size for p in build.rglob("*") if p.is_file()
                   and not p.is_symlink())
        remount(build, f"size={used + 1024 * 1024}")  # (the faces: several megabytes)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr
        assert "cannot write the outputs: No space left on device" in done.stderr
        assert "Traceback" not in done.stderr and "initializer" not in done.stderr, \
            done.stderr
        assert sorted(temp.iterdir()) == []
        remount(build, "size=64m")
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert sorted(p.name for p in (build / ".tmp").iterdir()) == []


def test_11_an_unexpected_exception_is_one_line_and_a_log(
        project: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from policybrief.assemble import assembly

    assert run(project, "build", "--format", "html") == 0
    write(project / "report/sections/01-background.md",
          (project / "report/sections/01-background.md").read_text("utf-8") + "\nMore.\n")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("something the code did not expect")

    monkeypatch.setattr(assembly, "assemble", broken)
    assert run(project, "build", "--format", "html") == crash.INTERNAL == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith("internal error (a fault in policybrief, not in your brief): "
                            "RuntimeError: something the code did not expect; the traceback "
                            "is in ")
    log = Path(first.rsplit(" ", 1)[1])
    assert log.is_relative_to(project / "build")
    text = log.read_text("utf-8")
    assert "Traceback" in text and "something the code did not expect" in text


# --- 12. the right locations -----------------------------------------------------------


def test_12_a_link_in_a_figure_caption_is_reported_at_its_line(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "report" / "timeline.yaml",
          'caption: "See [the annex](file:///etc/passwd)."\n'
          + TIMELINE.format(date="2023-10"))
    assert run(project, "check") == 1
    said(capsys.readouterr().err, "report/timeline.yaml", 1, "link.not-allowed",
         "a link that leaves the web and the brief (file:): 'file:///etc/passwd'",
         col_of(project / "report" / "timeline.yaml", 1, "file:///etc/passwd"))


def test_12_an_image_in_brief_yaml_is_reported_at_its_line_not_by_pandoc(
        project: Path, server: tuple[str, list[str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    address, seen = server
    meta = project / "report" / "brief.yaml"
    meta.write_text(meta.read_text("utf-8").replace(
        'subtitle: "A tiny test brief"', f'subtitle: "A ![logo](http://{address}/x.png) brief"'),
        "utf-8")
    assert run(project, "build", "--format", "docx") == 1
    said(capsys.readouterr().err, "report/brief.yaml", 2, "link.not-allowed",
         "an image that is not a data: URL", col_of(meta, 2, f"http://{address}/x.png"))
    assert seen == []


def test_12_a_resource_pandoc_cannot_fetch_is_reported_where_it_is_written(
        project: Path) -> None:
    from policybrief.render import rendering

    caption = project / "report" / "timeline.yaml"
    write(caption, 'caption: "x"\nnote: "http://127.0.0.1:9/x.png"\n')
    error = RenderError('pandoc failed rendering the DOCX: [WARNING] Could not fetch '
                        'resource http://127.0.0.1:9/x.png: PandocResourceNotFound',
                        "report/sections", 1)
    moved = rendering._relocated(Project(project), error)
    assert (moved.path, moved.line) == ("report/timeline.yaml", 2)


def test_12_a_bad_link_in_a_template_is_reported_there(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    templates = project / "templates"
    shutil.copytree(Path(__file__).parent.parent / "src/policybrief/templates", templates, symlinks=True)
    page = templates / "page.html.j2"
    page.write_text(page.read_text("utf-8").replace(
        "</body>", '<a href="javascript:void(0)">x</a></body>'), "utf-8")
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    line = page.read_text("utf-8").split("javascript:void(0)")[0].count("\n") + 1
    said(err, "templates/page.html.j2", line, "link.not-allowed",
         "a link that leaves the web and the brief (javascript:): 'javascript:void(0)' "
         "(in brief.html)", col_of(page, line, "javascript:void(0)"))


@pytest.mark.parametrize("style", ['<style>body {{ background: url("http://{server}/x") }}'
                                   '</style>', '<style>@import "//{server}/x.css";</style>',
                                   '<p style="background:url(file:///etc/hostname)">x</p>'])
def test_12_a_style_in_a_template_that_fetches_is_reported_there(
        project: Path, server: tuple[str, list[str]], style: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    address, seen = server
    templates = project / "templates"
    shutil.copytree(Path(__file__).parent.parent / "src/policybrief/templates", templates, symlinks=True)
    page = templates / "page.html.j2"
    page.write_text(page.read_text("utf-8").replace(
        "</body>", style.format(server=address) + "\n</body>"), "utf-8")
    assert run(project, "build", "--format", "html") == 1
    err = capsys.readouterr().err
    line = page.read_text("utf-8").split(style.format(server=address))[0].count("\n") + 1
    target = re.search(r"url\(\"?([^\")]+)|@import \"([^\"]+)", style.format(server=address))
    assert target is not None
    url = target.group(1) or target.group(2)
    assert err.startswith(f"templates/page.html.j2:{line}:"), err
    said(err, "templates/page.html.j2", line, "link.not-allowed", "a ", col_of(page, line, url))
    assert f"'{url}' (in brief.html)" in err
    assert seen == [] and not (project / "build" / "brief.html").exists()


# --- 13. the same bytes for any number of layout processes -----------------------------


def test_13_pdf_bytes_do_not_depend_on_the_number_of_layout_processes(real: Path,
                                                                      tmp_path: Path) -> None:
    """The real brief (cut into several parts, at forced page breaks and by size), laid
    out by 1, 2 and 4 processes: the same bytes."""
    digests = {}
    for count in (1, 2, 4):
        root = tmp_path / f"w{count}"
        shutil.copytree(real, root, symlinks=True)
        env = {**os.environ, "POLICYBRIEF_PDF_WORKERS": str(count),
               "SOURCE_DATE_EPOCH": "1700000000"}
        subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root), "-q",
                        "build", "--format", "pdf"], check=True, env=env, timeout=300)
        digests[count] = hashlib.sha256((root / "build/brief.pdf").read_bytes()).hexdigest()
    assert digests[1] == digests[2] == digests[4]


# --- the property: hostile URLs, keys and paths ------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SCHEMES = ["javascript:", "JavaScript:", " javascript:", "java\tscript:", "file:", "data:",
           "vbscript:", "http:", "https:", "mailto:", "ftp:", "", "//", "\\\\", "/\\", "%6a"
           "avascript:", "\u0000javascript:", "blob:"]
TAILS = ["", "//127.0.0.1:9/x", "///etc/hostname", "alert(1)", "../secret.txt",
         "{secret}", "x.org/a", "\\\\host\\share", "#frag", "%2e%2e/secret.txt",
         "text/html,<script>x</script>", "a@b.org"]
SAFE = ["https://example.org/a?b=c#d", "mailto:a@example.org", "#fig-timeline",
        "http://127.0.0.1:9/x"]
KEYS = st.text(st.sampled_from("aZ09_-.:/\\ %~"), min_size=1, max_size=12)
FILES = st.sampled_from(["../secret.txt", "{secret}", "seeds/../../secret.txt",
                         "seeds/link.md", "seeds/%2e%2e/secret.txt", "seeds\\..\\secret.txt",
                         "seeds/ok.md"])


def allowed_in_output(target: str, name: str, present: set[str]) -> bool:
    """An oracle written apart from links.py: what an output may point at."""
    import posixpath
    from urllib.parse import unquote, urlsplit

    text = re.sub(r"[\t\n\r]", "", target.strip("".join(map(chr, range(33)))))
    if "\\" in text:
        return False
    if text.startswith("#") or re.match(r"(?i)mailto:", text):
        return True
    if re.match(r"(?i)https?://[^/?#]+", text):
        return True
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) or text.startswith("/"):
        return False
    path = posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                             unquote(urlsplit(text).path)))
    return path in present


@pytest.fixture(scope="module")
def hostile_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    root = make_tiny(base / "p")
    (root / "seeds" / "ok.md").write_text("# Ok\n\nA paragraph of the source.\n", "utf-8")
    assert run(root, "build", "--format", "html") == 0
    return base


@settings(max_examples=16, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(url=st.sampled_from(SAFE) | st.builds(str.__add__, st.sampled_from(SCHEMES),
                                              st.sampled_from(TAILS)),
       entry=st.none() | st.tuples(KEYS, FILES),
       where=st.sampled_from(["section", "url", "title", "caption"]))
def test_hostile_urls_keys_and_paths_never_reach_an_output(
        hostile_base: Path, tmp_path_factory: pytest.TempPathFactory, url: str,
        entry: tuple[str, str] | None, where: str, capsys: pytest.CaptureFixture[str]
        ) -> None:
    from lxml import html as lhtml

    base = tmp_path_factory.mktemp("case")
    shutil.copytree(hostile_base, base, dirs_exist_ok=True, symlinks=True)
    root = base / "p"
    secret = base / "secret.txt"
    secret.write_bytes(CANARY)
    url = url.replace("{secret}", str(secret))
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    if where == "section":
        write(root / "report/sections/01-background.md",
              background(f"See [this]({url}).[@rasanah2024rifts, \u00b6 3]"))
    elif where == "url":
        add_entry(root, f"@online{{h, title={{H}}, url={{{url}}}}}\n")
    elif where == "title":
        meta = root / "report" / "brief.yaml"
        meta.write_text(re.sub(r"(?m)^title: .*$", lambda _: f'title: "[t]({quoted})"',
                               meta.read_text("utf-8")), "utf-8")
    else:
        write(root / "report" / "timeline.yaml",
              f'caption: "[c]({quoted})"\n' + TIMELINE.format(date="2023-10"))
    if entry is not None:
        key, file = entry[0], entry[1].replace("{secret}", str(secret))
        if file == "seeds/link.md":  # a symbolic link in seeds/ to the canary
            os.symlink(secret, root / "seeds" / "link.md")
        add_entry(root, f"@online{{{key}, title={{K}}, file={{{file}}}}}\n")
    before = tree(base, skip="p/build")
    capsys.readouterr()
    code = run(root, "build", "--format", "html,docx")
    err = capsys.readouterr().err
    assert code in (0, 1) and "Traceback" not in err and "internal error" not in err, err
    if code == 1:  # at a file, a line and a column, under a registered rule
        found = re.match(r"[\w./-]+:\d+:\d+: error\[([\w.-]+)\]: ", err)
        assert found and found.group(1) in RULES, err
    assert CANARY.decode() not in err  # not even as the line a message shows
    assert tree(base, skip="p/build") == before
    build = root / "build"
    files = {p.relative_to(build).as_posix(): p for p in build.rglob("*") if p.is_file()}
    present = set(files) | {re.sub(r"^\.builds/[^/]+/", "", n) for n in files}
    for name, path in files.items():
        data = path.read_bytes()
        assert CANARY not in data, name
        if name.endswith(".html"):
            page = lhtml.fromstring(data)
            for element in page.iter():
                for attr in ("href", "src"):
                    value = element.get(attr) if isinstance(element.tag, str) else None
                    if value is not None and not value.startswith("data:image/"):
                        assert allowed_in_output(value, name, present), (name, value)
        elif name.endswith(".docx"):
            with zipfile.ZipFile(path) as package:
                rels = package.read("word/_rels/document.xml.rels").decode("utf-8")
            for target in re.findall(r'Target="([^"]*)"[^>]*TargetMode="External"', rels):
                assert allowed_in_output(target, name, set()), (name, target)
