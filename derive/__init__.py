"""derive: gradients derived symbolically, every step proved, rendered as a sheet and code."""

from derive.engine.steps import Derivation, Step, StepError

__all__ = ["Derivation", "Step", "StepError", "check"]
__version__ = "0.1.0"


def check(text, **options):
    """Check a derivation (or a whole document) written by a person; returns the report
    (``derive.reading.api.Report``), which renders as a table in Jupyter. Options:
    ``activation``, ``loss``, ``let`` (["J=L", …]), ``name``."""
    from derive.reading.api import check as read_and_check

    return read_and_check(text, **options)
