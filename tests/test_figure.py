"""The saturation figure: its data (computed with the generated code) and both ways of
building it, with matplotlib and without."""

import builtins
import shutil
import subprocess

import numpy as np
import pytest

from derive.build import load_module, python_module
from derive.cli import main
from derive.sheet import figure
from derive.sheet.figure import plot, saturation_data


@pytest.fixture(scope="module")
def data(book):
    return saturation_data(load_module(python_module(book)))


def test_cross_entropy_escapes_saturation_ten_times_sooner(data):
    se, ce = data.below["se"], data.below["ce"]
    assert ce is not None and se is not None, data.below
    assert se >= 10 * ce, data.below
    # Both runs start saturated and wrong: the squared error sits near its plateau.
    assert data.curves["se"][0] > 0.4 and data.curves["ce"][0] > 5


def test_gradient_panel_shows_the_vanishing_factor(data):
    """At y = 1 and z → −∞ the squared error's |δ| → 0 while the cross-entropy's → 1."""
    left = data.z < -8
    assert np.all(data.slopes["se"][left] < 1e-3)
    assert np.all(data.slopes["ce"][left] > 0.999)


def test_the_training_curves_agree_with_hand_written_gradient_descent(data):
    """The curves come from the generated code; the same SGD written out by hand in
    NumPy (σ, the two losses and their gradients as in the note, the cross-entropy as
    log(1 + e^z) − y z) must trace them."""
    rng = np.random.default_rng(figure.SEED)
    X = rng.normal(size=(figure.SAMPLES, figure.FEATURES))
    true_w = np.array(figure.TRUE_WEIGHTS)
    y = (X @ true_w > 0).astype(float)

    def losses_and_delta(w, b, X, y, name):
        z = X @ w + b
        a = 1 / (1 + np.exp(-z))
        if name == "se":
            return 0.5 * (a - y) ** 2, (a - y) * a * (1 - a)
        # −y log a − (1 − y) log(1 − a) = log(1 + e^z) − y z, without log(0)
        return np.logaddexp(0, z) - y * z, a - y

    for name in figure.LOSSES:
        w, b = figure.WRONG_START * true_w, 0.0
        order = np.random.default_rng(figure.SEED + 1)
        curve = [losses_and_delta(w, b, X, y, name)[0].mean()]
        for _ in range(figure.EPOCHS):
            for batch in np.array_split(order.permutation(len(y)), len(y) // figure.BATCH):
                _, delta = losses_and_delta(w, b, X[batch], y[batch], name)
                w = w - figure.RATE * X[batch].T @ delta / len(batch)
                b = b - figure.RATE * delta.mean()
            curve.append(losses_and_delta(w, b, X, y, name)[0].mean())
        np.testing.assert_allclose(data.curves[name], curve, rtol=1e-6)
        epoch = data.below[name]
        assert curve[epoch] < data.target <= min(curve[:epoch])


def test_plot_writes_a_png(data, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "figure.png"
    assert plot(data, path)
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def without_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *arguments, **keywords):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r} (hidden by the test)")
        return real_import(name, *arguments, **keywords)

    monkeypatch.setattr(builtins, "__import__", refuse)


def test_without_matplotlib_the_build_says_the_figure_was_skipped(without_matplotlib,
                                                                  tmp_path, capsys):
    out = tmp_path / "out"
    pdf_wanted = shutil.which("latexmk") or shutil.which("pdflatex")
    options = [] if pdf_wanted else ["--no-pdf"]
    assert main(["build", "--activation", "sigmoid", "--out", str(out), *options]) == 0
    assert "saturation figure was skipped" in capsys.readouterr().err
    assert not list(out.glob("*.png"))
    if pdf_wanted and shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "logistic_regression.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "skipped because matplotlib is not" in " ".join(text.split())
