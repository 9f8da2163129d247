"""``derive check`` is bounded (issue 21): the numbers it builds, the time a step and a
whole input may take, and what it makes of any sequence of the grammar's tokens.

The budgets are those of ``derive.reading.budget``; a test that needs a whole input to
run out of time shortens them (``short_budgets``) rather than wait ten seconds.
"""

import gc
import io
import math
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.core.parameters import global_parameters

from derive.cli import main
from derive.engine import verify
from derive.engine.derivations import derive_all
from derive.engine.model import Model
from derive.engine.registry import ACTIVATIONS, LOSSES
from derive.reading import budget, vocabulary
from derive.reading.budget import Clock, OutOfTime, within
from derive.reading.reader import (
    MAX_CHARACTERS,
    MAX_EXPONENT,
    MAX_NUMBER_DIGITS,
    LatexInputError,
)
from derive.reading.report import (
    CHECKED,
    FALSE,
    PROVED,
    UNDECIDED,
    as_json,
    as_text,
    check_chains,
    read,
)

ROOT = Path(__file__).resolve().parent.parent
MODEL = Model(ACTIVATIONS["sigmoid"], (LOSSES["se"], LOSSES["ce"]))
SLACK = 1.0
"""How far past a budget a check may end: the guarantee the README states."""


def binomial(power):
    """(a + b)^n = the expansion written out in full, as a student might."""
    terms = " + ".join(f"{math.comb(power, k)} a^{{{power - k}}} b^{{{k}}}"
                       for k in range(power + 1))
    return f"(a + b)^{{{power}}} = {terms}"


def _check_cli(tmp_path, text, *options, encoding="utf-8"):
    source = tmp_path / "input.tex"
    source.write_text(text, encoding=encoding)
    started = time.perf_counter()
    status = main(["check", str(source), *options])
    return status, time.perf_counter() - started


SHORT_BUDGETS = {"FILE_SECONDS": 3.0, "STEP_SECONDS": 0.6, "NUMERIC_SECONDS": 0.4}


@pytest.fixture
def short_budgets(monkeypatch):
    """A whole input gets 3 s, a step 0.6 s, its numeric check 0.4 s."""
    for name, seconds in SHORT_BUDGETS.items():
        monkeypatch.setattr(budget, name, seconds)
    return budget


# --- defect 7: numbers are bounded before they are built ---------------------------------


@pytest.mark.parametrize(("written", "column", "message"), [
    ("(((10^{64})^{64})^{64})^{64} = 1", 12, "this power would be a number of about 4104 digits"),
    ("((10^{15} a)^{64})^{2} = a", 19, "this power would be a number of about 1921 digits"),
    ("(10^{15})^{64} (10^{15})^{64} = 1", 1, "this expression holds a number of about 1921 digits"),
])
def test_numbers_past_the_limit_are_refused_where_written_before_they_are_built(
        written, column, message, tmp_path, capsys):
    status, elapsed = _check_cli(tmp_path, written)
    error = capsys.readouterr().err
    assert status == 2 and elapsed < SLACK, (status, elapsed, error)
    assert f"line 1, column {column}: {message}; numbers are read up to " \
           f"{MAX_NUMBER_DIGITS} digits" in error


def test_the_largest_number_a_written_number_makes_is_still_read(tmp_path, capsys):
    """A 15-digit number to the 64th is 960 digits: read, checked and printed as JSON."""
    status, _ = _check_cli(tmp_path, "(999999999999999)^{64} = 999999999999999^{64}", "--json")
    assert status == 0 and '"status": "proved"' in capsys.readouterr().out


# --- defect 8: every step and every input has a time budget ------------------------------


def test_a_step_slow_to_prove_is_decided_numerically_within_the_step_budget(tmp_path, capsys):
    """(a+b)^20 against its expansion takes SymPy's cancel 12-24 s; the step is checked
    numerically once STEP_SECONDS have passed, and says so."""
    status, elapsed = _check_cli(tmp_path, binomial(20))
    output = capsys.readouterr().out
    assert status == 0 and "checked numerically at 32 points" in output
    assert f"the check took more than {budget.STEP_SECONDS:.1f} s; decided numerically" in output
    assert elapsed < budget.STEP_SECONDS + budget.NUMERIC_SECONDS + SLACK


def test_a_false_step_slow_to_prove_is_still_found_false(short_budgets, tmp_path, capsys):
    status, _ = _check_cli(tmp_path, binomial(20).replace("184756", "184757"))
    output = capsys.readouterr().out
    assert status == 1 and "FALSE" in output and "counterexample:" in output
    assert "the numeric check found it false" in output


def test_a_whole_input_stops_at_its_budget(short_budgets):
    """Every step too slow to prove: the first ones are checked numerically, then the
    input's time runs out and the rest are reported undecided in time, not checked."""
    lhs, rhs = binomial(20).split(" = ")
    started = time.perf_counter()
    results = check_chains(read(" = ".join([lhs, rhs] * 5), MODEL, "ce"), MODEL)
    elapsed = time.perf_counter() - started
    assert elapsed < short_budgets.FILE_SECONDS + SLACK, elapsed
    statuses = [result.status for result in results]
    assert statuses[0] == CHECKED and statuses[-1] == UNDECIDED, statuses
    assert results[-1].reason == ("undecided in time: not checked, the 3.0 s for the whole "
                                  "input were spent")


def test_the_command_line_ends_within_the_budget_in_a_fresh_process():
    """The whole command, interpreter start included, on a step that would take 12 s."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "derive", "check", "-"], input=binomial(20),
                            capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < budget.STEP_SECONDS + budget.NUMERIC_SECONDS + SLACK, elapsed


def test_the_projects_own_steps_are_unaffected(short_budgets, model):
    """The build verifies without a budget: after a check stopped mid-way in this
    process, every step of the note is verified afresh, all symbolic, as before."""
    check_chains(read(binomial(20), MODEL, "ce"), MODEL)
    verify._established.cache_clear()  # verify again, not recall
    book = derive_all(model)
    assert {step.method for derivation in book for step in derivation.steps} == {"symbolic"}
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- how a budget acts, and that it leaves nothing behind -------------------------------


def _spin(seconds=30.0):
    """Pure Python work for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_limit_returns_the_result_and_leaves_no_timer_behind():
    callbacks = list(gc.callbacks)
    assert within(1.0, lambda: 42) == 42
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert gc.callbacks == callbacks


def test_a_limit_stops_python_code_and_puts_state_back():
    precision, distribute = mpmath.mp.prec, global_parameters.distribute
    callbacks = list(gc.callbacks)

    def meddle():
        mpmath.mp.dps = 500
        global_parameters.distribute = not distribute
        _spin()

    started = time.monotonic()
    with pytest.raises(OutOfTime):
        within(0.2, meddle)
    assert time.monotonic() - started < 0.2 + SLACK
    assert (mpmath.mp.prec, global_parameters.distribute) == (precision, distribute)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert gc.callbacks == callbacks


def test_the_interrupt_waits_until_a_garbage_collector_callback_has_returned(monkeypatch):
    """Raised in a gc callback, OutOfTime would be printed and dropped; it comes once the
    callback has returned."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def slow_callback(phase, info):
        if phase == "stop":
            _spin(0.02)

    def collecting():
        end = time.monotonic() + 30  # bounded, so a limit that fails cannot hang the suite
        while time.monotonic() < end:
            _spin(0.005)
            gc.collect(0)

    gc.callbacks.append(slow_callback)
    try:
        started = time.monotonic()
        with pytest.raises(OutOfTime):
            within(0.2, collecting)
        assert time.monotonic() - started < 0.2 + SLACK
    finally:
        gc.callbacks.remove(slow_callback)
    assert not unraisable


def test_code_that_swallows_the_interrupt_is_interrupted_again():
    swallowed = []

    def stubborn():
        try:
            _spin()
        except BaseException:  # noqa: BLE001 - what careless code does
            swallowed.append(True)
        _spin()

    started = time.monotonic()
    with pytest.raises(OutOfTime):
        within(0.2, stubborn)
    assert swallowed and time.monotonic() - started < 0.2 + SLACK


def test_a_handler_and_timer_already_set_are_put_back():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        with pytest.raises(OutOfTime):
            within(0.2, _spin)
        delay, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < delay < 4.9
        assert not fired
        signal.setitimer(signal.ITIMER_REAL, 0.01)
        time.sleep(0.05)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_no_time_left_stops_before_starting():
    called = []
    with pytest.raises(OutOfTime):
        within(0.0, called.append, 1)
    assert not called
    assert Clock(0.5).limit(2.0) <= 0.5 and Clock(-1).left() == 0.0


def test_outside_the_main_thread_a_check_runs_to_its_end_without_a_limit():
    """No timer can stop another thread: the call runs unlimited and its result is the
    same; nothing about signals changes."""
    found = {}

    def work():
        found["value"] = within(0.01, lambda: (_spin(0.05), 7)[1])
        found["results"] = check_chains(read("a (1 - a) = a - a^2", MODEL, "ce"), MODEL)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert found["value"] == 7
    assert [result.status for result in found["results"]] == [PROVED]
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- defect 12: a byte-order mark, where an exponent is, how long an input is -----------


def test_a_byte_order_mark_is_ignored(tmp_path, capsys):
    status, _ = _check_cli(tmp_path, "a (1 - a) = a - a^2", encoding="utf-8-sig")
    assert status == 0, capsys.readouterr().err


def test_a_byte_order_mark_on_standard_input_is_ignored(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\ufeffa = a"))
    assert main(["check", "-"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize(("written", "column"), [
    ("a = a^{65} + b", 8),
    ("a = a^65 + b", 7),
    ("a = 2^{-100} + b", 8),
])
def test_an_exponent_too_large_is_pointed_at(written, column, tmp_path, capsys):
    status, _ = _check_cli(tmp_path, written)
    assert status == 2
    assert f"line 1, column {column}: exponents larger than {MAX_EXPONENT} are not read" \
        in capsys.readouterr().err


def test_an_input_over_the_limit_is_said_to_be_over_it_not_given_a_made_up_size(tmp_path,
                                                                                 capsys):
    status, _ = _check_cli(tmp_path, "a = a " * 175_000)
    error = capsys.readouterr().err
    assert status == 2
    assert f"the input has more than {MAX_CHARACTERS} characters" in error
    assert str(MAX_CHARACTERS + 1) not in error
    with pytest.raises(LatexInputError, match=f"more than {MAX_CHARACTERS} characters"):
        read("a = a " * 175_000, MODEL, "ce")


# --- any sequence of the grammar's tokens ------------------------------------------------

PUNCTUATION = ["+", "-", "*", "/", "^", "_", "'", "=", "(", ")", "[", "]", "{", "}"]
NUMBERS = ["0", "1", "2", "10", "0.5", ".5", "64", "65", "999999999999999"]
LETTERS = ["a", "b", "y", "z", "x", "w", "e", "L", "j", "k", "n", "d", "q"]
LAYOUT = ["\n", r"\\", "&", "&&", r"\text{so}", "%", r"\label{x}"]
TOKENS = sorted({*vocabulary.WORDS, *PUNCTUATION, *NUMBERS, *LETTERS, *LAYOUT})
"""Every word of the vocabulary, the grammar's punctuation, numbers near the limits,
letters read and not, and the layout an align block may hold."""

FUNCTIONS = sorted(spelling for spelling, row in vocabulary.WORDS.items()
                   if row.role is vocabulary.FUNCTION)
LEAVES = [*NUMBERS, "a", "a'", "b", "y", "z", "x_j", "w_j", "e", "L", "L_{se}", "L_{ce}",
          r"\mathcal{L}_{\text{ce}}", r"\sum_{k \neq j} w_k x_k", r"\sum_{i=1}^{n} w_i x_i",
          r"\sigma'(z)", r"\frac{dL}{da}", r"\frac{\partial L}{\partial w_j}"]
OPERATORS = ["+", "-", r"\cdot", r"\times", "*", "/", ""]


def _larger(inner):
    """One rule of the grammar applied to smaller expressions."""
    pair = st.tuples(inner, inner)
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join),
        inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: rf"\left[ {e} \right]"),
        pair.map(lambda p: f"({p[0]})^{{{p[1]}}}"),
        st.tuples(inner, st.sampled_from(NUMBERS)).map(lambda p: f"({p[0]})^{p[1]}"),
        inner.map(lambda e: f"e^{{{e}}}"),
        st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda p: f"{p[0]}({p[1]})"),
        pair.map(lambda p: rf"\frac{{{p[0]}}}{{{p[1]}}}"),
        inner.map(lambda e: rf"\frac{{d}}{{dz}} ({e})"),
        st.tuples(inner, st.sampled_from(["a", "z", "b", "w_j", "x_j"])).map(
            lambda p: rf"\frac{{\partial ({p[0]})}}{{\partial {p[1]}}}"),
    )


GRAMMATICAL = st.recursive(st.sampled_from(LEAVES), _larger, max_leaves=8)


@st.composite
def written(draw):
    """A chain of grammatical expressions, laid out plainly or as an align block, with a
    few tokens of any kind put in at random places (then mostly not grammatical)."""
    words = " = ".join(draw(st.lists(GRAMMATICAL, min_size=2, max_size=4))).split(" ")
    for _ in range(draw(st.integers(0, 3) | st.just(0))):
        words.insert(draw(st.integers(0, len(words))), draw(st.sampled_from(TOKENS)))
    text = " ".join(words)
    if draw(st.booleans()):
        text = "\\begin{align*}\n" + text.replace(" = ", " \\\\\n  &= ", ) + "\n\\end{align*}\n"
    return text


@settings(max_examples=150, derandomize=True, database=None,
          deadline=timedelta(seconds=SHORT_BUDGETS["FILE_SECONDS"] + SLACK),
          suppress_health_check=[HealthCheck.too_slow])
@given(written())
def test_any_sequence_of_tokens_gets_a_report_or_an_input_error_in_time(source):
    """Whatever is written: a report (printed as text and as JSON) or a LatexInputError,
    never another exception, and never past the input's budget plus SLACK (with the
    budgets shortened to SHORT_BUDGETS, so that a slow example costs little)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, seconds in SHORT_BUDGETS.items():
            patch.setattr(budget, name, seconds)
        started = time.monotonic()
        try:
            results = check_chains(read(source, MODEL, "ce"), MODEL)
        except LatexInputError as error:
            assert error.line >= 1 and error.column >= 1
        else:
            assert results and all(result.status in (PROVED, CHECKED, FALSE, UNDECIDED)
                                   for result in results)
            assert as_text(results) and as_json(results, "fuzz")
        assert time.monotonic() - started < budget.FILE_SECONDS + SLACK
