"""The generated functions on Dask arrays (derive/codegen/runtime_dask.py): the same
numbers as the in-memory call on the same data, whatever the chunking; deterministic for
a fixed chunking; errors with the row numbers of the whole array; on a LocalCluster of
two worker processes; and the README's example of L-BFGS over data on disk.

The reference of every Dask result is the module's own call on the NumPy arrays (a
different path: blocks and stripes of the whole X, not chunks and a tree), and for the
data on disk, the NumPy module's sums over the file's rows read piece by piece.
"""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import GENERATED, PAIRS, ROOT, built_pair, labels_for

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

M, N = 1000, 4
CHUNKINGS = {"divides m": 100, "does not divide m": 137, "one chunk": M}
KINDS = ("loss", "grad", "value_and_grad")


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def assert_same_numbers(got, expected, rtol=1e-12):
    """Each part of ``got`` (NumPy, not Dask) equals the part of ``expected`` to ``rtol``
    relative to the part's largest entry, in the same type and dtype."""
    for part, reference in zip(as_tuple(got), as_tuple(expected), strict=True):
        assert type(part) is type(reference) and part.dtype == reference.dtype
        if reference.dtype.kind != "f":  # predicted classes
            assert np.array_equal(part, reference)
            continue
        scale = max(float(np.max(np.abs(reference))), np.finfo(reference.dtype).tiny)
        assert np.max(np.abs(part - reference)) <= rtol * scale, (part, reference)


def data(pair, hard=False, dtype=np.float64, seed=0):
    """(w, b, X, y) of a pair with soft labels from the whole interval (or only its two
    ends, where they are finite, when ``hard``), z of order 1."""
    model, _, _ = built_pair(*pair)
    rng = np.random.default_rng(seed)
    labels = labels_for(model)
    labels = labels[:1] + labels[-1:] if hard else labels
    X = rng.normal(size=(M, N)).astype(dtype)
    return (rng.normal(size=N).astype(dtype) / 2, 0.25, X, rng.choice(labels, M))


def functions(pair):
    module = built_pair(*pair)[2]
    return [getattr(module, f"{kind}_{pair[1]}") for kind in KINDS]


# --- the same numbers -------------------------------------------------------------------


@pytest.mark.parametrize("rows", CHUNKINGS.values(), ids=CHUNKINGS)
@pytest.mark.parametrize("pair", PAIRS, ids="_".join)
def test_dask_gives_the_numbers_of_the_numpy_call(pair, rows):
    w, b, X, y = data(pair)
    Xd, yd = da.from_array(X, chunks=(rows, N)), da.from_array(y, chunks=rows)
    for function in functions(pair):
        for reduction in ("mean", "sum"):
            for l2 in (0.0, 0.3):
                expected = function(w, b, X, y, reduction, l2=l2)
                assert_same_numbers(function(w, b, Xd, yd, reduction, l2=l2), expected)
                assert_same_numbers(function(w, b, Xd, y, reduction, l2=l2), expected)
        lazy = as_tuple(function(w, b, Xd, yd, "none", l2=0.5))  # never penalised
        assert all(isinstance(part, da.Array) for part in lazy)
        assert_same_numbers(dask.compute(*lazy), function(w, b, X, y, "none"))
    module = built_pair(*pair)[2]
    for name in ("predict", "predict_proba", "forward"):
        if hasattr(module, name):
            lazy = getattr(module, name)(w, b, Xd)
            assert isinstance(lazy, da.Array) and lazy.chunks == (Xd.chunks[0],)
            expected = getattr(module, name)(w, b, X)
            assert lazy.dtype == expected.dtype
            assert_same_numbers(lazy.compute(), expected)


@pytest.mark.parametrize("pair", [pair for pair in PAIRS if pair[1] != "poisson"],
                         ids="_".join)
def test_hard_labels_and_float32_give_the_numbers_of_the_numpy_call(pair):
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        w, b, X, y = data(pair, hard=True, dtype=dtype, seed=1)
        Xd = da.from_array(X, chunks=(137, N))
        for function in functions(pair):
            assert_same_numbers(function(w, b, Xd, y, l2=0.1), function(w, b, X, y, l2=0.1),
                                rtol)


@pytest.mark.parametrize("pair", PAIRS, ids="_".join)
def test_a_fixed_chunking_gives_the_same_bits_on_every_scheduler(pair):
    w, b, X, y = data(pair, seed=2)
    Xd = da.from_array(X, chunks=(97, N))
    function = functions(pair)[2]
    first = function(w, b, Xd, y, "sum")
    for scheduler in ("threads", "synchronous", "threads"):
        with dask.config.set(scheduler=scheduler):
            again = function(w, b, Xd, y, "sum")
        for part, previous in zip(again, first, strict=True):
            assert np.array_equal(part, previous)


def test_x_is_read_once_and_its_chunks_are_not_gathered(monkeypatch):
    """value_and_grad reads each chunk once; the client receives one row per chunk."""
    module = built_pair("sigmoid", "ce")[2]
    w, b, X, y = data(("sigmoid", "ce"))
    reads = []

    def read(block):
        reads.append(len(block))
        return block

    Xd = da.from_array(X, chunks=(100, N)).map_blocks(read, dtype=X.dtype)
    module.value_and_grad_ce(w, b, Xd, y)
    assert sorted(length for length in reads if length) == [100] * 10  # 0: Dask's probe


def test_chunks_across_columns_y_of_other_chunks_keywords_and_a_dask_w():
    module = built_pair("sigmoid", "ce")[2]
    w, b, X, y = data(("sigmoid", "ce"))
    Xd = da.from_array(X, chunks=(300, 2))
    yd = da.from_array(y, chunks=250)
    assert_same_numbers(module.grad_ce(w=da.from_array(w), b=b, X=Xd, y=yd, reduction="sum"),
                        module.grad_ce(w, b, X, y, "sum"))
    one = da.from_array(X[3])  # a single sample, computed like one in memory
    assert_same_numbers(module.loss_ce(w, b, one, y[3]), module.loss_ce(w, b, X[3], y[3]))


def test_the_neuron_takes_a_dask_array_entry_by_entry():
    module = built_pair("sigmoid", "ce")[2]
    z = np.linspace(-40, 40, 101).reshape(1, -1).repeat(3, axis=0)
    lazy = module.sigmoid(da.from_array(z, chunks=(2, 30)))
    assert isinstance(lazy, da.Array)
    assert_same_numbers(lazy.compute(), module.sigmoid(z))
    z[2, 95] = np.nan
    with pytest.raises(ValueError, match=re.escape("z has a non-finite value at index (2, 95)")):
        module.sigmoid_prime(da.from_array(z, chunks=(2, 30))).compute()


# --- validation, chunk by chunk ------------------------------------------------------------


def spoiled(w, X, y, how, row):
    """(w, X, y) with ``row`` spoiled: a NaN in X, a label outside every interval, or
    finite values whose z overflows (Σ|w| = 2, so that z = 2·(the largest float) + b)."""
    w, X, y = 2 * w / np.abs(w).sum(), X.copy(), y.copy()
    if how == "nan in X":
        X[row, 1] = np.nan
    elif how == "label outside":
        y[row] = np.nan
    elif how == "z overflows":
        X[row] = np.sign(w) * np.finfo(np.float64).max
    return w, X, y


@pytest.mark.parametrize("how", ["nan in X", "label outside", "z overflows"])
@pytest.mark.parametrize("pair", PAIRS, ids="_".join)
def test_a_bad_chunk_raises_the_message_of_the_numpy_call(pair, how):
    """The message names the row of the whole array, word for word as in memory."""
    w, b, X, y = data(pair, seed=3)
    w, X, y = spoiled(w, X, y, how, 857)
    Xd = da.from_array(X, chunks=(137, N))
    module = built_pair(*pair)[2]
    calls = [(function, reduction) for function in functions(pair)
             for reduction in ("mean", "none")]
    for function, reduction in calls:
        with pytest.raises(ValueError) as expected:
            function(w, b, X, y, reduction)
        with pytest.raises(ValueError, match=f"^{re.escape(str(expected.value))}$"):
            dask.compute(function(w, b, Xd, y, reduction))
    if how != "label outside":
        with pytest.raises(ValueError) as expected:
            module.predict(w, b, X)
        with pytest.raises(ValueError, match=f"^{re.escape(str(expected.value))}$"):
            module.predict(w, b, Xd).compute()


def test_a_nan_in_row_1_234_567_says_so():
    module = built_pair("sigmoid", "ce")[2]
    m = 2_000_000
    rows = da.arange(m, chunks=300_000)[:, None]
    X = da.where(rows == 1_234_567, np.nan, da.ones((m, 2), chunks=(300_000, 2)))
    with pytest.raises(ValueError, match="^X has a non-finite value in row 1234567$"):
        module.grad_ce(np.ones(2), 0.0, X, np.zeros(m))


@pytest.mark.parametrize("call, message", [
    (lambda f, w, X, y: f(w[:2], 0.0, X, y), (r"X has 4 features per sample but w has 2: "
                                             r"X.shape=\(1000, 4\), w.shape=\(2,\)")),
    (lambda f, w, X, y: f(w, 0.0, X, y[:7]), (r"y must have shape \(1000,\) to match "
                                             r"X.shape=\(1000, 4\), got y.shape=\(7,\)")),
    (lambda f, w, X, y: f(w, 0.0, X, y, "avg"), r"unknown reduction 'avg'"),
    (lambda f, w, X, y: f(w, 0.0, X, y, l2=-1), r"l2 must be a finite number >= 0"),
    (lambda f, w, X, y: f(w, 0.0, X.astype(complex), y), r"X must be numeric"),
    (lambda f, w, X, y: f(w, 0.0, X[:0], y[:0]), r"X has no samples \(X.shape=\(0, 4\)\)"),
    (lambda f, w, X, y: f(w, np.nan, X, y), r"b is not finite"),
])
def test_arguments_are_checked_before_any_chunk_is_computed(call, message):
    module = built_pair("sigmoid", "ce")[2]
    w, _, X, y = data(("sigmoid", "ce"))
    with pytest.raises(ValueError, match=message):
        call(module.grad_ce, w, da.from_array(X, chunks=(300, N)), da.from_array(y, chunks=300))


def test_functions_that_do_not_take_dask_arrays_say_so():
    module = built_pair("sigmoid", "ce")[2]
    w, b, X, y = data(("sigmoid", "ce"))
    Xd = da.from_array(X, chunks=(300, N))
    for name in ("hessian_ce", "newton_step_ce"):
        if hasattr(module, name):
            with pytest.raises(ValueError, match=f"{name} does not take Dask arrays"):
                getattr(module, name)(w, b, Xd, y)
    with pytest.raises(ValueError, match="unknown size"):
        module.grad_ce(w, b, Xd[Xd[:, 0] > 0], y[:1])


def test_the_module_works_and_imports_no_dask_where_dask_is_absent():
    """Dask is recognised only once imported; a module never imports it itself."""
    script = (
        "import sys, importlib.util, numpy as np\n"
        "sys.modules['dask'] = None\n"  # as if not installed: importing it fails
        f"spec = importlib.util.spec_from_file_location('m', r'{GENERATED}/logistic_regression.py')\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(module.loss_ce(np.ones(2), 0.0, np.eye(2), np.array([0.0, 1.0])))\n"
        "print(sorted(name for name in sys.modules if name.startswith('dask')))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=True)
    loss, imported = result.stdout.splitlines()
    assert float(loss) == pytest.approx(0.5 + np.log1p(np.exp(-1.0)), rel=1e-15) and imported == "['dask']"


# --- a cluster of two worker processes ------------------------------------------------------


@pytest.fixture
def client(tmp_path_factory):
    """A Client of a LocalCluster of 2 worker processes, to which the note's generated
    module has been uploaded (as a user would: ``client.upload_file``)."""
    folder = tmp_path_factory.mktemp("module")
    path = folder / "dask_test_logistic_regression.py"
    path.write_text((GENERATED / "logistic_regression.py").read_text(encoding="utf-8"))
    sys.path.insert(0, str(folder))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="1GiB",
                                       local_directory=str(folder / "workers"))
    try:
        with distributed.Client(cluster) as connected:
            connected.upload_file(str(path))
            yield connected
    finally:
        cluster.close()
        sys.path.remove(str(folder))


def test_the_functions_run_on_a_local_cluster(client):
    module = importlib.import_module("dask_test_logistic_regression")
    w, b, X, y = data(("sigmoid", "ce"), seed=4)
    Xd = client.persist(da.from_array(X, chunks=(137, N)))
    yd = client.persist(da.from_array(y, chunks=137))
    for function in (module.loss_ce, module.grad_ce, module.value_and_grad_ce):
        assert_same_numbers(function(w, b, Xd, yd, l2=0.2), function(w, b, X, y, l2=0.2))
        assert_same_numbers(dask.compute(*as_tuple(function(w, b, Xd, yd, "none"))),
                            function(w, b, X, y, "none"))
    assert_same_numbers(module.predict_proba(w, b, Xd).compute(), module.predict_proba(w, b, X))
    bad = X.copy()
    bad[500, 2] = np.inf
    with pytest.raises(ValueError, match="^X has a non-finite value in row 500$"):
        module.value_and_grad_ce(w, b, da.from_array(bad, chunks=(137, N)), yd)
    assert len(client.scheduler_info()["workers"]) == 2  # the workers are still there


# --- data on disk: the README's example, and the gradient over a file larger than memory ---


def readme_example():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"<!-- dask-example -->\n```python\n(.*?)```", text, re.DOTALL)[1]


def test_the_readme_example_runs_at_a_small_size(tmp_path, monkeypatch):
    code = readme_example()
    assert "m, n = 2_000_000, 50" in code
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(GENERATED))
    namespace = {"__name__": "__main__"}
    exec(compile(code.replace("m, n = 2_000_000, 50", "m, n = 20_000, 10"),  # noqa: S102
                 "README.md", "exec"), namespace)
    assert namespace["accuracy"] > 0.9


@pytest.mark.slow
def test_a_gradient_over_x_on_disk_on_workers_of_1_gib(tmp_path, monkeypatch):
    """A tenth of the issue's 3 GiB (``python -m bench.dask_target --disk 3`` runs it
    all): the gradient equals the NumPy module's sums over the file, piece by piece."""
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.dask_target import gradient_on_disk

    report = gradient_on_disk(tmp_path, gib=0.3)
    assert report["relative_difference"] <= 1e-12
    assert report["workers"] == 2


def test_bench_dask_runs_at_a_tiny_size(tmp_path):
    target = tmp_path / "dask.json"
    result = subprocess.run([sys.executable, "-m", "bench.dask_target", "--rows", "20000",
                             "--features", "5", "--repeats", "3", "--json", str(target)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "threads" in result.stdout and Path(target).exists()
