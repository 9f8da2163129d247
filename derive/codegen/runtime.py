"""The fixed runtime of every generated module, pasted verbatim by the renderer.

Input checking, blocks of rows, reductions and the worker threads are the same for
every neuron, so they live here as a real module: imported and tested on their own
(tests/test_runtime.py), and kept ruff-clean. ``derive.render`` copies the exact source
text of the top-level definitions the template names into each generated module, which
therefore stays one self-contained file that needs only NumPy and the standard library.

Conventions of this file, which the pasting relies on:

* Each top-level definition is a piece named after what it defines: a function, a
  class, or a constant (``NAME = ...``). The statements that follow a definition up to
  the next one belong to it: a constant's docstring, the fork hook after
  ``_forget_threads``. The imports together are the piece ``imports``.
* Comments between top-level definitions are not pasted; put them inside a piece.
* The input checks live in ``runtime_inputs.py``, imported here for testing and linting;
  that import is not pasted (the pieces are, from that file).
* Nothing here depends on the neuron: the per-model code (the formulas, ``_LABELS``)
  calls into these pieces, never the other way round. ``_log1p_ratio`` is pasted only
  into the modules that use it.
"""

import functools
import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from derive.codegen.runtime_inputs import (
    _all_finite,
    _converted,
    _first_bad,
    _real,
    _scalar,
)

REDUCTIONS = ("mean", "sum", "none")
BLOCK_BYTES = 6 * 2**20
"""Bytes of X per block of rows: of 2, 3, 4, 6 and 8 MiB, 6 was the fastest at m = 200 000
and 1 000 000 (n = 100) on a 2-core EPYC (512 KiB L2 per core, 32 MiB L3), two threads."""
STRIPES = 16
"""At most this many stripes of consecutive blocks (and so of threads busy with one call):
each stripe is summed on its own and the stripes are added in order, whichever thread
computed them."""
MIN_SHARED_BLOCKS = 5
"""Calls of fewer blocks stay in the calling thread. There X (at most about 24 MiB at the
default block size) comes back from cache, and BLAS beat two worker threads on it: 1.3-1.9×
faster from 8 000 to 25 000 rows of 100, level at 30 000, 0.9× at 35 000 and beyond."""
FEW_LABELS = 65536
"""Up to this many labels one test, y(y − 1) = 0 for every label, finds hard labels and
their range at once (cheaper than the minimum and maximum at m = 1 000); more are
checked by their minimum and maximum, without temporaries."""
THREADS = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
           else os.cpu_count() or 1)
"""Worker threads for calls of more than one block; 1 computes in the calling thread."""


def _checked(function):
    """Run ``function``, a public function of the module, with floating-point warnings
    off; a result that is not finite means the exact value is beyond the float range, and
    raises ValueError instead (a mean or sum is formed without overflow: ``_Batch``).
    A call with a Dask array goes to ``_on_dask`` in the modules that carry it."""

    @functools.wraps(function)
    def checked(*arguments, **keywords):
        call, dask = function, sys.modules.get("dask.array")  # never imported here
        if dask is not None and "_on_dask" in globals() and any(
                isinstance(value, dask.Array) for value in (*arguments, *keywords.values())):
            call = functools.partial(globals()["_on_dask"], checked)
        with np.errstate(all="ignore"):
            try:
                result = call(*arguments, **keywords)
            except OverflowError:  # Python floats, for one sample
                result = math.inf
        for part in result if isinstance(result, tuple) else (result,):
            if dask is not None and isinstance(part, dask.Array):
                continue  # checked chunk by chunk, when computed
            if not (_all_finite(part) if isinstance(part, np.ndarray) else math.isfinite(part)):
                part = np.asarray(part)
                at = f" at index {_first_bad(part)}" if part.ndim else ""
                code = function.__code__  # its arguments, but not ``reduction``
                names = ", ".join(code.co_varnames[:min(code.co_argcount, 4)])
                raise ValueError(f"{function.__name__}: the result is not finite in {part.dtype}"
                                 f"{at}: the exact value is beyond its range; rescale {names}")
        return result

    return checked


class _Batch:
    """Checked inputs of one call, z block by block, and the sums over samples.

    A single sample (X of shape (n,)) is handled apart, on Python floats (``scalars``,
    ``single_loss``, ``single_grad``). Otherwise ``loss``, ``grad`` and
    ``value_and_grad`` take ``per_block``, which maps the (z, y) of a block of rows, or
    (u, s) with s = 1 − 2y and u = s·z when ``hard`` (every label is 0 or 1), to the
    block's per-sample loss and δ (None for the one not asked for), and reduce them.
    ``penalty(w, l2)`` gives (R(w), ∇R(w)), added once to a reduced result (a mean, a
    sum, or one sample's) where ``l2`` ≠ 0, never with reduction "none" (one sample
    included); the bias is not penalised. It runs under the floating-point settings of
    ``_checked`` (warnings off): overflow in its checks is expected, and handled.
    """

    def __init__(self, w, b, X, y=None, reduction="mean", labels=None, l2=0.0,
                 penalty=None):
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")
        w, X = _real(w, "w"), _real(X, "X")
        self.dtype = np.float32 if np.result_type(w, X) == np.float32 else np.float64
        self.reduction, self.x_shape, self.single = reduction, X.shape, X.ndim == 1
        self.w = _converted(w, self.dtype, "w")
        self.X = _converted(X, self.dtype, "X")
        self.b = _scalar(b, "b", self.dtype)
        self._check_shapes()
        if not _all_finite(self.w):  # checked here too: X may have no rows
            raise ValueError(f"w has a non-finite value at index {_first_bad(self.w)}")
        self.m = 1 if self.single else self.X.shape[0]
        self.l2, self.penalty = _penalty_weight(l2, self.dtype), penalty
        self._hard = None
        self.y = None if labels is None else self._labels(y, *labels)

    def _check_shapes(self):
        if self.w.ndim != 1:
            raise ValueError(f"w must have shape (n,), got {self.w.shape}")
        if self.X.ndim not in (1, 2):
            raise ValueError(f"X must have shape (m, n) or (n,), got {self.x_shape}")
        if self.X.shape[-1] != self.w.shape[0]:
            raise ValueError(
                f"X has {self.X.shape[-1]} features per sample but w has {self.w.shape[0]}: "
                f"X.shape={self.x_shape}, w.shape={self.w.shape}"
            )

    def _labels(self, y, low, high, allowed):
        y = _real(y, "y")
        if self.single and y.ndim == 0:
            label = float(_converted(y, np.float64, "y"))
            if not (low <= label <= high and math.isfinite(label)):
                raise ValueError(f"labels must lie in {allowed}; y = {label!r}")
            return label
        if self.m == 0:
            raise ValueError(f"X has no samples (X.shape={self.x_shape}); a loss needs one")
        expected = () if self.single else (self.m,)
        if y.shape != expected:
            raise ValueError(f"y must have shape {expected} to match X.shape={self.x_shape}, "
                             f"got y.shape={y.shape}")
        y = _converted(y, self.dtype, "y")
        if not self.single and self.m <= FEW_LABELS and low <= 0 and 1 <= high:
            self._hard = not np.count_nonzero(y * (y - 1))
            if self._hard:  # every label is 0 or 1 (an inf or nan is not): in the range
                return y
        smallest, largest = y.min(), y.max()
        if not (low <= smallest and largest <= high
                and np.isfinite(smallest) and np.isfinite(largest)):
            bad = int(np.flatnonzero(~((y >= low) & (y <= high) & np.isfinite(y)))[0])
            raise ValueError(f"labels must lie in {allowed}; y[{bad}] = {y[bad]!r}")
        return y

    @property
    def hard(self):
        """Whether there are many labels and every one is 0 or 1 (the block functions
        then take (u, s) for (z, y)); of more than ``FEW_LABELS``, found on first use
        only, which the numba module's kernels never make."""
        if self._hard is None:
            self._hard = (not self.single and self.y is not None
                          and not np.count_nonzero(self.y * (self.y - 1)))
        return self._hard

    def _z(self, X, product=np.matmul):
        """z = X @ w + b, every entry finite, computed under the caller's floating-point
        settings (``_checked``'s: overflow is reported here, with the culprit)."""
        z = product(X, self.w)
        z += self.b
        # A finite sum means every entry is finite (inf and nan propagate): one pass.
        if not (math.isfinite(np.add.reduce(z)) or np.isfinite(z).all()):
            self._explain_non_finite()
        return z

    def _explain_non_finite(self):
        X = self.X.reshape(1, -1) if self.single else self.X
        rows = ~np.all(np.isfinite(X), axis=1)
        if rows.any():
            raise ValueError(f"X has a non-finite value in row {int(np.flatnonzero(rows)[0])}")
        with np.errstate(over="ignore", invalid="ignore"):
            z = X @ self.w + self.b
        raise ValueError(f"z = X @ w + b overflows at row {_first_bad(z)}: the inputs are "
                         "finite but too large; rescale X or w")

    def _beyond(self, what):
        """The error for ``what`` (a sum, or a row's term) beyond the range of the dtype."""
        return ValueError(f"{what} is not finite in {self.dtype.__name__}: the exact value "
                          "is beyond its range; rescale X, w or y")

    # --- one sample, on Python floats ---------------------------------------------------

    def scalars(self):
        z = float(self.X @ self.w) + float(self.b)
        if not math.isfinite(z):
            self._explain_non_finite()
        return z, self.y

    def single_loss(self, loss):
        return self._penalised(self.dtype(loss), None, None)[0]

    def single_grad(self, delta):
        delta = self.dtype(delta)
        return self._penalised(None, delta * self.X, delta)[1:]

    def _penalised(self, loss, dw, db):
        """(loss, dw, db) with R(w) added to the loss and ∇R(w) to dw, where given."""
        if self.l2 == 0 or self.reduction == "none":
            return loss, dw, db
        value, gradient = self.penalty(self.w, self.l2)
        return (None if loss is None else loss + self.dtype(value),
                None if dw is None else dw + gradient, db)

    # --- many samples, block by block ---------------------------------------------------

    def all_z(self):
        return self._z(self.X)

    def per_sample(self, values):
        return values[()] if self.single else values

    def loss(self, per_block, hard=False):
        return self._penalised(*self._reduce(per_block, hard))[0]

    def grad(self, per_block, hard=False):
        return self._penalised(*self._reduce(per_block, hard))[1:]

    def value_and_grad(self, per_block, hard=False):
        return self._penalised(*self._reduce(per_block, hard))

    def _reduce(self, per_block, hard):
        """(loss, dw, db) of every row, reduced; None for what ``per_block`` left out.

        A mean or sum of finite terms is formed without overflow: the terms are summed as
        they are, or where that overflows, once more each times 2^-k (exact), 2^k ≥ 2m. A
        term that is not finite, or a mean or sum beyond the range, raises ValueError.
        Overflow is checked here, so this runs under ``_checked``'s floating-point
        settings (warnings off)."""
        if self.reduction == "none":
            loss, delta = per_block(*self._arguments(self._z(self.X), self.y, hard))
            dw = None if delta is None else delta[:, None] * self.X
            self._check_rows(0, loss, delta, dw)
            return loss, dw, delta
        scale, total = 1, self._sums(per_block, hard, 1)
        if not _all_finite(total):  # a term is not finite (raised here) or a sum overflowed
            scale = 2.0 ** (self.m.bit_length() + 1)
            total = self._sums(per_block, hard, 1 / scale)
        if self.reduction == "mean":
            total /= self.m
        if scale != 1:
            total *= scale
            if not _all_finite(total):
                raise self._beyond(f"the {self.reduction} over the {self.m} samples")
        return total[0], total[2:], total[1]

    def _sums(self, per_block, hard, scale):
        """The sums of the loss, δ (that is db) and δ·X (dw) over the rows, each term
        times ``scale``, as one array; with ``scale`` ≠ 1 every term is checked. Each
        stripe of blocks is summed on its own, and the stripes are added in order."""
        rows = max(1, BLOCK_BYTES // max(1, self.X.shape[1] * self.X.itemsize))
        starts = range(0, self.m, rows)
        total = np.zeros(2 + self.X.shape[1], self.dtype)
        if len(starts) == 1:  # one block, in this thread, without the stripes' overhead
            return self._add_block(total, 0, per_block, hard, scale)
        stripes = min(len(starts), STRIPES)
        # Blocks of a C-contiguous X are contiguous; of any other layout, BLAS does better.
        threaded = (THREADS > 1 and len(starts) >= MIN_SHARED_BLOCKS
                    and self.X.flags.c_contiguous)
        # In threads, NumPy's own loops: a multithreaded BLAS would compete with the workers.
        products = ((functools.partial(np.einsum, "ij,j->i"),
                     functools.partial(np.einsum, "i,ij->j")) if threaded else ())
        sums = np.zeros((stripes, len(total)), self.dtype)

        def add_stripe(k):
            for start in starts[len(starts) * k // stripes:len(starts) * (k + 1) // stripes]:
                self._add_block(sums[k], start, per_block, hard, scale, rows, *products)

        _each(add_stripe, range(stripes), threaded)
        return sums.sum(axis=0, out=total)

    def _add_block(self, total, start, per_block, hard, scale, rows=None,
                   times_w=np.matmul, weighted_sum=np.matmul):
        """Add to ``total`` the sums of ``_sums`` over the block of ``rows`` rows (all by
        default) from row ``start``, and return it."""
        X, y = (self.X, self.y) if rows is None else (self.X[start:start + rows],
                                                        self.y[start:start + rows])
        loss, delta = per_block(*self._arguments(self._z(X, times_w), y, hard))
        if scale != 1:
            self._check_rows(start, loss, delta, None if delta is None else delta[:, None] * X)
            loss = None if loss is None else loss * scale
            delta = None if delta is None else delta * scale
        if loss is not None:
            total[0] += np.add.reduce(loss)
        if delta is not None:
            total[1] += np.add.reduce(delta)
            total[2:] += weighted_sum(delta, X)
        return total

    def _check_rows(self, start, loss, delta, dw):
        """Raise ValueError at the first row (``start`` + its index) whose loss, δ or δ·x
        (per-sample arrays, or None) is not finite."""
        parts = {what: part.reshape(len(part), -1) for what, part in
                 (("the loss", loss), ("δ", delta), ("δ·x", dw)) if part is not None}
        if not all(_all_finite(part) for part in parts.values()):
            bad = np.stack([~np.isfinite(part).all(axis=1) for part in parts.values()])
            first, kind = np.argwhere(bad.T)[0]  # the first row, and its first bad part
            row, what = start + int(first), list(parts)[kind]
            z = float(self.X[row] @ self.w) + float(self.b)
            raise self._beyond(f"{what} at row {row} (z = {z:.6g}, y = {self.y[row]:.6g})")

    @staticmethod
    def _arguments(z, y, hard):
        """The block function's arguments: (z, y), or (u, s) with s = 1 − 2y and
        u = s·z, computed into new buffers and into z (which the caller made)."""
        if not hard:
            return z, y
        s = np.multiply(y, -2)
        s += 1
        z *= s
        return z, s


def _penalty_weight(l2, dtype):
    """λ of the L2 penalty as a scalar of ``dtype``: a real, finite number ≥ 0."""
    try:
        weight = _scalar(l2, "l2", dtype)
    except (TypeError, ValueError):
        weight = None
    if weight is None or not weight >= 0 or isinstance(l2, (bool, np.bool_)):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return weight


def _each(function, items, threaded):
    """Call ``function`` on every item: in the calling thread, or ``threaded`` shared
    among ``THREADS`` worker threads, each under the caller's floating-point error
    settings; the first error is raised."""
    if not threaded:
        for item in items:
            function(item)
        return
    settings = np.geterr()

    def under_settings(item):
        with np.errstate(**settings):
            function(item)

    futures = [_pool().submit(under_settings, item) for item in items]
    try:
        for future in futures:
            future.result()
    finally:
        for future in futures:
            future.cancel()


_POOL = {}
"""The worker threads of this process: {THREADS: ThreadPoolExecutor}, made on first use."""
_POOL_LOCK = threading.Lock()


def _pool():
    with _POOL_LOCK:
        if THREADS not in _POOL:  # first use, or THREADS was changed
            for pool in _POOL.values():
                pool.shutdown(wait=False)
            _POOL.clear()
            _POOL[THREADS] = ThreadPoolExecutor(THREADS, thread_name_prefix="derive")
        return _POOL[THREADS]


def _forget_threads():
    """In a forked child, which has none of its parent's threads: not the workers, nor
    one that may have held the lock."""
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOL.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)
