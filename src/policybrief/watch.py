"""``brief watch``: rebuild on every save and serve ``build/`` with automatic reload.

watchfiles watches ``report/``, ``templates/`` and ``seeds/``, and ``bibliography.bib`` is
checked by its stat every 200 ms (a watch on the file itself would be lost when an
editor or ``brief sources add`` replaces it by a rename); a burst of saves is debounced
into one rebuild. A small HTTP server on 127.0.0.1 serves
``build/``; into every HTML response (never into the files on disk) it injects a script
that polls ``/__policybrief/version``, a counter bumped after each successful build, and
reloads the page when it moves. A failed rebuild prints its error and leaves the last
good build being served.
"""

from __future__ import annotations

import http.server
import json
import mimetypes
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import BriefError
from .model import Project

HOST = "127.0.0.1"
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
            say: Say, warn: Say) -> bool:
    """One build; bump the counter if it succeeded, print the error if it did not."""
    from . import pipeline

    try:
        result = pipeline.build(project, formats, allow_stale=allow_stale, notice=warn)
    except BriefError as exc:
        warn(f"build failed; still serving the last good build:\n{exc}")
        return False
    except Exception as exc:  # whatever a rebuild throws, the preview goes on
        from .crash import internal

        warn(f"build failed; still serving the last good build:\n"
             f"{internal(exc, project.build if project.build.is_dir() else None)}")
        return False
    for finding in result.warnings:
        warn(str(finding))
    version = state.bump()
    written = ", ".join(result.written) or "nothing changed"
    say(f"build {version}: {written}")
    return True


def run(project: Project, port: int = 8000, formats: Sequence[str] = ("html",),
        allow_stale: bool = False, say: Say = print, warn: Say = print,
        stop: threading.Event | None = None, debounce: int = 300,
        ready: Callable[[int], None] | None = None) -> None:
    """Build, serve, and rebuild on change until ``stop`` is set (or Ctrl-C)."""
    import watchfiles

    from .outputs import guard

    state = State()
    guard(project.build)  # never serve (or build into) a build/ that leads elsewhere
    project.build.mkdir(parents=True, exist_ok=True)
    try:
        server = serve(project.build, state, port)
    except OSError as exc:
        raise BriefError(f"cannot serve on {HOST}:{port}: {exc.strerror or exc}",
                         hint="choose another port with --port") from None
    bound = int(server.server_address[1])
    try:
        say(f"serving build/ on http://{HOST}:{bound}/ (Ctrl-C stops)")
        if ready is not None:
            ready(bound)
        first = True  # the first build runs once the watcher is watching
        bib = _signature(project.bibliography)
        for changed in watchfiles.watch(*watched(project), debounce=debounce, step=50,
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
            rebuild(project, formats, state, allow_stale, say, warn)
    finally:
        server.shutdown()
        server.server_close()
