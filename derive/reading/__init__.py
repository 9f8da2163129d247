"""``derive check``: derivations written by people, read and judged by the engine.

``document`` finds the mathematics of an input (a derivation, or a whole LaTeX or
Markdown document or notebook) and cuts it into equations; ``notation`` rewrites
published names by role; ``vocabulary`` is the one table of what the reader
understands, with the grammar in EBNF; ``tokens`` cuts LaTeX into tokens, ``parser``
(with ``names`` and ``calculus``) reads them through the table into SymPy (nothing is
evaluated as code), ``numbers`` bounds the numbers it may build, ``reader`` is the entry
point for one chain, ``parse_chain``, and ``chains`` assembles an input's chains.
``report`` checks each consecutive equality with ``Step`` and reports it as text or
JSON, within the time budgets of ``budget`` (per step and per input); ``mistakes`` names
a known mistake in a false step; ``api`` is ``derive.check`` and its ``Report``. May
import ``derive.engine`` and ``derive.printing``. (Named ``reading`` so that
``derive.check`` can be the function.)
"""
