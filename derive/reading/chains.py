r"""From an input to its chains: ``read`` finds the mathematics, cuts it into equations,
joins the equations of one chain, and reads each through the notation.

An input with displays (``derive.reading.document``) is a *document*: an equation that
cannot be read is set aside as ``Unread`` (its line, cell and the reason) and the others
are still read, and an equation with no "=" (``f'(x)``, ``y \in \{0, 1\}``) is not a
chain. An input without displays is one derivation, as before: lines that each start
with "=" continue the chain, and anything unread is a ``LatexInputError``. Alignment
marks, line breaks, labels, tags, comments and ``\text{…}`` annotations are set aside
(keeping line numbers); ``\def`` and its kin in the mathematics read are refused.
"""

import re
import time
from dataclasses import dataclass

from sympy import Derivative

from derive.engine.symbols import b, rest, w_j
from derive.reading.budget import Clock
from derive.reading.document import Piece, cells, displays, equations, tidy
from derive.reading.notation import Notation
from derive.reading.reader import (
    MAX_CHARACTERS,
    TIME_LIMIT,
    Definitions,
    LatexInputError,
    parse_chain,
)
from derive.reading.tokens import too_long

MAX_STEPS = 40
BYTE_ORDER_MARK = "\ufeff"

_NOT_MATHEMATICS = re.compile(
    r"\\(def|edef|gdef|let|input|include|newcommand|renewcommand|catcode|write|read|openin)\b"
)
_ASIDE = [
    re.compile(r"(?<!\\)%[^\n]*"),  # comments
    re.compile(r"&&[^\n]*?(?=\\\\|\n|$)"),  # the annotation column of an align
    re.compile(r"(?<![_{])\\(?:text|textrm|textit|textbf|mbox|intertext)\s*\{[^{}]*\}"),
    re.compile(r"\\(?:label|tag\*?|eqref|ref)\s*\{[^{}]*\}"),
    re.compile(r"\\\\(?:\[[^\]]*\])?|&"),  # line breaks and alignment
    re.compile(r"[.,;]\s*$", re.MULTILINE),  # closing punctuation
    re.compile(r"\(\s*\)|\[\s*\]"),  # brackets an annotation left empty
]


@dataclass(frozen=True)
class Unread:
    """An equation of a document that could not be read, and why."""

    line: int
    column: int
    cell: int
    reason: str


class Chains(list):
    """The chains of one input ([Part] each), with ``where`` (line, cell) of each, the
    equations not read (``unread``), how names were read (``notes``), whether it was a
    document, and the ``Clock`` of its time budget, started when reading began."""

    def __init__(self, chains, clock, where=(), unread=(), notes=(), document=False):
        super().__init__(chains)
        self.clock, self.where, self.unread = clock, list(where), list(unread)
        self.notes, self.document = list(notes), document


def set_aside(block):
    """The block without annotations, labels, alignment and comments; lines kept."""
    for pattern in _ASIDE:
        block = pattern.sub(lambda match: "\n" * match.group().count("\n") + " ", block)
    return block


def _refuse_commands(text, first_line=1):
    command = _NOT_MATHEMATICS.search(text)
    if command:
        line = first_line + text.count("\n", 0, command.start())
        raise LatexInputError(line, command.start() - text.rfind("\n", 0, command.start()),
                              f"\\{command.group(1)} is not mathematics; only expressions "
                              "joined by '=' are read")


def _groups(pieces):
    """[(text, first line, cell)] of the chains: a piece that continues joins the one
    before it in the same cell, padded with line breaks so that lines stay right."""
    groups = []
    for piece in pieces:
        if piece.continues and groups and groups[-1][2] == piece.cell:
            text, line, cell = groups[-1]
            head = text.rstrip()
            if head.endswith("=") and piece.text.lstrip().startswith("="):
                head = head[:-1]
            gap = max(0, piece.line - line - head.count("\n"))
            groups[-1] = (head + "\n" * gap + " " + piece.text, line, cell)
        else:
            text = piece.text.rstrip()
            groups.append((text.removesuffix("="), piece.line, piece.cell))
    return groups


def _pieces(source):
    """([Piece], whether the input is a document)."""
    units = cells(source)
    notebook = units != [(source, 0, 1)]
    pieces, document = [], notebook
    for text, cell, first in units:
        found = displays(text, first)
        if not found and not notebook:
            continue
        document = True
        for block, line, _inline in found:
            _refuse_commands(block, line)
            pieces.extend(equations(tidy(block), line, cell, set_aside))
    if not document:
        _refuse_commands(source)
        pieces = equations(tidy(source), 1, 0, set_aside)
    return pieces, document


def _refuse_partial_sum(chain, line):
    """A value holding the bias and one weight but not the rest of the weighted sum is a
    pre-activation written out as theta_0 + theta_1 x (a one-feature model): the model's
    z = w_j x_j + b + r differs from it, so reading on would judge another model."""
    for part in chain:
        if part.value.has(Derivative):  # d/dw_j (w_j x_j + b): the rest would not change it
            continue
        found = part.value.free_symbols
        if {b, w_j} <= found and rest not in found:
            raise LatexInputError(part.line, 1, "the pre-activation is written out as the "
                                  "bias plus one weighted feature; derive reads the weighted "
                                  "sum over all features (write it as z or theta^T x)")


def read(source, model, loss, lets=()):
    """The ``Chains`` of ``source``; ``lets`` are the user's declared notation
    (``derive.reading.notation.Let``). Raises LatexInputError when an input that is not a
    document cannot be read, and for input over the limits."""
    clock = Clock()
    source = source.removeprefix(BYTE_ORDER_MARK)
    if len(source) > MAX_CHARACTERS:
        raise too_long()
    pieces, document = _pieces(source)
    notation = Notation(lets, source)
    definitions, notes = Definitions(), []
    chains, where, unread = [], [], []
    deadline = time.monotonic() + clock.limit(TIME_LIMIT)
    for text, first_line, cell in _groups(pieces):
        if document and "=" not in set_aside(text):
            continue
        try:
            chain = parse_chain(set_aside(text), model, loss, first_line, deadline, notation,
                                definitions, notes)
            if len(chain) < 2:
                raise LatexInputError(first_line, 1, "expected a chain of equalities "
                                      "'lhs = e1 = …'; found no '='")
            _refuse_partial_sum(chain, first_line)
        except LatexInputError as error:
            if not document or "took more than" in error.reason:
                raise
            unread.append(Unread(error.line, error.column, cell, error.reason))
            continue
        chains.append(chain)
        where.append((first_line, cell))
    if sum(len(chain) - 1 for chain in chains) > MAX_STEPS:
        raise LatexInputError(1, 1, f"more than {MAX_STEPS} steps; check a shorter derivation")
    if document and not chains and unread:
        first = unread[0]
        raise LatexInputError(first.line, first.column, first.reason)
    return Chains(chains, clock, where, unread, notation.notes + notes, document)


__all__ = ["MAX_STEPS", "Chains", "Piece", "Unread", "read", "set_aside"]
