"""A small, strict reader of LaTeX mathematics as students write it, into SymPy.

Nothing here evaluates user text: ``tokens`` cuts the input into tokens, ``parser``
reads them by recursive descent with the grammar and the one vocabulary table of
``vocabulary`` (which lists every word read and what it means), and SymPy objects are
built directly from that table. Anything outside it is a ``LatexInputError`` that names
the line and column and says what was expected. Numbers are read exactly (0.5 is 1/2).

Reading is bounded: besides the size limits of ``tokens`` and ``parser``, a chain is
read by its ``deadline`` (``TIME_LIMIT`` from now unless given), checked at every token
and enforced by a timer (``derive.reading.budget.within``) that stops SymPy mid-way
through building an expression; either way the error names the token reached.
"""

import time

from derive.reading.budget import OutOfTime, within
from derive.reading.numbers import MAX_EXPONENT, MAX_NUMBER_DIGITS
from derive.reading.parser import Definitions, Losses, Parser, Part
from derive.reading.tokens import (
    MAX_CHARACTERS,
    MAX_DEPTH,
    TIME_LIMIT,
    LatexInputError,
    tokenize,
)

__all__ = ["MAX_CHARACTERS", "MAX_DEPTH", "MAX_EXPONENT", "MAX_NUMBER_DIGITS", "TIME_LIMIT",
           "Definitions", "LatexInputError", "Part", "parse_chain"]


def parse_chain(source, model, default_loss, first_line=1, deadline=None, notation=None,
                definitions=None, notes=None):
    """[Part] of a chain ``e0 = e1 = …`` written in ``source``, read in ``model`` (whose
    activation its own LaTeX name means); a plain L is the loss ``default_loss``.
    Reading stops at ``deadline`` (``time.monotonic()``; default ``TIME_LIMIT`` from now).
    ``notation`` (a ``derive.reading.notation.Notation``) rewrites published names first;
    ``definitions`` are the document's so far (added to); ``notes`` collects how names
    were read."""
    deadline = time.monotonic() + TIME_LIMIT if deadline is None else deadline
    tokens = tokenize(source, first_line)
    if notation is not None:
        tokens = notation.rewrite(tokens)
    parser = Parser(source, tokens, Losses(model), default_loss, deadline, definitions, notes)
    try:
        return within(deadline - time.monotonic(), parser.chain)
    except OutOfTime:
        parser.out_of_time()
