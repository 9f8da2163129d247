"""Accuracy to the last bits over a dense grid of z, against a 50-digit reference.

Hard labels (y ∈ {0, 1}): the per-sample loss and δ = ∂L/∂z are within 4 ULP of the
correctly rounded value for every z of the grid, in float64 and float32 (an error below
the smallest normal number is measured in ULPs of that number). Soft labels: the loss
is within 8 ULP, and δ — a difference of two terms that cancel near z = logit(y) — is
within 4 machine epsilons in absolute value.
"""

import mpmath
import numpy as np
import pytest

from support import load_generated, ulps
from test_generated_code import reference

lr = load_generated()
ULP_BOUND = 4


def _grid(limit, boundaries):
    """≥ 2 000 points spanning ±limit, plus every boundary of the formulas with its
    floating-point neighbours, and a geometric sweep towards 0."""
    points = [np.linspace(-limit, limit, 2001)]
    sweep = np.geomspace(1e-300 if limit > 200 else 1e-30, 1, 60)
    points += [sweep, -sweep]
    for boundary in boundaries:
        around = np.array([np.nextafter(boundary, -np.inf), boundary,
                           np.nextafter(boundary, np.inf)])
        points += [around, -around]
    grid = np.unique(np.concatenate(points))
    return grid[np.abs(grid) <= limit]


GRIDS = {
    # e^(-|z|) underflows to 0 past 745.13 (float64) and 103.97 (float32); σ(−z) goes
    # subnormal past 708.4 and 87.3; log1p(t) = t to working precision below t ≈ 1e-16.
    np.float64: _grid(800.0, [0.0, 1.0, 18.0, 36.7, 37.0, 87.3, 88.7, 708.4, 709.8, 745.1]),
    np.float32: _grid(100.0, [0.0, 1.0, 8.0, 16.6, 17.0, 87.3, 88.7]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["ce", "se"])
@pytest.mark.parametrize("label", [0.0, 1.0])
def test_hard_labels_within_four_ulp_on_a_dense_grid(name, label, dtype):
    grid = GRIDS[dtype].astype(dtype)
    assert grid.size >= 2000
    w, b = np.ones(1, dtype=dtype), dtype(0)
    labels = np.full(grid.size, label, dtype=dtype)
    loss, _, delta = getattr(lr, f"value_and_grad_{name}")(w, b, grid[:, None], labels,
                                                          reduction="none")
    worst = (0.0, 0.0)
    for z_value, got_loss, got_delta in zip(grid, loss, delta):
        expected_loss, expected_delta = reference(name, float(z_value), label)
        error = max(ulps(got_loss, expected_loss, dtype), ulps(got_delta, expected_delta, dtype))
        worst = max(worst, (error, float(z_value)))
    print(f"{name} y={label:g} {np.dtype(dtype).name}: worst {worst[0]:.2f} ULP at z = {worst[1]}")
    assert worst[0] <= ULP_BOUND, worst


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["ce", "se"])
def test_soft_labels_are_finite_and_within_the_stated_bound(name, dtype):
    grid = GRIDS[dtype][::4].astype(dtype)
    w, b = np.ones(1, dtype=dtype), dtype(0)
    epsilon = float(np.finfo(dtype).eps)
    for label in (0.1, 0.5, 0.9):
        labels = np.full(grid.size, label, dtype=dtype)
        loss, _, delta = getattr(lr, f"value_and_grad_{name}")(w, b, grid[:, None], labels,
                                                              reduction="none")
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(delta))
        for z_value, got_loss, got_delta in zip(grid, loss, delta):
            expected_loss, expected_delta = reference(name, float(z_value), float(dtype(label)))
            loss_error = float(abs(mpmath.mpf(float(got_loss)) - expected_loss))
            assert (ulps(got_loss, expected_loss, dtype) <= 2 * ULP_BOUND
                    or loss_error <= ULP_BOUND * epsilon), (label, z_value)
            assert abs(float(got_delta) - float(expected_delta)) <= ULP_BOUND * epsilon


@pytest.mark.parametrize("name", ["ce", "se"])
def test_hard_label_path_agrees_with_the_general_path(name):
    """Labels all 0/1 take the s = 1 − 2y path; one soft label sends the same rows
    through the general formulas: per-sample results agree to 4 ULP."""
    rng = np.random.default_rng(3)
    z_column = rng.normal(scale=30, size=(500, 1))
    labels = rng.integers(0, 2, size=500).astype(float)
    mixed = np.append(labels, 0.5)
    hard = lr.value_and_grad_ce if name == "ce" else lr.value_and_grad_se
    loss_h, _, delta_h = hard(np.ones(1), 0.0, z_column, labels, reduction="none")
    loss_g, _, delta_g = hard(np.ones(1), 0.0, np.vstack([z_column, [[0.0]]]), mixed,
                              reduction="none")
    for first, second in ((loss_h, loss_g[:-1]), (delta_h, delta_g[:-1])):
        spacing = np.spacing(np.maximum(np.abs(first), np.finfo(float).tiny))
        assert np.all(np.abs(first - second) <= ULP_BOUND * spacing)
