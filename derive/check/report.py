"""``derive check``: verify a derivation written by hand, step by step.

The input is LaTeX as students write it: the bodies of align/equation environments
(or \\[ … \\], $$ … $$), or, without any environment, the whole text, e.g. lines that
each start with "=". A byte-order mark at its start is ignored. Alignment marks, line
breaks, labels, tags, comments and \\text{…} annotations are set aside (keeping line
numbers); what remains must be one chain e0 = e1 = … per block, read by
``derive.check.reader``. Each consecutive equality is checked by the engine (``Step``)
in the note's model: proved, checked numerically, or false with a counterexample point
and both sides' values there.

Checking is bounded in time (``derive.check.budget``): the whole input has
``FILE_SECONDS`` from when ``read`` begins (the clock travels with the chains it
returns), reading at most ``TIME_LIMIT`` of them; a step has ``STEP_SECONDS``, and one
that runs past them is decided by the numeric check alone within ``NUMERIC_SECONDS``
("checked numerically", or false, the reason saying so) or reported undecided in time.
"""

import json
import re
import time
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

from derive.check import budget
from derive.check.budget import Clock, OutOfTime, within
from derive.check.reader import MAX_CHARACTERS, TIME_LIMIT, LatexInputError, parse_chain
from derive.check.tokens import too_long
from derive.engine.steps import Step, StepError
from derive.engine.text import text
from derive.engine.verify import NUMERIC, Refuted, Undecided, check_numerically
from derive.printing.latex import latex

PROVED, CHECKED, FALSE, UNDECIDED = "proved", "checked numerically", "false", "undecided"
MAX_STEPS = 40
BYTE_ORDER_MARK = "\ufeff"

_ENVIRONMENT = re.compile(
    r"\\begin\{(align|equation|gather|multline|eqnarray|flalign)(\*?)\}(.*?)\\end\{\1\2\}"
    r"|\\\[(.*?)\\\]|\$\$(.*?)\$\$",
    re.DOTALL,
)
_NOT_MATHEMATICS = re.compile(
    r"\\(def|edef|gdef|let|input|include|newcommand|renewcommand|catcode|write|read|openin)\b"
)
_ROW_BREAK = re.compile(r"\\\\(?:\[[^\]]*\])?")
"""The end of a row of an align (two backslashes), with an optional vertical space."""
_ASIDE = [
    re.compile(r"(?<!\\)%[^\n]*"),  # comments
    re.compile(r"&&[^\n]*?(?=\\\\|\n|$)"),  # the annotation column of an align
    re.compile(r"(?<![_{])\\(?:text|textrm|textit|mbox|intertext)\s*\{[^{}]*\}"),  # annotations
    re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}"),
    re.compile(r"\\\\(?:\[[^\]]*\])?|&"),  # line breaks and alignment
    re.compile(r"[.,;]\s*$", re.MULTILINE),  # closing punctuation
]


@dataclass
class CheckedStep:
    """One equality of the chain and what the engine said about it."""

    index: int
    line: int
    lhs: object
    rhs: object
    written: str
    status: str
    points: int = 0
    counterexample: dict = field(default_factory=dict)
    values: tuple = ()
    reason: str = ""


def blocks(source):
    """[(text, first line)] of the mathematics to check."""
    found = []
    for match in _ENVIRONMENT.finditer(source):
        group = next(index for index in (3, 4, 5) if match.group(index) is not None)
        first_line = source.count("\n", 0, match.start(group)) + 1
        found.append((match.group(group), first_line))
    return found or [(source, 1)]


def set_aside(block):
    """The block without annotations, labels, alignment and comments; lines kept."""
    for pattern in _ASIDE:
        block = pattern.sub(lambda match: "\n" * match.group().count("\n") + " ", block)
    return block


def rows_as_chains(block, first_line):
    """[(text, first line)] of the chains written in ``block``. Rows end at a row break
    (two backslashes); a row that begins with '=' (after its alignment mark) continues
    the chain above it, and any other row starts a chain of its own, so a row break is
    never read as a product."""
    breaks = list(_ROW_BREAK.finditer(block))
    rows = zip([0] + [row_break.end() for row_break in breaks],
               [row_break.start() for row_break in breaks] + [len(block)], strict=True)
    starts = []
    for start, end in rows:
        row = set_aside(block[start:end]).strip()
        if starts and (not row or row.startswith("=")):
            continue  # part of the chain above
        starts.append(start)
    ends = starts[1:] + [len(block)]
    return [(block[start:end], first_line + block.count("\n", 0, start))
            for start, end in zip(starts, ends, strict=True)]


class Chains(list):
    """The chains of one input ([Part] each), and the ``Clock`` of its time budget,
    started when reading began."""

    def __init__(self, chains, clock):
        super().__init__(chains)
        self.clock = clock


def read(source, model, loss):
    """The ``Chains`` of ``source``; raises LatexInputError."""
    clock = Clock()
    source = source.removeprefix(BYTE_ORDER_MARK)
    if len(source) > MAX_CHARACTERS:
        raise too_long()
    command = _NOT_MATHEMATICS.search(source)
    if command:
        line = source.count("\n", 0, command.start()) + 1
        raise LatexInputError(line, command.start() - source.rfind("\n", 0, command.start()),
                              f"\\{command.group(1)} is not mathematics; only expressions "
                              "joined by '=' are read")
    chains = []
    deadline = time.monotonic() + clock.limit(TIME_LIMIT)
    for block, block_line in blocks(source):
        for written, first_line in rows_as_chains(block, block_line):
            chain = parse_chain(set_aside(written), model, loss, first_line, deadline)
            if len(chain) < 2:
                raise LatexInputError(first_line, 1, "expected a chain of equalities "
                                      "'lhs = e1 = …'; found no '='")
            chains.append(chain)
    if sum(len(chain) - 1 for chain in chains) > MAX_STEPS:
        raise LatexInputError(1, 1, f"more than {MAX_STEPS} steps; check a shorter derivation")
    return Chains(chains, clock)


def check_chains(chains, model):
    """Every consecutive equality of every chain, checked within the time budget of
    ``chains.clock`` (a fresh ``Clock`` for a plain list of chains)."""
    clock = getattr(chains, "clock", None) or Clock()
    results = []
    for chain in chains:
        for before, after in pairwise(chain):  # each a reader.Part
            results.append(_check(len(results) + 1, before, after, model, clock))
    return results


def _check(index, before, after, model, clock):
    """One step: ``Step`` within ``STEP_SECONDS``, past them the numeric check alone."""
    lhs, rhs = before.value, after.value
    result = partial(CheckedStep, index, after.line, lhs, rhs, after.written)
    seconds = clock.limit(budget.STEP_SECONDS)
    if seconds <= 0:
        return result(UNDECIDED, reason=f"undecided in time: not checked, {_spent(clock)}")
    try:
        step = within(seconds, Step, lhs, rhs, "as written", model=model, label=f"{index}")
    except OutOfTime:
        return _numerically(result, lhs, rhs, model, clock,
                            f"the check took more than {_seconds(seconds)}")
    except StepError as error:
        if error.values is not None:
            return result(FALSE, counterexample=error.point, values=error.values)
        return result(UNDECIDED, reason=str(error).splitlines()[-1].strip())
    except Exception as error:  # noqa: BLE001 - any SymPy failure on user input is reported
        return _engine_failed(result, error)
    status = CHECKED if step.method == NUMERIC else PROVED
    return result(status, points=step.points)


def _numerically(result, lhs, rhs, model, clock, why):
    """The step decided by the numeric check alone, within ``NUMERIC_SECONDS``."""
    seconds = clock.limit(budget.NUMERIC_SECONDS)

    def evidence():
        return check_numerically(model.meaning(lhs), model.meaning(rhs), "=", {})

    try:
        verdict = within(seconds, evidence)
    except OutOfTime:
        late = (f"the numeric check more than {_seconds(seconds)}" if seconds > 0
                else _spent(clock))
        return result(UNDECIDED, reason=f"undecided in time: {why}, and {late}")
    except Refuted as refuted:
        return result(FALSE, counterexample=refuted.point, values=refuted.values,
                      reason=f"{why}; the numeric check found it false")
    except Undecided as undecided:
        return result(UNDECIDED, reason=f"{why}; the numeric check could not decide: {undecided}")
    except Exception as error:  # noqa: BLE001 - any SymPy failure on user input is reported
        return _engine_failed(result, error)
    return result(CHECKED, points=verdict.points, reason=f"{why}; decided numerically")


def _engine_failed(result, error):
    return result(UNDECIDED, reason=f"the engine could not evaluate it ({type(error).__name__})")


def _seconds(seconds):
    return f"{seconds:.1f} s"


def _spent(clock):
    return f"the {_seconds(clock.seconds)} for the whole input were spent"


def holds(results):
    return all(result.status in (PROVED, CHECKED) for result in results)


def summary(results):
    counts = {status: sum(r.status == status for r in results)
              for status in (PROVED, CHECKED, FALSE, UNDECIDED)}
    steps = "1 step" if len(results) == 1 else f"{len(results)} steps"
    line = (f"{steps}: {counts[PROVED]} proved, {counts[CHECKED]} checked "
            f"numerically, {counts[FALSE]} false")
    if counts[UNDECIDED]:
        line += f", {counts[UNDECIDED]} undecided"
    failed = next((r for r in results if r.status in (FALSE, UNDECIDED)), None)
    if failed:
        line += f" (first at step {failed.index}, line {failed.line})"
    return line


def as_text(results):
    lines = []
    for result in results:
        lines.append(f"step {result.index} (line {result.line}): = {result.written}")
        verdict = result.status.upper() if result.status == FALSE else result.status
        if result.status == CHECKED:
            verdict += f" at {result.points} points"
        lines.append(f"    {verdict}")
        if result.status == FALSE:
            at = ", ".join(f"{name} = {value}" for name, value in result.counterexample.items())
            lines.append(f"    counterexample: {at}")
            lines.append(f"    left side = {result.values[0]}, right side = {result.values[1]}")
        if result.reason:
            lines.append(f"    {result.reason}")
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def _printed(expr):
    """{"text": …, "latex": …} of one side."""
    return {"text": text(expr), "latex": latex(expr)}


def as_json(results, source_name):
    records = [
        {
            "step": result.index,
            "line": result.line,
            "written": result.written,
            "lhs": _printed(result.lhs),
            "rhs": _printed(result.rhs),
            "status": result.status,
            "points": result.points,
            "counterexample": result.counterexample,
            "values": dict(zip(("lhs", "rhs"), result.values)),
            "reason": result.reason,
        }
        for result in results
    ]
    document = {"source": source_name, "holds": holds(results), "summary": summary(results),
                "steps": records}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
