"""The solution and problem sheets: context for ``sheet.tex.jinja``, the figure, the PDF.

``context`` receives the derivations and what the build computed for it (the link
table, the figure's data); it never runs generated code. ``figure`` computes and draws
the saturation figure from a module it is given; ``pdf`` compiles LaTeX. May import
``derive.engine``, ``derive.printing`` and ``derive.config``.
"""
