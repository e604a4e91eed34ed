"""``brief watch``: rebuild on every save and serve ``build/`` with automatic reload.

watchfiles watches ``report/``, ``templates/`` and ``seeds/``, and ``bibliography.bib`` is
checked by its stat every 200 ms (a watch on the file itself would be lost when an
editor or ``brief sources add`` replaces it by a rename); a burst of saves is debounced
into one rebuild. A small HTTP server on 127.0.0.1 serves
``build/``; into every HTML response (never into the files on disk) it injects a script
that polls ``/__policybrief/version``, a counter bumped after each successful build, and
reloads the page when it moves. A failed rebuild prints its error and leaves the last
good build being served.

A finding is printed once: each rebuild prints the findings that are new, in full, and
then one line for what changed ("2 new warnings, 1 fixed"), so that sixteen stub warnings
do not scroll past on every save.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import mimetypes
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import BriefError, ContentError
from ..model import Finding, Project

HOST = "127.0.0.1"
# ms of quiet after a change before the rebuild starts: an editor's save (write, rename)
# is one burst of events well within it, and the wait is on every rebuild's clock
STEP = 20
VERSION_PATH = "/__policybrief/version"
RELOAD = """<script>/* policybrief watch: reload when the build changes */
(function () {
  var seen = %d;
  function poll() {
    fetch("%s", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (d) { if (d.version !== seen) { location.reload(); } })
      .catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  setTimeout(poll, 700);
})();
</script>
"""
Say = Callable[[str], None]


class State:
    """The build counter the pages poll, shared by the builder and the server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0

    def bump(self) -> int:
        with self._lock:
            self.version += 1
            return self.version


class Reported:
    """What the last rebuild printed, so that the next one prints only what changed.

    Findings are matched by file, rule and message, not line, so that a line added
    above a warning does not make it "new".
    """

    def __init__(self) -> None:
        self.last: Counter[tuple[str, str, str, str]] = Counter()
        self.lines: set[tuple[tuple[str, str, str, str], int]] = set()
        self.first = True

    @staticmethod
    def key(f: Finding) -> tuple[str, str, str, str]:
        return f.severity, f.path, f.rule, f.message

    def update(self, findings: Iterable[Finding]) -> tuple[list[Finding], str]:
        """(the findings to print in full, the summary line or "")."""
        findings = list(findings)
        current = Counter(self.key(f) for f in findings)
        new = current - self.last
        fixed = sum((self.last - current).values())
        # of several findings alike, the new ones are those at lines not reported before
        left = Counter(new)
        picked = []
        for f in sorted(findings, key=lambda f: (self.key(f), f.line) in self.lines):
            if left[self.key(f)] > 0:
                left[self.key(f)] -= 1
                picked.append(f)
        shown = [f for f in findings if f in picked]
        first, self.first, self.last = self.first, False, current
        self.lines = {(self.key(f), f.line) for f in findings}
        if first:
            return shown, ""
        parts = []
        for level in ("error", "warning"):
            n = sum(v for k, v in new.items() if k[0] == level)
            if n:
                parts.append(f"{n} new {level}{'' if n == 1 else 's'}")
        if fixed:
            parts.append(f"{fixed} fixed")
        if not parts:
            total = sum(current.values())
            return shown, (f"findings unchanged ({total})" if total else "")
        return shown, ", ".join(parts)


def inject(html: bytes, version: int) -> bytes:
    """``html`` with the reload script before ``</body>`` (or at the end)."""
    script = (RELOAD % (version, VERSION_PATH)).encode("utf-8")
    at = html.lower().rfind(b"</body>")
    return html[:at] + script + html[at:] if at >= 0 else html + script


def handler(root: Path, state: State) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler serving ``root`` (GET and HEAD only, nothing outside it)."""
    base = root.resolve()

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "policybrief-watch"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:
            path = unquote(urlsplit(self.path).path)
            if path == VERSION_PATH:
                data = json.dumps({"version": state.version}).encode()
                return self._send(200, "application/json", data, body)
            target = (base / path.lstrip("/")).resolve()
            if not target.is_relative_to(base):
                return self._send(404, "text/plain", b"not found\n", body)
            if target.is_dir():
                target = target / "brief.html" if target == base else target / "index.html"
            try:
                data = target.read_bytes()
            except OSError:
                return self._send(404, "text/plain", b"not found (not built yet?)\n", body)
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if kind == "text/html":
                data = inject(data, state.version)
                kind += "; charset=utf-8"
            self._send(200, kind, data, body)

        def _send(self, status: int, kind: str, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def serve(root: Path, state: State, port: int = 8000) -> http.server.ThreadingHTTPServer:
    """Start serving ``root`` on 127.0.0.1:``port`` in a daemon thread (0: any free port)."""
    server = http.server.ThreadingHTTPServer((HOST, port), handler(root, state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                     name="policybrief-serve", daemon=True).start()
    return server


def watched(project: Project) -> list[Path]:
    """The folders watched (the bibliography is checked by its stat on every tick)."""
    return [p for p in (project.report, project.templates, project.seeds) if p.is_dir()]


def _signature(path: Path) -> tuple[int, int, int] | None:
    """Inode, mtime and size: a file replaced by a rename is seen too."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def rebuild(project: Project, formats: Sequence[str], state: State, allow_stale: bool,
            say: Say, warn: Say, reported: Reported | None = None,
            ignore: Sequence[str] = ()) -> bool:
    """One build; bump the counter if it succeeded, print the error if it did not.

    With ``reported``, print only the findings that are new since the last rebuild.
    """
    from .. import pipeline
    from ..messages import render, render_all
    from ..progress import Progress

    reported = reported or Reported()
    try:
        result = pipeline.build(project, pipeline.BuildOptions(
            tuple(formats), allow_stale=allow_stale, ignore=tuple(ignore)),
            Progress(notice=warn))
    except ContentError as exc:
        shown, summary = reported.update(exc.findings)
        text = render_all(shown, project.root)
        warn("build failed; still serving the last good build"
             + (f" ({summary})" if summary else "") + (":\n" + text if text else ""))
        return False
    except BriefError as exc:  # no findings: what was reported still stands
        warn(f"build failed; still serving the last good build:\n{render(exc, project.root)}")
        return False
    except Exception as exc:  # noqa: BLE001 — whatever a rebuild throws, the preview goes on
        from .crash import internal

        warn(f"build failed; still serving the last good build:\n"
             f"{internal(exc, project.build if project.build.is_dir() else None)}")
        return False
    shown, summary = reported.update(result.findings)
    if shown:
        warn(render_all(shown, project.root))
    if summary:
        warn(summary)
    version = state.bump()
    written = ", ".join(result.written) or "nothing changed"
    say(f"build {version}: {written}")
    return True


def warm_layout(project: Project, allow_stale: bool, ignore: Sequence[str]) -> None:
    """After a build that laid nothing out here (nothing had changed, or every part was
    in the layout cache): the first rebuild after an edit made as quick as the next
    ones (pipeline.warm_up; 2.2 s → 1.4 s on the default brief after ``make brief``).
    Whatever fails here (another build holding build/, say) is left for the rebuilds."""
    from .. import pipeline

    with contextlib.suppress(Exception):
        pipeline.warm_up(project, pipeline.BuildOptions(
            ("pdf",), allow_stale=allow_stale, ignore=tuple(ignore)))


def settle() -> None:
    """Between rebuilds, while the writer reads or types: Python's cycle collector goes
    over everything once, and what is still alive then (WeasyPrint, the faces, what
    the build keeps from one rebuild to the next) is set aside from its later passes
    (gc.freeze), which a rebuild's own garbage sets off. A rebuild's collections were
    some 0.07 s, over these objects each time; the pass here, about as long, comes after
    the PDF is written. Each pass starts with everything set aside put back (nothing
    that became garbage since stays)."""
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()


def run(project: Project, port: int = 8000, formats: Sequence[str] = ("html",),
        allow_stale: bool = False, say: Say = print, warn: Say = print,
        stop: threading.Event | None = None, debounce: int = 300,
        ready: Callable[[int], None] | None = None, ignore: Sequence[str] = ()) -> None:
    """Build, serve, and rebuild on change until ``stop`` is set (or Ctrl-C)."""
    import watchfiles

    from ..publish.outputs import guard
    from ..render import pdf

    state = State()
    reported = Reported()
    guard(project.build)  # never serve (or build into) a build/ that leads elsewhere
    project.build.mkdir(parents=True, exist_ok=True)
    try:
        server = serve(project.build, state, port)
    except OSError as exc:
        raise BriefError(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}",
                         hint="choose another port with --port", rule="watch.port") from None
    bound = int(server.server_address[1])
    # each rebuild's layout starts at once, in this process, the faces loaded
    warm = pdf.kept_warm() if "pdf" in formats else contextlib.nullcontext()
    with warm:
        try:
            say(f"serving build/ on http://{HOST}:{bound}/ (Ctrl-C stops)")
            if ready is not None:
                ready(bound)
            first = True  # the first build runs once the watcher is watching
            bib = _signature(project.bibliography)
            for changed in watchfiles.watch(*watched(project), debounce=debounce, step=STEP,
                                            stop_event=stop, rust_timeout=200,
                                            yield_on_timeout=True, raise_interrupt=True):
                names = sorted({project.rel(Path(p)) for _, p in changed})
                if _signature(project.bibliography) != bib:
                    bib = _signature(project.bibliography)
                    names.append(project.rel(project.bibliography))
                if not names and not first:
                    continue
                if names:
                    say("changed: " + ", ".join(names[:5]) + (" …" if len(names) > 5 else ""))
                first = False
                built = rebuild(project, formats, state, allow_stale, say, warn, reported,
                                ignore)
                if built and "pdf" in formats and not pdf.laid_out_here():
                    warm_layout(project, allow_stale, ignore)
                settle()
        finally:
            import gc

            gc.unfreeze()
            server.shutdown()
            server.server_close()
