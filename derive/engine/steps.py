"""Steps and derivations: the chain lhs = e1 = … = en, every link verified when built.

``Step(lhs, rhs, rule, model=…)`` verifies itself on construction (see
``derive.engine.verify``) and records how: ``method`` is "symbolic" or "numeric". A
``Derivation`` is a titled chain whose links are Steps; ``apply`` asks a rule (a
``derive.engine.rules.Rule``) for the next expression, so the chain is produced by rules
rather than typed in.
"""

from derive.engine.samples import NoMeaning
from derive.engine.text import join_title
from derive.engine.verify import Refuted, Undecided, check

_COMPOSE = {"=": 0, "<=": 1, ">=": 1, "<": 2, ">": 2}


class StepError(Exception):
    """A step does not hold; the message names where, both sides and a counterexample."""

    def __init__(self, step, derivation, reason, point=None, values=None):
        self.step = step
        self.derivation = derivation
        self.point = point or {}
        self.values = values
        where = f"step {step.label or '(unlabelled)'}"
        if derivation:
            where += f" of derivation {derivation!r}"
        lines = [
            f"{where} does not hold (rule: {step.rule})",
            f"  lhs: {step.lhs}",
            f"  {step.relation}",
            f"  rhs: {step.rhs}",
            f"  {reason}",
        ]
        if values is not None:
            at = ", ".join(f"{name} = {value}" for name, value in self.point.items())
            lines.append(f"  counterexample: {at or '(no variables: the sides are constants)'}")
            lines.append(f"    lhs = {values[0]}, rhs = {values[1]}")
        super().__init__("\n".join(lines))


class Step:
    """``lhs relation rhs`` justified by ``rule``; constructing it proves it or raises.

    The sides mean what ``model`` (a ``derive.engine.model.Model``) says they mean: a
    step is only true or false in a model, so there is no default. ``rule`` is a
    ``Rule`` (its name is recorded, its phrase printed on the sheet) or, for a check
    made outside a derivation, a plain description. ``domains`` maps a free variable
    (such as a ∈ (0, 1)) to the set it ranges over; such variables are kept free
    instead of being unfolded to their definitions. ``detail``
    says what the rule used: the label of an earlier result (a str), or a SymPy
    statement such as σ(z) ∈ (0, 1).
    """

    def __init__(
        self, lhs, rhs, rule, *, model, relation="=", label="", detail="", domains=None,
        derivation="",
    ):
        self.lhs, self.rhs = lhs, rhs
        self.rule = rule if isinstance(rule, str) else rule.name
        self.phrase = rule if isinstance(rule, str) else rule.phrase
        self.relation, self.label, self.detail = relation, label, detail
        self.domains = dict(domains or {})
        keep = frozenset(self.domains)
        try:
            meanings = model.meaning(lhs, keep), model.meaning(rhs, keep)
        except NoMeaning as error:  # a vector where a scalar belongs, say
            raise StepError(self, derivation, f"it has no meaning in this model: {error}") from None
        try:
            verdict = check(*meanings, relation, self.domains)
        except Refuted as refuted:
            raise StepError(self, derivation, "it fails at a sample point",
                            refuted.point, refuted.values) from None
        except Undecided as undecided:
            raise StepError(self, derivation, f"it could not be checked: {undecided}") from None
        self.method, self.points = verdict.method, verdict.points

    def __repr__(self):
        return f"Step({self.lhs} {self.relation} {self.rhs}, rule={self.rule!r}, {self.method})"


class Derivation:
    """A titled chain ``start rel e1 rel e2 …``; ``label`` names its final result.

    ``title`` is a string, or a tuple of strings and SymPy pieces (kept as
    ``title_parts`` so a sheet can typeset the pieces as mathematics).
    """

    def __init__(self, title, label, start, *, model, domains=None, section=""):
        self.title_parts = (title,) if isinstance(title, str) else tuple(title)
        self.title = join_title(self.title_parts)
        self.label, self.start = label, start
        self.section = section
        self.model = model
        self.domains = dict(domains or {})
        self.steps = []

    @property
    def lhs(self):
        return self.start

    @property
    def rhs(self):
        """The last expression of the chain."""
        return self.steps[-1].rhs if self.steps else self.start

    @property
    def relation(self):
        """What the chain proves between ``lhs`` and ``rhs`` (e.g. "=" or ">")."""
        relations = [step.relation for step in self.steps] or ["="]
        if "<=>" in relations:
            return "<=>"
        return max(relations, key=lambda rel: _COMPOSE[rel])

    def then(self, rhs, rule, *, label="", relation="=", detail=""):
        """Append the link ``rhs``, justified by the ``Rule`` ``rule`` (verified now),
        and return the derivation."""
        index = len(self.steps) + 1
        step = Step(
            self.rhs, rhs, rule, relation=relation, label=label or f"{self.label}.{index}",
            detail=detail, model=self.model, domains=self.domains, derivation=self.title,
        )
        self.steps.append(step)
        return self

    def apply(self, rule, *, optional=False, label="", relation="=", detail="", **arguments):
        """Append the link that the ``Rule`` ``rule`` produces from the current end.

        A rule that leaves the expression as it is adds no link. One that does not apply
        is an error, unless ``optional``: then it is skipped.
        """
        rhs = rule(self.rhs, **arguments)
        if rhs is None and not optional:
            raise ValueError(f"rule {rule.name!r} does not apply to {self.rhs}")
        if rhs is None or (rhs == self.rhs and relation == "="):
            return self
        return self.then(rhs, rule, label=label, relation=relation, detail=detail)

    def __repr__(self):
        return f"Derivation({self.title!r}: {self.lhs} {self.relation} {self.rhs})"
