"""What several test modules share: generated code loaded as modules, the mpmath
reference of a loss, errors measured in ULPs, and every registry pair built once.

``tests/`` is not a package; pytest puts this folder on ``sys.path``.
"""

import functools
import importlib.util
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import mpmath
import numpy as np
from sympy import diff, lambdify

from derive.build import load_module, python_module, stem
from derive.engine.choice import choose
from derive.engine.derivations import derive_all
from derive.engine.model import Model
from derive.engine.registry import label_range, valid_pairs
from derive.engine.symbols import y, z

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated"
PAIRS = valid_pairs()


# --- generated modules -------------------------------------------------------------------


def load_generated(name="logistic_regression", folder=GENERATED):
    """A committed generated module, imported from its file."""
    spec = importlib.util.spec_from_file_location(f"generated_{name}", folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def built_pair(act_name, loss_name):
    """(model, book, module) of one valid pair, derived and rendered once per session."""
    model = Model(*choose(act_name, [loss_name]))
    book = derive_all(model)
    return model, book, load_module(python_module(book), f"generated_{stem(model)}")


def labels_for(model):
    """Labels for the checks: both ends of the accepted interval (when finite) and
    points inside it."""
    labels = label_range(model.activation, model.losses[0])
    low, high = labels.inf, labels.sup
    values = [float(end) for end in (low, high) if end.is_finite]
    inside = (0.3 if not low.is_finite else float(low) + 0.3,
              2.5 if not high.is_finite else float(high) - 0.4)
    return sorted({*values, *inside})


def breast_cancer():
    """scikit-learn's breast-cancer data (569 samples, 30 features), standardised; the
    calling test is skipped where scikit-learn is not installed."""
    import pytest

    datasets = pytest.importorskip("sklearn.datasets")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X, y_values = datasets.load_breast_cancer(return_X_y=True)
    return preprocessing.StandardScaler().fit_transform(X), y_values


# --- the mpmath reference ----------------------------------------------------------------


class Reference:
    """(L, ∂L/∂z) of one sample from an exact SymPy expression of the loss in z and y,
    evaluated by mpmath with 60 significant digits plus enough to absorb e^{−|z|}
    (0.45 digits per unit of |z|, up to |z| = 2000), so that cancellation in the
    expression costs none of the 50 digits the tests rely on."""

    def __init__(self, loss_in_z):
        self._value = lambdify((z, y), loss_in_z, modules="mpmath")
        self._slope = lambdify((z, y), diff(loss_in_z, z), modules="mpmath")

    @classmethod
    def of(cls, model, loss=None):
        """The reference of ``loss`` (the model's first) from the registry's definitions."""
        loss = loss or model.losses[0]
        return cls(loss.expression(model.activation.expression(z), y))

    def __call__(self, z_value, label):
        with mpmath.workdps(60 + int(min(abs(z_value), 2000.0) * 0.45)):
            point, target = mpmath.mpf(z_value), mpmath.mpf(label)
            return self._value(point, target), self._slope(point, target)


def relative_error(got, expected, dtype):
    """|got − expected| / |expected|, counted as absolute below the smallest normal."""
    tiny = mpmath.mpf(float(np.finfo(dtype).tiny))
    return float(abs(mpmath.mpf(float(got)) - expected) / max(abs(expected), tiny))


def ulps(got, expected, dtype):
    """|got − expected| in units in the last place of the expected value (of the
    smallest normal number where the expected value is below it)."""
    tiny = float(np.finfo(dtype).tiny)
    scale = float(np.spacing(dtype(max(abs(float(expected)), tiny))))
    return float(abs(mpmath.mpf(float(got)) - expected)) / scale


# --- a forked child ----------------------------------------------------------------------


def holds_in_forked_child(check, timeout=60):
    """Whether ``check()`` returns True in a forked child of this process, which must
    finish within ``timeout`` seconds (a child left with its parent's worker threads,
    or a lock one of them held, would hang)."""
    with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os._exit(0 if check() else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + timeout
    while (finished := os.waitpid(child, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            raise AssertionError("the forked child hung on its parent's worker threads")
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(finished[1]) == 0


NUMBA_MODULES = ROOT / ".pytest_cache" / "derive-numba"
"""Where the tests write numba modules: numba's cache (``cache=True``) sits beside them,
so kernels compile once across test runs."""


def numba_module(source, name):
    """The numba module ``source`` written as ``name``.py in ``NUMBA_MODULES`` (rewritten
    only when its text changes) and imported from that file, once per process."""
    path = NUMBA_MODULES / f"{name}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        NUMBA_MODULES.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    if name in sys.modules and sys.modules[name].__file__ == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
