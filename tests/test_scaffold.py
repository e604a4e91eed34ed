"""Starting and growing a project: brief init, new-section, templates, completion, stubs."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lhtml
from pypdf import PdfReader

from policybrief import pipeline, scaffold, schemas
from policybrief.assembly import default_templates
from policybrief.cli import main
from policybrief.errors import BriefError, ContentError
from policybrief.model import Project
from policybrief.sections import read_section, strip_comments

from conftest import BIB, RASANAH, SEEDS, WIKIPEDIA, write

TITLE = "Water security in the Jordan basin"
STUB_TITLES = ("Key judgments", "Background", "Opportunities", "Challenges", "Scenarios",
               "Implications", "Sources and method")
STUB_WORDS = ("status: stub", "source-key", "exact words from the source", "Delete this comment",
              "The first motive", "lorem ipsum")

FILLED = """\
---
kind: "motives"
title: "Why the Framework split"
items:
  - title: "A Framework divided by the Gaza war"
    text: |
      The Coordination Framework split over how far to escalate against US targets.
    citations:
      - key: "rasanah2024rifts"
        quote: "revealed a stark division among Shiite groups"
---
<!-- Optional: a paragraph under the section heading, before the items, that introduces
     them. Cite inline as `[@key, quote "exact words from the source"]`.
     Delete this comment when you fill in the section. -->
The history of the rivalry runs through the civil war.[@wikipedia-sadrist-khomeinist, quote "Iraqi Shia militias disagreed over Iran"]
"""


def init(path: Path, *args: str) -> Path:
    assert main(["init", str(path), *args]) == 0
    return path


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return init(tmp_path / "water-brief", "--title", TITLE)


def with_sources(root: Path) -> Path:
    for name in (RASANAH, WIKIPEDIA):
        shutil.copy(SEEDS / name, root / "seeds" / name)
    with (root / "bibliography.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n" + BIB)
    return root


def html_text(path: Path) -> str:
    return " ".join(lhtml.parse(str(path)).getroot().body.text_content().split())


# --- brief init ----------------------------------------------------------------------


def test_init_lays_out_a_project(fresh: Path) -> None:
    files = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    assert files == [".gitignore", "Makefile", "README.md", "bibliography.bib",
                     "report/_house.yaml", "report/brief.yaml",
                     *[f"report/sections/{i:02d}-{kind}.md"
                       for i, (kind, _) in enumerate(scaffold.STARTER, start=1)],
                     "seeds/README.md", "templates/README.md"]
    yaml = (fresh / "report" / "brief.yaml").read_text("utf-8")
    assert f'title: "{TITLE}"' in yaml
    assert re.search(r'^date: "\d{4}-\d{2}-\d{2}"', yaml, re.M)
    assert "__" not in yaml  # every placeholder filled
    # the institution is the house style's: nothing in brief.yaml shadows _house.yaml
    assert not re.search(r"^institution:", yaml, re.M)
    assert re.search(r'^institution: "Analysis Desk"', (fresh / "report/_house.yaml")
                     .read_text("utf-8"), re.M)
    for name in ("Makefile", "README.md"):
        assert "__" not in (fresh / name).read_text("utf-8")
    makefile = (fresh / "Makefile").read_text("utf-8")
    assert re.search(r"^BRIEF \?= ", makefile, re.M)
    for target in ("brief", "html", "docx", "all", "check", "watch", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "lorem" not in "".join(p.read_text("utf-8").lower() for p in fresh.rglob("*")
                                  if p.is_file())


def test_every_stub_is_a_stub_of_its_kind(fresh: Path) -> None:
    for i, (kind, title) in enumerate(scaffold.STARTER, start=1):
        path = fresh / "report" / "sections" / f"{i:02d}-{kind}.md"
        section, findings = read_section(path, path.name)
        assert section is None
        assert [f.rule for f in findings] == ["section.stub"]
        text = path.read_text("utf-8")
        assert f'kind: "{kind}"' in text and f'title: "{title}"' in text
        assert "<!--" in text  # the body says what belongs there


@pytest.mark.parametrize("kind", schemas.KINDS)
def test_a_filled_in_stub_has_every_required_field(kind: str, tmp_path: Path) -> None:
    """Deleting `status: stub` leaves valid front matter: only the starter key fails."""
    text = scaffold.stub_text(kind, "A title").replace("status: stub\n", "")
    path = write(tmp_path / "s.md", text)
    section, findings = read_section(path, "s.md")
    assert findings == [] and section is not None
    assert {c.key for c in section.citations} <= {"source-key"}


def test_init_builds_a_cover_at_once(fresh: Path) -> None:
    assert main(["-C", str(fresh), "-q", "build"]) == 0
    for name in ("brief.pdf", "brief.html", "brief.docx"):
        assert (fresh / "build" / name).stat().st_size > 1000
    text = html_text(fresh / "build" / "brief.html")
    assert TITLE in text and "This brief has no sections yet" in text
    for title in STUB_TITLES:
        assert title not in text
    pdf = "\n".join(p.extract_text() or "" for p in PdfReader(fresh / "build" / "brief.pdf").pages)
    assert "Water security in the Jordan" in pdf and "This brief has no sections yet" in pdf


def test_init_title_from_the_folder(tmp_path: Path) -> None:
    root = init(tmp_path / "water-brief")
    assert 'title: "Water brief"' in (root / "report" / "brief.yaml").read_text("utf-8")


def test_init_refuses_a_folder_with_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / ".git").mkdir()  # hidden files are fine
    init(tmp_path / "x")
    assert main(["init", str(tmp_path / "x")]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_a_new_project_has_no_warnings_but_its_stubs(fresh: Path) -> None:
    checked = pipeline.check(Project(fresh))
    assert [f.rule for f in checked.findings] == ["section.stub"] * len(scaffold.STARTER)
    assert checked.brief.sections == ()


def test_check_lists_the_stubs(fresh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(fresh), "-q", "check"]) == 0
    err = capsys.readouterr().err
    for i, (kind, title) in enumerate(scaffold.STARTER, start=1):
        rel = f"report/sections/{i:02d}-{kind}.md"
        line = (fresh / rel).read_text("utf-8").split("\n").index("status: stub") + 1
        assert f"{rel}:{line}:1: warning[section.stub]: section '{title}' is still a stub, " \
               f"so it is left out of the build\n    {line} | status: stub\n" in err
    assert err.count("hint: fill it in") == len(scaffold.STARTER)
    assert main(["-C", str(fresh), "-q", "check", "--strict"]) == 1


def test_a_new_brief_shows_no_empty_appendix_or_bibliography(fresh: Path) -> None:
    assert main(["-C", str(fresh), "-q", "build", "-f", "html"]) == 0
    text = html_text(fresh / "build" / "brief.html")
    assert "This brief has no sections yet" in text
    for words in ("Evidence appendix", "Coverage:", "0 of 0", "Bibliography"):
        assert words not in text, words


# --- stubs are left out ----------------------------------------------------------------


def test_stubs_are_left_out_of_every_output(fresh: Path) -> None:
    with_sources(fresh)
    write(fresh / "report" / "sections" / "03-motives.md", FILLED)
    checked = pipeline.check(Project(fresh))
    assert [s.title for s in checked.brief.sections] == ["Why the Framework split"]
    assert main(["-C", str(fresh), "-q", "build"]) == 0
    page = lhtml.parse(str(fresh / "build" / "brief.html")).getroot()
    headings = [" ".join(h.text_content().split()) for h in page.iter("h2", "h3")]
    assert "Why the Framework split" in headings
    assert "A Framework divided by the Gaza war" in headings
    assert not set(STUB_TITLES) & set(headings)
    outputs = {
        "html": html_text(fresh / "build" / "brief.html"),
        "pdf": "\n".join(p.extract_text() or ""
                         for p in PdfReader(fresh / "build" / "brief.pdf").pages),
        "docx": "\n".join(p.text for p in __import__("docx").Document(
            str(fresh / "build" / "brief.docx")).paragraphs),
    }
    for name, text in outputs.items():
        assert "This brief has no sections yet" not in text, name
        for words in STUB_WORDS:
            assert words.lower() not in text.lower(), (name, words)
        assert "Optional: a paragraph" not in text, name  # the stub's comment


def test_comments_are_removed_and_lines_kept() -> None:
    body = "a\n<!-- one\ntwo -->\nb `<!-- shown -->` c\n<!--x-->d"
    assert strip_comments(body) == "a\n\n\nb `<!-- shown -->` c\nd"


def test_a_quote_after_a_comment_is_reported_at_its_line(fresh: Path) -> None:
    with_sources(fresh)
    text = FILLED.replace("runs through the civil war", "runs").replace(
        "disagreed over Iran", "agreed over Iran")
    write(fresh / "report" / "sections" / "03-motives.md", text)
    with pytest.raises(ContentError) as raised:
        pipeline.check(Project(fresh))
    [finding] = [f for f in raised.value.findings if f.rule == "quote.not-found"]
    assert finding.line == text.split("\n").index(
        next(row for row in text.split("\n") if "agreed over Iran" in row)) + 1


def test_an_unfilled_stub_without_its_status_fails_on_the_starter_key(fresh: Path) -> None:
    path = fresh / "report" / "sections" / "03-motives.md"
    path.write_text(path.read_text("utf-8").replace("status: stub\n", ""), "utf-8")
    with pytest.raises(ContentError) as raised:
        pipeline.check(Project(fresh))
    assert {f.rule for f in raised.value.findings} == {"citation.unknown-key"}
    assert "'source-key'" in str(raised.value)


# --- brief new-section ---------------------------------------------------------------


def test_new_section_is_numbered_and_listed(fresh: Path) -> None:
    yaml = fresh / "report" / "brief.yaml"
    before = yaml.read_text("utf-8")
    assert main(["-C", str(fresh), "new-section", "motives", "Why now"]) == 0
    path = fresh / "report" / "sections" / "10-why-now.md"
    text = path.read_text("utf-8")
    assert 'kind: "motives"' in text and 'title: "Why now"' in text and "status: stub" in text
    after = yaml.read_text("utf-8")
    # one line added after the last item; comments and everything else as they were
    assert after.split("\n") == before.replace(
        '  - "09-method.md"\n', '  - "09-method.md"\n  - "10-why-now.md"\n').split("\n")
    assert main(["-C", str(fresh), "new-section", "scenarios", "What could happen"]) == 0
    assert (fresh / "report" / "sections" / "11-what-could-happen.md").is_file()
    checked = pipeline.check(Project(fresh))
    assert checked.brief.meta["sections"][-2:] == ["10-why-now.md", "11-what-could-happen.md"]
    assert [f.rule for f in checked.findings] == ["section.stub"] * 11


def test_new_section_numbers_after_the_highest(tiny: Path) -> None:
    write(tiny / "report" / "sections" / "07-notes.md", "---\nkind: background\ntitle: N\n---\n")
    added = scaffold.new_section(Project(tiny), "challenges", "Hurdles & risks")
    assert added.path == "report/sections/08-hurdles-risks.md"


@pytest.mark.parametrize(("yaml", "expected"), [
    ('title: "t"\nsections:\n  - "a.md"\n  # more to come\nlanguage: "en"\n',
     'title: "t"\nsections:\n  - "a.md"\n  - "b.md"\n  # more to come\nlanguage: "en"\n'),
    ("sections:\n- 'a.md'\n\n- 'c.md'  # last\n", "sections:\n- 'a.md'\n\n- 'c.md'  # last\n- 'b.md'\n"),
    ("sections:\n    - a.md\n", "sections:\n    - a.md\n    - b.md\n"),
    ("sections:  # the order\ntitle: x\n", 'sections:  # the order\n  - "b.md"\ntitle: x\n'),
    ('title: "t"', 'title: "t"\nsections:\n  - "b.md"\n'),
])
def test_append_section_edits_one_line(yaml: str, expected: str) -> None:
    assert scaffold.append_section(yaml, "b.md") == expected


def test_append_section_refuses_a_flow_list() -> None:
    with pytest.raises(BriefError, match="one line") as raised:
        scaffold.append_section('title: "t"\nsections: ["a.md"]\n', "b.md")
    assert raised.value.line == 2


def test_new_section_unknown_kind_is_a_usage_error(fresh: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(fresh), "new-section", "motive", "Why now"]) == 2
    err = capsys.readouterr().err
    assert "'motive' is not a section kind" in err and "did you mean 'motives'?" in err
    assert not (fresh / "report" / "sections" / "10-why-now.md").exists()


def test_new_section_outside_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "new-section", "motives", "Why now"]) == 2
    assert "no brief project" in capsys.readouterr().err


# --- brief templates -----------------------------------------------------------------


def test_templates_list(fresh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(fresh), "templates", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    for name in ("brief.md.j2", "page.html.j2", "print.css", "screen.css", "brief.css",
                 "sections/motives.md.j2", "source.html.j2"):
        assert name in rows and " default " in rows[name]
    assert "The PDF: CSS paged media for WeasyPrint" in rows["print.css"]
    assert 'Section kind "motives"' in rows["sections/motives.md.j2"]
    assert [name for name in rows if name.startswith("fonts/")] == ["fonts/fonts.css"]
    assert main(["-C", str(fresh), "-q", "templates", "copy", "print.css"]) == 0
    capsys.readouterr()
    assert main(["-C", str(fresh), "templates", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert " copied " in rows["print.css"] and " default " in rows["brief.css"]


def test_templates_copy(fresh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = ["-C", str(fresh)]
    assert main([*project, "templates", "copy", "print.css", "sections"]) == 0
    assert filecmp.cmp(fresh / "templates" / "print.css", default_templates() / "print.css",
                       shallow=False)
    assert (fresh / "templates" / "sections" / "scenarios.md.j2").is_file()
    assert "wrote templates/print.css" in capsys.readouterr().out
    (fresh / "templates" / "print.css").write_text("/* mine */\n", "utf-8")
    assert main([*project, "templates", "copy", "print.css"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (fresh / "templates" / "print.css").read_text("utf-8") == "/* mine */\n"
    assert main([*project, "templates", "copy", "--force", "print.css"]) == 0
    assert (fresh / "templates" / "print.css").read_text("utf-8") != "/* mine */\n"
    assert main([*project, "templates", "copy", "prnt.css"]) == 2
    assert "did you mean 'print.css'?" in capsys.readouterr().err
    assert main([*project, "-q", "build", "--format", "html"]) == 0  # the copies work


def test_templates_copy_fonts_brings_the_faces(fresh: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """docs/templates.md tells users to copy fonts/fonts.css: it comes with its faces."""
    assert main(["-C", str(fresh), "templates", "copy", "fonts/fonts.css"]) == 0
    out = capsys.readouterr().out
    fonts = fresh / "templates" / "fonts"
    named = re.findall(r'url\("([^"]+)"\)', (fonts / "fonts.css").read_text("utf-8"))
    assert len(named) >= 9
    for name in [*named, "OFL.txt"]:
        assert filecmp.cmp(fonts / name, default_templates() / "fonts" / name, shallow=False)
        assert f"wrote templates/fonts/{name}" in out
    assert not (fonts / "webfonts.py").exists()
    assert main(["-C", str(fresh), "-q", "build", "-f", "pdf"]) == 0
    assert "`brief templates\ncopy fonts/fonts.css`" in \
        (Path(__file__).parent.parent / "docs" / "templates.md").read_text("utf-8")


# --- brief completion ----------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert "_BRIEF_COMPLETE" in out and f"{shell}_complete" in out


def test_completion_completes_kinds_and_commands(
        capsys: pytest.CaptureFixture[str]) -> None:
    env = {**os.environ, "_BRIEF_COMPLETE": "bash_complete", "COMP_WORDS": "brief new-section mo",
           "COMP_CWORD": "2"}
    code = "import sys; from policybrief.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "plain,motives" in done.stdout.split()
    env.update(COMP_WORDS="brief new", COMP_CWORD="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "plain,new-section" in done.stdout.split()
    env = {**os.environ, "_BRIEF_COMPLETE": "bash_source"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert main(["completion", "bash"]) == 0
    assert done.stdout == capsys.readouterr().out  # the same script as click's own


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_the_makefile_runs_brief(fresh: Path) -> None:
    done = subprocess.run(["make", "-n", "-C", str(fresh), "brief", "BRIEF=brief"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "brief build --format pdf" in done.stdout


def test_init_writes_a_portable_project(fresh: Path, tmp_path: Path) -> None:
    """Nothing of this machine in what `brief init` writes: no absolute path (not the
    folder it was made in, not the environment brief runs from)."""
    machine = {str(fresh), str(tmp_path), sys.prefix, sys.executable,
               str(Path(sys.executable).parent), str(Path.home()), os.getcwd()}
    for path in fresh.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            for found in machine:
                assert found not in text, f"{path.name} names {found}"
            assert not re.search(r"(?<![\w.~])/(?:home|usr|opt|tmp|root|work|var)/", text), \
                path.name


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_the_makefile_works_in_another_folder(fresh: Path, tmp_path: Path) -> None:
    """Moved elsewhere, `make` runs the brief on PATH; without one, it says what to do."""
    moved = tmp_path / "elsewhere" / "moved-brief"
    moved.parent.mkdir()
    shutil.move(fresh, moved)
    bin_dir = str(Path(sys.executable).parent)  # this environment's brief
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not (Path(p) / "brief").exists())
    done = subprocess.run(["make", "-C", str(moved), "brief"],
                          env={**os.environ, "PATH": os.pathsep.join([bin_dir, path])},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (moved / "build" / "brief.pdf").stat().st_size > 1000
    done = subprocess.run(["make", "-C", str(moved), "check"], env={**os.environ,
                          "PATH": path}, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no 'brief' command on PATH" in done.stderr and "make BRIEF=" in done.stderr
