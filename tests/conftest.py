"""Shared fixtures: the note's model and its Book of derivations, built (and verified)
once; every registry pair, built once; and the LaTeX engine the PDF tests need."""

import os
import shutil

import pytest

from derive.engine.derivations import derive_all
from derive.engine.model import default_model
from derive.sheet.pdf import engine
from support import PAIRS, built_pair

REQUIRE_LATEX = os.environ.get("DERIVE_REQUIRE_LATEX") == "1"
"""Set by .ci/run, which installs an engine: a missing one then fails instead of skipping."""


@pytest.fixture(scope="session")
def model():
    return default_model()


@pytest.fixture(scope="session")
def book(model):
    return derive_all(model)


@pytest.fixture(scope="module", params=PAIRS, ids=lambda pair: "_".join(pair))
def pair(request):
    """(model, book, module) of each valid (activation, loss) pair."""
    return built_pair(*request.param)


@pytest.fixture(scope="session")
def latex_engine():
    if engine() is None or shutil.which("pdftotext") is None:
        message = "no LaTeX engine (latexmk/pdflatex) or pdftotext on PATH"
        if REQUIRE_LATEX:
            pytest.fail(message + " although DERIVE_REQUIRE_LATEX=1")
        pytest.skip(message)
    return engine()
