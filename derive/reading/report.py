"""``derive check``: verify a derivation written by hand, step by step.

The input is LaTeX as students write it: the bodies of align/equation environments
(or \\[ … \\], $$ … $$), or, without any environment, the whole text, e.g. lines that
each start with "=". A byte-order mark at its start is ignored. Alignment marks, line
breaks, labels, tags, comments and \\text{…} annotations are set aside (keeping line
numbers); what remains must be one chain e0 = e1 = … per block, read by
``derive.reading.reader``. Each consecutive equality is checked by the engine (``Step``)
in the note's model: proved, checked numerically, or false with a counterexample point
and both sides' values there.

Checking is bounded in time (``derive.reading.budget``): the whole input has
``FILE_SECONDS`` from when ``read`` begins (the clock travels with the chains it
returns), reading at most ``TIME_LIMIT`` of them; a step has ``STEP_SECONDS``, and one
that runs past them is decided by the numeric check alone within ``NUMERIC_SECONDS``
("checked numerically", or false, the reason saying so) or reported undecided in time.
"""

import json
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise

from sympy import Interval, S, oo

from derive.engine.steps import Step, StepError
from derive.engine.symbols import a, b, rest, w_j, x_j, y, z
from derive.engine.text import text
from derive.engine.verify import NUMERIC, Refuted, Undecided, check_numerically
from derive.printing.latex import latex
from derive.reading import budget
from derive.reading.budget import Clock, OutOfTime, within
from derive.reading.chains import Chains, read
from derive.reading.mistakes import named_mistake

PROVED, CHECKED, FALSE, UNDECIDED = "proved", "checked numerically", "false", "undecided"
DEFINED = "definition"
MODEL_SYMBOLS = {a, b, rest, w_j, x_j, y, z}
HOLDING = (PROVED, CHECKED, DEFINED)
INSTANCE = ("holds when every sample is the same; not proved for every set of samples "
            "(a sum here is not linear)")

__all__ = ["CHECKED", "DEFINED", "FALSE", "PROVED", "UNDECIDED", "Chains", "CheckedStep",
           "as_json", "as_text", "check_chains", "holds", "read", "summary"]


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
    chain: int = 1
    cell: int = 0
    mistake: str = ""

    @property
    def where(self):
        """"line 5", or "cell 2, line 5" in a notebook."""
        return f"cell {self.cell}, line {self.line}" if self.cell else f"line {self.line}"


def check_chains(chains, model):
    """Every consecutive equality of every chain, checked within the time budget of
    ``chains.clock`` (a fresh ``Clock`` for a plain list of chains). The step into a
    definition (``J(θ) = …`` first in its chain) is recorded, not checked."""
    clock = getattr(chains, "clock", None) or Clock()
    where = getattr(chains, "where", None) or [(chain[0].line, 0) for chain in chains]
    results = []
    for number, (chain, (_, cell)) in enumerate(zip(chains, where, strict=True), 1):
        for before, after in pairwise(chain):  # each a reader.Part
            if before.defines:
                result = CheckedStep(len(results) + 1, after.line, before.value, after.value,
                                     after.written, DEFINED)
            else:
                result = _check(len(results) + 1, before, after, model, clock)
                _instance_only(result, before, after)
                if result.status == FALSE:
                    result.mistake = named_mistake(before.value, after.value, model)
            result.chain, result.cell = number, cell
            results.append(result)
    return results


def _instance_only(result, before, after):
    """A step proved only for the instance with every sample equal is not proved."""
    summed = before.sums or after.sums
    if summed and result.status in (PROVED, CHECKED) and (
            before.instance or after.instance or before.loose or after.loose):
        result.status, result.reason = UNDECIDED, INSTANCE


def _check(index, before, after, model, clock):
    """One step: ``Step`` within ``STEP_SECONDS``, past them the numeric check alone."""
    lhs, rhs = before.value, after.value
    result = partial(CheckedStep, index, after.line, lhs, rhs, after.written)
    seconds = clock.limit(budget.STEP_SECONDS)
    if seconds <= 0:
        return result(UNDECIDED, reason=f"undecided in time: not checked, {_spent(clock)}")
    try:
        step = within(seconds, Step, lhs, rhs, "as written", model=model, label=f"{index}",
                      domains=_free_domains(lhs, rhs, model))
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


def _free_domains(lhs, rhs, model):
    """{symbol: set} of the letters a document left free (m, p, …): m, n and N positive."""
    free = (model.meaning(lhs).free_symbols | model.meaning(rhs).free_symbols) - MODEL_SYMBOLS
    return {symbol: Interval.open(0, oo) if symbol.is_positive else S.Reals
            for symbol in free if not symbol.name.startswith("_")}


def _numerically(result, lhs, rhs, model, clock, why):
    """The step decided by the numeric check alone, within ``NUMERIC_SECONDS``."""
    seconds = clock.limit(budget.NUMERIC_SECONDS)

    def evidence():
        domains = _free_domains(lhs, rhs, model)
        keep = frozenset(domains)
        return check_numerically(model.meaning(lhs, keep), model.meaning(rhs, keep), "=",
                                 domains)

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
    return all(result.status in HOLDING for result in results)


def summary(results, chains=None):
    counts = {status: sum(r.status == status for r in results)
              for status in (PROVED, CHECKED, FALSE, UNDECIDED, DEFINED)}
    steps = "1 step" if len(results) == 1 else f"{len(results)} steps"
    line = (f"{steps}: {counts[PROVED]} proved, {counts[CHECKED]} checked "
            f"numerically, {counts[FALSE]} false")
    if counts[UNDECIDED]:
        line += f", {counts[UNDECIDED]} undecided"
    if counts[DEFINED]:
        line += f", {counts[DEFINED]} definitions"
    failed = next((r for r in results if r.status in (FALSE, UNDECIDED)), None)
    if failed:
        line += f" (first at step {failed.index}, {failed.where})"
    if chains is not None and len(chains) > 1:
        line += f"; {len(chains)} chains"
    if chains is not None and getattr(chains, "unread", None):
        line += f"; {len(chains.unread)} not read"
    return line


def as_text(results, chains=None):
    """The report: how names were read, every step (under its chain's heading where
    there are several), the equations not read, and the summary line."""
    lines = [f"notation: {note}" for note in getattr(chains, "notes", ())]
    several = len({result.chain for result in results}) > 1
    chain = None
    for result in results:
        if several and result.chain != chain:
            chain = result.chain
            lines.append(f"chain {chain} ({result.where}):")
        lines.append(f"step {result.index} ({result.where}): = {result.written}")
        verdict = result.status.upper() if result.status == FALSE else result.status
        if result.status == CHECKED:
            verdict += f" at {result.points} points"
        lines.append(f"    {verdict}")
        if result.status == FALSE:
            at = ", ".join(f"{name} = {value}" for name, value in result.counterexample.items())
            lines.append(f"    counterexample: {at}")
            lines.append(f"    left side = {result.values[0]}, right side = {result.values[1]}")
        if result.mistake:
            lines.append(f"    mistake: {result.mistake}")
        if result.reason:
            lines.append(f"    {result.reason}")
    for unread in getattr(chains, "unread", ()):
        where = f"cell {unread.cell}, line {unread.line}" if unread.cell else f"line {unread.line}"
        lines.append(f"not read ({where}, column {unread.column}): {unread.reason}")
    lines.append(summary(results, chains))
    return "\n".join(lines) + "\n"


def _printed(expr):
    """{"text": …, "latex": …} of one side."""
    return {"text": text(expr), "latex": latex(expr)}


def as_json(results, source_name, chains=None):
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
            "chain": result.chain,
            "cell": result.cell,
            "mistake": result.mistake,
        }
        for result in results
    ]
    document = {"source": source_name, "holds": holds(results),
                "summary": summary(results, chains), "steps": records,
                "notation": list(getattr(chains, "notes", ())),
                "not_read": [{"line": u.line, "column": u.column, "cell": u.cell,
                              "reason": u.reason} for u in getattr(chains, "unread", ())]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
