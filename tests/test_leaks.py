"""No leaks: what a section or template points at is never fetched, embedded or run."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html as lhtml

from policybrief.commands.cli import main

from conftest import loopback, make_tiny, write

CANARY = b"canary-7f3a91c2-do-not-leak"


def background(body: str) -> str:
    return f'---\nkind: background\ntitle: "Background"\n---\n{body}\n'


def all_output_bytes(root: Path) -> bytes:
    build = root / "build"
    return b"".join(p.read_bytes() for p in build.rglob("*") if p.is_file()) \
        if build.exists() else b""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_tiny(tmp_path / "p")
    (tmp_path / "secret.txt").write_bytes(CANARY)
    return root


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it gets."""
    with loopback(CANARY, None) as (port, seen):
        yield f"http://127.0.0.1:{port}", seen


@pytest.mark.parametrize("target", ["file:///etc/hostname", "../secret.txt",
                                    "/etc/hostname", "data:text/html,<script>x</script>"])
def test_images_outside_assets_fail_the_build(project: Path, target: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "report/sections/01-background.md",
          background(f"A map.[@rasanah2024rifts, ¶ 3]\n\n![A map]({target})"))
    assert main(["-C", str(project), "-q", "build"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^report/sections/01-background\.md:7:\d+: error\[link\.not-allowed\]: an "
                     "image that is neither a data: URL nor a file in assets/", err, re.M), err
    assert CANARY not in all_output_bytes(project)
    assert not (project / "build" / "brief.pdf").exists()


def test_loopback_server_sees_no_request(project: Path, server: tuple[str, list[str]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url, seen = server
    write(project / "report/sections/01-background.md",
          background(f"A chart.[@rasanah2024rifts, ¶ 3]\n\n![A chart]({url}/canary.png)"))
    assert main(["-C", str(project), "-q", "build"]) == 1
    assert f"'{url}/canary.png'" in capsys.readouterr().err
    assert seen == []
    assert CANARY not in all_output_bytes(project)


@pytest.mark.parametrize(("markdown", "problem"), [
    ("[click](javascript:alert(1))", "a link that leaves the web and the brief"),
    ("[see](file:///etc/hostname)", "a link that leaves the web and the brief"),
    ('[hover]{onmouseover="alert(1)"}', "an 'onmouseover' handler (active content)"),
])
def test_active_links_fail_the_build(project: Path, markdown: str, problem: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "report/sections/01-background.md",
          background(f"Text {markdown} here.[@rasanah2024rifts, ¶ 3]"))
    assert main(["-C", str(project), "-q", "build"]) == 1
    assert re.search(r"^report/sections/01-background\.md:5:\d+: error\[link\.not-allowed\]: "
                     + re.escape(problem), capsys.readouterr().err, re.M)


def test_raw_html_in_a_section_stays_text(project: Path) -> None:
    write(project / "report/sections/01-background.md", background(
        'Text <script>alert("x")</script> and <img src=x onerror=alert(1)> here.'
        "[@rasanah2024rifts, ¶ 3]"))
    assert main(["-C", str(project), "-q", "build", "--format", "html"]) == 0
    page = lhtml.fromstring((project / "build/brief.html").read_bytes())
    assert not page.xpath("//script | //*[@onerror] | //main//img")
    assert "<script>alert(“x”)</script>" in page.text_content()


def test_template_cannot_attach_a_local_file_to_the_pdf(project: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    templates = project / "templates"
    shutil.copytree(Path(__file__).parent.parent / "src/policybrief/templates", templates, symlinks=True)
    page = templates / "page.html.j2"
    page.write_text(page.read_text("utf-8").replace(
        "</head>", '<link rel="attachment" href="file:///etc/hostname">\n'
                   '<style>body { background: url("file:///etc/hostname"); }</style>\n</head>'),
        "utf-8")
    assert main(["-C", str(project), "-q", "build", "--format", "pdf"]) == 1
    assert "file:///etc/hostname" in capsys.readouterr().err
    assert not (project / "build" / "brief.pdf").exists()


def test_a_failing_part_stops_a_build_with_a_process_per_part(project: Path) -> None:
    """A long brief lays each part out in a process of its own (pdf.FRESH); a part that
    fails must still end the build at once, with its message, and leave no process."""
    import subprocess
    import sys

    templates = project / "templates"
    shutil.copytree(Path(__file__).parent.parent / "src/policybrief/templates", templates, symlinks=True)
    page = templates / "page.html.j2"
    page.write_text(page.read_text("utf-8").replace(
        "</head>", '<style>body { background: url("file:///etc/hostname"); }</style>\n</head>'),
        "utf-8")
    script = ("import sys; from policybrief.commands import cli; from policybrief.render import pdf; pdf.FRESH = 0; "
              "sys.exit(cli.main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, "-C", str(project), "-q", "build",
                           "--format", "pdf"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "file:///etc/hostname" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "build" / "brief.pdf").exists()
