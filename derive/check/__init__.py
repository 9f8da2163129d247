"""``derive check``: derivations written by people, read and judged by the engine.

``vocabulary`` is the one table of what the reader understands, with the grammar in
EBNF; ``tokens`` cuts LaTeX into tokens, ``parser`` reads them through the table into
SymPy (nothing is evaluated as code), ``numbers`` bounds the numbers it may build, and
``reader`` is the entry point, ``parse_chain``. ``report`` finds the blocks of a
document, checks each consecutive equality with ``Step`` and reports it as text or
JSON, within the time budgets of ``budget`` (per step and per input). May import
``derive.engine`` and ``derive.printing``.
"""
