"""The numba target in the bench: its module, and its compile times in fresh processes.

The note's numba module is rendered by derive and written to a folder of its own (in
the system's temporary folder, rewritten only when its text changes), so that numba's
cache (``cache=True``, files beside the module) survives between runs. ``compile_times``
measures, each in a new Python process, the import of the module and the first call of
``value_and_grad_ce`` with the cache emptied (cold: numba compiles) and again with the cache just written (warm: numba
loads the compiled kernels), import of the module included.
"""

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FOLDER = Path(tempfile.gettempdir()) / "derive-bench-numba"
NAME = "logistic_regression_numba"
FIRST_CALL = """
import time
import numpy as np
X, y = np.random.default_rng(0).normal(size=({m}, {n})), np.zeros({m})
started = time.perf_counter()
import {name} as module
module.value_and_grad_ce(np.zeros({n}), 0.0, X, y)
print(time.perf_counter() - started)
"""
"""The data are made before the clock starts; the import of the module (and of numba)
and the first call are timed."""


def write_module():
    """The path of the note's numba module, rendered now (None without numba)."""
    if importlib.util.find_spec("numba") is None:
        return None
    from derive.build import python_module
    from derive.engine.derivations import derive_all
    from derive.engine.model import default_model

    source = python_module(derive_all(default_model()), "numba")
    path = FOLDER / f"{NAME}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        FOLDER.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return path


def load():
    """The note's numba module, imported from its file; None without numba."""
    path = write_module()
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module


def compile_times(m=200_000, n=100):
    """{"cold": s, "warm": s}: the first call in a fresh process (import included), with
    numba's cache emptied and then with it filled."""
    path = write_module()
    times = {}
    for kind in ("cold", "warm"):
        if kind == "cold":
            shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)
        result = subprocess.run([sys.executable, "-c", FIRST_CALL.format(name=NAME, m=m, n=n)],
                                cwd=path.parent, capture_output=True, text=True, check=True)
        times[kind] = float(result.stdout.split()[-1])
    return times
