"""Typographic quotes for text that pandoc's ``smart`` extension never sees: the cover's
fields, which Jinja puts into the HTML page, and the labels drawn in the SVG figures.

The body goes through pandoc, which turns ``Maliki's`` into ``Maliki’s``; text outside it
is turned the same way here, so that every output prints one kind of apostrophe.
"""

from __future__ import annotations

import re

# a quote mark opens after the start, white space, an opening bracket, a dash or an
# opening quote; anywhere else (after a letter, a digit, punctuation) it closes
OPENS_AFTER = r"(?:^|(?<=[\s(\[{<“‘\u2013\u2014/-]))"
SINGLE_OPEN = re.compile(OPENS_AFTER + r"'(?=\w)")
DOUBLE_OPEN = re.compile(OPENS_AFTER + r'"')


def smart(text: object) -> str:
    """``text`` with straight quotes and apostrophes made typographic: ``Asa'ib`` →
    ``Asa’ib``, ``"the Framework"`` → ``“the Framework”``. Not for markup or URLs."""
    value = str(text)
    if "'" not in value and '"' not in value:
        return value
    value = SINGLE_OPEN.sub("‘", value)
    value = DOUBLE_OPEN.sub("“", value)
    return value.replace("'", "’").replace('"', "”")
