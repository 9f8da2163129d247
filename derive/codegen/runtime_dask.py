"""The generated functions on Dask arrays: one task per chunk of rows, then a tree reduction.

Pasted verbatim with ``derive.codegen.runtime`` (the same conventions hold; this file's
imports are not pasted, so its pieces use only the names ``runtime.py`` imports, and
import Dask inside the functions). ``_checked`` hands a call with a Dask array among its
arguments to ``_on_dask`` in the modules that carry these pieces; a module recognises
Dask arrays only once ``dask.array`` has been imported, and needs Dask for nothing else.

Each chunk of rows is computed by the module's own public function on the chunk's NumPy
arrays, so with the same block functions, checks and messages as an in-memory call; an
error in a chunk is raised with the row numbers of the whole array. A mean or sum takes
each chunk's mean (formed without overflow), weighted by its share of the rows, added
in a tree of fixed shape (so the result depends on the chunking only), and then times m
for a sum; the penalty is added once, on the client, which receives only the sums.
"""

import math

import numpy as np

from derive.codegen.runtime import _Batch
from derive.codegen.runtime_inputs import _real


def _on_dask(function, *arguments, **keywords):
    """``function``, a public function of the module, called with Dask arrays: NumPy
    results for a mean or a sum, Dask arrays of the rows for "none" and predictions."""
    import inspect

    import dask.array as da

    try:
        given = inspect.signature(function).bind(*arguments, **keywords)
    except TypeError:
        return function.__wrapped__(*arguments, **keywords)  # Python's own message
    given.apply_defaults()
    given = given.arguments
    if not (len(given) == 1 or list(given) == ["w", "b", "X"] or list(given) == [
            "w", "b", "X", "y", "reduction", "l2"] and function.__name__.startswith(
            tuple(kind for kind, _ in _DASK_KINDS))):
        raise ValueError(f"{function.__name__} does not take Dask arrays; pass NumPy arrays "
                         "(X.compute(), where X fits in memory)")
    if "X" not in given:  # the neuron and its derivative, entry by entry
        (name, z), = given.items()
        _real(np.empty(0, z.dtype), name)
        dtype = np.float32 if z.dtype == np.float32 else np.float64
        return z.map_blocks(_dask_entries, function=function, dtype=dtype,
                            meta=np.empty((0,) * z.ndim, dtype))
    X = given["X"]
    if not isinstance(X, da.Array) or X.ndim != 2:  # one sample, or X in memory: small
        return function(**{name: _dask_computed(value) for name, value in given.items()})
    if any(math.isnan(size) for size in X.chunks[0]):
        raise ValueError("X has chunks of unknown size: call X.compute_chunk_sizes() first")
    X = X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X
    w = _real(_dask_computed(given["w"]), "w")
    data = _real(np.empty(0, X.dtype), "X")
    dtype = np.float32 if np.result_type(w, data) == np.float32 else np.float64
    probe = _Batch(w, _dask_computed(given["b"]), np.broadcast_to(np.zeros((), dtype), X.shape),
                   None, given.get("reduction", "mean"), None, given.get("l2", 0.0),
                   function.__wrapped__.__globals__.get("_penalty"))
    (m, n), rows = X.shape, da.arange(X.shape[0], chunks=(X.chunks[0],))
    if "y" not in given:  # a prediction per row
        kind = function(probe.w, probe.b, np.zeros((1, n), dtype)).dtype
        return da.blockwise(_dask_rows, "i", X, "ij", rows, "i", dtype=kind, concatenate=True,
                            meta=np.empty(0, kind), function=function, w=probe.w, b=probe.b)
    y = given["y"]
    if isinstance(y, da.Array):
        _real(np.empty(0, y.dtype), "y")
    else:
        y = _real(y, "y")
    if m == 0:
        raise ValueError(f"X has no samples (X.shape={X.shape}); a loss needs one")
    if y.shape != (m,):
        raise ValueError(f"y must have shape {(m,)} to match X.shape={X.shape}, "
                         f"got y.shape={y.shape}")
    y = (da.Array.rechunk if isinstance(y, da.Array) else da.from_array)(y, (X.chunks[0],))
    parts = next(parts for kind, parts in _DASK_KINDS if function.__name__.startswith(kind))
    width = ("loss" in parts) + ("db" in parts) * (n + 1)
    options = {"function": function, "w": probe.w, "b": probe.b, "m": m, "width": width,
               "reduction": probe.reduction, "parts": parts, "concatenate": True}
    if probe.reduction == "none":
        packed = da.blockwise(_dask_losses, "ij", X, "ij", y, "i", rows, "i", dtype=dtype,
                              adjust_chunks={"j": width}, meta=np.empty((0, 0), dtype),
                              **options)
        return _dask_parts(*_dask_split(packed, parts), parts)
    means = da.blockwise(_dask_losses, "ij", X, "ij", y, "i", rows, "i", dtype=np.float64,
                         adjust_chunks={"i": 1, "j": width}, meta=np.empty((0, 0)), **options)
    total = means.sum(axis=0).compute() * (m if probe.reduction == "sum" else 1)
    with np.errstate(over="ignore"):
        total = total.astype(dtype)
    if not np.isfinite(total).all():
        raise probe._beyond(f"the {probe.reduction} over the {m} samples")
    return _dask_parts(*probe._penalised(*_dask_split(total, parts)), parts)


def _dask_split(columns, parts):
    """(loss, dw, db) from the last axis of ``columns`` (as ``_dask_losses`` lays them
    out: the loss, then db, then dw, those of ``parts``); None for those not there."""
    rows, first = (slice(None),) * (columns.ndim - 1), int("loss" in parts)
    loss = columns[(*rows, 0)] if first else None
    if "db" not in parts:
        return loss, None, None
    return loss, columns[(*rows, slice(first + 1, None))], columns[(*rows, first)]


def _dask_parts(loss, dw, db, parts):
    """What the function returns of (loss, dw, db): those of ``parts``, in that order."""
    found = {"loss": loss, "dw": dw, "db": db}
    return found[parts[0]] if len(parts) == 1 else tuple(found[part] for part in parts)


_DASK_KINDS = (("loss_", ("loss",)), ("grad_", ("dw", "db")),
               ("value_and_grad_", ("loss", "dw", "db")))
"""The functions of a loss that take Dask arrays: by the start of their name, what they
return of (loss, dw, db)."""


def _dask_computed(value):
    """``value`` as it is, or computed where it is a Dask array (a small one: w, b, or
    what goes with a single sample or an X in memory)."""
    return value.compute() if hasattr(value, "dask") and hasattr(value, "compute") else value


def _dask_losses(X, y, rows, function, w, b, m, width, reduction, parts):
    """One chunk's ``width`` columns (loss, db, dw; those of ``parts``): its rows for
    "none", else its mean times its share of the m rows, in float64, as one row."""
    if len(X) == 0:  # an empty chunk adds nothing
        return np.zeros((0 if reduction == "none" else 1, width),
                        np.float32 if np.result_type(w, X) == np.float32 else np.float64)
    try:
        result = function(w, b, X, y, "none" if reduction == "none" else "mean", l2=0.0)
    except ValueError as error:
        raise ValueError(_dask_shifted(str(error), (int(rows[0]),))) from None
    found = dict(zip(parts, result if len(parts) > 1 else (result,), strict=True))
    columns = [found[part] for part in ("loss", "db", "dw") if part in found]
    if reduction == "none":
        return np.column_stack(columns)
    row = np.concatenate([np.ravel(column).astype(np.float64) for column in columns])
    return (row * (len(X) / m))[None]


def _dask_rows(X, rows, function, w, b):
    """One chunk's predictions, errors numbered by the rows of the whole array."""
    try:
        return function(w, b, X)
    except ValueError as error:
        raise ValueError(_dask_shifted(str(error), (int(rows[0]),) if len(rows) else (0,))) \
            from None


def _dask_entries(z, function, block_info=None):
    """``function`` of one chunk of z, errors numbered by the indices of the whole array."""
    try:
        return function(z)
    except ValueError as error:
        starts = tuple(start for start, _ in block_info[0]["array-location"])
        raise ValueError(_dask_shifted(str(error), starts)) from None


def _dask_shifted(message, starts):
    """``message``, of an error in a chunk whose first entry is at ``starts`` (one index
    per axis) of the whole array, with its rows and indices made those of the whole array:
    "row 5", "y[5]", "at index 5" and "at index (5, 2)"."""
    import re

    def index(match):
        numbers = [int(number) + start for number, start in
                   zip(match[1].split(", "), (*starts, *[0] * match[1].count(",")))]
        return f"at index ({', '.join(map(str, numbers))})"

    message = re.sub(r"at index \((\d+(?:, \d+)+)\)", index, message)
    return re.sub(r"(row |y\[|at index )(\d+)",
                  lambda match: f"{match[1]}{int(match[2]) + starts[0]}", message)
