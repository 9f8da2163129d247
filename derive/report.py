"""Verified derivations as a terminal listing or as JSON (one record per step)."""

import json

from sympy import Symbol, srepr
from sympy.core.function import AppliedUndef
from sympy.printing.str import StrPrinter

from derive.latex import latex
from derive.symbols import a
from derive.verify import NUMERIC, SYMBOLIC

_SHOWN = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "<=>": "<=>"}


class TextPrinter(StrPrinter):
    """Plain text in reading order: σ'(z), dL_se/da, ∂z/∂w_j; products keep their order."""

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_Derivative(self, expr):
        (variable,), inner = expr.variables, expr.expr
        if isinstance(inner, AppliedUndef) and inner.args == (variable,):
            return f"{self._print(inner.func)}'({self._print(variable)})"
        mark = "d" if variable == a else "∂"
        if isinstance(inner, Symbol):
            return f"{mark}{self._print(inner)}/{mark}{self._print(variable)}"
        return f"{mark}/{mark}{self._print(variable)} ({self._print(inner)})"

    def _print_Function(self, expr):
        if isinstance(expr, AppliedUndef) and expr.func.__name__ == "sigma":
            return f"σ({', '.join(self._print(argument) for argument in expr.args)})"
        return super()._print_Function(expr)

    def _print_UndefinedFunction(self, expr):
        return "σ" if expr.__name__ == "sigma" else expr.__name__


def text(expr):
    """``expr`` as one line of plain text."""
    return TextPrinter().doprint(expr)


def summary(derivations):
    """Counts of derivations and of steps by verification method."""
    steps = [step for derivation in derivations for step in derivation.steps]
    symbolic = sum(step.method == SYMBOLIC for step in steps)
    return {
        "derivations": len(derivations),
        "steps": len(steps),
        SYMBOLIC: symbolic,
        NUMERIC: len(steps) - symbolic,
    }


def summary_line(derivations):
    counts = summary(derivations)
    share = 100 * counts[SYMBOLIC] / max(counts["steps"], 1)
    return (
        f"{counts['derivations']} derivations, {counts['steps']} steps verified: "
        f"{counts[SYMBOLIC]} symbolic ({share:.0f} %), {counts[NUMERIC]} numeric"
    )


def as_text(derivations):
    """Each derivation as its chain, one step a line with its rule and method."""
    lines = []
    for derivation in derivations:
        lines.append(f"{derivation.title}  [{derivation.label}]")
        lines.append(f"      {text(derivation.lhs)}")
        for step in derivation.steps:
            reason = step.rule + (f" ({step.detail})" if step.detail else "")
            method = step.method if step.method == SYMBOLIC else f"{step.method}, {step.points} points"
            lines.append(f"  {_SHOWN[step.relation]:>3} {text(step.rhs)}")
            lines.append(f"        by {reason}; {method}")
        lines.append("")
    lines.append(summary_line(derivations))
    return "\n".join(lines) + "\n"


def as_records(derivations):
    """JSON-ready data: per derivation its result, per step everything a tool needs."""
    return {
        "summary": summary(derivations),
        "derivations": [_derivation_record(derivation) for derivation in derivations],
    }


def as_json(derivations):
    return json.dumps(as_records(derivations), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _expression(expr):
    return {"srepr": srepr(expr), "latex": latex(expr)}


def _derivation_record(derivation):
    return {
        "title": derivation.title,
        "label": derivation.label,
        "lhs": _expression(derivation.lhs),
        "relation": derivation.relation,
        "rhs": _expression(derivation.rhs),
        "steps": [
            {
                "derivation": derivation.title,
                "label": step.label,
                "rule": step.rule,
                "detail": step.detail,
                "relation": step.relation,
                "method": step.method,
                "points": step.points,
                "lhs": _expression(step.lhs),
                "rhs": _expression(step.rhs),
            }
            for step in derivation.steps
        ],
    }
