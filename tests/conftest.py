"""Shared fixtures: the note's model and its derivations, built (and verified) once."""

import pytest

from derive.derivations import derive_all
from derive.steps import default_model


@pytest.fixture(scope="session")
def model():
    return default_model()


@pytest.fixture(scope="session")
def derivations(model):
    return derive_all(model)


@pytest.fixture(scope="session")
def by_label(derivations):
    return {derivation.label: derivation for derivation in derivations}
