"""Temporary files stay in the project: build/.tmp, and nothing in the system's temporary
folder or the home folder, whether the build ends, fails or is killed (scratch.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policybrief import kept, scratch
from policybrief.errors import BriefError

from conftest import make_project

BRIEF = Path(sys.executable).parent / "brief"  # the command, as `make brief` runs it


def _environment(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """An empty temporary folder and an empty home for the command to write nothing in."""
    temp, home = tmp_path / "system-tmp", tmp_path / "home"
    temp.mkdir()
    home.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "HOME": str(home), "XDG_CACHE_HOME": "",
           "POLICYBRIEF_PDF_WORKERS": "2"}
    env.pop("XDG_CACHE_HOME")
    return env, temp, home


def _left(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_build_writes_nothing_outside_the_project(tmp_path: Path) -> None:
    """`brief build`, the command itself (it ends with os._exit): every format, a clean
    build and a rebuild after an edit. The faces WeasyPrint copies to load them, the
    rendering's files, the compiled templates: in build/, and gone from build/.tmp when
    the build ends; multiprocessing's folder (the layout processes' socket) removed."""
    root = make_project(tmp_path / "p", "tiny")
    env, temp, home = _environment(tmp_path)
    section = root / "report" / "sections" / "01-background.md"
    for edit in ("", "\nA sentence added, to lay a part out again.\n"):
        section.write_text(section.read_text("utf-8") + edit, "utf-8")
        done = subprocess.run([str(BRIEF), "-C", str(root), "-q", "build"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert _left(temp) == [] and _left(home) == []
        assert _left(root / "build" / scratch.TMP) == []
    assert [p.name for p in (root / "build" / kept.JINJA_CACHE).glob("*.jinja")]
    assert (root / "build" / "brief.pdf").stat().st_size > 10_000


def test_a_killed_build_leaves_nothing_outside_and_the_next_build_clears_the_rest(
        real: Path, tmp_path: Path) -> None:
    """SIGKILL in the middle of the layout: the forkserver removes its socket's folder
    on its way out; the folders the killed processes had in build/.tmp go with the next
    build (one of HTML alone, which lays nothing out)."""
    env, temp, home = _environment(tmp_path)
    build = real / "build"
    process = subprocess.Popen([str(BRIEF), "-C", str(real), "-q", "build", "--format", "pdf"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_left(build / scratch.TMP)) < 3:
            time.sleep(0.05)  # the build's folder and its layout processes'
        assert process.poll() is None, "the build ended before it could be killed"
        assert list(temp.glob("pymp-*")), "no layout process started"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _left(temp):
        time.sleep(0.1)
    assert _left(temp) == [] and _left(home) == []
    stale = [p.name for p in (build / scratch.TMP).iterdir()]
    assert len(stale) >= 2
    time.sleep(1)  # (the killed layout processes end with their forkserver)
    done = subprocess.run([str(BRIEF), "-C", str(real), "-q", "build", "--format", "html"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _left(build / scratch.TMP) == [] and _left(temp) == []


def _laying_out(process: subprocess.Popen[str], build: Path) -> None:
    """Wait until the build has its folder and its layout processes' in build/.tmp."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_left(build / scratch.TMP)) < 3:
        time.sleep(0.05)
    assert process.poll() is None, "the build ended before it could be stopped"


def test_a_build_stopped_with_sigterm_leaves_what_ctrl_c_leaves(real: Path,
                                                                 tmp_path: Path) -> None:
    """SIGTERM (a service manager, an editor's stop button, `kill`): the way out of
    Ctrl-C, its layout processes stopped and every temporary folder removed, rather than
    an end that leaves build/.tmp for the next build and multiprocessing's complaint
    about leaked semaphores on the terminal; the status says the signal (128 + 15)."""
    env, temp, home = _environment(tmp_path)
    build = real / "build"
    process = subprocess.Popen([str(BRIEF), "-C", str(real), "-q", "build", "--format", "pdf"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        _laying_out(process, build)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "interrupted" in err and "Traceback" not in err and "leaked" not in err, err
    time.sleep(1)  # (the forkserver ends as the build's pipe to it closes)
    assert _left(temp) == [] and _left(home) == []
    assert _left(build / scratch.TMP) == []


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signalled_again_and_again_still_cleans_up(real: Path, tmp_path: Path,
                                                          first: signal.Signals) -> None:
    """Ctrl-C pressed again while the build stops (or SIGTERM sent twice): the first
    stops the build; the others do not cut its clean-up short, which would leave
    build/.tmp, print a traceback from an exit handler, or end the build by the signal
    itself rather than with the status of the first. Ctrl-C as a terminal sends it: to
    the whole process group."""
    env, temp, home = _environment(tmp_path)
    build = real / "build"
    process = subprocess.Popen([str(BRIEF), "-C", str(real), "-q", "build", "--format", "pdf"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if signum == signal.SIGINT:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)

    try:
        _laying_out(process, build)
    finally:
        send(first)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            send(first)  # (again and again, through its stop and its exit)
            time.sleep(0.01)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + first, err
    assert "interrupted" in err and "Traceback" not in err and "leaked" not in err, err
    assert "Exception ignored" not in err, err
    time.sleep(1)  # (the forkserver ends as the build's pipe to it closes)
    assert _left(temp) == [] and _left(home) == []
    assert _left(build / scratch.TMP) == []


LOST = """
import os, signal, sys, time, weakref
from policybrief.commands import cli

def main(argv=None):
    class Thing:
        pass

    def callback(ref):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100_000):  # (the stop lands here, where Python cannot raise it)
            pass

    thing = Thing()
    kept = weakref.ref(thing, callback)
    del thing
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return 3  # (the stop was lost)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

cli.main = main
cli.run()
"""


def test_a_ctrl_c_that_lands_in_a_callback_still_stops_the_command(tmp_path: Path) -> None:
    """A Ctrl-C whose KeyboardInterrupt is raised where Python cannot raise it (a weak
    reference's callback, as the import system's own; a __del__) is lost there, with an
    "Exception ignored" traceback, and the command goes on, deaf to the Ctrl-Cs that
    follow (they are let go while a stop cleans up): under load, a build stopped as it
    started hung, the import lock left held. It is raised again where it can be."""
    env, _, _ = _environment(tmp_path)
    done = subprocess.run([sys.executable, "-c", LOST], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted\n"


def test_ctrl_c_as_the_layout_processes_start_says_only_interrupted(
        real: Path, tmp_path: Path) -> None:
    """Ctrl-C, to the whole process group as a terminal sends it, the moment the build
    starts its layout processes: their forkserver is importing WeasyPrint (a second),
    then forks them. The build says "interrupted"; neither the forkserver nor a
    process just forked prints a traceback of its own (they leave Ctrl-C to the build),
    and nothing is left."""
    env, temp, home = _environment(tmp_path)
    build = real / "build"
    for _ in range(3):
        process = subprocess.Popen(
            [str(BRIEF), "-C", str(real), "-q", "build", "--format", "pdf"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not list(temp.glob("pymp-*")):
                time.sleep(0.005)  # (the forkserver's socket: it is being started)
            assert process.poll() is None, "the build ended before it could be stopped"
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            _, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "interrupted" in err and "Traceback" not in err and "leaked" not in err, err
        time.sleep(1)  # (the forkserver ends as the build's pipe to it closes)
        assert _left(temp) == [] and _left(home) == []
        assert _left(build / scratch.TMP) == []


def test_sweep_removes_only_the_folders_of_ended_processes(tmp_path: Path) -> None:
    build = tmp_path / "build"
    mine = scratch.claim(build)
    try:
        folder = build / scratch.TMP
        ended = subprocess.Popen(["true"])
        ended.wait()
        dead = folder / f"{ended.pid}-abcdefgh"
        (dead / "weasyprint-x").mkdir(parents=True)
        (dead / "weasyprint-x" / "face").write_bytes(b"x")
        alive = folder / f"{os.getppid()}-abcdefgh"
        alive.mkdir()
        other = folder / "notes"  # not a name the build gives: not its to remove
        other.mkdir()
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "keep").write_bytes(b"keep")
        os.symlink(outside, folder / f"{ended.pid}-linkedxx")
        scratch.sweep(build)
        assert not dead.exists()
        assert alive.is_dir() and other.is_dir() and mine.is_dir()
        assert (outside / "keep").read_bytes() == b"keep"  # a link is never followed
        assert (folder / f"{ended.pid}-linkedxx").is_symlink()
    finally:
        scratch.release()
    assert not mine.exists()


def test_sweep_removes_a_folder_whose_number_another_process_has_taken(
        tmp_path: Path) -> None:
    """A killed build's folder whose process number a later process has since been given
    (numbers are reused; after a restart, soon): that process started after the folder
    was last written, so it is not its owner, and the folder goes; the folder of a
    process still running since before is kept."""
    build = tmp_path / "build"
    folder = scratch.root(build)
    later = subprocess.Popen(["sleep", "30"])
    try:
        stale = folder / f"{later.pid}-abcdefgh"
        (stale / "weasyprint-x").mkdir(parents=True)
        (stale / "weasyprint-x" / "face").write_bytes(b"x" * 1000)
        an_hour_ago = time.time() - 3600
        os.utime(stale, (an_hour_ago, an_hour_ago))
        running = folder / f"{os.getppid()}-abcdefgh"  # (started before it was made)
        running.mkdir()
        scratch.sweep(build)
        assert not stale.exists()
        assert running.is_dir()
    finally:
        later.kill()
        later.wait()


def test_a_link_at_build_tmp_is_refused(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", build / scratch.TMP)
    with pytest.raises(BriefError, match=r"build/\.tmp is a symbolic link") as caught:
        scratch.claim(build)
    assert caught.value.rule == "build.foreign"
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_a_file_at_build_tmp_is_refused_with_a_message(tmp_path: Path, kind: str) -> None:
    """A file (or a named pipe) where build/.tmp goes: the build says so, at build/.tmp,
    and leaves it there; not an internal error."""
    from policybrief.commands.cli import main

    root = make_project(tmp_path / "p", "tiny")
    build = root / "build"
    build.mkdir(exist_ok=True)
    if kind == "file":
        (build / scratch.TMP).write_bytes(b"notes")
    else:
        os.mkfifo(build / scratch.TMP)
    with pytest.raises(BriefError, match=r"build/\.tmp is not a folder") as caught:
        scratch.claim(build)
    assert caught.value.rule == "build.foreign"
    env, temp, home = _environment(tmp_path)
    done = subprocess.run([str(BRIEF), "-C", str(root), "-q", "build", "--format", "html"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "build/.tmp is not a folder" in done.stderr and "internal error" not in done.stderr
    assert not (build / ".logs").exists()
    if kind == "file":
        assert (build / scratch.TMP).read_bytes() == b"notes"
    assert _left(temp) == [] and _left(home) == []
    assert main(["-q", "-C", str(root), "check"]) in (0, 1)  # check writes no temporary file


def test_compiled_templates_copied_from_elsewhere_are_never_loaded(tmp_path: Path) -> None:
    """A compiled template is code: one that this build/ did not write (a project
    unpacked with its build/, a folder copied) is never found (its name holds the cache
    folder's identity, kept.py); the copy compiles its own."""
    from policybrief.commands.cli import main

    first = make_project(tmp_path / "a", "tiny")
    assert main(["-q", "-C", str(first), "check"]) in (0, 1)
    assert main(["-q", "-C", str(first), "build", "--format", "html"]) == 0
    folder = first / "build" / kept.JINJA_CACHE
    written = {p.name for p in folder.glob("*.jinja")}
    assert written
    second = tmp_path / "b"
    shutil.copytree(first, second, symlinks=True)
    (second / "report" / "sections" / "01-background.md").write_text(
        (first / "report" / "sections" / "01-background.md").read_text("utf-8") + "\nMore.\n",
        "utf-8")
    assert main(["-q", "-C", str(second), "build", "--format", "html"]) == 0
    names = {p.name for p in (second / "build" / kept.JINJA_CACHE).glob("*.jinja")}
    assert names and not names & written  # its own, and the copied ones gone with them


def test_compiled_templates_do_not_pile_up(tmp_path: Path) -> None:
    """What a killed write left (a temporary file) and what no build of this folder can
    load any more (written under another identity: the folder copied back, a restore)
    goes when a build writes its compiled templates; the folder holds one set."""
    root = make_project(tmp_path / "a", "tiny")
    env, temp, home = _environment(tmp_path)
    command = [str(BRIEF), "-C", str(root), "-q", "build", "--format", "html"]
    section = root / "report" / "sections" / "01-background.md"
    folder = root / "build" / kept.JINJA_CACHE
    sizes = []
    for generation in range(3):
        if generation:
            copy = tmp_path / f"copy-{generation}"
            shutil.copytree(folder, copy)
            shutil.rmtree(folder)
            shutil.copytree(copy, folder)
            (folder / f".{sizes[0][1]}.999999.tmp").write_bytes(b"half")
        section.write_text(section.read_text("utf-8") + f"\nMore, {generation}.\n", "utf-8")
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        now = sorted(p.name for p in folder.iterdir())
        assert now[-1] == kept.MADE and all(n.endswith(".jinja") for n in now[:-1]), now
        assert len({n.split("-")[0] for n in now[:-1]}) == 1  # (of one identity)
        sizes.append((len(now), now[0]))
    assert len({count for count, _ in sizes}) == 1, sizes
    assert _left(temp) == [] and _left(home) == []
