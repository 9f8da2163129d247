"""The in-place block programs (derive/inplace.py) against the expressions they come from.

For every valid pair and every block form (value, δ, both; general and hard labels), the
program the module runs must give bit-for-bit the result of evaluating the printed
expressions as plain NumPy, in float64 and float32, and must leave its inputs alone.
"""

import ast

import numpy as np
import pytest

from derive.build import python_module, stem
from derive.codegen.context import HARD_ARGUMENT, module_context
from derive.engine.derivations import derive_all
from derive.sheet.figure import load_module
from derive.codegen.inplace import inplace_program
from derive.engine.model import Model
from derive.engine.registry import choose, valid_pairs

PAIRS = valid_pairs()


def _scope(module, arguments):
    """Names the block code may use: NumPy, the generated module's helpers, arguments."""
    helpers = {name: getattr(module, name) for name in ("_log1p_ratio",)
               if hasattr(module, name)}
    return {"np": np, **helpers, **arguments}


def _plain(form, scope, sign):
    """The printed expressions evaluated as they read, one new array per operation;
    δ (the last result) times ``sign`` when one is given."""
    scope = dict(scope)
    for name, code in form["array"]["assignments"]:
        scope[name] = eval(code, scope)
    results = [eval(code, scope) for code in form["array"]["results"]]
    if sign is not None:
        results[-1] = sign * results[-1]
    return results


def _run(form, scope):
    scope = dict(scope)
    exec("\n".join(form["block"]), scope)  # noqa: S102 -- the generated program under test
    names = [name.strip() for name in form["returns"].split(",")]
    return [scope[name] for name in names if name != "None"]


def _forms(model, derivations):
    context = module_context(derivations, model)
    for loss in context["losses"]:
        for kind in ("value", "delta", "both"):
            yield f"{loss['name']} {kind}", loss[kind], False
            if loss["hard"]:
                yield f"{loss['name']} hard {kind}", loss["hard"][kind], True


@pytest.fixture(scope="module", params=PAIRS, ids=lambda pair: "_".join(pair))
def pair(request):
    """A pair's block forms and its generated module (for the helpers), built once."""
    activation, loss = request.param
    model = Model(*choose(activation, [loss]))
    derivations = derive_all(model)
    module = load_module(python_module(derivations, model), f"inplace_{stem(model)}")
    return list(_forms(model, derivations)), module


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_block_programs_equal_the_printed_expressions_bit_for_bit(pair, dtype):
    forms, module = pair
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(0, 4, 500), [0.0, -0.0, 30.0, -30.0, 700.0, -700.0]])
    z = z.astype(dtype)
    y = rng.random(z.size).astype(dtype)  # labels in [0, 1]: valid for every pair
    labels = (rng.random(z.size) < 0.5).astype(dtype)
    checked = 0
    for name, form, hard in forms:
        sign = None
        if hard:
            s = (1 - 2 * labels).astype(dtype)
            arguments = {str(HARD_ARGUMENT): s * z, "s": s}
            sign = None if name.endswith("value") else s
        else:
            arguments = {"z": z, "y": y}
        before = {key: value.copy() for key, value in arguments.items()}
        with np.errstate(all="ignore"):
            expected = _plain(form, _scope(module, arguments), sign)
            got = _run(form, _scope(module, arguments))
        for key, value in arguments.items():
            assert np.array_equal(value, before[key]), f"{name}: the program wrote to {key}"
        assert len(got) == len(expected), name
        for got_part, expected_part in zip(got, expected):
            assert got_part.dtype == expected_part.dtype, name
            np.testing.assert_array_equal(got_part, expected_part, err_msg=name)
        checked += 1
    assert checked >= 3


def test_the_buffer_of_a_dead_operand_is_reused_and_live_ones_are_not():
    lines, names = inplace_program(
        [("t0", "np.exp(-np.abs(u))")],
        ["np.log1p(t0) + np.maximum(u, 0)", "s*(np.where(u >= 0, 1, t0)/(t0 + 1))"],
        ("u", "s"),
    )
    assert lines == [
        "t0 = np.abs(u)",
        "np.negative(t0, out=t0)",
        "np.exp(t0, out=t0)",
        "t1 = np.log1p(t0)",            # t0 is read again below: a new buffer
        "t1 += np.maximum(u, 0)",
        "t2 = np.where(u >= 0, 1, t0)",
        "t0 += 1",                      # t0's last read: its buffer takes t0 + 1
        "t2 /= t0",
        "t2 *= s",                      # s*(…): multiplication commutes exactly
    ]
    assert names == ["t1", "t2"]
    for line in lines:
        ast.parse(line)


def test_non_commutative_operations_keep_their_operand_order():
    lines, _ = inplace_program([("t0", "np.exp(u)")], ["1 - t0", "u/(u + 1)"], ("u",))
    assert "np.subtract(1, t0, out=t0)" in lines
    assert "np.divide(u, t1, out=t1)" in lines


def test_unsupported_code_is_refused_with_its_text():
    with pytest.raises(ValueError, match="cannot lower 'u if u else 0'"):
        inplace_program([], ["u if u else 0"], ("u",))
    with pytest.raises(ValueError, match="'v', which nothing defines"):
        inplace_program([], ["u + v"], ("u",))


def test_numpy_constants_and_any_ufunc_are_understood():
    lines, names = inplace_program([], ["np.arctan(u)/np.pi + 1/2"], ("u",))
    assert lines == ["t0 = np.arctan(u)", "t0 /= np.pi", "t0 += 0.5"]
    assert names == ["t0"]


def test_the_result_of_an_unknown_call_is_never_written_to():
    """np.real of a float array is the array itself: writing into it would change u."""
    lines, _ = inplace_program([], ["np.real(u) + 1"], ("u",))
    assert lines == ["t0 = np.real(u) + 1"]  # a new array for the sum, none in place
    u = np.arange(3.0)
    scope = {"np": np, "u": u}
    exec("\n".join(lines), scope)  # noqa: S102 -- the program under test
    np.testing.assert_array_equal(u, [0.0, 1.0, 2.0])
