"""Second-order pieces of the generated modules: the Hessian of the mean loss, its
product with a vector, and one Newton step; pasted verbatim like ``runtime.py``.

Conventions: the parameters are θ = (w, b) with b last, so the Hessian is
(n + 1) × (n + 1); it is (1/m)·X̃ᵀ diag(d) X̃ + λ on the weights' diagonal, with
X̃ = [X 1] and d the per-sample ∂²L/∂z², which ``curvature(z, y)`` (printed per model
from the proved second derivative) gives for a block of rows, at soft labels in
``EXTENDED`` precision. Rows are read in blocks of about ``BLOCK_BYTES`` of X, in
order, in the calling thread.
"""

import numpy as np

from derive.codegen.runtime import BLOCK_BYTES
from derive.codegen.runtime_inputs import (
    EXTENDED,
    _all_finite,
    _first_bad,
    _float_array,
)


def _second_order(batch, curvature, v=None, extended=True):
    """The Hessian of the mean loss at (w, b), or its product with ``v`` (length n + 1)
    computed without forming it: X̃ᵀ(d ⊙ X̃v)/m + λ(v_w, 0), one pass over X. d is
    computed in ``EXTENDED`` precision at soft labels where ``extended`` (the printed
    d depends on y)."""
    X = batch.X.reshape(1, -1) if batch.single else batch.X
    y = np.reshape(np.asarray(batch.y, batch.dtype), (-1,))
    n = X.shape[1]
    total = np.zeros((n + 1, n + 1) if v is None else n + 1, batch.dtype)
    hard = batch.hard or (batch.single and batch.y in (0, 1))  # every label 0 or 1
    rows = max(1, BLOCK_BYTES // max(1, n * X.itemsize))
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], rows):
            block, labels = X[start:start + rows], y[start:start + rows]
            z = batch._z(block)
            if extended and EXTENDED is not None and not hard:
                z, labels = z.astype(EXTENDED), labels.astype(EXTENDED)
            d = np.asarray(curvature(z, labels), batch.dtype)
            if not _all_finite(d):
                row = start + _first_bad(d)
                raise batch._beyond(f"∂²L/∂z² at row {row}")
            if v is None:
                weighted = block * d[:, None]
                total[:n, :n] += block.T @ weighted
                total[:n, n] += weighted.sum(axis=0)
                total[n, n] += d.sum()
            else:
                t = d * (block @ v[:n] + v[n])
                total[:n] += block.T @ t
                total[n] += t.sum()
    total /= X.shape[0]
    if v is None:
        total[n, :n] = total[:n, n]
        total = (total + total.T) / 2  # exactly symmetric, whatever BLAS rounded
        total[np.arange(n), np.arange(n)] += batch.l2
    else:
        total[:n] += batch.l2 * v[:n]
    return total


def _log_gap_ratio(t):
    """(t − log1p(t))/t for t ≥ 0, and its limit 0 at t = 0. With s = t/(2 + t),
    log1p(t) = 2·atanh(s), so it is s − 2s²·(1/3 + s²/5 + s⁴/7 + …)/(2 + t): no
    cancellation, no division by t; 18 terms reach full precision for t ≤ 1
    (s² ≤ 1/9). Above 1, 1 − log1p(t)/t is accurate."""
    s = t / (2 + t)
    s2 = s * s
    series = np.full_like(s, 1 / 37)
    for k in range(16, -1, -1):
        series = series * s2 + 1 / (2 * k + 3)
    large = np.maximum(t, 1)
    return np.where(t <= 1, s - 2 * s2 * series / (2 + t), 1 - np.log1p(large) / large)


def _direction(batch, v):
    """``v`` checked: a finite vector of length n + 1 (the weights, then the bias)."""
    v = _float_array(v, "v").astype(batch.dtype, copy=False)
    expected = (batch.w.shape[0] + 1,)
    if v.shape != expected:
        raise ValueError(f"v must have shape {expected} (the weights, then the bias), "
                         f"got {v.shape}")
    return v


def _newton_step(batch, hessian, gradient):
    """(w, b) − H⁻¹∇J by a Cholesky factorisation of H; a clear error where H is not
    positive definite (as with l2 = 0 and collinear features, or fewer samples than
    features)."""
    n = batch.w.shape[0]
    dw, db = gradient
    g = np.append(dw, db)
    diagonal = np.abs(np.diag(hessian))
    try:
        factor = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        factor = None
    pivots = None if factor is None else np.diag(factor) ** 2
    if pivots is None or pivots.min() <= (n + 1) * np.finfo(batch.dtype).eps * diagonal.max():
        raise ValueError("the Hessian is singular at these parameters (collinear features, "
                         "fewer samples than features, or saturated outputs): pass l2 > 0")
    step = np.linalg.solve(factor.T, np.linalg.solve(factor, g))
    return batch.w - step[:n], batch.b - step[n]
