"""Stage 2, check: the loaded model in, findings and evidence out.

In: the sections, bibliography entries and sources that :mod:`policybrief.load` made.
Out: ``Evidence`` (each citation's quote matched in its source, the locators found)
and ``Finding`` values with a rule name: citations and quotes (``checks``, ``quotes``),
the analytic standards (``tradecraft``), claims against their passages (``claims``),
and what a changed source means for the brief (``changes``, ``ranking``). Nothing here
writes a file or renders anything.
"""
