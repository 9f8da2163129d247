"""The numeric tasks of a variant, solved exactly and worked out as verified chains.

Every answer comes from a formula the engine proved for the student's pair (its
``Book``, results found by the names in ``derive.engine.labels``): act'(z) at a point,
∂L/∂w_k and ∂L/∂b at the drawn x, w, b, y, and one gradient-descent step
p − η·∂L/∂p. The formula is evaluated with the drawn rationals substituted, exactly
(SymPy), then to 40 significant digits (``evalf``), and rounded half-even to
``PLACES`` decimal places for display.

Each worked solution is a chain whose every link is a ``Step`` verified when built, in
the student's model: its left side is the task's quantity as a value at a point (the
derivative of the *definition* of the loss, taken by SymPy, at the drawn numbers); the
first link is the proved formula with those numbers written in (so the step checks that
the formula, evaluated, is that derivative); an ≈ link is verified as
(value − shown)² ≤ (half a unit of the last place shown)². Anything displayed as "=" is
an equality proved by SymPy (or, marked in ``method``, at many points numerically).
"""

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal

from sympy import Add, Derivative, Rational, Subs, Symbol, evaluate, symbols

from derive.engine import labels
from derive.engine.choice import choose
from derive.engine.derivations import derive_all
from derive.engine.model import Model
from derive.engine.steps import Step
from derive.engine.symbols import a, b, w_j, x_j, y, z
from derive.printing.latex import latex
from derive.variants.draw import FEATURES
from derive.variants.numeric_latex import at_numbers, number, numeric_latex

PLACES = 4
"""Decimal places of every answer as displayed (and in the quiz)."""
INTERMEDIATE_PLACES = 6
"""Decimal places of the activation's value shown on the way."""
DIGITS = 40
"""Significant digits of the exact value evaluated (and 30 of them recorded)."""
RELATIVE_TOLERANCE = Decimal("0.001")
MIN_TOLERANCE = Decimal("0.001")
eta = Symbol("eta", real=True)
_G = Symbol("gradient", real=True)  # stands for a printed gradient inside the update formula
TASKS = ("act_prime", *(f"grad_w{k}" for k in range(1, FEATURES + 1)), "grad_b",
         *(f"step_w{k}" for k in range(1, FEATURES + 1)), "step_b")
"""Every task of a variant, in the order of the sheet and the quiz."""


class AtPoint(Model):
    """The student's model, where a value at a point (``Subs``) means the substituted
    meaning: (∂L/∂w_j)|_{x_j = 1.5, y = 1, z = 0.75} is SymPy's derivative of the loss's
    definition, evaluated there."""

    def meaning(self, expr, keep=frozenset()):
        expr = expr.replace(lambda node: isinstance(node, Subs),
                            lambda node: self._at_point(node, keep))
        return super().meaning(expr, keep)

    def _at_point(self, node, keep):
        inner, variables, point = node.args
        return _general_meaning(self, inner, keep).xreplace(dict(zip(variables, point)))


@functools.lru_cache(maxsize=256)
def _general_meaning(model, expr, keep):
    """``Model.meaning`` of an expression in general (the same for every student with
    the pair), remembered: SymPy differentiates each derivative once per pair."""
    return Model.meaning(model, expr, keep)


@functools.cache
def book_for(activation, loss):
    """The verified Book of one (activation, loss) pair, built once per process."""
    return derive_all(Model(*choose(activation, [loss])))


@dataclass(frozen=True)
class Link:
    """One displayed link of a chain: ``relation`` (LaTeX), right side, justification."""

    relation: str
    rhs: str
    why: str


@dataclass(frozen=True)
class Chain:
    """``head`` (a definition, may be "") ``lhs`` then the links; ``label`` for LaTeX."""

    head: str
    lhs: str
    links: tuple
    label: str = ""


@dataclass(frozen=True)
class Answer:
    """An answer: the exact value's first 30 significant digits, the value rounded to
    ``PLACES`` places as shown, and the tolerance a quiz accepts (absolute)."""

    task: str
    digits: str
    display: str
    tolerance: str


@dataclass(frozen=True)
class TaskSolution:
    """A task: what is asked (LaTeX), the proved formula it uses and the label it has in
    the solutions book, the worked chain and the answer."""

    key: str
    statement: str
    formula: str
    formula_ref: str
    chain: Chain
    answer: Answer


@dataclass(frozen=True)
class Solution:
    """A variant solved: the intermediate values z and a, and every task in ``TASKS``
    order. ``methods`` counts how the steps were verified ("symbolic", "numeric")."""

    variant: object
    intermediates: tuple
    tasks: tuple
    methods: tuple


def solve(variant):
    """Solve every task of ``variant`` and verify every displayed link."""
    book = book_for(variant.activation, variant.loss)
    model = AtPoint(book.model.activation, book.model.losses)
    return _Solver(variant, book, model).solution()


def ref(variant, label):
    """The LaTeX label of result ``label`` in ``variant``'s part of the solutions book."""
    return f"{variant.key}:{labels.equation(label)}"


class _Solver:
    def __init__(self, variant, book, model):
        self.variant, self.book, self.model = variant, book, model
        self.act, self.loss = model.activation, model.losses[0]
        self.numbers = variant.numbers
        self.z = self.numbers.z
        self.output = self.act(self.z)
        self.methods = []

    def solution(self):
        tasks = [self._act_prime()]
        gradients = {}
        for k in range(1, FEATURES + 1):
            gradients[f"w{k}"] = self._gradient(k)
            tasks.append(gradients[f"w{k}"][0])
        gradients["b"] = self._gradient(None)
        tasks.append(gradients["b"][0])
        for name, (task, value, shown) in gradients.items():
            tasks.append(self._update(name, task, value, shown))
        methods = tuple(sorted({m: self.methods.count(m) for m in self.methods}.items()))
        return Solution(self.variant, (self._z_chain(), self._output_chain()), tuple(tasks),
                        methods)

    # --- the chains --------------------------------------------------------------------

    def _chain(self, lhs, links, head="", label="", places=PLACES):
        """Verify ``lhs = links[0] = …`` link by link, then the rounding; return the
        displayed Chain and the Answer of its last exact value."""
        shown, previous = [], lhs
        for expr, text, why in links:
            if expr == previous:
                continue
            self._step(previous, expr, why)
            shown.append(Link("=", text, why))
            previous = expr
        exact = self.model.meaning(previous)
        answer, rounded = _rounded(exact, places)
        if exact != rounded:
            self._step((previous - rounded) ** 2, Rational(1, 2 * 10**places) ** 2,
                       f"rounded to {places} decimal places", relation="<=")
            shown.append(Link(r"\approx", answer.display,
                              f"rounded to {places} decimal places"))
        elif previous != rounded:
            self._step(previous, rounded, "arithmetic")
            shown.append(Link("=", answer.display, "arithmetic"))
        return Chain(head, numeric_latex(lhs), tuple(shown), label), answer

    def _step(self, lhs, rhs, why, relation="="):
        step = Step(lhs, rhs, why, model=self.model, relation=relation,
                    derivation=f"variant {self.variant.student.id}")
        self.methods.append(step.method)

    def _z_chain(self):
        ws = symbols(f"w_1:{FEATURES + 1}", real=True)
        xs = symbols(f"x_1:{FEATURES + 1}", real=True)
        total = Add(*(wk * xk for wk, xk in zip(ws, xs)), b, evaluate=False)
        values = dict(zip(ws, self.numbers.w)) | dict(zip(xs, self.numbers.x))
        values[b] = self.numbers.b
        shown = {symbol: number(value) for symbol, value in values.items()}
        at = Subs(total, tuple(values), tuple(values.values()))
        with evaluate(False):
            substituted = total.xreplace(values)
        links = [(substituted, at_numbers(total, shown), "the drawn numbers"),
                 (self.z, numeric_latex(self.z), "arithmetic")]
        chain, _ = self._chain(at, links, head=f"z = {latex(total)}",
                               places=INTERMEDIATE_PLACES)
        return _drop_lhs(chain)

    def _output_chain(self):
        links = [(self.act.expression(self.z), numeric_latex(self.act.expression(self.z)),
                  f"definition \\eqref{{{ref(self.variant, labels.DEF_ACT)}}}")]
        chain, _ = self._chain(self.output, links, head="a = ",
                               places=INTERMEDIATE_PLACES)
        return chain

    def _act_prime(self):
        derivation = self.book[labels.ACT_PRIME]
        point = self.numbers.point
        formula = derivation.rhs.xreplace({z: point})
        defined = formula.replace(self.act.function, self.act.definition)
        where = ref(self.variant, labels.ACT_PRIME)
        links = [(formula, numeric_latex(formula), f"by \\eqref{{{where}}} at $z = {number(point)}$"),
                 (defined, numeric_latex(defined),
                  f"definition \\eqref{{{ref(self.variant, labels.DEF_ACT)}}}")]
        lhs = Subs(Derivative(self.act(z), z), z, point)
        chain, answer = self._chain(lhs, links, label=f"{self.variant.key}:task:act_prime")
        statement = (f"the derivative of the activation at $z = {number(point)}$, "
                     f"${numeric_latex(lhs)}$")
        return TaskSolution("act_prime", statement,
                            f"{latex(derivation.lhs)} = {latex(derivation.rhs)}", where, chain,
                            _with_task(answer, "act_prime"))

    def _gradient(self, k):
        parameter = w_j if k else b
        name = f"w{k}" if k else "b"
        derivation = self.book[labels.gradient(self.loss, parameter)]
        values = {y: self.numbers.y, a: self.output, z: self.z}
        shown = {y: number(self.numbers.y), a: numeric_latex(self.output),
                 z: number(self.z)}
        if k:
            values[x_j] = self.numbers.x[k - 1]
            shown[x_j] = number(self.numbers.x[k - 1])
        value = derivation.rhs.xreplace(values)
        text = at_numbers(derivation.rhs, shown)
        where = ref(self.variant, derivation.label)
        point = {v: values[v] for v in (x_j, y, z) if v in values}
        lhs = Subs(Derivative(self.loss.symbol, parameter), tuple(point), tuple(point.values()))
        chain, answer = self._chain(
            lhs, [(value, text, f"by \\eqref{{{where}}} at the drawn numbers")],
            label=f"{self.variant.key}:task:grad_{name}")
        symbol = f"w_{k}" if k else "b"
        statement = (f"the gradient $\\partial {self.loss.latex} / \\partial {symbol}$ "
                     "at the drawn numbers")
        task = TaskSolution(f"grad_{name}", statement,
                            f"{latex(derivation.lhs)} = {latex(derivation.rhs)}", where, chain,
                            _with_task(answer, f"grad_{name}"))
        return task, value, text

    def _update(self, name, gradient_task, gradient, gradient_text):
        k = int(name[1:]) if name != "b" else None
        parameter = w_j if k else b
        start = self.numbers.w[k - 1] if k else self.numbers.b
        rule = Add(parameter, -eta * Derivative(self.loss.symbol, parameter), evaluate=False)
        point = {parameter: start}
        if k:
            point[x_j] = self.numbers.x[k - 1]
        point.update({y: self.numbers.y, z: self.z, eta: self.numbers.eta})
        lhs = Subs(rule, tuple(point), tuple(point.values()))
        shown = Add(parameter, -eta * _G, evaluate=False)
        text = at_numbers(shown, {parameter: number(start), eta: number(self.numbers.eta),
                                  _G: f"\\left({gradient_text}\\right)"})
        value = start - self.numbers.eta * gradient
        chain, answer = self._chain(
            lhs, [(value, text, (f"one step with $\\eta = {number(self.numbers.eta)}$, "
                                 f"\\eqref{{{gradient_task.chain.label}}}"))],
            label=f"{self.variant.key}:task:step_{name}")
        symbol = f"w_{k}" if k else "b"
        statement = (f"the new ${symbol}$ after one gradient-descent step with learning rate "
                     f"$\\eta = {number(self.numbers.eta)}$")
        formula = f"{symbol} - \\eta \\, \\frac{{\\partial {self.loss.latex}}}{{\\partial {symbol}}}"
        return TaskSolution(f"step_{name}", statement, formula, gradient_task.formula_ref,
                            chain, _with_task(answer, f"step_{name}"))


def _drop_lhs(chain):
    """The z chain shows its head (the definition) in place of the value-at-a-point."""
    return Chain(chain.head, "", chain.links, chain.label)


def _rounded(value, places):
    """(Answer without its task, the shown value as a Rational) for an exact ``value``."""
    exact = Decimal(str(value.evalf(DIGITS)))
    shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if shown == 0:
        shown = abs(shown)
    tolerance = max(MIN_TOLERANCE, (abs(shown) * RELATIVE_TOLERANCE).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_UP))
    digits = f"{exact:.30g}" if exact else "0"
    answer = Answer("", digits, f"{shown:f}", f"{tolerance.normalize():f}")
    return answer, Rational(str(shown))


def _with_task(answer, task):
    return Answer(task, answer.digits, answer.display, answer.tolerance)
