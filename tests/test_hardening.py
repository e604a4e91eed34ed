"""Hardening: tricky YAML kept as written, huge sources, limits, the same bytes every time,
pinned tools, and arbitrary input raising only the project's own errors."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policybrief import citations
from policybrief.commands.cli import main
from policybrief.errors import BriefError
from policybrief.load import frontmatter, sections
from policybrief.render import pandoc, rendering

from conftest import make_tiny


@pytest.mark.parametrize("written", ["NO", "1.10", "012345", "12:30", "yes", "~x", "0x1F",
                                     "2024-05-20", ".inf", "null!"])
def test_yaml_scalars_stay_as_written(written: str) -> None:
    doc = frontmatter.parse(f"title: {written}\nseries:\n  number: {written}\n", "x.yaml")
    assert doc.data == {"title": written, "series": {"number": written}}


def test_tricky_title_reaches_the_outputs_unchanged(tiny: Path) -> None:
    brief = tiny / "report/brief.yaml"
    brief.write_text(brief.read_text("utf-8").replace('  number: "7"', "  number: 012345")
                     .replace('title: "Rifts in Iraq\'s Shia camp"', "title: NO"), "utf-8")
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0
    html = (tiny / "build/brief.html").read_text("utf-8")
    assert "<title>NO</title>" in html and "No. 012345" in html


def test_source_over_the_size_limit_is_refused(tiny: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    seed = tiny / "seeds/sadrist-khomeinist-conflict.wikipedia.txt"
    with open(seed, "r+b") as handle:  # 20 MB, sparse: costs no disk
        handle.truncate(20 * 2**20)
    assert main(["-C", str(tiny), "-q", "check"]) == 1
    assert "seeds/sadrist-khomeinist-conflict.wikipedia.txt:1:1: error[source.unreadable]: " \
           "source is 20.0 MB; the limit is 10 MB" in capsys.readouterr().err


def test_pdf_layout_past_its_time_limit_is_an_error(tiny: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0
    before = (tiny / "build/brief.html").stat().st_mtime_ns
    monkeypatch.setattr(rendering, "PDF_SECONDS", 0.05)
    assert main(["-C", str(tiny), "-q", "build"]) == 1
    err = capsys.readouterr().err
    assert "laying out the PDF took longer than 0.05 s" in err
    # no file and line: the layout is no one line's (not a made-up "report/sections:1")
    assert err.startswith("error[render]: laying out the PDF") and "POLICYBRIEF_PDF_" in err
    assert (tiny / "build/brief.html").stat().st_mtime_ns == before
    assert not (tiny / "build/brief.pdf").exists()


def test_pandoc_is_at_least_the_pinned_version() -> None:
    assert pandoc.version() >= pandoc.MINIMUM, f"pandoc {pandoc.version()} is older than " \
        f"the pinned {pandoc.MINIMUM}"


def hashes(build: Path) -> dict[str, str]:
    return {name: hashlib.sha256((build / name).read_bytes()).hexdigest()
            for name in ("brief.pdf", "brief.html", "brief.docx")}


@pytest.mark.slow
def test_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    """Two builds, in different folders, time zones and seconds: identical outputs."""
    results = []
    for n, zone in enumerate(("UTC", "Asia/Baghdad")):
        root = make_tiny(tmp_path / f"copy{n}")
        env = {**os.environ, "TZ": zone, "SOURCE_DATE_EPOCH": "1716163200"}
        subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root), "-q",
                        "build"], check=True, env=env, timeout=180)
        results.append(hashes(root / "build"))
        time.sleep(1.1)
    assert results[0] == results[1]


@pytest.mark.slow
def test_epoch_defaults_to_the_last_commit(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    env = {**os.environ, "GIT_COMMITTER_DATE": "2024-05-20T00:00:00Z",
           "GIT_AUTHOR_DATE": "2024-05-20T00:00:00Z"}
    subprocess.run([*git, "commit", "-qm", "x"], cwd=root, check=True, env=env)
    from policybrief.model import Project
    from policybrief.pipeline import source_epoch

    environ = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    old = os.environ.copy()
    os.environ.clear()
    os.environ.update(environ)
    try:
        assert source_epoch(Project(root)) == 1716163200
    finally:
        os.environ.clear()
        os.environ.update(old)


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
yamlish = st.text(alphabet=st.sampled_from(list("ab:- \n'\"[]{}&*!|>#%@`,?~\t0123456789é¶")),
                  max_size=200)


@FUZZ
@given(text=st.one_of(yamlish, st.text(max_size=200)))
def test_front_matter_raises_only_brief_errors(text: str) -> None:
    with contextlib.suppress(BriefError):
        frontmatter.parse(text, "x.yaml")
    with contextlib.suppress(BriefError):
        frontmatter.split("---\n" + text + "\n---\nbody", "x.md")


# Pieces of the YAML a brief is written in: keys, lists, block scalars, quotes, and the
# brackets of pandoc spans ([text]{.own}) and of flow collections ([a, b]).
yaml_pieces = st.lists(st.sampled_from([
    "a: ", "\nz: ", "\n  k: ", "\n- ", "\n  - ", "- ", "|\n  ", ">-\n    ", "\n", "\n  ",
    "\n    ", " ", "plain", "a:b", "Qa'ani", '"a b"', "'it''s'", '"', "'", "[", "]", "{",
    "}", "[x]{.own}", ", ", ",", ":", "? ", " #c", "-x", "http://x", "1", "yes", "~",
    "é", "’", "@", "`", ">", "|"]), max_size=10).map("".join)
yaml_documents = st.tuples(st.sampled_from([
    "{}", "a: {}\nz: 1\n", "a: |\n  {}\nz: 1\n", "l:\n  - {}\n  - x\n", "a:\n  {}\n",
    "k: [{}]\nz: 1\n", "k: {{{}}}\n"]), yaml_pieces).map(lambda t: t[0].format(t[1]))


def _parsed(text: str) -> object:
    try:
        doc = frontmatter.parse(text, "x.yaml")
    except BriefError as exc:
        return exc.finding()
    return doc.data, doc.lines, doc.cols


def _loaded(text: str) -> object:
    try:
        return frontmatter.safe_load(text)
    except Exception as exc:  # noqa: BLE001 — compared, not raised (libyaml's marks
        return type(exc).__name__  # quote no line of the text: only the kind is compared)


@settings(max_examples=1000, deadline=None)
@given(text=yaml_documents)
def test_libyaml_reads_front_matter_as_the_python_loader_does(text: str) -> None:
    """libyaml is taken only where it cannot differ: the same data, lines and columns,
    or the same message, as with the pure-Python loader alone; and for safe_load (the
    claim checks' names), the same data or the same error as yaml.safe_load."""
    fast = _parsed(text), _loaded(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontmatter, "_C_LOADER", None)
        assert (_parsed(text), _loaded(text)) == fast
    assert fast[1] == _loaded_by_pyyaml(text)


def _loaded_by_pyyaml(text: str) -> object:
    import yaml

    try:
        return yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 — compared, not raised
        return type(exc).__name__


def test_libyaml_takes_a_bracket_in_a_block_scalar_not_a_flow_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A pandoc span in a block scalar goes through libyaml; a flow list does not."""
    import yaml

    fast: list[str] = []
    slow: list[str] = []

    class C(yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        def __init__(self, stream: str) -> None:
            fast.append(stream)
            super().__init__(stream)

    class Python(frontmatter._Loader):
        def __init__(self, stream: str) -> None:
            slow.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(frontmatter, "_C_LOADER", C)
    monkeypatch.setattr(frontmatter, "_Loader", Python)
    span = "text: |\n  [Sadr returns.]{.own} He did.\n"
    assert frontmatter.parse(span, "x.yaml").data == {"text": "[Sadr returns.]{.own} He did.\n"}
    flow = 'variants: ["Nuri", "Nouri"]\n'
    assert frontmatter.parse(flow, "x.yaml").data == {"variants": ["Nuri", "Nouri"]}
    assert fast == [span, flow] and slow == [flow]  # the flow list read again, in Python


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("[]@;,\"“”¶-a1 q\\`{}.:")) |
                    st.characters(), max_size=200))
def test_citation_parser_never_raises(text: str) -> None:
    cites, _problems = citations.parse(text)
    for cite in cites:
        assert cite.key
    rewritten = citations.to_pandoc(text, lambda c: (c.locator, None))
    assert 'quote "' not in rewritten or 'quote "' in text


@FUZZ
@given(body=st.text(max_size=300), kind=st.sampled_from(["background", "motives", "x"]))
def test_section_reader_raises_only_brief_errors(tmp_path: Path, body: str, kind: str) -> None:
    path = tmp_path / "s.md"
    path.write_text(f'---\nkind: {kind}\ntitle: "T"\n---\n{body}', "utf-8")
    with contextlib.suppress(BriefError):
        sections.read_section(path, "s.md")


def test_copy_of_the_repository_templates_is_used_first(tiny: Path) -> None:
    templates = tiny / "templates" / "sections"
    templates.mkdir(parents=True)
    shutil.copy(Path(__file__).parent.parent / "src/policybrief/templates/sections/_heading.md.j2",
                templates / "_heading.md.j2")
    heading = templates / "_heading.md.j2"
    heading.write_text(heading.read_text("utf-8").replace("## {{ section.title }}",
                                                          "## Overridden: {{ section.title }}"),
                       "utf-8")
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0
    assert "Overridden: Background" in (tiny / "build/brief.html").read_text("utf-8")


def test_pandoc_failure_names_the_section(tiny: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A warning pandoc fails on (a duplicate note) is reported at the section's file."""
    motives = tiny / "report/sections/02-motives.md"
    motives.write_text(motives.read_text("utf-8") + "\nSee this.[^a] [@rasanah2024rifts, ¶ 3]"
                       "\n\n[^a]: one\n\n[^a]: two\n", "utf-8")
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 1
    err = capsys.readouterr().err
    assert "report/sections/02-motives.md:" in err
    assert "Duplicate note reference" in err


def test_a_bound_inside_another_says_why_the_outer_one_stopped() -> None:
    """The PDF's layout in the build's own process runs under two bounds (the layout's
    and each part's): whichever watchdog fires first, the error names its limit."""
    import time

    from policybrief.errors import RenderError
    from policybrief.render import limits

    with pytest.raises(RenderError, match=r"laying out the PDF took longer than 0\.1 s"), \
            limits.bounded(0.1, 10**6, "laying out the PDF"), \
            limits.bounded(60, 10**6, "laying out a part"):
        time.sleep(2)
    with pytest.raises(RenderError, match=r"laying out a part took longer than 0\.1 s"), \
            limits.bounded(60, 10**6, "laying out the PDF"), \
            limits.bounded(0.1, 10**6, "laying out a part"):
        time.sleep(2)


def test_a_stop_swallowed_once_is_sent_again() -> None:
    """A stop may land where it is swallowed (a finalizer run by the garbage collector):
    the watchdog sends it again until the body stops."""
    import time

    from policybrief.errors import RenderError
    from policybrief.render import limits

    swallowed = []

    def busy(seconds: float) -> None:  # Python at work, as a layout is
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    def body() -> None:
        with limits.bounded(0.1, 10**6, "laying out the PDF"):
            try:
                busy(5)
            except limits._Stop:
                swallowed.append(1)  # as a __del__ would: carry on
            busy(5)

    with pytest.raises(RenderError, match=r"took longer than 0\.1 s"):
        body()
    assert swallowed == [1]


def test_a_stop_that_lands_as_a_bound_starts_leaves_no_watchdog(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop of the bound around (its watchdog fires again and again) may land while
    the bound inside it is being set up, as its watchdog starts: the stop goes to the
    bound that fired, and the inner one leaves neither its handler nor its watchdog,
    which would send its stop every half second, for good, to whatever runs next under
    a bound (on a busy CI, every later PDF laid out in the test process failed with
    "laying out the PDF was interrupted", and pytest itself was stopped at its end)."""
    import signal
    import threading
    import time

    from policybrief.errors import RenderError
    from policybrief.render import limits

    start = threading.Thread.start
    starts: list[str] = []

    def slow_start(self: threading.Thread) -> None:
        start(self)
        starts.append(self.name)
        if self.name == "policybrief-limits" and len(starts) == 2:  # the inner bound's
            end = time.monotonic() + 5
            while time.monotonic() < end:  # (Python at work: the outer stop lands here)
                pass

    monkeypatch.setattr(threading.Thread, "start", slow_start)
    before = signal.getsignal(signal.SIGUSR1)
    with pytest.raises(RenderError, match=r"laying out the PDF took longer than 0\.1 s"), \
            limits.bounded(0.1, 10**6, "laying out the PDF"), \
            limits.bounded(60, 10**6, "laying out a part"):
        time.sleep(5)
    monkeypatch.undo()
    assert starts == ["policybrief-limits", "policybrief-limits"]
    assert signal.getsignal(signal.SIGUSR1) is before
    assert limits._DEPTH == []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            t.name == "policybrief-limits" for t in threading.enumerate()):
        time.sleep(0.05)
    assert [t.name for t in threading.enumerate() if t.name == "policybrief-limits"] == []
