"""The generated modules against hostile input (issue 21).

First one regression test per defect of the issue, on the committed modules. Then a
property test (hypothesis) over the module of every valid pair: arbitrary dtypes, shapes,
containers, values and reductions, each call checked against the contract of the
module's docstring — a finite result within the documented bound of the exact value, or
a ValueError/TypeError naming the argument at fault; never a warning, never inf or nan,
never another exception, never a change to the inputs. 2 000 examples per pair,
derandomized: about 2.5 s per pair on a 2-core machine, 20-25 s for the nine.
"""

import copy
import functools
import math
import re
import time
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import GENERATED, PAIRS, Reference, built_pair, load_generated
from sympy import lambdify

from derive.codegen.context import inline_primitives, stable_form
from derive.engine import labels
from derive.engine.registry import label_range
from derive.engine.symbols import a, b, y, z

lr = load_generated()
identity_se = load_generated("identity_se", GENERATED / "pairs")
exp_poisson = load_generated("exp_poisson", GENERATED / "pairs")


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- 1. a finite input with an infinite loss -----------------------------------------


def test_a_mean_whose_sum_overflows_is_formed_without_overflow():
    """Two samples of loss 1e308: the sum overflows, the mean does not."""
    assert lr.loss_ce([1e308], 0.0, np.ones((2, 1)), np.zeros(2)) == 1e308
    w32, ones32 = np.float32([3e38]), np.ones((2, 1), np.float32)
    loss = lr.loss_ce(w32, np.float32(0), ones32, np.zeros(2, np.float32))
    assert loss == np.float32(3e38) and loss.dtype == np.float32
    dw, db = lr.grad_ce([1.0], 0.0, np.full((2, 1), 1.7e308), np.zeros(2))
    assert dw[0] == 1.7e308 and db == 1.0
    delta = 1 / (1 + math.exp(-10.0))  # z = 10 in every row; the partial sums overflow
    total, dw, db = lr.value_and_grad_ce([0.0], 10.0, [[1.7e308], [1.7e308], [-1.7e308]],
                                         np.zeros(3), "sum")
    assert dw[0] == pytest.approx(delta * 1.7e308, rel=1e-15)
    assert db == pytest.approx(3 * delta, rel=1e-15)
    assert total == pytest.approx(3 * (10 + math.log1p(math.exp(-10.0))), rel=1e-15)


def test_a_sum_beyond_the_float_range_is_refused():
    with pytest.raises(ValueError, match=r"the sum over the 2 samples is not finite in "
                                         r"float64: the exact value is beyond its range"):
        lr.loss_ce([1e308], 0.0, np.ones((2, 1)), np.zeros(2), "sum")


# --- 2. a warning next to the right ValueError ----------------------------------------


def test_an_infinite_weight_raises_without_a_warning():
    with pytest.raises(ValueError, match="w has a non-finite value at index 0"):
        lr.loss_ce([np.inf], 0.0, [[1.0], [-1.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="w has a non-finite value at index 0"):
        lr.predict_proba([np.inf], 0.0, [[1.0], [-1.0]])


# --- 3. errors that do not name the argument -------------------------------------------


@pytest.mark.parametrize("name, value, error, message", [
    ("y", None, TypeError, "y is required, got None"),
    ("X", None, TypeError, "X is required, got None"),
    ("X", [[1.0, 2.0], [1.0]], ValueError, "X is not an array of numbers: setting an"),
    ("y", [0.0, [1.0]], ValueError, "y is not an array of numbers"),
    ("w", [1.0, [2.0]], ValueError, "w is not an array of numbers"),
    ("b", None, TypeError, "b is required, got None"),
    ("b", [1.0, [2.0]], ValueError, r"b must be a real scalar, got \[1.0, \[2.0\]\]"),
])
def test_missing_or_ragged_arguments_are_named(name, value, error, message):
    arguments = {"w": [1.0, 2.0], "b": 0.0, "X": [[1.0, 2.0], [3.0, 4.0]], "y": [0.0, 1.0]}
    arguments[name] = value
    with pytest.raises(error, match=message):
        lr.loss_ce(**arguments)


# --- 4. identity + se with labels at the ends of the float range -----------------------


def test_labels_at_the_ends_of_the_float_range_give_a_result_or_a_clear_error():
    labels_ = [1e308, -1e308]
    dw, db = identity_se.grad_se([1.0], 0.0, np.ones((2, 1)), labels_)
    assert np.isfinite(dw[0]) and np.isfinite(db)  # ((1 − 1e308) + (1 + 1e308))/2 = 1, to
    assert abs(db - 1.0) <= 2 * 2.0**-53 * 1e308   # within the rounding of the terms
    with pytest.raises(ValueError, match=r"the loss at row 0 \(z = 1, y = 1e\+308\) is not "
                                         r"finite in float64: the exact value is beyond"):
        identity_se.loss_se([1.0], 0.0, np.ones((2, 1)), labels_)


# --- 5. exp + poisson: a representable mean refused, the wrong row blamed ----------------


def test_exp_poisson_returns_a_representable_mean_and_blames_the_right_row():
    dw, db = exp_poisson.grad_poisson([709.0], 0.0, np.ones((3, 1)), np.zeros(3))
    assert db == math.exp(709.0) and dw[0] == math.exp(709.0)
    with pytest.raises(ValueError, match=r"δ·x at row 1 \(z = 709, y = 0\) is not finite"):
        exp_poisson.grad_poisson([1.0], 0.0, [[-800.0], [709.0]], np.zeros(2))
    with pytest.raises(ValueError, match=r"the loss at row 1 \(z = 710, y = 0\)"):
        exp_poisson.loss_poisson([1.0], 0.0, [[-800.0], [710.0]], np.zeros(2), "none")


# --- 6. masked arrays and longdouble ----------------------------------------------------


@pytest.mark.parametrize("name", ["w", "X", "y", "b"])
def test_a_masked_array_is_refused_naming_the_argument(name):
    arguments = {"w": [1.0], "b": 0.0, "X": [[1.0], [1e6]], "y": [0.0, 1.0]}
    arguments[name] = np.ma.masked_array(arguments[name], mask=np.ones(np.shape(
        arguments[name]), bool) if name == "b" else [[False], [True]] if name == "X"
        else np.zeros(np.shape(arguments[name]), bool))
    message = (r"b must be a real scalar" if name == "b"
               else rf"{name} is a masked array, and masks are not honoured")
    with pytest.raises(ValueError, match=message):
        lr.loss_ce(**arguments)
    with pytest.raises(ValueError, match=r"z is a masked array"):
        lr.sigmoid(np.ma.masked_array([0.0, 1e6], mask=[False, True]))


def test_a_longdouble_beyond_float64_is_named_as_such():
    huge = np.array([[np.longdouble("1e400")]])
    with pytest.raises(ValueError, match=r"X has a value beyond the float64 range, in which "
                                         r"this call computes, at index \(0, 0\): 1e\+400"):
        lr.loss_ce([1.0], 0.0, huge, [0.0])
    with pytest.raises(ValueError, match=r"z has a value beyond the float64 range.*: 1e\+400"):
        lr.sigmoid(huge[0])
    with pytest.raises(ValueError, match=r"y has a value beyond the float32 range"):
        identity_se.loss_se(np.ones(1, np.float32), 0.0, np.ones((1, 1), np.float32), [1e300])
    with pytest.raises(ValueError, match=r"b has a value beyond the float32 range"):
        lr.predict(np.ones(1, np.float32), 1e300, np.ones((1, 1), np.float32))


# --- found with the property test ---------------------------------------------------------


def test_the_neuron_functions_return_a_new_array_of_the_inputs_shape_and_dtype():
    z32 = np.array([[0.5, -2.0]], np.float32)
    slope = identity_se.identity_prime(z32)  # was the Python int 1
    assert slope.shape == (1, 2) and slope.dtype == np.float32 and np.all(slope == 1)
    assert identity_se.identity_prime(0.5) == 1.0 and np.ndim(identity_se.identity_prime(0.5)) == 0
    same = identity_se.identity(z32)  # was z32 itself
    assert not np.shares_memory(same, z32) and np.array_equal(same, z32)


def test_an_unhashable_reduction_is_named():
    with pytest.raises(ValueError, match=r"unknown reduction array"):
        lr.loss_ce([1.0], 0.0, [[1.0]], [0.0], np.array(["mean", "sum"]))




# --- the property test over every pair -------------------------------------------------
#
# Each example is one call of one public function of one pair's module. Its arguments
# are drawn clean — finite values of any accepted dtype (including ±max, subnormals and
# longdouble), in any container NumPy reads, of consistent shapes, labels in their
# interval — and in half of the examples then given one defect that the module must
# refuse with an error naming the argument. A clean call must return a result within
# the bound below of the exact value, or refuse a result beyond the float range, which
# is legitimate only where some exact quantity of the call is within a factor 64 of the
# largest float.

EXAMPLES = 2000
"""Examples per pair; each pair's test asserts that this many ran."""
C = 16
"""The documented bound, in units of the computation dtype (u = eps/2, τ = its smallest
subnormal). z is X @ w + b as NumPy computes it in that dtype (in double precision for
one sample of a loss), which the module does too. Each per-sample result equals the
exact value at some (z', y') with |z' − z| ≤ Δz = C·u·(1 + |z|) and |y' − y| ≤ Δy =
C·u·(1 + ln(1 + |z|))·|y|, to C·u·|value| + C·τ·(1 + |y|): the formulas' rounding as
errors in z and y (softplus with poisson computes y/a as y·e^(−log a), whose rounding
grows with log a ≈ ln z), and an intermediate that underflows (exp with se computes
δ = (e^z − y)·e^z: 0 where e^z underflows, though y·e^z may not). A product δ·x_j adds
2u·|δ x_j|; a sum of m terms adds (m + 2)·u·Σ|term| + 4m²·τ (the terms are scaled by
2^−k where the plain sum overflows); a mean is that sum's bound over m, plus u·|mean|.
The box (z ± Δz, y ± Δy) is evaluated at its corners and centre: the test allows twice
the largest change of the exact value there (the box is small enough for the functions
to be nearly quadratic on it)."""
LEGITIMATE = 64
"""A refusal as beyond the float range is legitimate where z overflows, or a per-sample
a, loss, δ or δ·x_j, or the reduced result reaches max/LEGITIMATE."""
ORDINARY = (0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 0.1, 7.0, -20.0, 40.0, 700.0,
            -800.0)
EXTREME = (1e-300, -1e-300, 1e150, -1e150, 1e300, -1e300)  # with ±max and the subnormals
FLOATS = (np.float16, np.float32, np.float64, np.longdouble)
INTEGERS = (np.bool_, np.int8, np.uint8, np.int32, np.int64, np.uint64)
LOSS_KINDS = ("loss", "grad", "value_and_grad")
ARGUMENT_NAMES = ("w", "b", "X", "y", "z", "reduction")


class Pair:
    """One pair's module, the names of its functions, and the exact reference of its
    formulas: the verified stable forms that the module is printed from, evaluated by
    mpmath with 50 digits. Built from e^(−|z|) and log1p, they need no extra digits at
    any z up to ±1e308 (the registry's forms need 0.43 more per unit of |z|); they agree
    with ``support.Reference`` (``test_the_reference_agrees_with_the_registrys``)."""

    def __init__(self, act_name, loss_name):
        model, book, self.module = built_pair(act_name, loss_name)
        act, loss = model.activation, model.losses[0]
        interval = label_range(act, loss)
        self.model, self.labels, self.classes = model, (float(interval.inf),
                                                        float(interval.sup)), act.classes
        mp = [{"Log1pRatio": lambda t: mpmath.log1p(t) / t if t else mpmath.mpf(1)}, "mpmath"]
        value = inline_primitives(stable_form(book[labels.loss_definition(loss)].rhs, model))
        delta = inline_primitives(stable_form(book[labels.gradient(loss, b)].rhs, model))
        output = inline_primitives(stable_form(a, model))
        slope = inline_primitives(stable_form(book[labels.DA_DZ].rhs, model))
        self._loss = lambdify((z, y), (value, delta), modules=mp)
        self._neuron = lambdify(z, (output, slope), modules=mp)
        self.functions = {"neuron": act.name, "slope": f"{act.name}_prime",
                          "predict": "predict", **{kind: f"{kind}_{loss.name}"
                                                   for kind in LOSS_KINDS}}
        if act.classes:
            self.functions["output"] = "predict_proba" if act.classes == (0, 1) else "forward"

    def loss(self, z_value, label):
        """(L, δ) at (z, y), exact to 50 digits."""
        return _evaluate(self._loss, z_value, label)

    def neuron(self, z_value):
        """(a, a') at z."""
        return _evaluate(self._neuron, z_value)


@functools.lru_cache(maxsize=200_000)
def _evaluate(function, *point):
    with mpmath.workdps(50):
        return tuple(mpmath.mpf(value) for value in function(*point))


@functools.cache
def _pair(act_name, loss_name):
    return Pair(act_name, loss_name)


# --- drawing calls ---


def _pool(dtype, low=-math.inf, high=math.inf):
    """(ordinary, extreme) values of ``dtype`` in [low, high], each list non-empty or
    both empty."""
    if dtype is np.bool_:
        ordinary, extreme = [False, True], []
    elif np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        ordinary = [v for v in (0, 1, 2, 3, -1, -3, 100) if info.min <= v <= info.max]
        extreme = [int(info.min), int(info.max)]
    else:
        info = np.finfo(dtype)
        largest = min(float(info.max), float(np.finfo(np.float64).max))
        ordinary = [v for v in ORDINARY if abs(v) <= largest]
        extreme = [v for v in EXTREME if float(info.tiny) <= abs(v) <= largest]
        extreme += [largest, -largest, info.smallest_subnormal, -info.smallest_subnormal]
    ordinary = [dtype(v) for v in ordinary if low <= v <= high]
    extreme = [dtype(v) for v in extreme if low <= v <= high] or ordinary
    return ordinary, extreme


@functools.cache
def _choices(dtype, low=-math.inf, high=math.inf):
    """The values an entry is drawn from: each ordinary one twice as likely as each
    extreme one."""
    ordinary, extreme = _pool(dtype, low, high)
    return ordinary * 2 + extreme


@functools.cache
def _integers(low, high):
    return st.sampled_from(range(low, high + 1))


def _pick(draw, options):
    """One of ``options``, uniformly, shrinking towards the first (a strategy made once
    per length: building one per draw would cost more than the rest of the test)."""
    return options[draw(_integers(0, len(options) - 1))]


def _array(draw, dtype, shape, low=-math.inf, high=math.inf):
    choices = _choices(dtype, low, high)
    values = [_pick(draw, choices) for _ in range(math.prod(shape))]
    return np.array(values, dtype).reshape(shape)


def _container(draw, array):
    """``array`` as a caller may hand it: as is, a strided or Fortran-ordered view, a
    nested list (where that keeps its values), or a NumPy scalar."""
    listed = (array.dtype.kind != "f" or array.dtype == np.float64) and (
        array.size or array.ndim < 2)  # an empty list would lose the shape (0, n)
    kind = _pick(draw, ("array", "strided", "fortran", "list" if listed else "array"))
    if kind == "list":
        return array.tolist()
    if array.ndim == 0:
        return array[()] if kind == "strided" else array
    if kind == "fortran":
        return np.asfortranarray(array)
    return np.repeat(array, 2, axis=-1)[..., ::2] if kind == "strided" else array


def _clean_arguments(draw, pair, kind):
    """{name: value} of a call the module must compute, or refuse as beyond the range."""
    types = FLOATS + INTEGERS
    if kind in ("neuron", "slope"):
        shape = _pick(draw, [(), (1,), (3,), (2, 2), (0,), (2, 0, 1)])
        return {"z": _container(draw, _array(draw, _pick(draw, types), shape))}
    single, n = _pick(draw, (False, False, False, True)), draw(_integers(0, 3))
    m = draw(_integers(1 if kind in LOSS_KINDS else 0, 3))
    w = _array(draw, _pick(draw, types), (n,))
    X = _array(draw, _pick(draw, types), (n,) if single else (m, n))
    computing = np.float32 if np.result_type(w, X) == np.float32 else np.float64
    bias = _pick(draw, _choices(computing))
    as_int = int(bias) if float(bias).is_integer() and abs(bias) < 2**62 else float(bias)
    arguments = {"w": _container(draw, w), "X": _container(draw, X),
                 "b": _pick(draw, [bias, float(bias), np.asarray(bias), as_int])}
    if kind in LOSS_KINDS:
        low, high = pair.labels
        label_type = _pick(draw, [computing, computing, np.int64, np.bool_, np.uint8])
        if not _pool(label_type, low, high)[0]:
            label_type = computing
        arguments["y"] = _container(draw, _array(draw, label_type, () if single else (m,),
                                                 low, high))
        reduction = _pick(draw, ["mean", "sum", "none", "default"])
        if reduction != "default":
            arguments["reduction"] = reduction
    return arguments


def _defect(draw, name, arguments, pair, kind):
    """One defect of argument ``name``: (the arguments with it, the names one of which
    the error must name, the error's type), or None where none applies."""
    value = arguments[name]
    array = np.asarray(value) if name != "reduction" else None
    if name == "reduction":
        bad = _pick(draw, ["avg", None, 1, b"mean", "MEAN", ("mean",)])
        return {**arguments, name: bad}, {name}, ValueError
    defects = ["missing", "masked", "complex", "object", "text"]
    if array.size:
        defects += ["non-finite", "beyond float64"] + (["ragged"] if array.ndim else [])
    if name == "y" and math.isfinite(pair.labels[1]):
        defects.append("outside")
    w, X = (np.asarray(arguments.get(key, 0.0)) for key in ("w", "X"))
    single = X.ndim == 1
    if name in ("b", "y") and kind != "neuron" and np.result_type(w, X) == np.float32 \
            and not (single and name == "y"):
        defects.append("beyond float32")
    if name in ("w", "X", "y", "b"):
        defects.append("shape")
    if name in ("w", "X"):
        defects.append("features")
    if name == "X" and kind in LOSS_KINDS and not single:
        defects.append("empty")
    defect = _pick(draw, defects)
    names, error = {name}, ValueError
    if defect == "missing":
        bad, error = None, TypeError
    elif defect == "masked":
        bad = np.ma.masked_array(array, mask=_pick(draw, (False, True)))
    elif defect in ("complex", "object", "text"):
        bad = array.astype({"complex": complex, "object": object, "text": str}[defect])
    elif defect == "ragged":
        bad = [array.reshape(-1).tolist(), 1.0]
    elif defect == "shape":
        bad = (array[:, None] if name == "w" else np.zeros(array.size + 1) if name == "y"
               else np.atleast_1d(array) if name == "b"
               else array[None, None] if array.ndim == 2 else 1.0)
    elif defect == "features":
        bad, names = (np.zeros(array.shape[:-1] + (array.shape[-1] + 1,)), {"w", "X"})
    elif defect == "empty":
        bad = np.zeros((0, array.shape[-1]))
        arguments = {**arguments, "y": np.zeros(0)}
    else:
        kinds = {"non-finite": np.float64, "beyond float64": np.longdouble,
                 "beyond float32": np.float64, "outside": np.float64}
        bad = array.astype(kinds[defect]).copy()
        flat = bad.reshape(-1)
        flat[draw(_integers(0, flat.size - 1))] = {
            "non-finite": _pick(draw, [math.inf, -math.inf, math.nan]),
            "beyond float64": np.longdouble("1e400"), "beyond float32": 1e300,
            "outside": pair.labels[1] + 1.0}[defect]
    return {**arguments, name: bad}, names, error


@st.composite
def calls(draw, pair):
    """(kind, arguments, names one of which an error must name or None, error type)."""
    kind = _pick(draw, sorted(pair.functions))
    arguments = _clean_arguments(draw, pair, kind)
    if _pick(draw, (False, True)):
        name = _pick(draw, sorted(arguments))
        return (kind, *_defect(draw, name, arguments, pair, kind))
    return kind, arguments, None, None


# --- checking one call ---


def _unchanged(before, after):
    """Whether ``after`` is ``before``: same types, dtypes, shapes, masks and values."""
    if type(before) is not type(after):
        return False
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(map(_unchanged, before, after))
    if isinstance(before, np.ndarray):
        numeric = before.dtype.kind in "biufc"
        return (before.dtype == after.dtype and before.shape == after.shape
                and np.array_equal(before, after, equal_nan=numeric)
                and np.array_equal(np.ma.getmaskarray(before), np.ma.getmaskarray(after)))
    both_nan = isinstance(before, float) and math.isnan(before) and math.isnan(after)
    return both_nan or before == after


def _names_one_of(message, names):
    return any(re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", message)
               for name in names)


def _mp(value):
    return mpmath.mpf(Fraction(value).numerator) / Fraction(value).denominator


class Expected:
    """The exact results of one clean call, their bounds, and the largest exact quantity
    (for judging a refusal)."""

    def __init__(self, dtype):
        info = np.finfo(dtype)
        self.dtype, self.u, self.tiny = dtype, _mp(float(info.eps) / 2), _mp(
            float(info.smallest_subnormal))
        self.big, self.largest = _mp(float(info.max)), mpmath.mpf(0)

    def note(self, *values):
        self.largest = max([self.largest, *(abs(v) for v in values)])

    def boxed(self, function, z_value, dz, label=None):
        """(values, bounds) of ``function`` at z (and y) over the box of the bound."""
        with mpmath.workdps(50):
            dy = 0 if label is None else C * self.u * abs(label) * (1 + mpmath.log1p(
                abs(z_value)))
            point = (z_value,) if label is None else (z_value, label)
            center = function(*point)
            corners = [function(z_value + sz * dz, *(() if label is None else (label + sy * dy,)))
                       for sz in (-1, 1) for sy in ((-1, 1) if dy else (0,))]
            floor = C * self.tiny * (1 + (abs(label) if label is not None else 0))
            bounds = [2 * max(abs(corner[k] - center[k]) for corner in corners)
                      + C * self.u * abs(center[k]) + floor for k in range(len(center))]
        return center, bounds


def _close(got, exact, bound, what):
    got = np.asarray(got)
    assert np.isfinite(got), (what, got)
    error = abs(mpmath.mpf(float(got)) - exact)
    assert error <= bound, f"{what}: got {float(got)!r}, exact {mpmath.nstr(exact, 17)}, " \
                           f"error {mpmath.nstr(error, 3)} > bound {mpmath.nstr(bound, 3)}"


def _check_neuron(pair, kind, arguments, result):
    z_array = np.asarray(arguments["z"])
    dtype = np.float32 if z_array.dtype == np.float32 else np.float64
    expected = Expected(dtype)
    values = z_array.astype(np.float64)
    checks = []
    for index in np.ndindex(values.shape):
        z_value = _mp(float(values[index]))
        center, bounds = expected.boxed(pair.neuron, z_value,
                                        C * expected.u * (1 + abs(z_value)))
        expected.note(*center)
        part = 0 if kind == "neuron" else 1
        checks.append((index, center[part], bounds[part]))
    if result is None:
        return expected
    assert np.shape(result) == values.shape and np.asarray(result).dtype == dtype
    for index, exact, bound in checks:
        _close(np.asarray(result)[index], exact, bound, f"{kind}{index}")
    return expected


def _check_batch(pair, kind, arguments, result):
    w0, X0 = np.asarray(arguments["w"]), np.asarray(arguments["X"])
    dtype = np.float32 if np.result_type(w0, X0) == np.float32 else np.float64
    expected = Expected(dtype)
    u, tiny = expected.u, expected.tiny
    single = X0.ndim == 1
    X, w = X0.astype(dtype, copy=False), w0.astype(dtype, copy=False)
    bias = np.asarray(arguments["b"]).astype(dtype)[()]
    with np.errstate(all="ignore"):  # z as the module computes it
        if single and kind in LOSS_KINDS:  # one sample of a loss: in double precision
            z_hat = np.array([float(X @ w) + float(bias)])
        else:
            z_hat = np.atleast_1d(np.matmul(X, w) + bias)
    m, n = len(z_hat), w.shape[0]
    X = X.astype(np.float64).reshape(m, n)
    if not np.all(np.isfinite(z_hat)):
        expected.note(mpmath.inf)  # the module must refuse: z overflows
        assert result is None, ("a result although z overflows", result)
        return expected
    label_values = (np.asarray(arguments["y"]).astype(np.float64).reshape(-1)
                    if "y" in arguments else None)
    rows = []
    for i in range(m):
        z_value = _mp(float(z_hat[i]))
        dz = C * u * (1 + abs(z_value))
        output, output_bound = expected.boxed(pair.neuron, z_value, dz)
        expected.note(output[0])
        row = {"z": z_value, "a": output[0], "a_bound": output_bound[0]}
        if label_values is not None:
            (loss, delta), (loss_bound, delta_bound) = expected.boxed(
                pair.loss, z_value, dz, _mp(float(label_values[i])))
            x = [_mp(float(X[i, j])) for j in range(n)]
            dw = [delta * x_j for x_j in x]
            dw_bound = [abs(x_j) * delta_bound + 2 * u * abs(d) + C * tiny
                        for x_j, d in zip(x, dw)]
            expected.note(loss, delta, *dw)
            row.update(loss=(loss, loss_bound), db=(delta, delta_bound),
                       dw=list(zip(dw, dw_bound)))
        rows.append(row)
    reduction = arguments.get("reduction", "mean")
    if kind in LOSS_KINDS and not single and reduction != "none":
        reduced = {}
        for part in ("loss", "db"):
            terms = [row[part] for row in rows]
            reduced[part] = _reduce(terms, reduction, u, tiny)
        reduced["dw"] = [_reduce([row["dw"][j] for row in rows], reduction, u, tiny)
                         for j in range(n)]
        expected.note(reduced["loss"][0], reduced["db"][0], *(v for v, _ in reduced["dw"]))
    if result is None:
        return expected
    if kind in ("predict", "output"):
        _check_predictions(pair, kind, rows, result, dtype, single)
        return expected
    parts = {"loss": ("loss",), "grad": ("dw", "db"),
             "value_and_grad": ("loss", "dw", "db")}[kind]
    results = result if isinstance(result, tuple) else (result,)
    assert len(results) == len(parts)
    for part, got in zip(parts, results):
        got = np.asarray(got)
        assert got.dtype == dtype, (part, got.dtype)
        if single or reduction == "none":
            shape = {"loss": (), "db": (), "dw": (n,)}[part] if single else \
                {"loss": (m,), "db": (m,), "dw": (m, n)}[part]
            assert got.shape == shape, (part, got.shape)
            for i, row in enumerate(rows):
                row_got = got if single else got[i]
                if part == "dw":
                    for j, (exact, bound) in enumerate(row["dw"]):
                        _close(row_got[j], exact, bound, f"dw[{i}, {j}]")
                else:
                    _close(row_got, *row[part], f"{part}[{i}]")
        else:
            assert got.shape == ((n,) if part == "dw" else ()), (part, got.shape)
            if part == "dw":
                for j, (exact, bound) in enumerate(reduced["dw"]):
                    _close(got[j], exact, bound, f"{reduction} dw[{j}]")
            else:
                _close(got, *reduced[part], f"{reduction} {part}")
    return expected


def _reduce(terms, reduction, u, tiny):
    """(exact, bound) of the sum or mean of per-sample (exact, bound) terms."""
    m = len(terms)
    total = sum(exact for exact, _ in terms)
    bound = (sum(bound for _, bound in terms) + (m + 2) * u * sum(abs(e) for e, _ in terms)
             + 4 * m * m * tiny)
    if reduction == "sum":
        return total, bound
    return total / m, bound / m + u * abs(total / m)


def _check_predictions(pair, kind, rows, result, dtype, single):
    got = np.atleast_1d(np.asarray(result))
    assert got.shape == (len(rows),) and np.ndim(result) == (0 if single else 1)
    for i, row in enumerate(rows):
        if kind == "predict" and pair.classes:
            low, high = pair.classes
            assert got.dtype.kind == "i" or got.dtype == np.int64 or got.dtype.kind == "f"
            assert got[i] == (high if row["z"] >= 0 else low), (i, row["z"], got[i])
        else:
            assert got.dtype == dtype
            _close(got[i], row["a"], row["a_bound"], f"{kind}[{i}]")


def _check_call(pair, call):
    """Make one call and check it against the contract; returns what happened."""
    kind, arguments, suspects, error_type = call
    order = ("z",) if kind in ("neuron", "slope") else ("w", "b", "X", "y")
    positional = [arguments[name] for name in order if name in arguments]
    keywords = {"reduction": arguments["reduction"]} if "reduction" in arguments else {}
    before = copy.deepcopy((positional, keywords))
    function = getattr(pair.module, pair.functions[kind])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = function(*positional, **keywords), None
        except (ValueError, TypeError) as raised:
            result, error = None, raised
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    assert _unchanged(before, (positional, keywords)), "the inputs were changed"
    inputs = [value for value in positional if isinstance(value, np.ndarray)]
    for part in result if isinstance(result, tuple) else (result,):
        assert not any(np.shares_memory(part, value) for value in inputs
                       if isinstance(part, np.ndarray)), "a result shares the inputs' memory"
    if suspects:
        assert error is not None, f"{kind} accepted a bad {suspects}: {arguments}"
        assert isinstance(error, error_type), (error_type, error)
        assert _names_one_of(str(error), suspects), (suspects, str(error))
        return "refused bad input"
    check = _check_neuron if kind in ("neuron", "slope") else _check_batch
    expected = check(pair, kind, arguments, result)
    if error is None:
        return "result"
    message = str(error)
    assert isinstance(error, ValueError), message
    assert re.search(r"overflows|not finite in|beyond", message), message
    assert _names_one_of(message, ARGUMENT_NAMES), message
    assert expected.largest >= expected.big / LEGITIMATE, \
        f"refused a representable result: {message}; largest exact quantity " \
        f"{mpmath.nstr(expected.largest, 5)}"
    return "refused beyond the range"


@pytest.mark.parametrize("act_name, loss_name", PAIRS, ids=["_".join(p) for p in PAIRS])
def test_every_call_returns_an_accurate_result_or_names_the_bad_argument(act_name,
                                                                        loss_name):
    pair = _pair(act_name, loss_name)
    outcomes = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(call=calls(pair))
    def one_call(call):
        outcome = _check_call(pair, call)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    started = time.perf_counter()
    try:
        one_call()
    finally:
        _evaluate.cache_clear()  # its points are this pair's; the heap stays small
    print(f"{act_name}_{loss_name}: {outcomes} in {time.perf_counter() - started:.1f} s")
    assert sum(outcomes.values()) >= EXAMPLES


def test_the_reference_agrees_with_the_registrys():
    """The stable forms in mpmath against ``support.Reference`` (the registry's
    definitions with enough digits) where the latter is cheap: to 1e-40."""
    for act_name, loss_name in PAIRS:
        pair = _pair(act_name, loss_name)
        reference = Reference.of(pair.model)
        low, high = pair.labels
        for label in {max(low, 0.0), min(high, 1.0), min(max(0.3, low), high)}:
            for z_value in (-40.0, -3.0, -0.5, 0.0, 0.25, 2.0, 35.0):
                for got, want in zip(pair.loss(mpmath.mpf(z_value), mpmath.mpf(label)),
                                     reference(z_value, label)):
                    assert abs(got - want) <= 1e-40 * max(1, abs(want)), \
                        (act_name, loss_name, z_value, label)
