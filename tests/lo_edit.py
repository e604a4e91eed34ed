"""Edit a DOCX in LibreOffice as an editor would: change recording on, comments, a reply.

Run with the system Python that has LibreOffice's UNO bridge (Debian: python3-uno):

    /usr/bin/python3 lo_edit.py PORT PROFILE_DIR IN.docx OUT.docx EDITS.json

EDITS.json is a list of operations, each on text found by a unique search string:
``{"op": "replace", "find": "…", "new": "…", "author": "…"}``, ``insert_after`` (with
``text``), ``delete``, ``untracked`` (a replacement with recording off), ``comment``
(``text``, ``author``, ``date``; ``name`` to be replied to) and ``reply`` (``to``: a
comment's ``name``; LibreOffice 7.4 stores it as a comment on the same text). LibreOffice is started headless on 127.0.0.1:PORT with its own profile in
PROFILE_DIR, and stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]


def prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int) -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(120):
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;"
                                    "StarOffice.ComponentContext")
        except NoConnectException:
            time.sleep(0.5)
    raise SystemExit("LibreOffice did not answer")


def set_author(ctx: object, name: str) -> None:
    provider = ctx.ServiceManager.createInstanceWithContext(  # type: ignore[attr-defined]
        "com.sun.star.configuration.ConfigurationProvider", ctx)
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.UserProfile/Data"),))
    first, _, last = name.partition(" ")
    access.setPropertyValue("givenname", first)
    access.setPropertyValue("sn", last)
    access.commitChanges()


def find(doc: object, text: str) -> object:
    """The range of ``text`` in a paragraph of the body (the search service needs the
    layout, which a document without a view does not have)."""
    body = doc.getText()  # type: ignore[attr-defined]
    paragraphs = body.createEnumeration()
    while paragraphs.hasMoreElements():
        paragraph = paragraphs.nextElement()
        if not paragraph.supportsService("com.sun.star.text.Paragraph"):
            continue
        content = paragraph.getString()
        at = content.find(text)
        if at < 0:
            continue
        # a cursor's steps and the paragraph's string do not count the same characters
        # (a footnote's anchor is one step, but not one character, and other fields
        # differ too): try offsets near the string's until the selection is the text
        for shift in sorted(range(-len(content), len(content) + 1), key=abs):
            if at + shift < 0:
                continue
            cursor = body.createTextCursorByRange(paragraph.getStart())
            if not cursor.goRight(at + shift, False) or not cursor.goRight(len(text), True):
                continue
            if cursor.getString() == text:
                return cursor
    raise SystemExit(f"not found in the document: {text!r}")


def main() -> None:
    port, profile, source, target, edits_path = sys.argv[1:6]
    edits = json.loads(Path(edits_path).read_text("utf-8"))
    profile_url = f"-env:UserInstallation={Path(profile).resolve().as_uri()}"
    office = subprocess.Popen(  # its own process group, ended as one at the end
        ["soffice", "--headless", "--invisible", "--nologo", "--norestore",
         profile_url, f"--accept=socket,host=127.0.0.1,port={port};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        ctx = connect(int(port))
        desktop = ctx.ServiceManager.createInstanceWithContext(  # type: ignore[attr-defined]
            "com.sun.star.frame.Desktop", ctx)
        # the document without a window or view: LibreOffice's headless (nogui) build
        # has no comment windows to show, and would stop on making one
        doc = ctx.ServiceManager.createInstanceWithContext(  # type: ignore[attr-defined]
            "com.sun.star.text.TextDocument", ctx)
        doc.load((prop("URL", Path(source).resolve().as_uri()),
                  prop("FilterName", "MS Word 2007 XML")))
        comments: dict[str, object] = {}
        for edit in edits:
            set_author(ctx, edit.get("author", "Lee Editor"))
            doc.RecordChanges = edit["op"] != "untracked"
            found = find(doc, edit["find"])
            if edit["op"] in ("replace", "untracked"):
                found.setString(edit["new"])
            elif edit["op"] == "delete":
                found.setString("")
            elif edit["op"] == "insert_after":
                end = found.getEnd()
                end.getText().insertString(end, edit["text"], False)
            elif edit["op"] in ("comment", "reply"):
                note = doc.createInstance("com.sun.star.text.textfield.Annotation")
                note.Author = edit.get("author", "Lee Editor")
                note.Content = edit["text"]
                if edit.get("date"):  # YYYY-MM-DDTHH:MM
                    stamp = uno.createUnoStruct("com.sun.star.util.DateTime")
                    day, _, clock = edit["date"].partition("T")
                    stamp.Year, stamp.Month, stamp.Day = map(int, day.split("-"))
                    stamp.Hours, stamp.Minutes = map(int, (clock or "00:00").split(":"))
                    note.DateTimeValue = stamp
                if edit["op"] == "reply":
                    parent = comments[edit["to"]]
                    with contextlib.suppress(Exception):  # 7.4 has no threads
                        note.setPropertyValue("ParentName", parent.getPropertyValue("Name"))
                found.getText().insertTextContent(found, note, True)
                if edit.get("name"):
                    comments[edit["name"]] = note
            else:
                raise SystemExit(f"unknown operation {edit['op']}")
        doc.storeToURL(Path(target).resolve().as_uri(), (prop("FilterName",
                                                               "MS Word 2007 XML"),))
        doc.dispose()
        with contextlib.suppress(Exception):  # the bridge goes down with the office
            desktop.terminate()
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            office.wait(timeout=20)
        # soffice.bin outlives the launcher: end the process group this script started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(office.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
