"""The fixed runtime of the generated softmax modules, pasted verbatim like
``derive.codegen.runtime`` (same conventions: one piece per top-level definition, the
imports together the piece ``imports``; the input checks come from
``runtime_inputs.py``, whose import here is not pasted).

Shapes: W (n, K), b (K,), X (m, n) or one sample (n,); labels y are class numbers (m,)
in 0…K−1 (a scalar for one sample) or rows of probabilities (m, K) (one row (K,)).
Everything is computed from the row maximum M of z: t = e^(z − M) ≤ 1, with the
maximum's own term 1 kept out of ``rest`` = Σ_{k≠c} t_k, so a = t / (1 + rest) and
log Σ_k e^(z_k) = M + log1p(rest) are exact for every finite z.
"""

import functools
import math
import sys

import numpy as np

from derive.codegen.runtime_inputs import (
    EXTENDED,
    _all_finite,
    _converted,
    _first_bad,
    _real,
    _scalar,
)

REDUCTIONS = ("mean", "sum", "none")
ROW_SUM_TOLERANCE = {np.float32: 1e-4, np.float64: 1e-6}
"""How far a row of probability labels may sum from 1, per dtype of the computation."""



def _shifted(Z):
    """(M − z, t, rest, c) for rows of logits Z (…, K): the gaps M − z_k ≥ 0 to the
    row maximum M (as a pair: rounded, and its rounding error, exact by two-sum),
    t = e^(z − M) corrected by that error, rest = Σ_{k≠c} t_k and c the first maximum."""
    c = np.argmax(Z, axis=-1)[..., None]
    top = np.take_along_axis(Z, c, axis=-1)
    gap = top - Z
    after = gap - top
    error = (top - (gap - after)) - (Z + after)
    error = np.where(np.isfinite(error), error, 0)
    t = np.exp(-gap) * (1 - error)
    others = t.copy()
    np.put_along_axis(others, c, 0, axis=-1)
    return (gap, error), t, others.sum(axis=-1, keepdims=True), c


def _probabilities(t, rest, c):
    """a = t / (1 + rest): the softmax, with a_c = 1 / (1 + rest) exactly."""
    return t / (1 + rest)


def _minus_labels(a, Y, rest, c):
    """a − y, with the largest class's a_c − y_c = (1 − y_c) − rest/(1 + rest): no
    cancellation of a_c ≈ 1 against a label 1."""
    difference = a - Y
    top = (1 - np.take_along_axis(Y, c, axis=-1)) - rest / (1 + rest)
    np.put_along_axis(difference, c, top, axis=-1)
    return difference


def _centred_slope(a, error, rest, c):
    """δ = a ∘ (e − Σ_k e_k a_k) of the squared error, from e = a − y (``_minus_labels``);
    for the largest class e_c − Σ_k e_k a_k = e_c·(1 − a_c) − Σ_{k≠c} e_k a_k, with
    1 − a_c = rest/(1 + rest): no cancellation of e_c against e_c·a_c where a_c ≈ 1."""
    weighted = error * a
    np.put_along_axis(weighted, c, 0, axis=-1)
    others = weighted.sum(axis=-1, keepdims=True)  # Σ_{k≠c} e_k a_k
    error_c, a_c = np.take_along_axis(error, c, axis=-1), np.take_along_axis(a, c, axis=-1)
    delta = a * (error - (others + error_c * a_c))
    np.put_along_axis(delta, c, a_c * (error_c * (rest / (1 + rest)) - others), axis=-1)
    return delta


class _Classes:
    """Checked inputs of one call: Z = X @ W + b, the label rows Y, the reduction."""

    def __init__(self, W, b, X, y=None, reduction="mean", l2=0.0):
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")
        W, X, b = _real(W, "W"), _real(X, "X"), _real(b, "b")
        self.dtype = np.float32 if np.result_type(W, X) == np.float32 else np.float64
        self.W, self.X = _converted(W, self.dtype, "W"), _converted(X, self.dtype, "X")
        self.b = _converted(b, self.dtype, "b")
        if self.W.ndim != 2 or self.b.shape != self.W.shape[1:]:
            raise ValueError(f"W must have shape (n, K) and b (K,), got W.shape={self.W.shape}, "
                             f"b.shape={self.b.shape}")
        if self.X.ndim not in (1, 2) or self.X.shape[-1] != self.W.shape[0]:
            raise ValueError(f"X must have shape (m, n) or (n,) with n = {self.W.shape[0]} "
                             f"rows of W, got X.shape={self.X.shape}")
        for name, array in (("W", self.W), ("b", self.b), ("X", self.X)):
            if not _all_finite(array):
                raise ValueError(f"{name} has a non-finite value at index {_first_bad(array)}")
        self.single, self.reduction = self.X.ndim == 1, reduction
        self.m, self.K = (1 if self.single else self.X.shape[0]), self.W.shape[1]
        self.l2 = _l2(l2, self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            self.Z = self.X @ self.W + self.b
        if not _all_finite(self.Z):
            raise ValueError(f"z = X @ W + b overflows at index {_first_bad(self.Z)}: the "
                             "inputs are finite but too large; rescale X or W")
        self.hard = False  # every label row one-hot: set by _label_rows
        self.Y = None if y is None else self._label_rows(y)

    def per_row(self, rows, extended, value=True, gradient=True):
        """(loss, δ) per row by the loss's ``rows(Z, Y, value, gradient)``, in the dtype of
        the call. They run in ``EXTENDED`` precision, and are rounded, where a − y may
        cancel: at soft labels (``extended`` "soft"), or always ("always": the squared
        error's δ_i = a_i(e_i − Σ_k e_k a_k) cancels where the outputs are alike, whatever
        the labels); so δ is within a few ulps of its own value, not only of max(a, y)."""
        Z, Y = self.Z, self.Y
        if EXTENDED is not None and (extended == "always" or not self.hard):
            Z, Y = Z.astype(EXTENDED), Y.astype(EXTENDED)
        return tuple(None if part is None else part.astype(self.dtype, copy=False)
                     for part in rows(Z, Y, value=value, gradient=gradient))

    def _label_rows(self, y):
        y, rows = _real(y, "y"), () if self.single else (self.m,)
        if self.m == 0:
            raise ValueError(f"X has no samples (X.shape={self.X.shape}); a loss needs one")
        if y.shape == rows:  # class numbers
            flat = y.reshape(-1)
            whole = np.isfinite(flat) & (flat == np.round(flat)) & (flat >= 0) & (flat < self.K)
            if not whole.all():
                bad = int(np.flatnonzero(~whole)[0])
                raise ValueError(f"class labels must be whole numbers in 0…{self.K - 1}; "
                                 f"y[{bad}] = {flat[bad]!s}")
            Y = np.zeros((len(flat), self.K), self.dtype)
            Y[np.arange(len(flat)), flat.astype(np.int64)] = 1
            self.hard = True
            return Y[0] if self.single else Y
        if y.shape != (*rows, self.K):
            raise ValueError(f"y must be class labels of shape {rows} or probability rows of "
                             f"shape {(*rows, self.K)} to match X.shape={self.X.shape} and "
                             f"K = {self.K}, got y.shape={y.shape}")
        Y = _converted(y, self.dtype, "y").reshape(-1, self.K)
        if not _all_finite(Y) or (Y < 0).any():
            row = int(np.flatnonzero(~(np.isfinite(Y) & (Y >= 0)).all(axis=1))[0])
            raise ValueError(f"probability labels must be finite and >= 0; row {row} of y is "
                             f"{Y[row]}")
        sums = Y.sum(axis=1, dtype=np.float64)
        off = np.abs(sums - 1) > ROW_SUM_TOLERANCE[self.dtype]
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise ValueError(f"each row of probability labels must sum to 1; row {row} of y "
                             f"sums to {sums[row]!r}")
        self.hard = not np.count_nonzero(Y * (Y - 1))
        return Y[0] if self.single else Y

    def reduced(self, rows, delta, want_loss=True, want_grad=True):
        """(loss, dW, db) from per-row losses and δ = ∂L/∂z (None where not wanted):
        summed, averaged or per row; the L2 penalty added once, never to b."""
        single, none = self.single, self.reduction == "none" and not self.single
        loss = dW = db = None
        if want_loss:
            loss = rows if single or none else rows.sum(dtype=self.dtype)
            if self.reduction == "mean" and not (single or none):
                loss = loss / self.dtype(self.m) if math.isfinite(loss) else (rows / self.m).sum()
        if want_grad:
            if single:
                dW, db = np.outer(self.X, delta), delta
            elif none:
                dW, db = self.X[:, :, None] * delta[:, None, :], delta
            else:
                scale = 1 / self.dtype(self.m) if self.reduction == "mean" else 1
                dW, db = (self.X.T @ delta) * scale, delta.sum(axis=0) * scale
        if self.l2 != 0 and not none:
            if loss is not None:
                loss = self.dtype(loss + self.l2 / 2 * np.vdot(self.W, self.W))
            if dW is not None:
                dW = dW + self.l2 * self.W
        return loss, dW, db


def _l2(l2, dtype):
    """λ ≥ 0 of the L2 penalty as a scalar of ``dtype``."""
    try:
        weight = _scalar(l2, "l2", dtype)
    except (TypeError, ValueError):
        weight = None
    if weight is None or not weight >= 0 or isinstance(l2, (bool, np.bool_)):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return weight


def _checked(function):
    """Run ``function`` with floating-point warnings off; a result that is not finite
    (its exact value is beyond the float range) raises ValueError instead. A Dask array
    is refused rather than computed whole in memory."""

    @functools.wraps(function)
    def checked(*arguments, **keywords):
        dask = sys.modules.get("dask.array")  # never imported here
        if dask is not None and any(isinstance(value, dask.Array)
                                    for value in (*arguments, *keywords.values())):
            raise ValueError(f"{function.__name__} does not take Dask arrays; pass NumPy "
                             "arrays (X.compute(), where X fits in memory)")
        with np.errstate(all="ignore"):
            result = function(*arguments, **keywords)
        for part in result if isinstance(result, tuple) else (result,):
            part = np.asarray(part)
            if part.dtype.kind == "f" and not _all_finite(part):
                raise ValueError(f"{function.__name__}: the result is not finite in "
                                 f"{part.dtype}: the exact value is beyond its range; "
                                 "rescale W, b or X")
        return result

    return checked
