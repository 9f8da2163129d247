"""The fixed runtime of every generated numba module, pasted verbatim like ``runtime.py``.

A numba module checks its inputs with the NumPy runtime's own pieces (``_Batch`` and
the functions it calls, pasted from ``runtime.py``: same checks, same messages) and
computes the losses with the compiled kernels here. The per-model part is one function,
``_row(which, z, y)``: the per-sample loss and δ printed from the verified stable
forms, which the generated module defines (the one below is a stand-in, the squared
error of the identity, for this module's own tests; it is never pasted).

How a kernel sums (``_stripes``): the rows are cut into ``_stripe_count(m)`` stripes of
consecutive rows, a number that depends on m only; numba's threads share the stripes
(``prange``), each stripe is summed on its own in row order, in double precision, and
the stripes are added in order. So the sums do not depend on the number of threads.
Each row is read once: z = x·w + b, then ``_row``, then dw += δ·x while the row is
still in the L1 cache. Only the dot product x·w may be reassociated (``_dot``: SIMD
partial sums, and fused multiply-adds); every other operation, the transcendental
functions first, is computed as written (no fastmath), so the result of a call is the
same on every run of the same machine, whatever the thread count.

Conventions of this file, which the pasting relies on, are those of ``runtime.py``;
the imports are not pasted (the generated module has the NumPy runtime's, and
``numba = _numba()``).
"""

import math

import numpy as np

from derive.codegen.runtime import _all_finite


def _numba():
    """The numba package, or an ImportError that says how to install it."""
    try:
        import numba
    except ImportError:
        raise ImportError(
            "this module is the numba target of derive and needs numba: pip install numba "
            "(or pip install 'derive[fast]'); the NumPy module of the same model needs only "
            "NumPy") from None
    return numba


numba = _numba()
VALUE = 0
"""What a call computes is ``which % 3`` of ``_row``'s ``which``: VALUE (the loss),
DELTA (δ, for the gradient) or BOTH."""
DELTA = 1
BOTH = 2
MIN_STRIPE_ROWS = 4096
"""Rows per stripe at least (fewer rows are one stripe, computed in one thread)."""
MAX_STRIPES = 64
"""At most this many stripes, and so threads busy with one call."""


def _on_dask(function, *arguments, **keywords):
    """A call with a Dask array (``_checked`` hands it here): refused, since the kernels
    take arrays in memory; the NumPy module of the same model maps itself over the
    chunks."""
    raise ValueError(f"{function.__name__} of the numba module does not take Dask arrays; "
                     "pass NumPy arrays (X.compute(), where X fits in memory), or use the "
                     "NumPy module, which computes chunk by chunk")


def _stripe_count(m):
    """The number of stripes for m rows: a function of m alone, never of the threads."""
    return min(MAX_STRIPES, max(1, m // MIN_STRIPE_ROWS))


@numba.njit(cache=True, error_model="numpy")
def _row(which, z, y):
    """A stand-in for the generated function: the squared error (z − y)²/2 and δ = z − y."""
    delta = z - y
    return (0.0 if which % 3 == DELTA else delta * delta / 2,
            0.0 if which % 3 == VALUE else delta)


@numba.njit(cache=True, error_model="numpy")
def _log1p_ratio_one(t):
    """log1p(t)/t for one t = e^(-|z|) in [0, 1], and its limit 1 where t underflowed to
    0 (the NumPy module's ``_log1p_ratio``, for the kernels)."""
    return 1.0 if t == 0 else math.log1p(t) / t


@numba.njit(cache=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot(X, i, w):
    """x_i·w in the dtype of X, the one reassociated sum (SIMD lanes, fused multiply-adds)."""
    total = w.dtype.type(0)
    for j in range(w.shape[0]):
        total += X[i, j] * w[j]
    return total


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _stripes(X, w, b, y, which, stripes, scale, limit):
    """Per stripe the sums of the loss, δ and δ·x of its rows, each term rounded to the
    dtype of X and times ``scale``, added in order; and per stripe the first row whose z
    is not finite (``bad_z``) and, where ``limit`` > 0, the first row whose loss, δ or
    δ·x_j, in the dtype of X, exceeds ``limit`` in size (``bad_term``); −1 for none."""
    sums = np.zeros((stripes, X.shape[1] + 2))
    bad_z = np.full(stripes, -1)
    bad_term = np.full(stripes, -1)
    for k in numba.prange(stripes):
        _stripe(X, w, b, y, which, k, stripes, scale, limit, sums[k], bad_z, bad_term)
    for k in range(1, stripes):
        sums[0] += sums[k]
    return sums[0], bad_z, bad_term


@numba.njit(cache=True, error_model="numpy")
def _stripe(X, w, b, y, which, k, stripes, scale, limit, out, bad_z, bad_term):
    """Stripe k of ``_stripes``: the sums of its rows into ``out``, in row order, and its
    first bad row, if any, into ``bad_z[k]`` or ``bad_term[k]``."""
    m, n = X.shape
    part = which % 3
    total = np.zeros(n + 2)
    for i in range(m * k // stripes, m * (k + 1) // stripes):
        z = _dot(X, i, w) + b
        if not math.isfinite(z):
            bad_z[k] = i
            break
        loss, delta = _row(which, np.float64(z), np.float64(y[i]))
        rounded, slope = X.dtype.type(loss), X.dtype.type(delta)  # as NumPy would round
        if limit > 0 and _beyond(X, i, rounded, slope, part, limit):
            bad_term[k] = i
            break
        total[0] += rounded * scale
        if part != VALUE:
            slope = X.dtype.type(slope * scale)
            total[1] += slope
            for j in range(n):
                total[2 + j] += slope * X[i, j]
    out[:] = total


@numba.njit(cache=True, error_model="numpy")
def _beyond(X, i, loss, delta, part, limit):
    """Whether row i's loss, δ or a δ·x_j (in the dtype of X) is larger than ``limit``
    in size, or not a number."""
    if part != DELTA and not abs(loss) <= limit:
        return True
    if part == VALUE:
        return False
    if not abs(delta) <= limit:
        return True
    for j in range(X.shape[1]):
        if not abs(delta * X[i, j]) <= limit:
            return True
    return False


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _each_row(X, w, b, y, which, z, loss, delta):
    """z, the loss and δ of every row, into the arrays given (of the dtype of X)."""
    for i in numba.prange(X.shape[0]):
        z[i] = _dot(X, i, w) + b
        loss[i], delta[i] = _row(which, np.float64(z[i]), np.float64(y[i]))


def _compute(batch, which):
    """What the public function ``which`` returns for the checked inputs ``batch``: the
    loss, (dw, db) or (loss, dw, db) for ``which % 3`` = VALUE, DELTA, BOTH, with the
    batch's penalty added once to a reduced result (``_Batch._penalised``)."""
    if batch.single:
        z, y = batch.scalars()
        loss, delta = _row(which, z, y)
        results = (batch.single_loss(loss), *batch.single_grad(delta))
    else:
        reduce = _per_row if batch.reduction == "none" else _reduced
        results = batch._penalised(*reduce(batch, which))
    loss, dw, db = results
    return (loss, (dw, db), results)[which % 3]


def _arrays(batch):
    """X, w and y of ``batch`` in C order (a copy of X only where it is not), and b."""
    return (np.ascontiguousarray(batch.X), np.ascontiguousarray(batch.w),
            batch.dtype(batch.b), np.ascontiguousarray(batch.y))


def _per_row(batch, which):
    """(loss, dw, δ) per sample, for reduction="none"; a row whose z, loss, δ or δ·x_j
    is not finite raises the NumPy runtime's error for it."""
    X, w, b, y = _arrays(batch)
    z, loss, delta = (np.empty(batch.m, batch.dtype) for _ in range(3))
    _each_row(X, w, b, y, which, z, loss, delta)
    if not _all_finite(z):
        batch._explain_non_finite()
    part = which % 3
    loss, delta = (None if part == DELTA else loss), (None if part == VALUE else delta)
    dw = None if delta is None else delta[:, None] * batch.X
    batch._check_rows(0, loss, delta, dw)
    return loss, dw, delta


def _reduced(batch, which):
    """(loss, dw, db) summed or averaged over the rows (None for what ``which`` leaves
    out), formed as the NumPy runtime forms them: where the plain sum is not finite in
    the dtype, every term is checked (a bad row raises its error) and the sum is redone
    with the terms scaled by 2^-k, 2^k ≥ 2m."""
    arguments = (*_arrays(batch), which, _stripe_count(batch.m))
    before = numba.set_parallel_chunksize(1)  # a stripe at a time to whichever thread is free
    try:
        total = _reduced_once(batch, _stripes(*arguments, 1.0, 0.0))
        if _all_finite(total):
            scale = None
        else:
            scale = 2.0 ** (batch.m.bit_length() + 1)
            found = _stripes(*arguments, 1 / scale, float(np.finfo(batch.dtype).max))
    finally:
        numba.set_parallel_chunksize(before)
    if scale is not None:
        total = _reduced_once(batch, found, which) * scale
        total = total.astype(batch.dtype)
        if not _all_finite(total):
            raise batch._beyond(f"the {batch.reduction} over the {batch.m} samples")
    part = which % 3
    return (None if part == DELTA else total[0], None if part == VALUE else total[2:],
            None if part == VALUE else total[1])


def _reduced_once(batch, found, which=None):
    """The total of one kernel run, averaged for "mean", in the dtype of the call; the
    NumPy runtime's error where a row's z (or, with ``which``, a term) is not finite."""
    total, bad_z, bad_term = found
    if (bad_z >= 0).any():
        batch._explain_non_finite()
    if which is not None and (bad_term >= 0).any():
        _raise_for_row(batch, which, int(bad_term[bad_term >= 0][0]))
    if batch.reduction == "mean":
        total = total / batch.m
    return total.astype(batch.dtype) if which is None else total


def _raise_for_row(batch, which, row):
    """Raise the NumPy runtime's error for the row whose loss, δ or δ·x_j is not finite."""
    z = float(np.float64(batch.X[row] @ batch.w + batch.b))
    loss, delta = (np.array([value], batch.dtype) for value in _row(which, z, float(batch.y[row])))
    part = which % 3
    loss, delta = (None if part == DELTA else loss), (None if part == VALUE else delta)
    batch._check_rows(row, loss, delta, None if delta is None else delta[:, None] * batch.X[row])
    raise batch._beyond(f"a term at row {row}")
