"""The saturation figure: why squared error learns slowly where cross-entropy does not.

``saturation_data(module)`` computes, with the generated NumPy module of the note's
model (sigmoid; se and ce), which the build hands it already loaded, two things: |∂L/∂z| against z at y = 1 for both losses, and
the training curves of stochastic gradient descent from a saturated wrong start (the
weights of a separating direction, with the wrong sign and a large norm). Everything is
seeded, so the numbers (and the sheet that quotes them) are the same on every run.
``plot(data, path)`` draws both panels as a PNG with matplotlib (a dependency of
derive; where it is missing all the same, ``plot`` returns False and the sheet says the
figure was skipped). It writes ``path`` directly and makes no temporary of its own: the
build hands it a fresh temporary and renames it into place (``derive.files.publish``).
"""

from dataclasses import dataclass

import numpy as np

LOSSES = ("se", "ce")
TARGET = 0.1
"""The loss level whose first crossing the sheet reports."""
SAMPLES, FEATURES, BATCH = 200, 2, 40
TRUE_WEIGHTS = (2.0, -1.0)
WRONG_START = -5.0
"""The start is WRONG_START times the true weights: every sample is confidently wrong."""
RATE, EPOCHS, SEED = 4.0, 2000, 2027
Z_GRID = np.linspace(-10, 10, 201)


@dataclass(frozen=True)
class SaturationData:
    """|δ| on ``z`` per loss, training ``curves`` (mean loss before each epoch and after
    the last) per loss, and ``below`` the first epoch whose loss is under ``target``
    (None if never)."""

    z: np.ndarray
    slopes: dict
    curves: dict
    below: dict
    target: float = TARGET


def saturation_data(module):
    """The figure's data, computed with ``module`` (the generated code)."""
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(SAMPLES, FEATURES))
    true_w = np.array(TRUE_WEIGHTS)
    y = (X @ true_w > 0).astype(float)
    slopes, curves, below = {}, {}, {}
    for name in LOSSES:
        grad = getattr(module, f"grad_{name}")
        _, slope = grad(np.array([1.0]), 0.0, Z_GRID[:, None], np.ones_like(Z_GRID),
                        reduction="none")
        slopes[name] = np.abs(slope)
        curves[name] = _train(module, name, X, y, WRONG_START * true_w)
        below[name] = next((epoch for epoch, value in enumerate(curves[name])
                            if value < TARGET), None)
    return SaturationData(Z_GRID, slopes, curves, below)


def _train(module, name, X, y, start):
    grad, loss = getattr(module, f"grad_{name}"), getattr(module, f"loss_{name}")
    w, b = start.copy(), 0.0
    order = np.random.default_rng(SEED + 1)
    curve = [loss(w, b, X, y)]
    for _ in range(EPOCHS):
        for batch in np.array_split(order.permutation(len(y)), len(y) // BATCH):
            dw, db = grad(w, b, X[batch], y[batch])
            w, b = w - RATE * dw, b - RATE * db
        curve.append(loss(w, b, X, y))
    return np.array(curve)


def plot(data, path):
    """Draw both panels as a PNG into ``path`` (a file name or a binary stream),
    written directly; False, and nothing written, when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return False
    labels = {"se": "squared error", "ce": "cross-entropy"}
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(9, 3.4), dpi=150)
    for name in LOSSES:
        left.plot(data.z, data.slopes[name], label=labels[name])
        right.plot(np.arange(1, len(data.curves[name]) + 1), data.curves[name],
                   label=labels[name])
    left.set(xlabel="z", ylabel="|∂L/∂z| at y = 1", title="gradient of the loss")
    right.set(xscale="log", yscale="log", xlabel="epoch + 1", ylabel="mean loss",
              title="SGD from a saturated wrong start")
    right.axhline(data.target, color="grey", linewidth=0.8, linestyle=":")
    for axes in (left, right):
        axes.legend(frameon=False)
    figure.tight_layout()
    try:
        figure.savefig(path, format="png", metadata={"Software": None})
    finally:
        pyplot.close(figure)
    return True
