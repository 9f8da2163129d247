"""Import helpers for the committed generated module (tests/ is not a package)."""

import importlib.util
from pathlib import Path

GENERATED = Path(__file__).resolve().parent.parent / "generated"


def load(name="logistic_regression"):
    spec = importlib.util.spec_from_file_location(f"generated_{name}", GENERATED / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
