"""Time budgets for ``derive check``: what a person writes is judged within a bounded time.

The budgets (seconds, wall-clock):

- ``FILE_SECONDS`` for one input altogether, from the moment reading begins: reading
  every block, then checking every step. A step that finds the input's time spent is
  not started; it is reported undecided in time.
- ``STEP_SECONDS`` for the whole check of one step (the proof search and its numeric
  evidence, as ``derive.engine.steps.Step`` makes it).
- ``NUMERIC_SECONDS`` for the numeric check that decides a step whose check ran past
  ``STEP_SECONDS``: the step is then reported "checked numerically" (or false, with the
  counterexample), and "undecided in time" if that too runs out.

Each limit is cut to what is left of the input's (``Clock.limit``), so no input keeps
``derive check`` busy much past ``FILE_SECONDS``: a limit acts at the first Python
bytecode after it expires, after at most one C-level operation, which the reader keeps
small (``derive.reading.numbers``). Reading has a clock of its own as well, within the
input's (``derive.reading.tokens.TIME_LIMIT``).

How a limit acts (``within``): an interval timer (``signal.setitimer``) raises
``OutOfTime`` in the main thread, and again every ``REFIRE_SECONDS`` until the limited
call has returned, so code that swallows the first one is stopped by the next.
``OutOfTime`` is a ``BaseException``: SymPy's and the engine's ``except Exception``
clauses do not catch it. It is not raised inside a garbage-collector callback or a
finalizer (``__del__``), which would print and drop it ("Exception ignored"): the timer
fires again ``RETRY_SECONDS`` later instead. Afterwards the previous SIGALRM handler and
interval timer are put back (the timer with the time it had left, less the time spent
here), and so are mpmath's working precision and SymPy's global evaluation flags, which
an interrupted computation could otherwise leave changed. Where a limit cannot act
(outside the main thread, or on a platform without ``setitimer``) the call runs to its
end: the result is the same, only the bound is lost. The build never uses these
budgets: its own derivations are verified in full, the same way every time.
"""

import gc
import signal
import threading
import time

import mpmath
from sympy.core.parameters import global_parameters

FILE_SECONDS = 10.0
STEP_SECONDS = 2.0
NUMERIC_SECONDS = 1.0
REFIRE_SECONDS = 0.05
RETRY_SECONDS = 0.001

_SYMPY_FLAGS = ("evaluate", "distribute", "exp_is_pow")


class OutOfTime(BaseException):
    """A limited computation ran past its ``seconds``."""

    def __init__(self, seconds):
        super().__init__(f"stopped after {seconds:.3g} s")
        self.seconds = seconds


class Clock:
    """The time left to one input: ``seconds`` (default ``FILE_SECONDS``) from now."""

    def __init__(self, seconds=None):
        self.seconds = FILE_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds

    def left(self):
        """Seconds left, never negative."""
        return max(0.0, self.deadline - time.monotonic())

    def limit(self, seconds):
        """``seconds``, cut to what is left."""
        return min(seconds, self.left())


def can_interrupt():
    """Whether ``within`` can stop a computation here (main thread, interval timers)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def within(seconds, function, *arguments, **keywords):
    """``function(*arguments, **keywords)``, stopped with ``OutOfTime`` after ``seconds``.

    Raises ``OutOfTime`` at once when ``seconds`` is not positive. Runs without a limit
    where ``can_interrupt()`` is false.
    """
    if seconds <= 0:
        raise OutOfTime(0.0)
    if not can_interrupt():
        return function(*arguments, **keywords)
    live = [False]

    def interrupt(signum, frame):
        if not live[0]:
            return
        if _swallows(frame):
            signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS, REFIRE_SECONDS)
            return
        raise OutOfTime(seconds)

    saved = _State()
    try:
        signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE_SECONDS)
        live[0] = True
        return function(*arguments, **keywords)
    finally:
        live[0] = False  # first: from here on the handler raises nothing
        saved.restore()


class _State:
    """What a limited computation may change and ``within`` puts back: the SIGALRM
    handler and interval timer in force before it (the timer is stopped meanwhile),
    mpmath's precision and SymPy's global flags."""

    def __init__(self):
        self.started = time.monotonic()
        self.timer = signal.setitimer(signal.ITIMER_REAL, 0)  # (delay, interval), now stopped
        self.handler = signal.getsignal(signal.SIGALRM)
        self.precision = mpmath.mp.prec
        self.flags = {name: getattr(global_parameters, name) for name in _SYMPY_FLAGS}

    def restore(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        _settle()  # a signal already on its way meets the silent handler, not the default
        signal.signal(signal.SIGALRM, signal.SIG_DFL if self.handler is None else self.handler)
        delay, interval = self.timer
        if delay > 0:
            spent = time.monotonic() - self.started
            signal.setitimer(signal.ITIMER_REAL, max(delay - spent, 1e-6), interval)
        mpmath.mp.prec = self.precision
        for name, value in self.flags.items():
            setattr(global_parameters, name, value)


def _swallows(frame):
    """Whether ``frame`` runs inside a garbage-collector callback or a finalizer, where an
    exception raised is printed and dropped."""
    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code.co_name == "__del__" or frame.f_code in callbacks:
            return True
        frame = frame.f_back
    return False


def _settle():
    """A Python-level call: pending signals are handled on entry to it."""
