"""Input checks of every generated module, pasted verbatim with ``derive.codegen.runtime``.

The same conventions as that file hold: each top-level definition is a piece named after
what it defines, and nothing here depends on the neuron. These pieces turn what a caller
passes into checked NumPy arrays and scalars, or raise an error that names the argument.
"""

import math

import numpy as np

EXTENDED = np.longdouble if np.finfo(np.longdouble).nmant == 63 else None
"""The float in which a module computes what may cancel — the Hessian weights at soft
labels, the softmax's rows where a − y may cancel — and rounds the result: longdouble
where it is the x86 extended format (x86-64 Linux: 64 significant bits, 11 more than
float64, in hardware). None elsewhere (Windows and Apple silicon, where it is float64;
aarch64 Linux, where it is a quadruple precision done in software, many times slower),
and those are computed in the dtype of the call. A module's ``EXTENDED = None`` does the
same anywhere."""


def _log1p_ratio(t):
    """log1p(t)/t for t = e^(-|z|) in [0, 1], and its limit 1 where t underflowed to 0."""
    zero = t == 0
    return np.where(zero, 1, np.log1p(t) / np.where(zero, 1, t))


def _real(value, name):
    """``value`` as an array of bools, integers or floats; anything else (None, a masked
    array, a ragged list, complex, object or text) raises an error that names ``name``."""
    if value is None:
        raise TypeError(f"{name} is required, got None")
    if np.ma.isMaskedArray(value):
        raise ValueError(f"{name} is a masked array, and masks are not honoured: pass only "
                         "the entries to use, as a plain array")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as error:  # a ragged list, say
        raise ValueError(f"{name} is not an array of numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}: use real "
                         "numbers (bool, int or float)")
    return array


def _converted(array, dtype, name):
    """``array`` in ``dtype``; a finite entry beyond the range of ``dtype`` (a longdouble,
    or a float64 label of a float32 call) raises ValueError instead of becoming inf."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= np.dtype(dtype).itemsize:
        return array.astype(dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(dtype)
    beyond = np.isfinite(array) & ~np.isfinite(converted)
    if beyond.any():
        index = _first_bad(array, beyond)
        raise ValueError(f"{name} has a value beyond the {np.dtype(dtype).name} range, in "
                         f"which this call computes, at index {index}: {array[index]!s}")
    return converted


def _float_array(value, name):
    array = _real(value, name)
    array = _converted(array, np.float32 if array.dtype == np.float32 else np.float64, name)
    if not _all_finite(array):
        raise ValueError(f"{name} has a non-finite value at index {_first_bad(array)}")
    return array


def _scalar(value, name, dtype):
    if type(value) is float and dtype is np.float64 and math.isfinite(value):
        return np.float64(value)  # the common case, without the general path's cost
    try:
        array = _real(value, name)
    except ValueError:
        array = None
    if array is None or array.ndim != 0:
        raise ValueError(f"{name} must be a real scalar, got {value!r}")
    value = _converted(array, dtype, name)[()]
    if not math.isfinite(value):
        raise ValueError(f"{name} is not finite: {value!r}")
    return value


def _all_finite(array):
    """Whether every entry of ``array`` (of numbers) is finite. Of many floats, the sum
    is finite only then (inf and nan propagate): a second pass only where it overflowed.
    Up to 4 096 entries a test of each is cheaper than the floating-point settings that
    the sum needs."""
    if array.size > 4096 and array.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.add.reduce(array, axis=None)):
                return True
    return bool(np.isfinite(array).all())


def _first_bad(array, bad=None):
    """Index of the first non-finite entry (of the first True of ``bad`` if given): an int
    for 1-D arrays, else a tuple."""
    bad = ~np.isfinite(array) if bad is None else bad
    flat = int(np.flatnonzero(bad.ravel())[0])
    if array.ndim == 1:
        return flat
    return tuple(int(i) for i in np.unravel_index(flat, array.shape))
