"""The compiled per-row formulas of the generated softmax numba modules, pasted verbatim
like ``runtime_softmax.py`` (same conventions; the imports are not pasted: the module
has the softmax runtime's, and ``numba = _numba()`` from ``runtime_numba.py``).

A numba softmax module checks its inputs with ``_Classes`` (Z = X @ W + b and dW = Xᵀδ
are BLAS's products, as in the NumPy module) and computes each row's loss and δ here,
in double precision without temporaries, from the same forms as the NumPy module's
``_shifted``, ``_probabilities``, ``_minus_labels`` and ``_centred_slope``: the gaps
M − z_k to the row maximum with their rounding errors, t = e^(z − M), rest =
Σ_{k≠c} t_k, a = t/(1 + rest), a_c − y_c = (1 − y_c) − rest/(1 + rest). Rows are
independent, so the results do not depend on the number of threads.
"""

import math

import numpy as np

from derive.codegen.runtime_numba import numba

CCE = 0
"""``_class_rows``'s number for the categorical cross-entropy; ``SE`` the squared error."""
SE = 1
CHUNK_ROWS = 256
"""Rows per task of ``_class_rows`` (each task has one scratch row)."""


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _class_rows(Z, Y, loss, value, gradient, rows, delta):
    """Per row r of the logits Z (m, K) and label rows Y (m, K): the loss into rows[r]
    where ``value``, δ = ∂L/∂z into delta[r] where ``gradient``, for ``loss`` CCE or SE;
    computed in double precision and rounded to the outputs' dtype."""
    m, K = Z.shape
    for task in numba.prange((m + CHUNK_ROWS - 1) // CHUNK_ROWS):
        scratch = np.empty((2, K))
        for r in range(task * CHUNK_ROWS, min(m, (task + 1) * CHUNK_ROWS)):
            result = _class_row(Z[r], Y[r], loss, gradient, delta[r], scratch)
            if value:
                rows[r] = result


@numba.njit(cache=True, error_model="numpy")
def _class_row(z, y, loss, gradient, out, scratch):
    """One row: its loss, and δ into ``out`` where ``gradient``; ``scratch`` holds a and
    e = a − y of the row."""
    K = z.shape[0]
    c = 0
    for k in range(1, K):
        if z[k] > z[c]:
            c = k
    top = np.float64(z[c])
    rest, labelled_gap, labelled_error = 0.0, 0.0, 0.0
    a, error = scratch[0], scratch[1]
    for k in range(K):
        gap = top - np.float64(z[k])
        after = gap - top
        rounding = (top - (gap - after)) - (np.float64(z[k]) + after)
        if not math.isfinite(rounding):
            rounding = 0.0
        a[k] = math.exp(-gap) * (1 - rounding)  # t_k for now
        if k != c:
            rest += a[k]
        labelled_gap += np.float64(y[k]) * gap
        labelled_error += np.float64(y[k]) * rounding
    share = rest / (1 + rest)  # 1 − a_c
    for k in range(K):
        a[k] = a[k] / (1 + rest)
        error[k] = a[k] - np.float64(y[k])
    error[c] = (1 - np.float64(y[c])) - share
    if loss == CCE:
        if gradient:
            for k in range(K):
                out[k] = error[k]
        return labelled_gap + (labelled_error + math.log1p(rest))
    squares, others = 0.0, 0.0
    for k in range(K):
        squares += error[k] * error[k]
        if k != c:
            others += error[k] * a[k]
    if gradient:
        inner = others + error[c] * a[c]
        for k in range(K):
            out[k] = a[k] * (error[k] - inner)
        out[c] = a[c] * (error[c] * share - others)
    return squares / 2
