"""A small, strict reader of LaTeX mathematics as students write it, into SymPy.

Nothing here evaluates user text: ``tokens`` cuts the input into tokens, ``parser``
reads them by recursive descent with the grammar and the one vocabulary table of
``vocabulary`` (which lists every word read and what it means), and SymPy objects are
built directly from that table. Anything outside it is a ``LatexInputError`` that names
the line and column and says what was expected. Numbers are read exactly (0.5 is 1/2).
"""

from derive.check.parser import MAX_EXPONENT, Losses, Parser, Part
from derive.check.tokens import (
    MAX_CHARACTERS,
    MAX_DEPTH,
    TIME_LIMIT,
    LatexInputError,
    tokenize,
)

__all__ = ["MAX_CHARACTERS", "MAX_DEPTH", "MAX_EXPONENT", "TIME_LIMIT", "LatexInputError",
           "Part", "parse_chain"]


def parse_chain(source, model, default_loss, first_line=1):
    """[Part] of a chain ``e0 = e1 = …`` written in ``source``, read in ``model`` (whose
    activation its own LaTeX name means); a plain L is the loss ``default_loss``."""
    parser = Parser(source, tokenize(source, first_line), Losses(model), default_loss)
    return parser.chain()
