"""derive: gradients derived symbolically, every step proved, rendered as a sheet and code."""

from derive.engine.steps import Derivation, Step, StepError

__all__ = ["Derivation", "Step", "StepError"]
__version__ = "0.1.0"
