"""The names of derivation results, spelled here and nowhere else.

A label is a stable identifier of one derivation's result ("da-dz", "grad-ce-w"): the
record (``derivations.json``) lists it, the sheet turns it into the LaTeX label
``eq:<label>``, and the generated code cites its equation number. Everything that looks
a result up (``Book[...]``) builds the label with the constants and functions below, so
a misspelt name is an AttributeError at import, not a missing reference in a PDF.
"""

from sympy import S

from derive.engine.symbols import b, w_j, z

DEF_Z = "def-z"
DEF_OUTPUT = "def-output"
DEF_ACT = "def-act"
ACT_AT_ZERO = "act-at-zero"
ACT_SYMMETRY = "act-symmetry"
ACT_PRIME = "act-prime"
ACT_INCREASING = "act-increasing"
DA_DZ = "da-dz"
PREDICTION = "prediction"

DEFINITION_PREFIX = "def-"
"""Every label of a definition (a one-step derivation that states a meaning) starts so."""

_PARAMETER_NAMES = {w_j: "w", b: "b", z: "z"}


def act_limit(end):
    """The activation's limit as z tends to ``end`` (−∞ or +∞)."""
    return "act-limit-minus" if end == S.NegativeInfinity else "act-limit-plus"


def dz_d(parameter):
    """∂z/∂p for a parameter p (w_j or b)."""
    return f"dz-d{_PARAMETER_NAMES[parameter]}"


def loss_definition(loss):
    return f"{DEFINITION_PREFIX}L{loss.name}"


def loss_derivative(loss):
    """dL/da."""
    return f"dL{loss.name}-da"


def label_case(loss, label_value):
    """The loss at one label value, y = 1 say."""
    return f"L{loss.name}-y{label_value}"


def label_case_limit(loss, label_value, end):
    return f"{label_case(loss, label_value)}-limit-{end}"


def label_case_slope(loss, label_value):
    return f"{label_case(loss, label_value)}-slope"


def gradient(loss, parameter):
    """∂L/∂p: "grad-ce-w" for p = w_j; for p = z, δ = ∂L/∂z is "dLce-dz"."""
    if parameter == z:
        return f"dL{loss.name}-dz"
    return f"grad-{loss.name}-{_PARAMETER_NAMES[parameter]}"


PENALTY_DEFINITION = "def-R"
PENALTY_GRADIENT = "grad-R"


def sample_delta(loss):
    """δ^{(i)} = ∂L^{(i)}/∂z^{(i)} at sample i."""
    return f"delta-J{loss.name}"


def averaged_definition(loss):
    """J = (1/m) Σ_i L^{(i)} + R(w)."""
    return f"{DEFINITION_PREFIX}J{loss.name}"


def averaged_gradient(loss, parameter):
    """∂J/∂p for p = w_j or b."""
    return f"grad-J{loss.name}-{_PARAMETER_NAMES[parameter]}"


def matrix_gradient(loss):
    """∇_w J in matrix form."""
    return f"grad-J{loss.name}-matrix"


def second_derivative(loss):
    """∂²L/∂z²."""
    return f"d2L{loss.name}-dz2"


def convexity(loss):
    """The verdict: ∂²L/∂z² ≥ 0 everywhere, or < 0 at one point."""
    return f"convex-{loss.name}"


def sample_curvature(loss):
    """d^{(i)} = ∂²L^{(i)}/∂z^{(i)2} at sample i."""
    return f"d2-J{loss.name}"


_ENTRY_NAMES = {"w_j": "w", "w_k": "wk", "b": "b"}


def hessian_entry(loss, first, second):
    """∂²J/∂p∂q for (p, q) = (w_j, w_k), (w_j, w_j), (w_j, b) or (b, b)."""
    return f"hess-J{loss.name}-{_ENTRY_NAMES[str(first)]}{_ENTRY_NAMES[str(second)]}"


def hessian_matrix(loss, diagonal):
    """∇²_w J in matrix form, proved entry by entry on or off the diagonal."""
    return f"hess-J{loss.name}-matrix-{'diagonal' if diagonal else 'off'}"


def equation(label):
    """The LaTeX label of a result on the sheet."""
    return f"eq:{label}"


# --- many classes: the softmax neuron (``derive.engine.softmax_derivations``) ----------

SOFTMAX_DEF_Z = "def-z-class"
SOFTMAX_DEF_OUTPUT = "def-softmax"
SOFTMAX_JACOBIAN = "softmax-jacobian"
SOFTMAX_DZ_DW = "dz-class-dW"
SOFTMAX_DZ_DB = "dz-class-db"
SOFTMAX_TWO_CLASSES = "softmax-two-classes"


def class_gradient(loss, parameter):
    """∂L/∂z_i ("dLcce-dz-class"), ∂L/∂W_ji ("grad-cce-W"), ∂L/∂b_i ("grad-cce-b-class")."""
    return {"z": f"dL{loss.name}-dz-class", "W": f"grad-{loss.name}-W",
            "b": f"grad-{loss.name}-b-class"}[parameter]


def class_averaged_gradient(loss, parameter):
    """∂J/∂W_ji ("grad-Jcce-W") or ∂J/∂b_i ("grad-Jcce-b-class")."""
    return {"W": f"grad-J{loss.name}-W", "b": f"grad-J{loss.name}-b-class"}[parameter]


def class_matrix_gradient(loss):
    """∇_W J = (1/m)·Xᵀ(A − Y) (+ λW) in matrix form."""
    return f"grad-J{loss.name}-W-matrix"
