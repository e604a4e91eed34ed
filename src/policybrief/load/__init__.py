"""Stage 1, load: the project's files in, the model's frozen objects out.

In: a :class:`~policybrief.model.Project` (its ``report/`` folder with ``brief.yaml``,
``_house.yaml``, ``names.yaml`` and the section files, ``bibliography.bib`` and the
stored sources in ``seeds/``). Out: ``Meta``, ``Section``, ``Entry`` and ``Source``
objects and the house style, each knowing its path and line, plus the ``Finding``
list of what could not be read. Every read of the brief's own inputs happens here;
nothing here checks one input against another (that is :mod:`policybrief.check`).
"""
