"""Verified derivations as a terminal listing or as JSON (one record per step)."""

import json

from sympy import srepr

from derive.engine.text import text
from derive.engine.verify import NUMERIC, SYMBOLIC
from derive.printing.latex import latex

_SHOWN = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "<=>": "<=>"}


def detail_text(detail):
    """A step's detail as text: a cited label as it is, a SymPy statement printed."""
    return detail if isinstance(detail, str) else text(detail)


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
            reason = step.rule + (f" ({detail_text(step.detail)})" if step.detail else "")
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
                "detail": detail_text(step.detail),
                "relation": step.relation,
                "method": step.method,
                "points": step.points,
                "lhs": _expression(step.lhs),
                "rhs": _expression(step.rhs),
            }
            for step in derivation.steps
        ],
    }
