"""Stage 4, render: the assembled document in, the output files as bytes out.

In: the assembled Markdown, the checked ``Brief`` and its ``Evidence``. Out: a mapping
of file name under ``build/`` to bytes: ``brief.html`` and the source pages (pandoc,
``html``), ``brief.docx`` with its review anchors (pandoc, ``docx``, ``anchors``) and
``brief.pdf`` (WeasyPrint, :mod:`policybrief.render.pdf`, which decides whether to lay
the PDF out whole or in parts). ``rendering.render`` is the one way in; the link
policy (``links``) and the resource bounds (``limits``) apply to every output. Nothing
here writes into the project: work files go to a temporary folder the caller owns.
"""
