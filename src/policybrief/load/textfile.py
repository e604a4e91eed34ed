"""Reading the project's text files: UTF-8, or a message that names what the file is.

A file saved as UTF-16 by Word or Notepad, as Latin-1 or Windows-1252 by an older
editor, or a PDF renamed to ``.md`` would otherwise fail with "not UTF-8". Here it is
recognised and named, with the command (or the editor setting) that converts it.
"""

from __future__ import annotations

import codecs
import shlex
from pathlib import Path

from ..errors import BriefError

# (signature at the start, what it is, what is in it)
SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Word or Excel file (.doc, .xls)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program (ELF)"),
)
BOMS = (  # the UTF-32 marks first: UTF-32LE's starts with UTF-16LE's
    (codecs.BOM_UTF32_LE, "UTF-32", "UTF-32 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32", "UTF-32 (big-endian, with a byte-order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16", "UTF-16 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16", "UTF-16 (big-endian, with a byte-order mark)"),
)
# bytes 0x80–0x9F Windows-1252 leaves undefined
_UNDEFINED_1252 = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def read(path: Path, rel: str, what: str = "the file", source: bool = False) -> str:
    """The text of ``path``; BriefError (rule ``encoding`` or ``file.binary``) if it is
    not UTF-8 text. A UTF-8 byte-order mark is dropped."""
    return decode(path.read_bytes(), rel, what, source)


def decode(data: bytes, rel: str, what: str = "the file", source: bool = False) -> str:
    kind = binary_kind(data)
    if kind:
        line = data.count(b"\n", 0, data.find(b"\0")) + 1 if kind == "a binary file" else 1
        raise BriefError(f"{what} is {kind}, not text", rel, line,
                         hint=_binary_hint(kind, rel, source), rule="file.binary")
    encoding = wide_encoding(data)
    if encoding is not None:
        iconv, name = encoding
        try:
            first = data.decode(_codec(iconv, data)).lstrip("\ufeff").split("\n")[0]
        except UnicodeDecodeError:
            first = ""
        raise BriefError(f"{what} is {name}, not UTF-8", rel, 1,
                         hint=convert_hint(iconv, rel), rule="encoding",
                         shown=first.rstrip("\r"))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise _eight_bit(data, exc, rel, what) from None


def binary_kind(data: bytes) -> str:
    """What a binary file is ("a PDF document"), or "" for text."""
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            return kind
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WebP image"
    if data.startswith(b"PK\x03\x04"):
        head = data[:4096]
        if b"word/" in head:
            return "a Word document (.docx)"
        if b"opendocument.text" in head:
            return "an OpenDocument text (.odt)"
        if b"xl/" in head:
            return "an Excel workbook (.xlsx)"
        if b"ppt/" in head:
            return "a PowerPoint file (.pptx)"
        return "a ZIP archive"
    if b"\0" in data[:65536] and wide_encoding(data) is None:
        return "a binary file"
    return ""


def wide_encoding(data: bytes) -> tuple[str, str] | None:
    """(iconv name, how to say it) for UTF-16 or UTF-32 text, with or without a BOM."""
    for bom, iconv, name in BOMS:
        if data.startswith(bom):
            return iconv, name
    head = data[:4096]
    if len(head) < 2 or b"\0" not in head:
        return None
    if len(head) >= 4 and head[1:4] == b"\0\0\0" and head[0]:
        return "UTF-32LE", "UTF-32 (little-endian, without a byte-order mark)"
    if len(head) >= 4 and head[:3] == b"\0\0\0" and head[3]:
        return "UTF-32BE", "UTF-32 (big-endian, without a byte-order mark)"
    even = head[0::2].count(0) / max(1, len(head[0::2]))
    odd = head[1::2].count(0) / max(1, len(head[1::2]))
    if odd > 0.3 and even < 0.05:
        return "UTF-16LE", "UTF-16 (little-endian, without a byte-order mark)"
    if even > 0.3 and odd < 0.05:
        return "UTF-16BE", "UTF-16 (big-endian, without a byte-order mark)"
    return None


def _codec(iconv: str, data: bytes) -> str:
    if iconv in ("UTF-16", "UTF-32"):
        return iconv.lower().replace("-", "_")  # the BOM says the byte order
    return iconv.lower()


def convert_hint(iconv: str, rel: str) -> str:
    path = shlex.quote(rel)
    return (f"convert it to UTF-8: iconv -f {iconv} -t UTF-8 {path} > {path}.utf8 && "
            f"mv {path}.utf8 {path} (or, in your editor, save it with the encoding "
            "'UTF-8')")


def _eight_bit(data: bytes, exc: UnicodeDecodeError, rel: str, what: str) -> BriefError:
    """Latin-1 or Windows-1252 text (or some other 8-bit encoding): say which, and where
    the first byte that is not UTF-8 is."""
    start = data.rfind(b"\n", 0, exc.start) + 1
    end = data.find(b"\n", exc.start)
    raw_line = data[start: end if end >= 0 else len(data)]
    line = data.count(b"\n", 0, exc.start) + 1
    high = {b for b in data if b >= 0x80}
    if high & set(range(0x80, 0xA0)) and not high & _UNDEFINED_1252:
        iconv, name, codec = "WINDOWS-1252", "Windows-1252", "cp1252"
    elif not high & set(range(0x80, 0xA0)):
        iconv, name, codec = "LATIN1", "Latin-1 (ISO-8859-1)", "latin-1"
    else:
        iconv, name, codec = "", "", "latin-1"
    shown = raw_line.decode(codec, "replace").rstrip("\r")
    col = len(data[start: exc.start].decode(codec, "replace")) + 1
    byte = data[exc.start]
    char = bytes([byte]).decode(codec, "replace")
    if any(b >= 0x80 for b in data[:exc.start]):  # UTF-8 so far: one stray byte
        return BriefError(f"{what} is not valid UTF-8: byte 0x{byte:02x} (“{char}” in "
                          f"{name.split(' ')[0] or 'Latin-1'}) among UTF-8 text", rel, line,
                          hint="the file is UTF-8 but for this character (pasted from "
                               "another program?): type it again in your editor",
                          rule="encoding", col=col, shown=shown)
    if not iconv:
        return BriefError(f"{what} is not UTF-8 (byte 0x{byte:02x} is not UTF-8 text)", rel,
                          line, hint="save it as UTF-8 in your editor (its encoding setting)",
                          rule="encoding", col=col, shown=shown)
    return BriefError(f"{what} is {name}, not UTF-8 (byte 0x{byte:02x} is “{char}” in "
                      f"{name.split(' ')[0]})", rel, line,
                      hint=convert_hint(iconv, rel), rule="encoding", col=col, shown=shown)


def _binary_hint(kind: str, rel: str, source: bool) -> str:
    if "PDF" in kind or ".docx" in kind or ".odt" in kind or ".doc," in kind:
        if "PDF" in kind:
            add = "add the PDF itself with `brief sources add FILE.pdf`"
        else:
            add = "save it as PDF or plain text, then add it with `brief sources add FILE`"
        if source:
            return f"a stored source is plain text: {add}, which stores its text and entry"
        return f"a section is Markdown text: copy the text into it; to cite the document, {add}"
    if "image" in kind:
        return "images belong in assets/; this file must be text"
    return "this file must be UTF-8 text"
