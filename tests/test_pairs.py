"""Every valid (activation, loss) pair of the registry, with one parametrized suite.

For each pair: the derivations verify; the generated module matches central finite
differences on random data and a 60-digit mpmath reference, computed here from the
registry's definitions (not from the generated code), at extreme pre-activations, in
float64 and float32 without warnings; the solution sheet compiles. The canonical-link
table is checked against the facts the issue states and against an independent
symbolic computation. A test registers an activation of its own (an arctan squashing
function) to show that one registry entry is all a new neuron needs.
"""

import math
import re
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
from sympy import Interval, Lambda, Rational, atan, diff, lambdify, pi, simplify

from derive.build import file_names, load_module, python_module, sheet_source, stem
from derive.cli import main
from derive.config import SheetInfo
from derive.engine import labels, registry
from derive.engine.choice import choose
from derive.engine.derivations import derive_all
from derive.engine.links import canonical_links
from derive.engine.model import Model
from derive.engine.registry import Activation, label_range
from derive.engine.symbols import PARAMETERS, a, b, rest, w_j, x_j, y, z
from derive.sheet.pdf import compile_pdf
from support import PAIRS, Reference, labels_for

EXTREME_Z = (-800.0, -100.0, -40.0, -5.0, -0.5, 0.0, 0.5, 5.0, 40.0, 100.0, 800.0)
EXTREME_Z_FLOAT32 = (-100.0, -40.0, -5.0, -0.5, 0.0, 0.5, 5.0, 40.0, 100.0)

def test_every_gradient_ends_where_plain_differentiation_does(pair):
    """Every step was verified when it was built; independently of the engine's model,
    each pair's gradients must also end at SymPy's own derivative of the composed loss
    L(act(w_j x_j + r + b), y), the final expression unfolded here by substitution."""
    model, book, _ = pair
    act, loss = model.activation, model.losses[0]
    opened = w_j * x_j + rest + b
    composed = loss.expression(act.expression(opened), y)
    for parameter in PARAMETERS:
        final = book[labels.gradient(loss, parameter)].rhs
        unfolded = (final.subs(a, act(z)).replace(act.function, act.expression)
                    .subs(z, opened))
        assert simplify(unfolded - diff(composed, parameter)) == 0, (parameter, final)


def test_code_matches_finite_differences(pair):
    model, _, module = pair
    name = model.losses[0].name
    rng = np.random.default_rng(7)
    m, n = 40, 3
    X, w, b = rng.normal(size=(m, n)), rng.normal(size=n) * 0.5, 0.2
    labels = labels_for(model)
    y_values = rng.choice(labels, size=m)
    loss = getattr(module, f"loss_{name}")
    _, dw, db = getattr(module, f"value_and_grad_{name}")(w, b, X, y_values)
    step = 1e-6
    numeric_dw = [(loss(w + step * e, b, X, y_values) - loss(w - step * e, b, X, y_values))
                  / (2 * step) for e in np.eye(n)]
    numeric_db = (loss(w, b + step, X, y_values) - loss(w, b - step, X, y_values)) / (2 * step)
    np.testing.assert_allclose(dw, numeric_dw, rtol=1e-6, atol=1e-8)
    assert db == pytest.approx(numeric_db, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_code_matches_mpmath_at_extreme_inputs(pair, dtype):
    """Per-sample loss and δ against 60+ digits, to 1e-13 relative in float64 and 2e-6
    in float32 (below the smallest normal number the error counts as absolute); where
    the exact value is beyond the float range the module must raise ValueError rather
    than return inf or nan."""
    model, _, module = pair
    act_name, name = model.activation.name, model.losses[0].name
    reference = Reference.of(model)
    value_and_grad = getattr(module, f"value_and_grad_{name}")
    info = np.finfo(dtype)
    tolerance = 1e-13 if dtype == np.float64 else 2e-6
    largest = mpmath.mpf(float(info.max))
    for label in labels_for(model):
        for z_value in EXTREME_Z if dtype == np.float64 else EXTREME_Z_FLOAT32:
            exact = reference(z_value, float(dtype(label)))  # the label the module sees
            inputs = (np.zeros(1, dtype), dtype(z_value), np.zeros((1, 1), dtype),
                      np.array([label], dtype))
            if not all(abs(part) <= largest for part in exact):
                with pytest.raises(ValueError, match="not finite"):
                    value_and_grad(*inputs, reduction="none")
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                loss, _, delta = value_and_grad(*inputs, reduction="none")
            assert loss.dtype == delta.dtype == dtype
            for got, want in ((loss[0], exact[0]), (delta[0], exact[1])):
                error = abs(mpmath.mpf(float(got)) - want)
                scale = max(abs(want), mpmath.mpf(float(info.tiny)))
                assert error <= tolerance * scale, (act_name, name, z_value, label, got, want)


def test_float32_stays_float32_and_quiet(pair):
    model, _, module = pair
    name = model.losses[0].name
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    w = (rng.normal(size=4) * 3).astype(np.float32)
    y_values = np.asarray(rng.choice(labels_for(model), size=20), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dw, db = getattr(module, f"value_and_grad_{name}")(w, np.float32(0.1), X, y_values)
    assert loss.dtype == dw.dtype == db.dtype == np.float32
    assert np.isfinite(loss) and np.all(np.isfinite(dw)) and np.isfinite(db)


def test_labels_outside_the_accepted_interval_are_refused(pair):
    model, _, module = pair
    labels = label_range(model.activation, model.losses[0])
    outside = [float(labels.sup) + 1] if labels.sup.is_finite else []
    outside += [float(labels.inf) - 1] if labels.inf.is_finite else []
    outside += [math.nan, math.inf] if not outside else [math.nan]
    grad = getattr(module, f"grad_{model.losses[0].name}")
    for label in outside:
        with pytest.raises(ValueError, match="labels must lie in"):
            grad(np.zeros(2), 0.0, np.zeros((3, 2)), np.array([label] * 3))


@pytest.mark.parametrize("variant", ["solutions", "problems"])
def test_sheet_compiles(pair, variant, latex_engine, tmp_path):
    model, book, _ = pair
    pdf = tmp_path / "sheet.pdf"
    run = compile_pdf(sheet_source(book, SheetInfo(), variant), pdf)
    assert "Output written on" in run.log
    assert "Overfull \\hbox" not in run.log
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    heading = model.activation.heading
    assert f"Gradients of {heading[0].lower()}{heading[1:]}" in re.sub(r"\s+", " ", text)


# --- the canonical-link table -------------------------------------------------------


@pytest.fixture(scope="module")
def links():
    return {(link.activation, link.loss): link for link in canonical_links()}


def test_the_table_covers_every_valid_pair(links):
    assert sorted(links) == sorted(PAIRS)


def test_the_canonical_pairs_are_the_textbook_ones(links):
    """The issue's facts: σ + ce, identity + se and exp + poisson collapse to a − y;
    σ + se does not."""
    assert links["sigmoid", "ce"].canonical
    assert links["identity", "se"].canonical
    assert links["exp", "poisson"].canonical
    assert not links["sigmoid", "se"].canonical
    assert links["sigmoid", "se"].counterexample["point"]


def test_each_verdict_agrees_with_plain_differentiation(links):
    """Independently of the engine's rules: ∂L/∂z by SymPy's diff, minus (a − y)."""
    for (act_name, loss_name), link in links.items():
        act, (loss,) = choose(act_name, [loss_name])
        output = act.expression(z)
        difference = simplify(diff(loss.expression(output, y), z) - (output - y))
        assert (difference == 0) == link.canonical, (act_name, loss_name, difference)


# --- the command line -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["verify", "build", "sheet", "code"])
def test_invalid_pair_exits_2_naming_the_valid_losses(command, tmp_path, capsys):
    assert main([command, "--activation", "tanh", "--loss", "ce"]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"derive {command}: the binary cross-entropy (ce)")
    assert "valid losses for tanh: se" in message
    assert "needs a in (0, 1)" in message


@pytest.mark.parametrize("arguments", [["--activation", "relu"], ["--loss", "hinge"],
                                       ["--loss", "se,se"]])
def test_unknown_choices_exit_2(arguments, capsys):
    assert main(["code", "-o", "-", *arguments]) == 2
    assert "derive code:" in capsys.readouterr().err


def test_build_names_files_after_the_choice(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--activation", "tanh", "--loss", "se", "--out", str(out),
                 "--no-pdf"]) == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "tanh_se.py", "tanh_se.tex", "tanh_se_derivations.json", "tanh_se_problems.tex"]
    assert main(["build", "--activation", "tanh", "--out", str(out), "--check"]) == 0
    capsys.readouterr()


def test_list_shows_every_valid_pair(capsys):
    assert main(["list"]) == 0
    shown = capsys.readouterr().out
    for act_name, loss_name in PAIRS:
        assert f"{loss_name} ({act_name}_{loss_name})" in shown


# --- one registry entry is enough ------------------------------------------------------


@pytest.fixture
def arctan_registered(monkeypatch):
    """A squashing function of our own, a = 1/2 + atan(z)/π, registered for this test."""
    entry = Activation(
        name="arctan",
        title="arctangent squashing function",
        heading="An arctangent neuron",
        function=registry.Function("atansq", real=True),
        symbol="s",
        latex=r"\operatorname{s}",
        definition=Lambda(z, Rational(1, 2) + atan(z) / pi),
        output_range=Interval.open(0, 1),
        classes=(0, 1),
    )
    monkeypatch.setitem(registry.ACTIVATIONS, "arctan", entry)
    return entry


def test_a_new_activation_needs_only_its_registry_entry(arctan_registered, tmp_path,
                                                        capsys):
    assert main(["verify", "--activation", "arctan", "--loss", "ce"]) == 0
    assert "steps verified" in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["build", "--activation", "arctan", "--loss", "ce", "--out", str(out),
                 "--no-pdf"]) == 0
    names = file_names(Model(*choose("arctan", ["ce"])))
    module = load_module((out / names["code"]).read_text(), "generated_arctan")
    assert "arctan" in module.__all__ and "grad_ce" in module.__all__
    rng = np.random.default_rng(11)
    X, w, y_values = rng.normal(size=(30, 2)), np.array([0.7, -0.4]), rng.uniform(0, 1, 30)
    _, dw, _ = module.value_and_grad_ce(w, 0.1, X, y_values)
    step = 1e-6
    numeric = [(module.loss_ce(w + step * e, 0.1, X, y_values)
                - module.loss_ce(w - step * e, 0.1, X, y_values)) / (2 * step)
               for e in np.eye(2)]
    np.testing.assert_allclose(dw, numeric, rtol=1e-6)
    sheet = (out / names["solutions"]).read_text()
    assert r"\operatorname{s}" in sheet and "arctan" in sheet


def test_a_new_activation_sheet_compiles(arctan_registered, latex_engine, tmp_path):
    model = Model(*choose("arctan", ["se"]))
    run = compile_pdf(sheet_source(derive_all(model), SheetInfo(), "solutions"),
                      tmp_path / "arctan.pdf")
    assert "Output written on" in run.log


def test_module_passes_ruff(pair, tmp_path):
    model, book, _ = pair
    path = tmp_path / f"{stem(model)}.py"
    path.write_text(python_module(book))
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prediction_follows_the_activation(pair):
    """Classifiers return their two class labels split at z = 0 (the derived prediction
    rule); regression neurons return a = act(z) itself."""
    model, _, module = pair
    act = model.activation
    rng = np.random.default_rng(5)
    X, w, b = rng.normal(size=(25, 3)), rng.normal(size=3), -0.2
    z_values = X @ w + b
    predicted = module.predict(w, b, X)
    if act.classes:
        low, high = act.classes
        np.testing.assert_array_equal(predicted, np.where(z_values >= 0, high, low))
        output = getattr(module, "predict_proba" if act.classes == (0, 1) else "forward")
    else:
        output = module.predict
    expected = [float(act.expression(value)) for value in z_values]
    np.testing.assert_allclose(output(w, b, X), expected, rtol=1e-14)
    np.testing.assert_allclose(getattr(module, act.name)(z_values), expected, rtol=1e-14)
    slope = lambdify(z, diff(act.expression(z), z), modules="mpmath")
    with mpmath.workdps(50):
        exact = [float(slope(mpmath.mpf(value))) for value in z_values]
    np.testing.assert_allclose(getattr(module, f"{act.name}_prime")(z_values), exact,
                               rtol=1e-14)


def test_a_single_sample_agrees_with_a_batch_of_one(pair):
    model, _, module = pair
    value_and_grad = getattr(module, f"value_and_grad_{model.losses[0].name}")
    rng = np.random.default_rng(9)
    for label in labels_for(model):
        x, w = rng.normal(size=4), rng.normal(size=4)
        single = value_and_grad(w, 0.3, x, label)
        batch = value_and_grad(w, 0.3, x[None, :], np.array([label]), reduction="none")
        assert single[0] == pytest.approx(batch[0][0], rel=1e-15, abs=1e-300)
        np.testing.assert_allclose(single[1], batch[1][0], rtol=1e-15)
        assert single[2] == pytest.approx(batch[2][0], rel=1e-15, abs=1e-300)


def _outcome(function, *arguments):
    """The result of ``function``, or the ValueError it raised; warnings are errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return function(*arguments)
        except ValueError as error:
            return error


@pytest.mark.parametrize("spread", [10.0, 100.0])
def test_worker_threads_agree_with_the_calling_thread(pair, spread, monkeypatch):
    """Blocks of 2 rows (31 blocks in 16 stripes of one or two): results computed by worker
    threads are identical for 2 and 3 workers and equal the calling thread's to rounding
    (BLAS and NumPy's loops round the products differently). With z spread to ±700 the
    workers must honour the caller's floating-point settings: the same ValueError, or
    the same finite result, and no warning either way."""
    model, _, module = pair
    name = model.losses[0].name
    rng = np.random.default_rng(11)
    m, n = 61, 3
    X = rng.normal(size=(m, n))
    X[::7, 0] = 7.0  # rows with z near ±7·spread: ±70 or ±700
    X[3::7, 0] = -7.0
    w, b = np.array([spread, 0.3, -0.2]), 0.1
    y_values = rng.choice(labels_for(model), size=m)
    monkeypatch.setattr(module, "BLOCK_BYTES", 2 * n * 8)
    for kind in ("loss", "grad", "value_and_grad"):
        function = getattr(module, f"{kind}_{name}")
        outcomes = {}
        for threads in (1, 2, 3):
            monkeypatch.setattr(module, "THREADS", threads)
            outcomes[threads] = _outcome(function, w, b, X, y_values)
        if isinstance(outcomes[1], ValueError):
            assert all(isinstance(outcome, ValueError) and str(outcome) == str(outcomes[1])
                       for outcome in outcomes.values()), outcomes
            continue
        single = _parts(outcomes[1])
        for threads in (2, 3):
            assert not isinstance(outcomes[threads], ValueError), outcomes[threads]
            for got, same, near in zip(_parts(outcomes[threads]), _parts(outcomes[2]), single,
                                       strict=True):
                np.testing.assert_array_equal(got, same)
                np.testing.assert_allclose(got, near, rtol=1e-12, atol=1e-300)


def _parts(result):
    return result if isinstance(result, tuple) else (result,)
