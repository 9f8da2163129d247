"""Time and accuracy of the generated value-and-gradient of the mean cross-entropy.

Run from the repository root: ``python -m bench`` (or ``python bench/run.py``); ``--help``
lists the options. Every candidate computes the mean binary cross-entropy of logistic
regression and its gradient (dw, db), in float64, on the same X (m × n, standard
normal), w, b and hard labels y. In the same process and interleaved (every candidate in
every round, rounds repeated), after a warm-up, the median time of each is reported as a
multiple of one ``X @ w`` (the practical floor: a single read of X) and as a ratio to the
straightforward two-product NumPy baseline; a call faster than ``MIN_MEASUREMENT`` is
repeated within one measurement and the time divided. In each round a candidate is first
called untimed for ``--settle`` seconds, so that the main table shows its steady state; the
first call of the round, made right after the previous candidate, is reported apart.
Candidates:

* ``X @ w`` — the floor;
* ``numpy`` — straightforward NumPy: z = X @ w + b, then X.T @ (σ(z) − y);
* ``lambdify`` — SymPy's lambdify of the unsimplified loss and its derivative in z;
* ``jax`` — ``jax.jit(jax.value_and_grad(loss))`` with 64-bit floats, if JAX is installed;
* ``torch`` — autograd on ``binary_cross_entropy_with_logits`` in float64, if PyTorch is
  installed (install a CPU build; nothing here installs it);
* ``derive value_and_grad_ce`` and ``derive grad_ce`` — the generated module;
* ``numba value_and_grad_ce`` and ``numba grad_ce`` — the generated numba module, if numba
  is installed (``bench/numba_target.py``; its compile times in fresh processes are
  reported apart).

For m = 1 (one sample, X of shape (n,)) a minimal hand-written NumPy gradient is timed
too. The accuracy table gives each candidate's largest relative error of the per-sample
loss and of δ = ∂L/∂z against a 50-digit mpmath reference at extreme z, for y = 0 and 1
(errors below the smallest normal double are counted as absolute). Results are printed
as Markdown and written as JSON.
"""

import argparse
import importlib.util
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from bench import numba_target

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 1_000, 200_000, 1_000_000)
MIN_MEASUREMENT = 2e-3
"""Seconds: a fast call is repeated within one measurement until it takes about this long."""
SETTLE = 0.2
"""Seconds each candidate is called untimed before its measurement in every round, so that
it is timed in its steady state rather than in the wake of the previous candidate (whose
idle threads may still spin: OpenBLAS's do for about 2^28 cycles, 0.1 s at 2.5 GHz)."""
EXTREME_Z = (0.0, 1e-9, -1e-9, 1.0, -1.0, 18.0, -18.0, 37.0, -37.0, 88.0, -88.0, 89.0, -89.0,
             709.0, -709.0, 710.0, -710.0, 800.0, -800.0, 1e300, -1e300)


def load_generated():
    path = ROOT / "generated" / "logistic_regression.py"
    spec = importlib.util.spec_from_file_location("generated_logistic_regression", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- candidates: each is make(X, y) -> (call, per_sample) ---------------------------------
# ``call(w, b)`` returns (loss, dw, db); ``per_sample(z, y)`` returns (loss, δ) arrays.


def numpy_baseline(X, y):
    m = X.shape[0] if X.ndim == 2 else 1

    def call(w, b):
        z = X @ w + b
        p = 1 / (1 + np.exp(-z))
        loss = np.mean(np.logaddexp(0, z) - y * z)
        residual = p - y
        return loss, _weights_gradient(X, residual, m), np.mean(residual)

    def per_sample(z, labels):
        with np.errstate(all="ignore"):
            return np.logaddexp(0, z) - labels * z, 1 / (1 + np.exp(-z)) - labels

    return call, per_sample


def _weights_gradient(X, delta, m):
    return X.T @ delta / m if X.ndim == 2 else delta * X


def minimal_single(x, label):
    def call(w, b):
        z = x @ w + b
        residual = 1 / (1 + np.exp(-z)) - label
        return None, residual * x, residual

    return call, None


def lambdify_candidate(X, y):
    import sympy

    z, t = sympy.symbols("z y", real=True)
    a = 1 / (1 + sympy.exp(-z))
    loss_expr = -t * sympy.log(a) - (1 - t) * sympy.log(1 - a)
    loss_f = sympy.lambdify((z, t), loss_expr, "numpy")
    delta_f = sympy.lambdify((z, t), sympy.diff(loss_expr, z), "numpy")
    m = X.shape[0] if X.ndim == 2 else 1

    def call(w, b):
        zz = X @ w + b
        with np.errstate(all="ignore"):
            delta = delta_f(zz, y)
            loss = np.mean(loss_f(zz, y))
        return loss, _weights_gradient(X, delta, m), np.mean(delta)

    def per_sample(zz, labels):
        with np.errstate(all="ignore"):
            return loss_f(zz, labels), delta_f(zz, labels)

    return call, per_sample


def jax_candidate(X, y):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def sample_loss(z, labels):
        return -labels * jax.nn.log_sigmoid(z) - (1 - labels) * jax.nn.log_sigmoid(-z)

    def loss(params):
        w, b = params
        return jnp.mean(sample_loss(Xj @ w + b, yj))

    step = jax.jit(jax.value_and_grad(loss))

    def call(w, b):
        value, (dw, db) = step((w, b))
        return jax.block_until_ready(value), jax.block_until_ready(dw), db

    per_z = jax.jit(jax.vmap(jax.value_and_grad(sample_loss)))

    def per_sample(z, labels):
        value, delta = per_z(jnp.asarray(z), jnp.asarray(labels))
        return np.asarray(value), np.asarray(delta)

    return call, per_sample


def torch_candidate(X, y):
    import torch
    import torch.nn.functional as F

    Xt, yt = torch.from_numpy(np.atleast_2d(X)), torch.from_numpy(np.atleast_1d(y))

    def call(w, b):
        wt = torch.from_numpy(w).requires_grad_()
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(Xt @ wt + bt, yt)
        loss.backward()
        return loss.item(), wt.grad.numpy(), bt.grad.item()

    def per_sample(z, labels):
        zt = torch.from_numpy(np.array(z)).requires_grad_()
        loss = F.binary_cross_entropy_with_logits(zt, torch.from_numpy(np.array(labels)),
                                                  reduction="none")
        loss.sum().backward()
        return loss.detach().numpy(), zt.grad.numpy()

    return call, per_sample


def generated_candidates(module, prefix="derive"):
    def value_and_grad(X, y):
        def per_sample(z, labels):
            loss, _, delta = module.value_and_grad_ce(np.ones(1), 0.0, z[:, None], labels,
                                                      reduction="none")
            return loss, delta

        return (lambda w, b: module.value_and_grad_ce(w, b, X, y)), per_sample

    def grad(X, y):
        return (lambda w, b: (None, *module.grad_ce(w, b, X, y))), None

    return {f"{prefix} value_and_grad_ce": value_and_grad, f"{prefix} grad_ce": grad}


OPTIONAL = {"jax": jax_candidate, "torch": torch_candidate}


def candidates(module):
    found = {"numpy": numpy_baseline, "lambdify": lambdify_candidate}
    skipped = {}
    for name, make in OPTIONAL.items():
        try:
            __import__(name)
            found[name] = make
        except ImportError:
            skipped[name] = f"{name} is not installed"
    found.update(generated_candidates(module))
    fast = numba_target.load()
    if fast is None:
        skipped["numba"] = "numba is not installed (pip install numba)"
    else:
        found.update(generated_candidates(fast, "numba"))
    return found, skipped


# --- timing -----------------------------------------------------------------------------------


def time_size(m, n, makers, repeats, settle, seed=0):
    """Median seconds per call of each candidate: after ``settle`` seconds of calling it
    untimed in each round, and on the first call of each round (right after the previous
    candidate)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) if m > 1 else rng.normal(size=n)
    w, b = rng.normal(size=n) / math.sqrt(n), 0.1
    y = (rng.random(m) < 0.5).astype(np.float64) if m > 1 else 1.0
    calls = {"X @ w": lambda w_, b_: X @ w_}
    for name, make in makers.items():
        calls[name] = make(X, y)[0]
    if m == 1:
        calls["minimal numpy (one sample)"] = minimal_single(X, y)[0]
    reference = calls["numpy"](w, b)
    inner = {}
    for name, call in calls.items():  # warm-up (JIT compilation) and a sanity check
        result = call(w, b)
        if name != "X @ w":
            np.testing.assert_allclose(np.asarray(result[1], dtype=float),
                                       np.asarray(reference[1]), rtol=1e-6, atol=1e-9)
        started = time.perf_counter()
        call(w, b)
        inner[name] = max(1, math.ceil(MIN_MEASUREMENT / (time.perf_counter() - started)))
    settled = {name: [] for name in calls}
    first = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call(w, b)
            first[name].append(time.perf_counter() - started)
            while time.perf_counter() - started < settle:
                call(w, b)
            started = time.perf_counter()
            for _ in range(inner[name]):
                call(w, b)
            settled[name].append((time.perf_counter() - started) / inner[name])
    return ({name: statistics.median(values) for name, values in settled.items()},
            {name: statistics.median(values) for name, values in first.items()})


# --- accuracy ---------------------------------------------------------------------------------


def reference(z, label):
    """Loss and δ at z in at least 50 digits, in forms exact at any |z|."""
    import mpmath

    with mpmath.workdps(60 + int(min(abs(z), 2000) * 0.45)):
        z, label = mpmath.mpf(z), mpmath.mpf(label)
        loss = label * mpmath.log1p(mpmath.exp(-z)) + (1 - label) * mpmath.log1p(mpmath.exp(z))
        delta = (1 - label) / (1 + mpmath.exp(-z)) - label / (1 + mpmath.exp(z))
        return loss, delta


def relative_error(got, expected):
    import mpmath

    got = float(got)
    if not math.isfinite(got):
        return math.inf
    tiny = mpmath.mpf(float(np.finfo(np.float64).tiny))
    return float(abs(mpmath.mpf(got) - expected) / max(abs(expected), tiny))


def accuracy(makers):
    z = np.array(EXTREME_Z)
    table = {}
    for name, make in makers.items():
        per_sample = make(np.zeros((1, 1)), np.zeros(1))[1]
        if per_sample is None:
            continue
        worst = {"loss": 0.0, "delta": 0.0}
        for label in (0.0, 1.0):
            loss, delta = per_sample(z, np.full(z.size, label))
            for i, z_value in enumerate(z):
                expected_loss, expected_delta = reference(z_value, label)
                worst["loss"] = max(worst["loss"], relative_error(loss[i], expected_loss))
                worst["delta"] = max(worst["delta"], relative_error(delta[i], expected_delta))
        table[name] = worst
    return table


# --- report -----------------------------------------------------------------------------------


def machine():
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__}


def markdown(results, n, title):
    lines = [(f"{title}: median time as a multiple of one `X @ w` (n = {n}, float64); in "
              "brackets, the ratio to the two-product NumPy baseline."), ""]
    sizes = list(results)
    header = "| candidate | " + " | ".join(f"m = {m:,}" for m in sizes) + " |"
    lines += [header, "|---" * (len(sizes) + 1) + "|"]
    names = []
    for times in results.values():
        names += [name for name in times if name not in names]
    for name in names:
        cells = []
        for m in sizes:
            times = results[m]
            if name not in times:
                cells.append("—")
                continue
            floor, base = times["X @ w"], times["numpy"]
            cells.append(f"{times[name] / floor:.2f}× [{times[name] / base:.2f}]")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    floors = ", ".join(f"m = {m:,}: {results[m]['X @ w'] * 1e6:.1f} µs" for m in sizes)
    lines += ["", f"One `X @ w`: {floors}."]
    return "\n".join(lines)


def accuracy_markdown(table):
    lines = [("Largest relative error against 50-digit mpmath at z in {0, ±1e-9, ±1, ±18, ±37, "
              "±88, ±89, ±709, ±710, ±800, ±1e300}, y in {0, 1}:"), "",
             "| candidate | loss | δ = ∂L/∂z |", "|---|---|---|"]
    for name, worst in table.items():
        lines.append(f"| {name} | {worst['loss']:.2g} | {worst['delta']:.2g} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="numbers of samples m (default: %(default)s)")
    parser.add_argument("--features", type=int, default=100, help="n (default: 100)")
    parser.add_argument("--repeats", type=int, default=15,
                        help="timed rounds per size, at least 15 (default: 15)")
    parser.add_argument("--settle", type=float, default=SETTLE,
                        help="seconds each candidate runs untimed before its timed calls in "
                             "every round (default: %(default)s)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json",
                        help="where to write the results (default: bench/results.json)")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 15:
        parser.error("--repeats must be at least 15")
    if not 0 <= arguments.settle <= 10:
        parser.error("--settle must be between 0 and 10 seconds")
    module = load_generated()
    makers, skipped = candidates(module)
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    results, first_calls = {}, {}
    for m in arguments.sizes:
        print(f"timing m = {m:,} …", file=sys.stderr)
        results[m], first_calls[m] = time_size(m, arguments.features, makers,
                                               arguments.repeats, arguments.settle)
    table = accuracy(makers)
    compiled = {} if "numba" in skipped else numba_target.compile_times(
        max(arguments.sizes), arguments.features)
    report = "\n\n".join([
        markdown(results, arguments.features, f"Settled ({arguments.settle} s of calls first)"),
        markdown(first_calls, arguments.features,
                 "First call of each round, right after the previous candidate"),
        accuracy_markdown(table),
        *([(f"numba, first call of value_and_grad_ce in a fresh process (import included, "
           f"m = {max(arguments.sizes):,}): {compiled['cold']:.2f} s compiling (cache "
           f"emptied), {compiled['warm']:.2f} s with the cache warm.")] if compiled else [])])
    print(report)
    document = {"machine": machine(), "features": arguments.features,
                "repeats": arguments.repeats, "settle": arguments.settle, "skipped": skipped,
                "seconds": {str(m): times for m, times in results.items()},
                "first_call_seconds": {str(m): times for m, times in first_calls.items()},
                "accuracy": table, "numba_first_call_seconds": compiled}
    arguments.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {arguments.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
