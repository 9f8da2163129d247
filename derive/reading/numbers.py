"""The numbers a chain may build: how large an exponent, how many digits.

SymPy computes a power of a number as it builds it (10^{64}; (2x)^3 is 8x^3), in integer
arithmetic run in C: a nested power such as (((10^{64})^{64})^{64})^{64} would take
seconds to minutes, and gigabytes, before anything could stop it. So the reader bounds
what it builds, and says where:

- an exponent that is a number is at most ``MAX_EXPONENT`` in size, and must be known
  to be (one whose size SymPy cannot tell is refused);
- a power with a rational exponent is estimated before it is built (the exponent times
  the digits of the largest number in the base) and refused past ``MAX_NUMBER_DIGITS``
  digits;
- an expression of a chain is refused when a number in it has more digits (a product
  of many powers, say); this also keeps every number printable.

The parser gives a function applied to a number its value at once (σ(0) is 1/2, in the
model's meaning), so that every number is SymPy's own, whose size SymPy can tell, and no
number grows only later, when the model's meanings are put in. Digits are counted from
the bit length, in numerators and denominators alike: a bound within a tenth of a digit.
"""

import math

from sympy import Rational, S

MAX_EXPONENT = 64
MAX_NUMBER_DIGITS = 1000


def digits(expr):
    """Decimal digits of the largest numerator or denominator in ``expr`` (0 if none)."""
    bits = max((max(abs(number.p).bit_length(), number.q.bit_length())
                for number in expr.atoms(Rational)), default=0)
    return bits * math.log10(2)


def exponent_problem(exponent):
    """What is wrong with ``exponent`` (a SymPy expression), or None."""
    if not exponent.is_number or exponent.has(S.NaN, S.ComplexInfinity):
        return None  # a symbol's power; or undefined, which the expression's check reports
    try:
        larger = abs(exponent) > MAX_EXPONENT
    except TypeError:  # NaN
        larger = None
    if larger is S.false:
        return None
    if larger is S.true:
        return f"exponents larger than {MAX_EXPONENT} are not read"
    return f"the size of this exponent cannot be told; write one of at most {MAX_EXPONENT}"


def power_problem(base, exponent):
    """What is wrong with building ``base**exponent``, or None."""
    if not exponent.is_Rational:
        return None  # SymPy leaves the power of a number to any other exponent unevaluated
    size = math.ceil(abs(exponent) * digits(base))
    if size > MAX_NUMBER_DIGITS:
        return (f"this power would be a number of about {size} digits; numbers are read up "
                f"to {MAX_NUMBER_DIGITS} digits: write a smaller power")
    return None


def expression_problem(value):
    """What is wrong with the numbers of one expression of a chain, or None."""
    size = math.ceil(digits(value))
    if size > MAX_NUMBER_DIGITS:
        return (f"this expression holds a number of about {size} digits; numbers are read "
                f"up to {MAX_NUMBER_DIGITS} digits: write smaller numbers")
    return None
