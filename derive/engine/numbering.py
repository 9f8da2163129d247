"""Equation numbers: the solution sheet numbers every step line, in derivation order.

The sheet shows each derivation as one aligned display whose lines are its steps, one
number a line, and no other numbered displays; so the number of a step is its position
among all steps. A derivation's number is that of its last line (its result). Code
generation cites these numbers, and a sheet test checks LaTeX agrees.
"""


def equation_numbers(derivations):
    """{label: number} for every step label and every derivation label."""
    numbers = {}
    count = 0
    for derivation in derivations:
        for step in derivation.steps:
            count += 1
            numbers[step.label] = count
        numbers[derivation.label] = count
    return numbers


def cite(numbers, *labels):
    """"eq. (13)" or "eqs. (20), (21)" for the given labels."""
    shown = ", ".join(f"({numbers[label]})" for label in labels)
    return f"eq. {shown}" if len(labels) == 1 else f"eqs. {shown}"
