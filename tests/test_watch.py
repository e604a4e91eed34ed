"""Incremental rebuilds, and ``brief watch``: rebuild on save, serve with reload."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from policybrief.commands import watch
from policybrief.commands.cli import main
from policybrief.model import Project

SECTION = "report/sections/01-background.md"


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def mtimes(build: Path) -> dict[str, int]:
    return {p.relative_to(build).as_posix(): p.stat().st_mtime_ns
            for p in [build / "brief.html", build / "brief.pdf",
                      *sorted((build / "sources").glob("*.html"))] if p.exists()}


def test_only_what_changed_is_rendered_again(tiny: Path) -> None:
    build = tiny / "build"
    assert run(tiny, "-q", "build", "--format", "html,pdf") == 0
    first = mtimes(build)
    assert set(first) == {"brief.html", "brief.pdf", "sources/rasanah2024rifts.html",
                          "sources/wikipedia-sadrist-khomeinist.html"}
    time.sleep(0.02)
    section = tiny / SECTION
    section.write_text(section.read_text("utf-8").replace(
        "grew from it.", "grew from it in the south."), "utf-8")
    # only the PDF is asked for: only the PDF is rendered; the HTML stays as it was
    assert run(tiny, "-q", "build", "--format", "pdf") == 0
    second = mtimes(build)
    assert second["brief.pdf"] != first["brief.pdf"]
    assert {k: v for k, v in second.items() if k != "brief.pdf"} == \
        {k: v for k, v in first.items() if k != "brief.pdf"}
    assert "in the south" not in (build / "brief.html").read_text("utf-8")
    # the HTML now: the page changes, the source pages (same text, same marks) do not
    assert run(tiny, "-q", "build", "--format", "html") == 0
    third = mtimes(build)
    assert third["brief.html"] != first["brief.html"]
    assert "in the south" in (build / "brief.html").read_text("utf-8")
    assert third["brief.pdf"] == second["brief.pdf"]
    assert {k: v for k, v in third.items() if k.startswith("sources/")} == \
        {k: v for k, v in first.items() if k.startswith("sources/")}
    # a source's text changes: its page is written again, the other one is not
    seed = tiny / "seeds" / "sadrist-khomeinist-conflict.wikipedia.txt"
    seed.chmod(0o644)
    seed.write_text(seed.read_text("utf-8") + "\nA closing paragraph.\n", "utf-8")
    assert run(tiny, "-q", "build", "--format", "html") == 0
    fourth = mtimes(build)
    assert fourth["sources/wikipedia-sadrist-khomeinist.html"] != \
        third["sources/wikipedia-sadrist-khomeinist.html"]
    assert fourth["sources/rasanah2024rifts.html"] == third["sources/rasanah2024rifts.html"]
    assert "A closing paragraph." in \
        (build / "sources/wikipedia-sadrist-khomeinist.html").read_text("utf-8")


def fetch(port: int, path: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    with opener.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return bytes(response.read())


def wait_for(condition: object, seconds: float, said: object = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"still waiting after {seconds} s; {said}")


def test_watch_rebuilds_on_save_and_serves_with_reload(
        tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settled: list[int] = []
    settle = watch.settle
    monkeypatch.setattr(watch, "settle", lambda: (settle(), settled.append(1)))
    stop = threading.Event()
    ports: list[int] = []
    said: list[str] = []
    thread = threading.Thread(target=watch.run, kwargs={
        "project": Project(tiny), "port": 0, "stop": stop, "debounce": 100,
        "ready": ports.append, "say": said.append, "warn": said.append}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: ports, 10)
        port = ports[0]

        def version() -> int:
            return int(json.loads(fetch(port, watch.VERSION_PATH))["version"])

        wait_for(lambda: version() >= 1, 60)
        page = fetch(port, "/brief.html").decode("utf-8")
        assert watch.VERSION_PATH in page and "<script" in page
        assert b"<script" not in (tiny / "build" / "brief.html").read_bytes()
        assert fetch(port, "/") == fetch(port, "/brief.html")
        with pytest.raises(urllib.error.HTTPError):
            fetch(port, "/../report/brief.yaml")

        # a save that breaks the brief: the error is printed, the last build still served
        section = tiny / SECTION
        good = section.read_text("utf-8")
        section.write_text(good.replace("[@rasanah2024rifts, ¶ 3]", "[@nosuchkey, ¶ 3]"),
                           "utf-8")
        wait_for(lambda: any("build failed" in s for s in said), 30, said)
        assert version() == 1 and b"Rasanah later" in fetch(port, "/brief.html")
        assert any("unknown citation key 'nosuchkey'" in s for s in said)

        # a good save: a new build, a new version, the edit served
        section.write_text(good.replace("Rasanah later weighed in.",
                                        "Rasanah later weighed in, twice."), "utf-8")
        wait_for(lambda: version() >= 2, 30, said)
        assert "weighed in, twice." in fetch(port, "/brief.html").decode("utf-8")

        # the bibliography replaced by a rename (as editors do) is seen too
        bib = tiny / "bibliography.bib"
        temp = tiny / "bibliography.bib.tmp"
        temp.write_text(bib.read_text("utf-8").replace("{Sadrist–Khomeinist conflict}",
                                                       "{Sadrist–Khomeinist rivalry}"), "utf-8")
        os.replace(temp, bib)
        wait_for(lambda: version() >= 3, 30, said)
        assert "Sadrist–Khomeinist Rivalry" in fetch(port, "/brief.html").decode("utf-8")
        wait_for(lambda: len(settled) >= 4, 10, said)  # after each build, failed or not
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    import gc

    assert gc.get_freeze_count() == 0  # what was set aside, put back as watch ends
    with pytest.raises(OSError):  # noqa: PT011 — refused, reset or timed out: any will do
        fetch(port, watch.VERSION_PATH)


def test_between_rebuilds_garbage_goes_and_the_rest_is_set_aside() -> None:
    """settle: what is garbage then is collected, not set aside; what is alive is set
    aside from the collector's passes, and collected by the next settle once garbage."""
    import gc
    import weakref

    class Node:
        me: Any = None

    def cycle() -> Any:
        node = Node()
        node.me = node  # (freed by the cycle collector only)
        return node

    gone = weakref.ref(cycle())
    alive = cycle()
    try:
        watch.settle()
        assert gone() is None and gc.get_freeze_count() > 0
        later = weakref.ref(alive)
        del alive
        gc.collect()  # set aside: a pass leaves it
        assert later() is not None
        watch.settle()
        assert later() is None
    finally:
        gc.unfreeze()


def test_inject_puts_the_script_before_the_end_of_body() -> None:
    page = watch.inject(b"<html><body><p>x</p></body></html>", 7)
    assert page.startswith(b"<html><body><p>x</p><script>")
    assert page.endswith(b"</script>\n</body></html>")
    assert b"var seen = 7;" in page


def test_a_watch_that_starts_on_a_current_pdf_makes_its_first_rebuild_ready(
        tiny: Path) -> None:
    """``brief watch --format pdf`` after a build: nothing to build, so nothing laid out
    in the watcher; it then converts the brief section by section into pandoc's store
    and lays out a few lines with the page, so that the first edit is rebuilt as quickly
    as the next. It publishes nothing."""
    from policybrief.render import parsed, pdf

    assert run(tiny, "build", "--format", "pdf") == 0
    pdf._FACES.clear()  # (what a test before laid out here)
    assert not pdf.laid_out_here()
    store = tiny / "build" / ".cache" / "pandoc"
    before = {p.name for p in store.iterdir()}
    pdf_bytes = (tiny / "build" / "brief.pdf").read_bytes()
    stop = threading.Event()
    said: list[str] = []
    thread = threading.Thread(target=watch.run, kwargs={
        "project": Project(tiny), "port": 0, "stop": stop, "formats": ("pdf",),
        "say": said.append, "warn": said.append}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: any(s.startswith("build 1: nothing changed") for s in said), 60,
                 said)
        wait_for(pdf.laid_out_here, 60, said)
        kept = {p.name for p in store.iterdir()} - before
        assert len(kept) > 2  # the sections read one by one, and their citations
        assert (tiny / "build" / "brief.pdf").read_bytes() == pdf_bytes
        assert not (tiny / "build" / "brief.html").exists()
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    parsed._MEMORY.clear()


def test_the_watchers_warm_up_does_not_keep_a_build_out(tiny: Path) -> None:
    """The warm-up publishes nothing and adds to pandoc's store only: it runs without
    build/'s lock, so a `brief build` started meanwhile is not refused, and one that
    holds the lock does not stop it."""
    from policybrief import pipeline
    from policybrief.publish import outputs
    from policybrief.render import parsed, pdf

    assert run(tiny, "build", "--format", "pdf") == 0
    pdf._FACES.clear()
    try:
        with outputs.locked(tiny / "build"), pdf.kept_warm():  # (a build writing)
            pipeline.warm_up(Project(tiny), pipeline.BuildOptions(("pdf",)))
            assert pdf.laid_out_here()
    finally:
        parsed._MEMORY.clear()
    assert not list((tiny / "build" / ".tmp").glob("*/render-*"))


def test_the_watchers_warm_up_is_bounded_as_every_layout_is(
        tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up lays out with the brief's own style (the house's CSS): under the same
    bounds of time and memory as the layout of the PDF itself."""
    from policybrief import pipeline
    from policybrief.errors import RenderError
    from policybrief.render import parsed, pdf, rendering

    assert run(tiny, "build", "--format", "pdf") == 0
    monkeypatch.setattr(rendering, "PDF_MEGABYTES", 1.0)  # (this process holds more)
    try:
        with pdf.kept_warm(), pytest.raises(RenderError, match="more than 1 MB"):
            pipeline.warm_up(Project(tiny), pipeline.BuildOptions(("pdf",)))
    finally:
        parsed._MEMORY.clear()
