"""Each student's neuron and numbers, drawn from the seed and nothing else.

The pairs are dealt in rounds: every round is a fresh seeded shuffle of the allowed
pairs, so each pair is drawn equally often (to within one), and a round never starts
with the pair that ended the previous one, so neighbours in the roster differ whenever
more than one pair is allowed. A student's numbers come from a generator seeded with
the seed and the student's id (a string seed: ``random`` hashes it with SHA-512, so
PYTHONHASHSEED plays no part), so they do not depend on the rest of the roster; a
draw that repeats an earlier student's variant, or gives a degenerate task (z = 0, two
equal features, or an output equal to the label), is drawn again.

The numbers are exact rationals with short decimal forms: two features x_k in
{±0.5, ±1, ±1.5, ±2}, weights w_k in tenths of [−1, 1] without 0, a bias in tenths of
[−0.5, 0.5], a learning rate η in {0.1, 0.2, 0.5}, a point z in tenths of [−3, 3]
(without 0) for the derivative of the activation, and a label y: one of the classes
of a classifier (0 or 1 for the sigmoid, −1 or 1 for tanh), a count 0–3 where labels
must not be negative, else tenths of [−2, 2].
"""

import random
from dataclasses import dataclass
from fractions import Fraction

from sympy import Rational

from derive.engine.registry import ACTIVATIONS, LOSSES, label_range

FEATURES = 2
_FEATURE_VALUES = tuple(Rational(k, 2) for k in range(-4, 5) if k)
_WEIGHT_VALUES = tuple(Rational(k, 10) for k in range(-10, 11) if k)
_BIAS_VALUES = tuple(Rational(k, 10) for k in range(-5, 6))
_RATES = (Rational(1, 10), Rational(1, 5), Rational(1, 2))
_POINTS = tuple(Rational(k, 10) for k in range(-30, 31) if k)
_COUNTS = tuple(Rational(k) for k in range(4))
_SIGNED = tuple(Rational(k, 10) for k in range(-20, 21))


@dataclass(frozen=True)
class Numbers:
    """The drawn numbers of one variant (SymPy rationals)."""

    x: tuple
    w: tuple
    b: Rational
    y: Rational
    eta: Rational
    point: Rational

    @property
    def z(self):
        """The pre-activation w·x + b at these numbers, exactly."""
        return sum((wk * xk for wk, xk in zip(self.w, self.x)), self.b)


@dataclass(frozen=True)
class Variant:
    """One student's homework: the student, their 1-based place in the roster, the
    pair (registry names) and the numbers."""

    student: object
    index: int
    activation: str
    loss: str
    numbers: Numbers

    @property
    def key(self):
        """A LaTeX-safe name for labels: v1, v2, … by roster place."""
        return f"v{self.index}"


def draw(students, pairs, seed):
    """A Variant for every student, in roster order; ``pairs`` are (activation, loss)
    names, ``seed`` an integer."""
    dealt = _deal(pairs, len(students), seed)
    variants, seen = [], set()
    for index, (student, (act, loss)) in enumerate(zip(students, dealt), start=1):
        for attempt in range(1000):
            rng = random.Random(f"derive variants {seed} {student.id} {attempt}")
            numbers = _numbers(rng, act, loss)
            if _usable(numbers, act) and (act, loss, numbers) not in seen:
                break
        else:  # pragma: no cover - 1000 collisions in a space of ~10^9 draws
            raise RuntimeError(f"no fresh variant for {student.id} in 1000 draws")
        seen.add((act, loss, numbers))
        variants.append(Variant(student, index, act, loss, numbers))
    return variants


def _deal(pairs, count, seed):
    rng = random.Random(f"derive variants {seed} pairs")
    dealt = []
    while len(dealt) < count:
        round_ = list(pairs)
        rng.shuffle(round_)
        if dealt and len(round_) > 1 and round_[0] == dealt[-1]:
            round_[0], round_[1] = round_[1], round_[0]
        dealt.extend(round_)
    return dealt[:count]


def _numbers(rng, act_name, loss_name):
    x = tuple(rng.choice(_FEATURE_VALUES) for _ in range(FEATURES))
    w = tuple(rng.choice(_WEIGHT_VALUES) for _ in range(FEATURES))
    b = rng.choice(_BIAS_VALUES)
    return Numbers(x, w, b, _label(rng, act_name, loss_name), rng.choice(_RATES),
                   rng.choice(_POINTS))


def _label(rng, act_name, loss_name):
    act = ACTIVATIONS[act_name]
    if act.classes:
        return Rational(rng.choice(act.classes))
    labels = label_range(act, LOSSES[loss_name])
    return rng.choice(_COUNTS if labels.inf >= 0 else _SIGNED)


def _usable(numbers, act_name):
    """No degenerate task: z ≠ 0, features that differ (so ∂L/∂w_1 ≠ ∂L/∂w_2), and an
    output that differs from the label."""
    z = numbers.z
    return (z != 0 and len(set(numbers.x)) == len(numbers.x)
            and ACTIVATIONS[act_name].expression(z) != numbers.y)


def decimal(value):
    """The exact decimal form of a rational whose denominator divides a power of ten
    ("1.5", "-0.2", "3")."""
    fraction = Fraction(int(value.p), int(value.q))
    digits = 0
    while (fraction * 10**digits).denominator != 1:
        digits += 1
        if digits > 30:
            raise ValueError(f"{value} has no short decimal form")
    scaled = int(fraction * 10**digits)
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**digits)
    return f"{sign}{whole}" + (f".{part:0{digits}d}" if digits else "")
