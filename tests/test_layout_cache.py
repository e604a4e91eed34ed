"""The layout cache (render/pdf/cache.py): an edit lays out again only the parts it
changes, and what comes out is byte for byte what a clean build makes.

Each way of breaking it is tried here: an edit of prose, an edit that adds a note (the
notes after it are numbered anew), an entry cut short, altered or naming a file outside
the project, a link planted in the cache, a cache that cannot be written, a face or
image changed under an entry, and what a killed build leaves.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from policybrief.commands.cli import main
from policybrief.render import pdf
from policybrief.render.pdf import cache as caching

from conftest import make_project

EPOCH = "1796137044"
CACHE = Path("build") / ".cache" / "layout"


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


class Spy:
    """Every layout of a part or of the running heads, done in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.laid: list[tuple[str, bool]] = []
        original = pdf._lay_out_part

        def spy(html: str, *args: Any) -> Any:
            self.laid.append((html, bool(args[-1]) if len(args) > 5 else False))
            return original(html, *args)

        monkeypatch.setattr(pdf, "WORKERS", 1)  # the layouts here, where the spy sees them
        monkeypatch.setattr(pdf, "_lay_out_part", spy)

    def parts(self) -> list[str]:
        """The parts laid out (not the running heads), and forget them."""
        found = [html for html, furniture in self.laid if not furniture]
        self.laid.clear()
        return found


def build(root: Path, *formats: str) -> None:
    assert main(["-C", str(root), "-q", "build", "--format", ",".join(formats)]) == 0


def digests(root: Path, *names: str) -> dict[str, str]:
    return {n: hashlib.sha256((root / "build" / n).read_bytes()).hexdigest() for n in names}


def clean_copy(root: Path, where: Path) -> Path:
    """The project as it is now, in another folder, without its build/."""
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("build"))
    return where


def append(path: Path, paragraph_end: str, added: str) -> None:
    """``added`` after the first paragraph of the body that ends with ``paragraph_end``."""
    text = path.read_text("utf-8")
    assert paragraph_end in text
    path.write_text(text.replace(paragraph_end, paragraph_end + added, 1), "utf-8")


@pytest.mark.slow
def test_a_prose_edit_lays_out_one_part_and_matches_a_clean_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "brief", "real")
    spy = Spy(monkeypatch)
    build(root, "pdf", "html", "docx")
    first = spy.parts()
    assert len(first) >= 10  # the cover, the contents, a part per chapter, the appendix
    motives = root / "report" / "sections" / "03-motives.md"
    # a sentence of prose after a paragraph's last citation: no note, no claim
    append(motives, 'via the Commander of the Quds Force, Ismail Qaani"].',
           " This sentence was added in review.")
    build(root, "pdf", "html", "docx")
    again = spy.parts()
    # the chapter edited; the contents too, if the chapter took a page more or less
    assert [("added in review." in html) for html in again] in ([True], [True, False])
    # the same bytes as a build from nothing
    names = ("brief.pdf", "brief.html", "brief.docx")
    fresh = clean_copy(root, tmp_path / "fresh")
    build(fresh, "pdf", "html", "docx")
    assert digests(root, *names) == digests(fresh, *names)
    assert len(spy.parts()) == len(first)
    # nothing to lay out again: the same page built from nothing, on the cache
    shutil.rmtree(fresh / "build" / ".builds")
    (fresh / "build" / "current").unlink()
    build(fresh, "pdf")
    assert spy.parts() == [] and digests(fresh, "brief.pdf") == digests(root, "brief.pdf")


def tiny_with_breaks(tmp_path: Path) -> Path:
    return make_project(tmp_path / "tiny", "tiny")


def test_a_note_adding_edit_numbers_the_later_notes_anew(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tiny_with_breaks(tmp_path)
    spy = Spy(monkeypatch)
    build(root, "pdf")
    before = spy.parts()
    background = root / "report" / "sections" / "01-background.md"
    append(background, "grew from it.",
           ' It began as a rivalry.[@wikipedia-sadrist-khomeinist, quote "Iraqi Shia '
           'militias disagreed over Iran"]')
    build(root, "pdf")
    again = spy.parts()
    # the chapter with the new note, and every part after it whose notes start later
    assert 1 < len(again) < len(before)
    assert any("counter-reset:footnote" in html for html in again)
    fresh = clean_copy(root, tmp_path / "fresh")
    build(fresh, "pdf")
    assert digests(root, "brief.pdf") == digests(fresh, "brief.pdf")


def test_layout_processes_fill_the_cache_as_this_process_does(tmp_path: Path) -> None:
    """With layout processes (this machine's default), an edit's PDF is a clean one's."""
    root = tiny_with_breaks(tmp_path)
    build(root, "pdf")
    assert len(list((root / CACHE).glob("*.pdf"))) >= 4
    motives = root / "report" / "sections" / "02-motives.md"
    motives.write_text(motives.read_text("utf-8").replace(
        "split over how far", "split, openly, over how far"), "utf-8")
    build(root, "pdf")
    fresh = clean_copy(root, tmp_path / "fresh")
    build(fresh, "pdf")
    assert digests(root, "brief.pdf") == digests(fresh, "brief.pdf")


def entries(root: Path) -> list[Path]:
    return sorted((root / CACHE).glob("*.json"))


@pytest.mark.parametrize("harm", ["pdf altered", "pdf cut short", "json cut short",
                                  "json not a record", "pages of another kind",
                                  "file outside", "pdf missing"])
def test_a_damaged_entry_is_laid_out_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           harm: str) -> None:
    root = tiny_with_breaks(tmp_path)
    spy = Spy(monkeypatch)
    build(root, "pdf")
    clean = digests(root, "brief.pdf")
    count = len(spy.parts())
    canary = tmp_path / "canary.txt"
    canary.write_text("outside the project", "utf-8")
    for entry in entries(root):
        record = json.loads(entry.read_text("utf-8"))
        pdf_file = entry.with_suffix(".pdf")
        if harm == "pdf altered":
            data = bytearray(pdf_file.read_bytes())
            data[len(data) // 2] ^= 1
            pdf_file.write_bytes(bytes(data))
        elif harm == "pdf cut short":
            pdf_file.write_bytes(pdf_file.read_bytes()[:100])
        elif harm == "json cut short":
            entry.write_text(entry.read_text("utf-8")[:40], "utf-8")
        elif harm == "json not a record":
            entry.write_text("[1, 2, 3]", "utf-8")
        elif harm == "pages of another kind":
            record["pages"] = [{"a": 1}]
            entry.write_text(json.dumps(record), "utf-8")
        elif harm == "file outside":
            record["files"].append([str(canary), hashlib.sha256(
                canary.read_bytes()).hexdigest()])
            entry.write_text(json.dumps(record), "utf-8")
        elif harm == "pdf missing":
            pdf_file.unlink()
    (root / "build" / "current").unlink()  # the PDF is made again, from the cache
    shutil.rmtree(root / "build" / ".builds")
    os.utime(canary, (0, 0))
    build(root, "pdf")
    assert len(spy.parts()) == count  # every part laid out again
    assert digests(root, "brief.pdf") == clean
    assert canary.stat().st_atime == 0  # never read
    (root / "build" / "current").unlink()
    shutil.rmtree(root / "build" / ".builds")
    build(root, "pdf")
    assert spy.parts() == []  # the entries were written anew, whole


def test_a_link_planted_in_the_cache_stops_the_build(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    root = tiny_with_breaks(tmp_path)
    build(root, "pdf")
    victim = entries(root)[0]
    outside = tmp_path / "elsewhere.json"
    outside.write_text(victim.read_text("utf-8"), "utf-8")
    victim.unlink()
    victim.symlink_to(outside)
    (root / "report" / "sections" / "01-background.md").write_text(
        (root / "report" / "sections" / "01-background.md").read_text("utf-8")
        .replace("took shape", "first took shape"), "utf-8")
    assert main(["-C", str(root), "-q", "build", "--format", "pdf"]) == 1
    err = capsys.readouterr().err
    assert f"build/.cache/layout/{victim.name}" in err and "[build.foreign]" in err
    assert outside.read_text("utf-8") == json.dumps(json.loads(outside.read_text("utf-8")))


def test_entries_from_elsewhere_are_never_used(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A project that arrives with its build/ (unpacked, copied) brings a cache whose
    entries this build cannot find: every part is laid out here."""
    root = tiny_with_breaks(tmp_path)
    spy = Spy(monkeypatch)
    build(root, "pdf")
    count = len(spy.parts())
    arrived = tmp_path / "arrived"
    shutil.copytree(root, arrived, symlinks=True)
    (arrived / "build" / "current").unlink()
    shutil.rmtree(arrived / "build" / ".builds")
    build(arrived, "pdf")
    assert len(spy.parts()) == count
    moved = tmp_path / "moved"
    root.rename(moved)  # a folder moved whole keeps its cache (the same inode)
    (moved / "build" / "current").unlink()
    shutil.rmtree(moved / "build" / ".builds")
    build(moved, "pdf")
    assert spy.parts() == []


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    root = tiny_with_breaks(tmp_path)
    fresh = clean_copy(root, tmp_path / "fresh")
    (root / "build" / ".cache").mkdir(parents=True)
    (root / CACHE).write_text("not a folder", "utf-8")  # every write into it fails
    spy = Spy(monkeypatch)
    build(root, "pdf")
    build(fresh, "pdf")
    assert digests(root, "brief.pdf") == digests(fresh, "brief.pdf")
    assert (root / CACHE).read_text("utf-8") == "not a folder"
    assert len(spy.parts()) > 0


def test_a_changed_face_or_image_lays_the_part_out_again(tmp_path: Path) -> None:
    allowed = tmp_path / "templates"
    image = allowed / "logo.svg"
    image.parent.mkdir()
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
                     "utf-8")
    html = (f'<html lang="en"><body><img alt="a logo" src="{image.as_uri()}"></body>'
            "</html>")
    store = caching.Cache.at(tmp_path / "cache", [allowed])
    laid = pdf.lay_out(html, allowed, [allowed], b"x" * 32, part=True)
    assert str(image.resolve()) in dict(laid.files)
    key = store.key(html, "part")
    store.put(key, laid)
    again = caching.Cache.at(tmp_path / "cache", [allowed])
    assert again.get(key) == laid
    # a file changed between the layout and its keeping: kept with the bytes laid out,
    # so never found for the file as it is now
    racing = caching.Cache.at(tmp_path / "cache3", [allowed])
    laid_before = pdf.lay_out(html.replace("a logo", "the logo"), allowed, [allowed],
                              b"x" * 32, part=True)
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="30" height="10"/>',
                     "utf-8")
    racing.put("race", laid_before)
    assert caching.Cache.at(tmp_path / "cache3", [allowed]).get("race") is None
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
                     "utf-8")
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"/>',
                     "utf-8")
    assert caching.Cache.at(tmp_path / "cache", [allowed]).get(key) is None
    # a part laid out with a file outside the allowed folders is not kept
    elsewhere = caching.Cache.at(tmp_path / "cache2", [tmp_path / "other"])
    elsewhere.put(key, laid)
    assert not list((tmp_path / "cache2").glob("*.json"))


def test_what_a_killed_build_left_goes_and_the_cache_stays_bounded(tmp_path: Path) -> None:
    folder = tmp_path / "layout"
    store = caching.Cache.at(folder, [tmp_path])
    laid = pdf.Laid(b"%PDF-1.7 stand-in")
    for number in range(caching.KEEP + 10):
        store.put(store.key(str(number), "part"), laid)
    (folder / f".{'0' * 64}.json.123.tmp").write_text("{", "utf-8")
    (folder / f"{'1' * 64}.pdf").write_bytes(b"%PDF half an entry")  # its .json not written
    kept = caching.Cache.at(folder, [tmp_path])
    kept.used.add(store.key("0", "part"))  # used by this build: kept whatever its age
    os.utime(folder / f"{store.key('0', 'part')}.json", (1, 1))
    kept.prune()
    names = os.listdir(folder)
    assert not [n for n in names if n.startswith(".")] and f"{'1' * 64}.pdf" not in names
    assert len([n for n in names if n.endswith(".json")]) == caching.KEEP
    assert f"{store.key('0', 'part')}.json" in names
    assert len([n for n in names if n.endswith(".pdf")]) == caching.KEEP


def test_a_warm_process_rebuilds_the_same_bytes(tmp_path: Path) -> None:
    """``brief watch --format pdf`` lays out in its own process, the faces kept loaded
    from one build to the next: its PDF after an edit is a clean build's."""
    root = tiny_with_breaks(tmp_path)
    with pdf.kept_warm():
        build(root, "pdf")
        motives = root / "report" / "sections" / "02-motives.md"
        motives.write_text(motives.read_text("utf-8").replace(
            "split over how far", "split, bitterly, over how far"), "utf-8")
        build(root, "pdf")
        assert pdf._FACES  # kept for the next build
    assert not pdf._FACES and not pdf.WARM
    fresh = clean_copy(root, tmp_path / "fresh")
    build(fresh, "pdf")
    assert digests(root, "brief.pdf") == digests(fresh, "brief.pdf")


def test_one_free_core_means_no_layout_process(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """On one core (``taskset -c 0``) the page is laid out in the build's own process:
    no process to start, nothing loaded twice."""
    monkeypatch.setattr(pdf, "WORKERS", None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert pdf.free_cores() == 1
    workers = pdf.Workers(build=tmp_path / "build")
    try:
        assert workers.count == 1 and workers.ready.is_set() and workers.pool is None
    finally:
        workers.close()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)))
    assert 1 <= pdf.free_cores() <= pdf.MOST


def test_a_rebuild_counts_the_free_cores_in_fewer_looks(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """A build started for little work (a rebuild: ``eager``) looks at the machine twice
    before it starts its layout process, a clean build five times: the rebuild's process
    is then up in time to warm up before its part comes."""
    looks: list[int] = []

    def free_cores(samples: int = 5, gap: float = 0.01) -> int:
        looks.append(samples)
        return 1  # (no process started)

    monkeypatch.setattr(pdf, "WORKERS", None)
    monkeypatch.setattr(pdf, "free_cores", free_cores)
    monkeypatch.setattr(pdf, "_cores", lambda: 2)
    for eager in (1, None):
        workers = pdf.Workers(eager=eager, build=tmp_path / "build")
        try:
            assert workers.ready.wait(10) and workers.count == 1 and workers.pool is None
        finally:
            workers.close()
    assert looks == [2, 5]


def test_a_rebuild_starts_one_layout_process_and_more_on_demand(tmp_path: Path) -> None:
    workers = pdf.Workers(2, eager=1, build=tmp_path / "build")
    try:
        assert workers.ready.wait(60) and workers.pool is not None
        assert len(workers.pool._processes) == 1  # one started, warm
        import time

        futures = [workers.submit(time.sleep, 0.5) for _ in range(2)]
        for future in futures:
            future.result()
        assert len(workers.pool._processes) == 2  # the second when two parts wait
    finally:
        workers.close(kill=True)


def test_a_warm_process_loads_a_replaced_face_anew(tmp_path: Path) -> None:
    """``brief watch`` keeps the faces loaded; a face replaced in place (in a folder
    below fonts/, where the folder's own time does not move) is loaded again."""
    from policybrief.assemble import assembly

    packaged = assembly.default_templates() / "fonts"
    fonts = tmp_path / "templates" / "fonts"
    (fonts / "sub").mkdir(parents=True)
    shutil.copy(packaged / "NotoSans-Regular.ttf", fonts / "sub" / "Face.ttf")
    (fonts / "fonts.css").write_text('@font-face { font-family: "House"; '
                                     'src: url("sub/Face.ttf"); }', "utf-8")
    allowed = [tmp_path / "templates"]
    served: dict[str, str] = {}
    first = pdf._faces(fonts / "fonts.css", pdf.fetcher(allowed, served), served)
    assert pdf._faces(fonts / "fonts.css", pdf.fetcher(allowed, {}), {})[0] is first[0]
    before = dict(first[2])
    shutil.copy(packaged / "NotoSerif-Regular.ttf", fonts / "sub" / "Face.ttf")
    served = {}
    second = pdf._faces(fonts / "fonts.css", pdf.fetcher(allowed, served), served)
    assert second[0] is not first[0]
    face = str((fonts / "sub" / "Face.ttf").resolve())
    assert second[2][face] != before[face]
    pdf._FACES.clear()


def test_a_full_disk_takes_the_room_of_the_cache(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The outputs come first: when build/ is full as they are written, the layout
    cache is emptied and the outputs written once more."""
    import errno

    from policybrief.publish import outputs

    root = tiny_with_breaks(tmp_path)
    build(root, "pdf")
    assert entries(root)
    original = outputs.publish
    calls = []

    def full_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(*args)

    monkeypatch.setattr(outputs, "publish", full_once)
    (root / "report" / "sections" / "01-background.md").write_text(
        (root / "report" / "sections" / "01-background.md").read_text("utf-8")
        .replace("took shape", "first took shape"), "utf-8")
    build(root, "pdf")
    assert len(calls) == 2 and not entries(root)
    fresh = clean_copy(root, tmp_path / "fresh")
    build(fresh, "pdf")
    assert digests(root, "brief.pdf") == digests(fresh, "brief.pdf")


@pytest.mark.slow
def test_a_warmed_up_process_lays_a_part_out_to_the_same_bytes(tmp_path: Path) -> None:
    """A rebuild's layout process lays out a few lines with the page's style while pandoc
    runs (Workers.warm_up); the part it lays out next is the part a fresh process lays
    out, byte for byte."""
    import time

    from policybrief.model import Project
    from policybrief.render import rendering

    base, allowed = rendering.pdf_folders(Project(tiny_with_breaks(tmp_path)))
    faces = pdf.font_stylesheet([base, *allowed])
    html = ('<!DOCTYPE html><html lang="en-GB"><head><style>p { hyphens: auto }</style>'
            '</head><body><p>A part laid out after the warm-up, characteristically.</p>'
            '</body></html>')
    warm = pdf.warm_page(html)
    assert "<style>p" in warm and "Notwithstanding" in warm and "after the warm-up" not in warm
    laid = []
    for warmed in (False, True):
        workers = pdf.Workers(2, faces=faces, allowed=allowed, eager=1,
                              build=tmp_path / "build")
        try:
            if warmed:
                workers.warm_up(html, base, allowed, 60, 2000)
                for _ in range(600):  # (sent once the process is up)
                    if workers.warming is not None:
                        break
                    time.sleep(0.1)
                workers.warming.result(timeout=120)
            future = workers.submit(pdf._lay_out_part, html, base, allowed, pdf.PART, 60,
                                    2000)
            laid.append(future.result(timeout=120).pdf)
            assert len(workers.pool._processes) == 1  # the warmed process laid it out
        finally:
            workers.close(kill=True)
    assert laid[0] == laid[1]


def test_killed_layout_processes_never_leave_the_build_waiting(tmp_path: Path) -> None:
    """When a layout fails, the build kills the layout processes. The thread that feeds
    them their parts may then be blocked writing a part larger than the pipe holds, which
    no one will read; Python 3.11.2 (Debian 12's) joins that thread on the way out, and a
    build that had printed its error never exited. Killing the processes lets it go."""
    import time

    workers = pdf.Workers(2, eager=2, build=tmp_path / "build")
    try:
        assert workers.ready.wait(60) and workers.pool is not None
        queue = workers.pool._call_queue
        busy = [workers.submit(time.sleep, 30) for _ in range(2)]
        waiting = [workers.submit(len, "x" * 2**20) for _ in range(3)]  # (fill the pipe)
        time.sleep(0.5)
        started = time.monotonic()
    finally:
        workers.close(kill=True)
    assert time.monotonic() - started < 10
    assert queue._joincancelled  # (never joined: the interpreter's exit does not wait)
    assert busy and waiting
