"""A variant of the homework for every student: drawn, solved, verified and exported.

``roster`` reads who gets a variant (a CSV roster, or anonymous ids) and which
(activation, loss) pairs may be drawn; ``draw`` gives each student a pair (balanced,
neighbours in the roster differ) and numbers, all from the seed; ``tasks`` computes each
numeric answer exactly from the formulas the engine proved and builds the worked
solution as a chain of ``Step``\\ s, each verified when built; ``sheets`` renders each
student's problem sheet and the one solutions book (``templates/variant_*.tex.jinja``);
``export`` writes the manifest, the Moodle XML quiz and the CSV answer key; ``run``
decides what is written and in which order, and writes it all or nothing.

May import ``derive.engine``, ``derive.printing``, ``derive.sheet`` (its LaTeX escape and
PDF compiler), ``derive.render``, ``derive.config`` and ``derive.files``.
"""
